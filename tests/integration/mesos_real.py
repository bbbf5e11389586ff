"""A real Apache Mesos master for integration tests of agents in containers, and tasks through it.

``Master``: a ``mesos-master`` (``--registry=in_memory``) in a container of the ``mesos_package_image``
fixture's image (the real package, see conftest.py) on a given docker network, labelled
``mesos-docker-test``; tasks go through it with the package's own ``mesos-execute`` run inside that
container (``docker exec``), and its ``/state`` and ``/slaves`` say what became of them and of the agents.
"""
import json
import time
import urllib.request

import pytest

TEST_LABEL = "mesos-docker-test"


def http_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def wait_for(what, probe, timeout=90, interval=1):
    """Call ``probe`` until it returns something true; fail naming ``what`` and the last value."""
    deadline = time.time() + timeout
    last = None
    while True:
        try:
            last = probe()
        except (OSError, ValueError) as exc:
            last = exc
        else:
            if last:
                return last
        if time.time() > deadline:
            pytest.fail("timed out after %ss waiting for %s (last: %r)" % (timeout, what, last))
        time.sleep(interval)


def container_id(task):
    """The Mesos container ID of a task, from the master's record of its status updates."""
    for status in task.get("statuses", []):
        value = status.get("container_status", {}).get("container_id", {}).get("value")
        if value:
            return value
    pytest.fail("the master reports no container ID for task %s: %s" % (task.get("name"), task))


class Master:
    """A real mesos-master in a container; ``address`` is ``ip:5050`` on ``network``."""

    def __init__(self, docker_api, image, name, network="bridge", flags=()):
        self.api = docker_api
        self.name = name
        self.image = image
        container = docker_api.create_container(
            image, name=name, labels={TEST_LABEL: "true"},
            command=["sh", "-c", "exec mesos-master --ip=$(hostname -i | cut -d' ' -f1) "
                     "--work_dir=/var/lib/mesos/master --registry=in_memory --hostname=$(hostname -i | cut -d' ' -f1) "
                     + " ".join(flags)],
            host_config=docker_api.create_host_config(network_mode=network))
        docker_api.start(container["Id"])
        info = docker_api.inspect_container(name)
        self.ip = info["NetworkSettings"]["Networks"][network]["IPAddress"]
        # The host's address on that network: where the master reaches agents on the host's network.
        self.gateway = info["NetworkSettings"]["Networks"][network]["Gateway"]
        self.address = "%s:5050" % self.ip
        self.url = "http://%s" % self.address
        wait_for("the master's /health", lambda: urllib.request.urlopen(self.url + "/health", timeout=2).status == 200,
                 timeout=60)

    def remove(self):
        self.api.remove_container(self.name, force=True, v=True)

    def state(self):
        return http_json(self.url + "/state")

    def agents(self):
        """The registered agents: {hostname or id: agent} from /slaves."""
        return http_json(self.url + "/slaves")["slaves"]

    def wait_for_agents(self, count, timeout=120):
        return wait_for("%d agent(s) registered at %s" % (count, self.address),
                        lambda: len([a for a in self.agents() if a.get("active")]) >= count and self.agents(),
                        timeout=timeout)

    def tasks(self, name):
        """Every task called ``name`` the master knows (running or completed), from /state."""
        found = []
        for framework in self.state()["frameworks"] + self.state().get("completed_frameworks", []):
            for task in framework.get("tasks", []) + framework.get("completed_tasks", []):
                if task["name"] == name:
                    found.append(task)
        return found

    def task_state(self, name):
        tasks = self.tasks(name)
        return tasks[-1]["state"] if tasks else None

    def wait_for_task(self, name, states, timeout=180):
        """Wait until the task ``name`` is in one of ``states``; returns the master's task record."""
        wait_for("task %s in %s (master %s)" % (name, states, self.address),
                 lambda: self.task_state(name) in states, timeout=timeout)
        return self.tasks(name)[-1]

    def _execute_cmd(self, name, image, command, checkpoint=False, networks=None, resources="cpus:0.1;mem:32"):
        """mesos-execute's command line. It takes the first offer that holds ``resources``: a port only one
        agent offers (e.g. ``cpus:0.1;mem:32;ports:[21000-21000]``) puts the task on that agent."""
        cmd = ["mesos-execute", "--master=%s" % self.address, "--name=%s" % name, "--containerizer=docker",
               "--docker_image=%s" % image, "--command=%s" % command, "--resources=%s" % resources]
        if checkpoint:
            cmd.append("--checkpoint")
        if networks:
            cmd.append("--networks=%s" % networks)
        return cmd

    def execute(self, name, image, command, timeout=240, **kwargs):
        """Run a docker task through the master and wait for mesos-execute to end; returns its output."""
        cmd = self._execute_cmd(name, image, command, **kwargs)
        exec_id = self.api.exec_create(self.name, ["timeout", str(timeout)] + cmd)
        output = self.api.exec_start(exec_id).decode(errors="replace")
        return output

    def start(self, name, image, command, **kwargs):
        """Start a docker task through the master with mesos-execute left running (the framework stays
        connected, so the task keeps running); its output goes to /tmp/<name>.log in the master container."""
        cmd = self._execute_cmd(name, image, command, **kwargs)
        shell = " ".join("'%s'" % part.replace("'", "'\\''") for part in cmd)
        exec_id = self.api.exec_create(self.name, ["sh", "-c", "exec %s >/tmp/%s.log 2>&1" % (shell, name)])
        self.api.exec_start(exec_id, detach=True)

    def log(self, name):
        exec_id = self.api.exec_create(self.name, ["cat", "/tmp/%s.log" % name])
        return self.api.exec_start(exec_id).decode(errors="replace")
