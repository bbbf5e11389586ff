"""The real Apache Mesos package in integration tests: its file, an image with it, a master, tasks.

- ``package_path()``: ``MESOS_PACKAGE`` (a path), else the newest ``../shared/mesos/mesos_*.deb`` beside
  the repository; none is a test failure naming both, never a skip.
- ``mesos_image()``: the test bed's Debian 12 image with the package installed, tagged by a hash of the
  package, the recipe and the base image, so it is built once per machine (~20-50 s) and reused.
- ``Master``: a ``mesos-master`` (``--registry=in_memory``) in a container of that image on a given docker
  network, labelled ``mesos-docker-test``; tasks go through it with the package's own ``mesos-execute``
  run inside that container (``docker exec``), and its ``/state`` says what became of them.
"""
import glob
import hashlib
import io
import json
import os
import tarfile
import time
import urllib.request

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEST_LABEL = "mesos-docker-test"
IMAGE_NAME = "mesos-docker-test/mesos"
RECIPE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY mesos.deb /tmp/mesos.deb
RUN set -eux; apt-get update; \\
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/mesos.deb; \\
    apt-get clean; rm -rf /var/lib/apt/lists/* /tmp/mesos.deb
"""
TERMINAL = ("TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED", "TASK_GONE")


def package_path():
    """The Mesos package the tests run: MESOS_PACKAGE, else the newest ../shared/mesos/mesos_*.deb."""
    given = os.environ.get("MESOS_PACKAGE")
    if given:
        if not os.path.isfile(given):
            pytest.fail("MESOS_PACKAGE=%s is not a file: give the path of a Mesos .deb for Debian 12" % given)
        return given
    pattern = os.path.join(os.path.dirname(REPO), "shared", "mesos", "mesos_*.deb")
    found = sorted(glob.glob(pattern), key=os.path.getmtime)
    if not found:
        pytest.fail("no Mesos package: set MESOS_PACKAGE to a Mesos .deb for Debian 12 (none matches %s)" % pattern)
    return found[-1]


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def mesos_image(docker_api, base_image):
    """Tag of ``base_image`` with the Mesos package installed; built only when that tag is absent."""
    package = package_path()
    base_id = docker_api.inspect_image(base_image)["Id"]
    tag = "%s:%s" % (IMAGE_NAME, hashlib.sha256(
        (_sha256(package) + RECIPE + base_id).encode()).hexdigest()[:12])
    if docker_api.images(name=tag):
        return tag
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        recipe = RECIPE.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(recipe)
        tar.addfile(info, io.BytesIO(recipe))
        tar.add(package, arcname="mesos.deb")
    context.seek(0)
    log = []
    for chunk in docker_api.build(fileobj=context, custom_context=True, tag=tag, rm=True, forcerm=True,
                                  buildargs={"BASE_IMAGE": base_image}, labels={TEST_LABEL: "true"},
                                  decode=True):
        log.append(chunk)
        if "error" in chunk:
            pytest.fail("building %s failed: %s\n%s" % (tag, chunk["error"], log[-20:]))
    return tag


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
