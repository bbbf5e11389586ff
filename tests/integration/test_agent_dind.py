"""Role mesos_agent_dind in dind mode with the real Mesos package, through a real master.

A test network (a bridge with its own subnet, the parent daemon's addresses kept to its first /24) holds
a real ``mesos-master`` (``mesos_real.Master``, from the ``mesos_package_image`` fixture) and the docker-in-docker agents the role converges on
localhost (``targets/agent_container_mode/converge.yml``, the same play for both modes). Tasks go through
the master with ``mesos-execute --containerizer=docker``; the test bed's busybox image is loaded into each
inner daemon first (nothing can be pulled). Shown:

- bridged: a task on the ``bridge`` network of its agent's inner daemon gets an address inside the agent's
  slice (read from the state file the role keeps on the Docker host), and that address answers HTTP from
  this host (busybox ``httpd``); two agents' tasks lie in two different, non-overlapping slices;
- stopping a dind agent's container: the master reports its task ``TASK_LOST``, the task no longer answers,
  and no task container of it is left on the host's daemon; the other agent's task keeps running;
- default networking: the task's address (in the inner daemon's own network) does not answer from the host;
- the allocation state: ``/var/lib/mesos-docker``-style root-only file on the host; a ``--limit`` run that
  adds an agent, with pruning asked for, never hands out a slice of an agent outside the play.

Everything this test makes carries its random prefix and the ``mesos-docker-test`` label and is removed by
name afterwards (agent containers with their volumes, master, network); it never prunes.
"""
import ipaddress
import json
import os
import random
import secrets
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

import mesos_real

pytestmark = pytest.mark.real_mesos

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(REPO, "tests", "integration", "targets", "agent_container_mode", "converge.yml")
NETWORK_PLAY = os.path.join(REPO, "tests", "integration", "targets", "agent_dind_network", "allocate.yml")
HTTPD = "mkdir -p /www && echo %s > /www/index.html && exec httpd -f -p 8080 -h /www"


def _http(url):
    """The body of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.read().decode().strip()
    except (OSError, urllib.error.URLError):
        return None


class Lab:
    """A test network with a master, and the dind agents converged on it."""

    def __init__(self, api, testbed, prefix, tmp_path, run_playbook, image, package):
        self.api = api
        self.prefix = prefix
        self.tmp_path = tmp_path
        self.run_playbook = run_playbook
        self.busybox = testbed["TESTBED_IMAGE_BUSYBOX"]
        self.network = prefix + "-net"
        for dummy in range(20):
            subnet = "10.%d.0.0/16" % random.randint(100, 250)
            try:
                api.create_network(self.network, driver="bridge", labels={mesos_real.TEST_LABEL: "true"},
                                   ipam={"Driver": "default", "Config": [
                                       {"Subnet": subnet, "IPRange": subnet.replace("0.0/16", "0.0/24")}]})
                break
            except Exception as exc:  # overlaps a network of someone else: try another
                if "overlap" not in str(exc):
                    raise
        else:
            pytest.fail("no free 10.x.0.0/16 for the test network")
        self.subnet = subnet
        self.containers = set()
        # Fast failure detection: an agent that goes away is noticed within seconds.
        self.master = mesos_real.Master(api, image, prefix + "-master", network=self.network,
                                        flags=["--agent_ping_timeout=2secs", "--max_agent_ping_timeouts=3"],
                                        agent_principals=["localhost/a", "localhost/b"])
        self.state_file = str(tmp_path / "state" / "dind_network.json")
        self.vars = {
            "mesos_agent_dind_mode": "dind",
            "mesos_agent_dind_master": self.master.address,
            "mesos_agent_dind_docker_network": self.network,
            "mesos_agent_dind_network_state_file": self.state_file,
            "mesos_agent_dind_container_prefix": prefix + "-",
            "mesos_agent_dind_build_dir": str(tmp_path / "build"),
            "mesos_agent_dind_secrets_dir": str(tmp_path / "secrets"),
            "mesos_agent_dind_base_image": testbed["TESTBED_IMAGE_DEBIAN12"],
            "mesos_agent_dind_deb_file": package,
            "mesos_agent_dind_restart_policy": "no",
            "mesos_agent_dind_stop_timeout": 10,
            # The master is the tests' own (mesos_real.Master): the agents derive their secrets from its key.
            "mesos_agent_dind_credentials_key": mesos_real.CREDENTIALS_KEY,
        }

    def converge(self, agents, **overrides):
        variables = dict(self.vars, mesos_agent_dind_agents=agents, **overrides)
        self.containers.update(self.vars["mesos_agent_dind_container_prefix"] + a["name"] for a in agents)
        self.containers.add(self.vars["mesos_agent_dind_container_prefix"] + "privileged-probe")
        path = self.tmp_path / ("vars-%s.json" % secrets.token_hex(4))
        path.write_text(json.dumps(variables))
        run = self.run_playbook(PLAYBOOK, extra_vars={"agent_container_mode_vars_file": str(path)})
        if run.rc != 0:
            logs = dict((name, self.api.logs(name).decode(errors="replace")[-3000:])
                        for name in self.containers if self.api.containers(all=True, filters={"name": name}))
            pytest.fail("converge failed; agent logs %s\n%s" % (logs, run.output))
        return run

    def agent(self, name):
        return self.vars["mesos_agent_dind_container_prefix"] + name

    def inner(self, agent, *argv):
        exec_id = self.api.exec_create(self.agent(agent), list(argv))
        output = self.api.exec_start(exec_id).decode(errors="replace")
        assert self.api.exec_inspect(exec_id)["ExitCode"] == 0, (argv, output)
        return output

    def load_busybox(self, agent):
        """docker save on this host | docker load in the agent's inner daemon."""
        exec_id = self.api.exec_create(self.agent(agent), ["docker", "load"], stdin=True)
        sock = self.api.exec_start(exec_id, socket=True)
        for chunk in self.api.get_image(self.busybox):
            sock._sock.sendall(chunk)
        sock._sock.shutdown(1)
        while sock._sock.recv(4096):
            pass
        sock.close()
        assert self.busybox in self.inner(agent, "docker", "images", "--format", "{{.Repository}}:{{.Tag}}")

    def task_address(self, agent, task):
        container = "mesos-%s" % mesos_real.container_id(task)
        return self.inner(agent, "docker", "inspect", "-f",
                          "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", container).strip()

    def slices(self):
        with open(self.state_file) as handle:
            return json.load(handle)["allocations"]

    def cleanup(self):
        import docker

        for name in sorted(self.containers):
            try:
                self.api.remove_container(name, v=True, force=True)
            except docker.errors.NotFound:
                pass
            try:
                self.api.remove_volume(name + "-var-lib-docker")
            except docker.errors.NotFound:
                pass
        self.master.remove()
        self.api.remove_network(self.network)


