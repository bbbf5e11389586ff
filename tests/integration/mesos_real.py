"""A real Apache Mesos master for integration tests of agents in containers, and tasks through it.

``Master``: a ``mesos-master`` (``--registry=in_memory``) in a container of the ``mesos_package_image``
fixture's image (the real package, see conftest.py) on a given docker network, labelled
``mesos-docker-test``; tasks go through it with the package's own ``mesos-execute`` run inside that
container (``docker exec``), and its ``/state`` and ``/slaves`` say what became of them and of the agents.
"""
import base64
import io
import json
import subprocess
import tarfile
import time
import urllib.request

import pytest

from ansible_collections.mesos.docker.plugins.module_utils._cluster_auth import default_acls, derived_secret
from systemd_hosts import REPO as REPO_ROOT
from systemd_hosts import hosts_play
from testbed_env import TEST_LABEL


# The cluster credentials key of the tests' masters: the agent roles get it as
# mesos_agent_dind_credentials_key and derive their secrets from it, as the masters do.
CREDENTIALS_KEY = "mesos-docker-test-cluster-key"
OPERATOR = "mesos-master-ops"
FRAMEWORK = "mesos-framework"
FRAMEWORK_SECRET = "/etc/mesos-master/frameworks/%s.secret" % FRAMEWORK
# What mesos_master's default policy lets the framework principal run tasks as.
TASK_USER = "nobody"


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


def resources_json(text):
    """``cpus:0.1;mem:32;ports:[21000-21000]`` as the resources of a TaskInfo."""
    resources = []
    for part in text.split(";"):
        name, value = part.split(":", 1)
        if value.startswith("["):
            ranges = [dict(zip(("begin", "end"), map(int, r.split("-")))) for r in value.strip("[]").split(",")]
            resources.append({"name": name, "type": "RANGES", "ranges": {"range": ranges}})
        else:
            resources.append({"name": name, "type": "SCALAR", "scalar": {"value": float(value)}})
    return resources


def docker_task(name, image, command, resources="cpus:0.1;mem:32", networks=None, user=TASK_USER):
    """The TaskInfo mesos-execute would build for ``--containerizer=docker``, run as ``user``
    (mesos-execute itself names no user but its own, root)."""
    docker = {"image": image, "network": "USER" if networks else "HOST"}
    container = {"type": "DOCKER", "docker": docker}
    if networks:
        container["network_infos"] = [{"name": networks}]
    return {"name": name, "task_id": {"value": name}, "agent_id": {"value": ""},
            "resources": resources_json(resources), "container": container,
            "command": {"value": command, "shell": True, "user": user}}


def secure_master_files(agent_principals):
    """The files mesos_master writes for a master with its defaults (credentials, ACLs, the framework's secret),
    every secret derived from CREDENTIALS_KEY, as {path: (mode, content)}."""
    principals = [OPERATOR, "mesos-monitoring", FRAMEWORK] + list(agent_principals)
    credentials = {"credentials": [{"principal": p, "secret": derived_secret(CREDENTIALS_KEY, p)} for p in principals]}
    acls = default_acls([OPERATOR], ["mesos-monitoring"], [{"principal": FRAMEWORK}], list(agent_principals))
    return {"/etc/mesos-master/http_credentials.json": (0o600, json.dumps(credentials)),
            "/etc/mesos-master/acls.json": (0o600, json.dumps(acls)),
            FRAMEWORK_SECRET: (0o600, derived_secret(CREDENTIALS_KEY, FRAMEWORK))}


# The flags mesos_master sets by default for the files above.
SECURE_MASTER_FLAGS = (
    "--authenticate_http_readonly", "--authenticate_http_readwrite", "--authenticate_frameworks",
    "--authenticate_http_frameworks", "--http_framework_authenticators=basic", "--authenticate_agents",
    "--credentials=/etc/mesos-master/http_credentials.json", "--acls=file:///etc/mesos-master/acls.json")


def _tar(files):
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as archive:
        for path, (mode, content) in files.items():
            raw = content.encode()
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode = len(raw), mode
            archive.addfile(info, io.BytesIO(raw))
    return data.getvalue()


class Master:
    """A real mesos-master in a container; ``address`` is ``ip:5050`` on ``network``. It runs mesos_master's
    secure default (authenticated frameworks, agents and endpoints, the default ACLs) and accepts the agents
    ``agent_principals``, whose secrets derive from CREDENTIALS_KEY."""

    def __init__(self, docker_api, image, name, network="bridge", flags=(), agent_principals=()):
        self.api = docker_api
        self.name = name
        self.image = image
        self.files = secure_master_files(agent_principals)
        credentials = json.loads(self.files["/etc/mesos-master/http_credentials.json"][1])["credentials"]
        self.operator = (credentials[0]["principal"], credentials[0]["secret"])
        container = docker_api.create_container(
            image, name=name, labels={TEST_LABEL: "true"},
            command=["sh", "-c", "exec mesos-master --ip=$(hostname -i | cut -d' ' -f1) "
                     "--work_dir=/var/lib/mesos/master --registry=in_memory --hostname=$(hostname -i | cut -d' ' -f1) "
                     + " ".join(SECURE_MASTER_FLAGS + tuple(flags))],
            host_config=docker_api.create_host_config(network_mode=network))
        docker_api.put_archive(container["Id"], "/", _tar(self.files))
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

    def get(self, path):
        """GET ``path`` as the operator principal."""
        request = urllib.request.Request(self.url + path, headers={
            "Authorization": "Basic " + base64.b64encode(("%s:%s" % self.operator).encode()).decode()})
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    def state(self):
        return self.get("/state")

    def agents(self):
        """The registered agents: {hostname or id: agent} from /slaves."""
        return self.get("/slaves")["slaves"]

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
        """mesos-execute's command line, authenticated as the framework principal, for a docker task run as the
        user the policy allows (TASK_USER; the task goes in a TaskInfo file, /tmp/<name>.task.json in the master
        container). It takes the first offer that holds ``resources``: a port only one agent offers (e.g.
        ``cpus:0.1;mem:32;ports:[21000-21000]``) puts the task on that agent."""
        task = json.dumps(docker_task(name, image, command, resources, networks))
        self.api.put_archive(self.name, "/tmp", _tar({"%s.task.json" % name: (0o644, task)}))
        cmd = ["mesos-execute", "--master=%s" % self.address, "--task=file:///tmp/%s.task.json" % name,
               "--principal=%s" % FRAMEWORK, "--secret=file://%s" % FRAMEWORK_SECRET]
        if checkpoint:
            cmd.append("--checkpoint")
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


def docker(*args, check=True):
    proc = subprocess.run(["docker"] + list(args), capture_output=True, text=True, timeout=300, check=False)
    if check:
        assert proc.returncode == 0, "docker %s: %s%s" % (" ".join(args), proc.stdout, proc.stderr)
    return proc


def on(host, *command, check=True):
    return docker("exec", host, *command, check=check)


def address(host):
    return docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", host).stdout.strip()


def credentials(host, path):
    return json.loads(on(host, "cat", path).stdout)["credentials"][0]


def hosts_then_site(groups="groups['masters'] + groups['agents']"):
    """A playbook that creates the hosts of ``groups`` (an expression of the inventory's groups) as systemd
    containers, then runs playbooks/site.yml on them."""
    return hosts_play("real-mesos", groups) + (
        "\n- name: Provision\n  ansible.builtin.import_playbook: %s/playbooks/site.yml\n" % REPO_ROOT)
