"""Role mesos_agent_dind in container mode (``mesos_agent_dind_mode: container``) on the real Docker engine.

Two real Mesos agents (the package of the ``mesos_package`` fixture, handed to the role as
``mesos_agent_dind_deb_file``) run as containers on this machine's own Docker daemon, converged by
``targets/agent_container_mode/converge.yml`` on localhost, and register with a real master (a container on
the default bridge; the agents bind to the bridge's gateway address so that the master reaches them). Checked from ``docker inspect`` and the
agents' endpoints: host PID namespace and network, the docker socket and each work_dir bind-mounted at
the same path inside and out, ``--docker_mesos_image`` (env and ``/flags``), ``docker_kill_orphans``
false for agents sharing one daemon, HTTP authentication with known credentials, and idempotence. And
the refusals, before anything changes: an agent container named ``mesos-...`` (Mesos would kill it),
``docker_kill_orphans: true`` with two agents on one daemon.

Container names come from ``name_prefix``; ports from a free-port finder; work, build and secrets
directories live under ``tmp_path``. The finalizer removes exactly the containers this test named
(with their anonymous volumes) and the ``mesos-`` task and executor containers whose sandboxes lie in this
test's work_dir; it never prunes. The agent image is the role's own, cached by a hash
of its inputs (shared with the molecule ``dind`` scenario), so it is left in place.
"""
import base64
import json
import os
import re
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

import mesos_real
from playbook_output import changed_tasks, recap

pytestmark = pytest.mark.real_mesos

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(REPO, "tests", "integration", "targets", "agent_container_mode", "converge.yml")
AGENTS = ("a", "b")
PRINCIPAL = "acm-test"


def _free_port_pair():
    """A port p, free on all addresses together with p + 1 (agent n gets mesos_agent_dind_port + n)."""
    for dummy in range(50):
        with socket.socket() as first:
            first.bind(("0.0.0.0", 0))
            port = first.getsockname()[1]
            if port >= 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("0.0.0.0", port + 1))
                except OSError:
                    continue
                return port
    pytest.fail("no two consecutive free ports found")


def _get(url, auth=None):
    """(status, parsed JSON body or None) of a GET, with HTTP basic authentication when auth=(user, secret)."""
    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
            body = response.read()
            return response.status, (json.loads(body) if body else None)
    except urllib.error.HTTPError as error:
        return error.code, None