@pytest.fixture
def lab(docker_api, testbed, name_prefix, tmp_path, run_playbook, mesos_package_image, mesos_package):
    lab = Lab(docker_api, testbed, name_prefix, tmp_path, run_playbook, mesos_package_image, mesos_package)
    yield lab
    lab.cleanup()


AGENT_A = {"name": "a", "resources": {"cpus": 1, "mem": 256, "disk": 1024, "ports": ["21000-21099"]}}
AGENT_B = {"name": "b", "resources": {"cpus": 1, "mem": 256, "disk": 1024, "ports": ["22000-22099"]}}


def test_bridged_dind_tasks_answer_from_the_host_and_end_with_their_agent(lab):
    lab.converge([AGENT_A, AGENT_B])
    lab.master.wait_for_agents(2)
    state_dir = os.path.dirname(lab.state_file)
    assert os.stat(state_dir).st_mode & 0o777 == 0o700 and os.stat(lab.state_file).st_mode & 0o777 == 0o600

    tasks, addresses = {}, {}
    for agent, port in (("a", 21000), ("b", 22000)):
        lab.load_busybox(agent)
        token = "task-%s-%s" % (agent, lab.prefix)
        # The port range only this agent offers puts the task on it.
        lab.master.start(token, lab.busybox, HTTPD % token, networks="bridge",
                         resources="cpus:0.1;mem:32;ports:[%d-%d]" % (port, port))
        tasks[agent] = lab.master.wait_for_task(token, ["TASK_RUNNING"])
        addresses[agent] = lab.task_address(agent, tasks[agent])

    slices = lab.slices()
    assert sorted(slices) == ["localhost/a", "localhost/b"], slices
    a_slice = ipaddress.ip_network(slices["localhost/a"]["fixed_cidr"])
    b_slice = ipaddress.ip_network(slices["localhost/b"]["fixed_cidr"])
    assert not a_slice.overlaps(b_slice), slices
    assert ipaddress.ip_network(lab.subnet).supernet_of(a_slice) and ipaddress.ip_network(lab.subnet).supernet_of(b_slice)
    for agent, net in (("a", a_slice), ("b", b_slice)):
        assert ipaddress.ip_address(addresses[agent]) in net, (agent, addresses[agent], net)
        token = "task-%s-%s" % (agent, lab.prefix)
        answer = mesos_real.wait_for("task %s to answer at %s" % (token, addresses[agent]),
                                     lambda: _http("http://%s:8080/" % addresses[agent]))
        assert answer == token

    # Stopping agent a's container ends its task: the master reports it lost, it no longer answers,
    # and nothing of it is left on the host's daemon. Agent b's task runs on.
    lab.api.stop(lab.agent("a"), timeout=10)
    token_a = "task-a-" + lab.prefix
    lost = lab.master.wait_for_task(token_a, ["TASK_LOST", "TASK_KILLED", "TASK_FAILED", "TASK_GONE"], timeout=120)
    assert lost["state"] in ("TASK_LOST", "TASK_KILLED"), lost
    assert _http("http://%s:8080/" % addresses["a"]) is None
    container_a = "mesos-%s" % mesos_real.container_id(tasks["a"])
    assert lab.api.containers(all=True, filters={"name": container_a}) == []
    assert lab.master.task_state("task-b-" + lab.prefix) == "TASK_RUNNING"
    assert _http("http://%s:8080/" % addresses["b"]) == "task-b-" + lab.prefix