class Host:
    """One test's view of the host: the role's variables, the playbook runs and the containers it may make."""

    def __init__(self, run_playbook, docker_api, testbed, name_prefix, tmp_path, master, package):
        self._run_playbook = run_playbook
        self.master = master
        self.testbed_busybox = testbed["TESTBED_IMAGE_BUSYBOX"]
        # The agents bind to the default bridge's gateway: the host's address the master container reaches.
        self.ip = master.gateway
        self.docker_api = docker_api
        self.tmp_path = tmp_path
        self.port = _free_port_pair()
        self.secret = secrets.token_urlsafe(24)
        self.auth = (PRINCIPAL, self.secret)
        self.work_dir = str(tmp_path / "work")
        self.build_dir = str(tmp_path / "build")
        self.secrets_dir = str(tmp_path / "secrets")
        self.prefix = "%s-agent-" % name_prefix
        self.names = set()
        self.vars = {
            "mesos_agent_dind_mode": "container",
            "mesos_agent_dind_agents": [
                {"name": "a", "resources": {"cpus": 1, "mem": 256, "disk": 1024, "ports": ["21000-21099"]}},
                {"name": "b", "resources": {"cpus": 1, "mem": 256, "disk": 1024, "ports": ["22000-22099"]}},
            ],
            "mesos_agent_dind_master": master.address,
            "mesos_agent_dind_work_dir": self.work_dir,
            "mesos_agent_dind_port": self.port,
            "mesos_agent_dind_container_prefix": self.prefix,
            "mesos_agent_dind_build_dir": self.build_dir,
            # The test bed's base image and the real Mesos package (as in molecule/dind: same inputs, same cached image).
            "mesos_agent_dind_base_image": testbed["TESTBED_IMAGE_DEBIAN12"],
            "mesos_agent_dind_deb_file": package,
            "mesos_agent_dind_flags": {"executor_registration_timeout": "5mins", "ip": self.ip},
            "mesos_agent_dind_restart_policy": "no",
            "mesos_agent_dind_stop_timeout": 5,
            "mesos_agent_dind_health_timeout": 120,  # the real agent starts slowly on a loaded machine
            # Known credentials: the endpoints are checked with them (and refuse requests without).
            "mesos_agent_dind_http_authentication": "enabled",
            "mesos_agent_dind_secrets_dir": self.secrets_dir,
            "mesos_agent_dind_http_credentials": [{"principal": PRINCIPAL, "secret": self.secret}],
            # The master is the tests' own (mesos_real.Master): the agents derive their secrets from its key.
            "mesos_agent_dind_credentials_key": mesos_real.CREDENTIALS_KEY,
        }

    def containers(self, variables=None):
        """The container names the role makes from these variables (agents and the privileged probe)."""
        variables = variables or self.vars
        prefix = variables["mesos_agent_dind_container_prefix"]
        return [prefix + agent["name"] for agent in variables["mesos_agent_dind_agents"]] + [prefix + "privileged-probe"]

    def converge(self, **overrides):
        variables = dict(self.vars, **overrides)
        self.names.update(self.containers(variables))
        # The variables (a test HTTP secret among them) go through a root-only file, not the command line.
        path = self.tmp_path / ("vars-%s.json" % secrets.token_hex(4))
        path.touch(mode=0o600)
        path.write_text(json.dumps(variables))
        return self._run_playbook(PLAYBOOK, extra_vars={"agent_container_mode_vars_file": str(path)})

    def existing(self, names):
        """Those of the names that exist as containers on the daemon."""
        found = []
        for name in names:
            if self.docker_api.containers(all=True, filters={"name": "^/%s$" % re.escape(name)}):
                found.append(name)
        return found

    def watch(self):
        """Record, from now on, which volumes containers of this test's names mount. The agent image declares
        VOLUME /var/lib/docker: the role's privileged probe (which the role removes, keeping the volume) and
        each agent get an anonymous one. Streamed live: the daemon keeps only its last 256 events."""
        import docker

        self._events = docker.APIClient(version="auto").events(
            decode=True, filters={"type": ["container", "volume"], "event": ["create", "mount"]})
        self._seen = []

        def collect():
            try:
                for event in self._events:
                    self._seen.append(event)
            except Exception:  # the stream closed by cleanup()
                pass

        self._watcher = threading.Thread(target=collect, daemon=True)
        self._watcher.start()

    def _anonymous_volumes(self):
        time.sleep(0.5)
        self._events.close()
        self._watcher.join(5)
        events = list(self._seen)
        ids = set(event["Actor"]["ID"] for event in events if event.get("Type") == "container"
                  and event["Actor"]["Attributes"].get("name") in self.names)
        return set(event["Actor"]["ID"] for event in events if event.get("Type") == "volume"
                   and event["Actor"]["Attributes"].get("container") in ids)

    def task_containers(self):
        """The mesos- containers (tasks and executors) whose sandboxes lie in this test's work_dir."""
        found = []
        for container in self.docker_api.containers(all=True, filters={"name": "mesos-"}):
            if any(mount.get("Source", "").startswith(self.work_dir + "/") for mount in container["Mounts"]):
                found.append(container["Names"][0].lstrip("/"))
        return found

    def cleanup(self):
        import docker

        volumes = self._anonymous_volumes()
        # The agents first, then what Mesos launched for them.
        for name in sorted(self.names):
            try:
                self.docker_api.remove_container(name, v=True, force=True)
            except docker.errors.NotFound:
                pass
        for name in self.task_containers():
            try:
                self.docker_api.remove_container(name, v=True, force=True)
            except docker.errors.NotFound:
                pass
        for volume in sorted(volumes):
            try:
                self.docker_api.remove_volume(volume)
            except docker.errors.APIError:  # gone already, or (never ours) in use
                pass


@pytest.fixture(scope="module")
def master(docker_api, mesos_package_image):
    """One real master for this module's tests, on the default bridge."""
    master = mesos_real.Master(docker_api, mesos_package_image, "mdt-acm-master-%s" % secrets.token_hex(4),
                               agent_principals=["localhost/%s" % agent for agent in AGENTS])
    yield master
    master.remove()


@pytest.fixture
def host(run_playbook, docker_api, testbed, name_prefix, tmp_path, master, mesos_package):
    host = Host(run_playbook, docker_api, testbed, name_prefix, tmp_path, master, mesos_package)
    host.watch()
    yield host
    host.cleanup()


def _wait_for_flags(url, auth, timeout=30):
    deadline = time.time() + timeout
    while True:
        try:
            status, body = _get(url, auth)
            if status == 200:
                return body
        except OSError:
            status = None
        if time.time() > deadline:
            pytest.fail("%s did not answer 200 (last status %s)" % (url, status))
        time.sleep(0.5)


def _assert_converged(host, run):
    """A converge that failed shows the agents' own logs beside the play output."""
    if run.rc == 0:
        return
    logs = {}
    for agent in AGENTS:
        name = host.prefix + agent
        if host.existing([name]):
            logs[name] = host.docker_api.logs(name).decode(errors="replace").strip()
    pytest.fail("converge failed; agent logs %s\n%s" % (logs, run.output))


def test_two_agents_in_container_mode(host):
    run = host.converge()
    _assert_converged(host, run)
    # Second converge: nothing changes.
    again = host.converge()
    assert again.rc == 0, again.output
    assert recap(again.output, "localhost")["changed"] == 0, "changed on the second converge: %s\n%s" % (
        changed_tasks(again.output), again.output)

    api = host.docker_api
    images = set()
    for index, agent in enumerate(AGENTS):
        container = host.prefix + agent
        info = api.inspect_container(container)
        config, hostconfig = info["Config"], info["HostConfig"]
        assert info["State"]["Running"], (container, info["State"])
        assert hostconfig["PidMode"] == "host", hostconfig["PidMode"]
        assert hostconfig["NetworkMode"] == "host", hostconfig["NetworkMode"]

        binds = dict((m["Destination"], m) for m in info["Mounts"] if m["Type"] == "bind")
        socket_path = "/var/run/docker.sock"
        assert socket_path in binds and binds[socket_path]["Source"] == socket_path, info["Mounts"]
        work_dir = "%s/%s" % (host.work_dir, agent)
        assert work_dir in binds and binds[work_dir]["Source"] == work_dir and binds[work_dir]["RW"], info["Mounts"]

        env = dict(item.partition("=")[::2] for item in config["Env"])
        image = config["Image"]
        images.add(image)
        assert image.startswith("mesos-docker/mesos-agent-dind:"), image
        assert env.get("MESOS_DOCKER_MESOS_IMAGE") == image, env
        assert env.get("MESOS_DOCKER_KILL_ORPHANS") == "false", env
        assert env.get("MESOS_WORK_DIR") == work_dir, env
        assert env.get("MESOS_AGENT_DIND_MODE") == "container", env

        # The agent's endpoints on the host network, behind the known credentials.
        base = "http://%s:%d" % (host.ip, host.port + index)
        assert _get(base + "/health")[0] == 200
        assert _get(base + "/flags")[0] == 401
        assert _get(base + "/flags", (PRINCIPAL, "wrong"))[0] == 401
        flags = _wait_for_flags(base + "/flags", host.auth)["flags"]
        assert flags["docker_mesos_image"] == image, flags
        assert flags["docker_kill_orphans"] == "false", flags
        assert flags["work_dir"] == work_dir, flags
        assert flags["port"] == str(host.port + index), flags
        assert flags["docker_socket"] == socket_path, flags
        assert flags["containerizers"] == "docker,mesos", flags
        assert flags["authenticate_http_readonly"] == "true", flags

        # Same path inside and out: what the agent wrote to its work_dir is on the host at that path.
        assert os.path.islink(os.path.join(work_dir, "meta", "slaves", "latest")), os.listdir(work_dir)
    assert len(images) == 1, images

    # Both registered with the real master, at the address and port the role gave them.
    agents = host.master.wait_for_agents(2)
    pids = sorted(agent["pid"] for agent in agents if agent["active"])
    assert ["slave(1)@%s:%d" % (host.ip, host.port + index) for index in range(2)] == pids, agents