def test_default_networking_dind_task_is_not_reachable_from_the_host(lab):
    lab.converge([AGENT_A], mesos_agent_dind_networking="default")
    lab.master.wait_for_agents(1)
    lab.load_busybox("a")
    token = "task-default-" + lab.prefix
    lab.master.start(token, lab.busybox, HTTPD % token, networks="bridge",
                     resources="cpus:0.1;mem:32;ports:[21000-21000]")
    task = lab.master.wait_for_task(token, ["TASK_RUNNING"])
    address = lab.task_address("a", task)
    # The task serves on its own (inner) network: from inside the agent container it answers ...
    fetch = "import urllib.request, sys; sys.stdout.write(urllib.request.urlopen('http://%s:8080/', timeout=3).read().decode())"
    assert mesos_real.wait_for("task %s to answer inside its agent" % token,
                               lambda: lab.inner("a", "python3", "-c", fetch % address)).strip() == token
    # ... and its address is not in the parent network, nor does it answer from this host with this task.
    assert ipaddress.ip_address(address) not in ipaddress.ip_network(lab.subnet), address
    assert _http("http://%s:8080/" % address) != token
    assert not os.path.exists(lab.state_file) or lab.slices() == {}


def test_limit_run_adding_an_agent_never_hands_out_a_slice_of_an_agent_outside_the_play(lab):
    # Two inventory hosts on this one Docker host share its state file. Allocation only (preflight + the
    # role's network tasks, the real module and the real parent network): no agent containers needed.
    variables = lab.tmp_path / "vars.json"
    variables.write_text(json.dumps(lab.vars))

    def allocate(h1, h2, *args, **extra):
        inventory = lab.tmp_path / ("inventory-%s.json" % secrets.token_hex(4))
        inventory.write_text(json.dumps({"dind_agents": {
            "hosts": {"h1": {"mesos_agent_dind_agents": h1}, "h2": {"mesos_agent_dind_agents": h2}},
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}))
        cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), NETWORK_PLAY, "-i", str(inventory),
               "-e", json.dumps(dict(extra, agent_dind_network_vars_file=str(variables)))] + list(args)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"),
                   ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0")
        run = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
        assert run.returncode == 0, run.stdout + run.stderr
        return lab.slices()

    a, b, c, d, e = ({"name": name} for name in "abcde")
    first = allocate([a, b], [c])
    assert sorted(first) == ["h1/a", "h1/b", "h2/c"], first
    # h1 alone (--limit), with agent b dropped and d added, pruning asked for: h2/c keeps its slice and
    # d does not get it (b's freed slice may be reused: its container is gone by the operator's word).
    second = allocate([a, d], [c], "--limit", "h1", mesos_agent_dind_network_prune=True)
    assert second["h2/c"] == first["h2/c"] and second["h1/a"] == first["h1/a"], (first, second)
    assert "h1/b" not in second
    assert len(set(entry["fixed_cidr"] for entry in second.values())) == len(second), second
    # h2 alone adds e: neither a's nor d's slice.
    third = allocate([a, d], [c, e], "--limit", "h2")
    assert sorted(third) == ["h1/a", "h1/d", "h2/c", "h2/e"], third
    cidrs = [ipaddress.ip_network(entry["fixed_cidr"]) for entry in third.values()]
    assert all(not x.overlaps(y) for i, x in enumerate(cidrs) for y in cidrs[i + 1:]), third
    # An agent marked absent gives its slice back; nothing else moves.
    fourth = allocate([a, d], [c, dict(e, state="absent")], "--limit", "h2")
    assert sorted(fourth) == ["h1/a", "h1/d", "h2/c"], fourth
    assert all(fourth[key] == third[key] for key in fourth)