def _started(api, name):
    info = api.inspect_container(name)
    return info["State"]["Running"], info["State"]["StartedAt"]


def test_docker_task_through_the_master_runs_its_executor_from_docker_mesos_image(host):
    _assert_converged(host, host.converge())
    host.master.wait_for_agents(2)
    busybox = host.testbed_busybox
    name = "acm-finish-" + host.prefix
    # Port 21000 is offered by agent a only.
    output = host.master.execute(name, busybox, "echo container-mode says $MESOS_SANDBOX",
                                 resources="cpus:0.1;mem:32;ports:[21000-21000]")
    assert "TASK_FINISHED" in output, output
    task = host.master.wait_for_task(name, ["TASK_FINISHED"])
    container_id = mesos_real.container_id(task)

    api = host.docker_api
    agent_image = api.inspect_container(host.prefix + "a")["Config"]["Image"]
    executor = api.inspect_container("mesos-%s.executor" % container_id)
    # Exactly as Mesos launches it: from docker_mesos_image, host PID namespace, the docker socket and the
    # sandbox at the same path inside and out, the executor binary as the command (our entrypoint exec'd it).
    assert executor["Config"]["Image"] == agent_image, executor["Config"]
    assert executor["HostConfig"]["PidMode"] == "host", executor["HostConfig"]
    assert executor["Path"] == "/usr/local/bin/mesos-agent-dind-entrypoint", executor["Path"]
    assert executor["Args"][0].endswith("/mesos-docker-executor"), executor["Args"]
    binds = dict((m["Destination"], m["Source"]) for m in executor["Mounts"] if m["Type"] == "bind")
    assert binds.get("/var/run/docker.sock") == "/var/run/docker.sock", binds
    sandboxes = [dest for dest, src in binds.items() if dest == src and dest.startswith(host.work_dir + "/a/slaves/")]
    assert len(sandboxes) == 1 and sandboxes[0].endswith("/runs/" + container_id), binds
    assert executor["State"]["ExitCode"] == 0, executor["State"]

    # The task's own container, launched by that executor on the host's daemon, and its output in the sandbox.
    task_container = api.inspect_container("mesos-%s" % container_id)
    assert task_container["Config"]["Image"] == busybox, task_container["Config"]
    with open(os.path.join(sandboxes[0], "stdout")) as handle:
        assert "container-mode says /mnt/mesos/sandbox" in handle.read()


def test_checkpointed_task_survives_agent_container_restart_and_recover(host, run_module):
    _assert_converged(host, host.converge())
    host.master.wait_for_agents(2)
    name = "acm-ckpt-" + host.prefix
    host.master.start(name, host.testbed_busybox, "sleep 600", checkpoint=True,
                      resources="cpus:0.1;mem:32;ports:[21001-21001]")
    task = host.master.wait_for_task(name, ["TASK_RUNNING"])
    container_id = mesos_real.container_id(task)
    api = host.docker_api
    containers = ["mesos-%s" % container_id, "mesos-%s.executor" % container_id]
    before = dict((c, _started(api, c)) for c in containers)
    assert all(running for running, dummy in before.values()), before

    agent = host.prefix + "a"
    agent_id = task["slave_id"]
    api.restart(agent, timeout=10)
    base = "http://%s:%d" % (host.ip, host.port)
    mesos_real.wait_for("agent a's /health after the restart", lambda: _get(base + "/health")[0] == 200)
    # Recovered: the agent reconnected to the executor and the master sees the task running on the same agent.
    state = mesos_real.wait_for(
        "agent a to report the recovered executor",
        lambda: [f for f in _wait_for_flags(base + "/state", host.auth)["frameworks"] if f["executors"]])
    assert state[0]["executors"][0]["container"] == container_id, state
    mesos_real.wait_for("agent a to re-register with its agent ID %s" % agent_id, lambda: [
        a for a in host.master.agents() if a["active"] and a["id"] == agent_id and a["pid"].endswith(":%d" % host.port)])
    assert host.master.task_state(name) == "TASK_RUNNING", _why_not_running(host, name, agent)
    assert dict((c, _started(api, c)) for c in containers) == before

    # mesos.docker.recover in container mode keeps the task's and its executor's containers.
    run = run_module("recover", {
        "work_dir": host.work_dir + "/a", "agent_url": base, "agent_url_username": PRINCIPAL,
        "agent_url_password": host.secret, "docker_mesos_image": True, "kill_orphans": True})
    assert not run.result.get("failed"), run.output
    assert run.result["killed"] == [], run.result
    known = json.dumps(run.result["known"])
    assert container_id in known, run.result
    assert dict((c, _started(api, c)) for c in containers) == before
    assert host.master.task_state(name) == "TASK_RUNNING", _why_not_running(host, name, agent)
    assert host.secret not in run.output


def _why_not_running(host, name, agent):
    """The task's status updates as the framework saw them (with the agent's message and reason) and the
    end of the agent container's log: what a failed assertion on a task's state shows."""
    agent_log = host.docker_api.logs(agent, tail=40).decode(errors="replace")
    return "mesos-execute:\n%s\nagent %s:\n%s" % (host.master.log(name)[-3000:], agent, agent_log)


def _messages(result):
    """The failure message of a task, with those of its failed loop items."""
    failed_items = [item for item in result.get("results", []) if isinstance(item, dict) and item.get("failed")]
    return " | ".join([result.get("msg", "")] + [item.get("msg", "") for item in failed_items])


def _assert_refused_before_any_change(host, run, variables, task, *fragments):
    assert run.rc != 0, run.output
    failed = [name for name, result in run.results.items() if result.get("failed")]
    assert len(failed) == 1 and failed[0].endswith(task), (failed, run.output)
    message = _messages(run.results[failed[0]])
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert recap(run.output, "localhost")["changed"] == 0, run.output
    assert host.existing(host.containers(variables)) == []
    for path in (host.build_dir, host.secrets_dir, host.work_dir):
        assert not os.path.exists(path), path


def test_refuses_agent_container_named_mesos(host):
    prefix = "mesos-" + host.prefix
    run = host.converge(mesos_agent_dind_container_prefix=prefix)
    _assert_refused_before_any_change(
        host, run, dict(host.vars, mesos_agent_dind_container_prefix=prefix), "Check the container names",
        "mesos_agent_dind_container_prefix=%s" % prefix, "mesos-")


def test_refuses_agent_container_named_mesos_by_prefix_and_name(host):
    # Prefix 'mes' and agent 'os-<unique>' give the container name 'mesos-<unique>' just as well.
    agents = [{"name": "os-" + host.prefix + agent} for agent in AGENTS]
    overrides = {"mesos_agent_dind_container_prefix": "mes", "mesos_agent_dind_agents": agents,
                 "mesos_agent_dind_health_timeout": 4}
    variables = dict(host.vars, **overrides)
    run = host.converge(**overrides)
    failed = [name for name, result in run.results.items() if result.get("failed")]
    assert [name.split(" : ")[-1] for name in failed] == ["Check the container names"], run.output
    _assert_refused_before_any_change(
        host, run, variables, failed[0], "mesos-" + host.prefix + AGENTS[0])


@pytest.mark.parametrize("where", ["role-wide", "per-agent"])
def test_refuses_kill_orphans_with_two_agents(host, where):
    if where == "role-wide":
        overrides = {"mesos_agent_dind_flags": {"executor_registration_timeout": "5mins", "docker_kill_orphans": True}}
        agent = "a"
    else:
        agents = [dict(agent) for agent in host.vars["mesos_agent_dind_agents"]]
        agents[1]["flags"] = {"docker_kill_orphans": True}
        overrides = {"mesos_agent_dind_agents": agents}
        agent = "b"
    run = host.converge(**overrides)
    _assert_refused_before_any_change(
        host, run, dict(host.vars, **overrides),
        "Check that agents sharing the host's Docker daemon do not kill each other's tasks",
        "mesos_agent_dind_agents[%s]" % agent, "docker_kill_orphans=True", "2 container-mode agents")
