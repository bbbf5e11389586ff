"""A cluster that survives its own maintenance, with the real package: three masters on a ZooKeeper
ensemble, two host-mode agents, checkpointed docker tasks launched by the package's own ``mesos-execute``.

The hosts (systemd containers with their own Docker) are provisioned once by ``playbooks/site.yml``:
``mdt-ha-master-1..3`` each a ZooKeeper node (``mesos.docker.zookeeper``) and a master
(``--registry=replicated_log``, ``--quorum=2``, ``--zk`` from the ensemble with a digest credential),
``mdt-ha-agent-1..2`` agents whose ``--master`` is the ensemble's ``zk://`` URL. Then, in this order:

- stopping the leader's ``mesos-master`` elects another master; every agent re-registers with it under the
  same agent ID; a checkpointed task stays ``TASK_RUNNING`` in the same container and its framework
  (``mesos-execute --checkpoint``, which re-subscribes with its framework ID when it finds a new leader)
  is connected to the new leader; the old leader rejoins as a follower;
- ``playbooks/rolling_restart.yml`` restarts masters and agents one at a time while a checkpointed task
  runs on each agent: no task is lost (same containers), at most one master and one agent are
  unavailable at any sampled moment, and only the restarts report ``changed``;
- ``playbooks/upgrade.yml`` from the package to a newer one: the test makes the newer one from the same
  package (``dpkg-deb -R``, ``Version:`` + ``+mdt1``, ``dpkg-deb -b``), so dpkg replaces every installed file
  as in a real upgrade but the binaries inside are the same build: ``/version`` cannot tell them apart, so
  the test shows the upgrade by dpkg's version of each host and by each daemon's running executable being
  the file dpkg installed (``/proc/<pid>/exe`` has the new file's inode). Masters first, then agents; the
  tasks survive; a re-run is ``changed=0``;
- an agent made to fail on purpose (a systemd drop-in whose ``ExecStartPre`` fails) stops the rolling
  restart after its batch, names it, and leaves the other agent untouched;
- bad settings of a rolling restart are refused before anything restarts;
- a master configuration change through ``playbooks/site.yml`` (whose masters play runs on every master at
  once) restarts the masters one at a time, each back before the next: never two masters down at a sampled
  moment, every master restarted with the new flag, the tasks in the same containers on agents with the same IDs.
"""
import json
import os
import re
import subprocess
import sys
import threading
import time

import pytest
import requests

from conftest import REPO, ansible_env, mesos_package_path, run_ansible_playbook
from mesos_real import address, docker, docker_task, hosts_then_site, on, wait_for
from systemd_hosts import agent_vars, cluster_image, common_vars
from playbook_output import changed_tasks, recap
from testbed_env import SecretsHidden

from ansible_collections.mesos.docker.plugins.module_utils._cluster_auth import derived_secret

pytestmark = pytest.mark.real_mesos

MASTERS = ["mdt-ha-master-1", "mdt-ha-master-2", "mdt-ha-master-3"]
AGENTS = ["mdt-ha-agent-1", "mdt-ha-agent-2"]
HOSTS = MASTERS + AGENTS
# Given to every host (as Vault would): the masters, the agents and ZooKeeper derive their secrets from it.
CREDENTIALS_KEY = "mesos-docker-ha-test-cluster-key"
FRAMEWORK = "mesos-framework"
FRAMEWORK_SECRET = "/etc/mesos-master/frameworks/%s.secret" % FRAMEWORK
# Each agent offers cpus 2: a task of 1.5 cpus fits once per agent, so two tasks land on both agents.
TASK_RESOURCES = "cpus:1.5;mem:32"
# ZooKeeper's default session timeout (ticks 2 s x 2..20) plus Mesos's own election delay: 60 s is a margin.
FAILOVER_TIMEOUT = 60


def _inventory(testbed, package):
    common = dict(common_vars(package, cluster_image(testbed, package)), mesos_credentials_key=CREDENTIALS_KEY)
    agents = agent_vars(testbed)
    return {"all": {"vars": common, "children": {
        "zookeepers": {"hosts": dict.fromkeys(MASTERS)},
        "masters": {"hosts": dict.fromkeys(MASTERS)},
        "agents": {"hosts": dict.fromkeys(AGENTS), "vars": agents}}}}


def remove_hosts():
    for host in HOSTS:
        docker("rm", "-f", "-v", host, check=False)
        docker("volume", "rm", "-f", host + "-docker", check=False)


@pytest.fixture(scope="module")
def ha(testbed, tmp_path_factory):
    work = tmp_path_factory.mktemp("ha-cluster")
    package = mesos_package_path()
    inventory = work / "inventory.yml"
    inventory.write_text(json.dumps(_inventory(testbed, package)))
    playbook = work / "cluster.yml"
    playbook.write_text(hosts_then_site())
    remove_hosts()
    started = time.time()
    run = run_ansible_playbook(str(playbook), inventory=str(inventory), timeout=2400)
    assert run.rc == 0, run.output[-20000:]
    print("ha: 3 masters + ZooKeeper and 2 agents from new hosts in %.0f s" % (time.time() - started))
    operator = json.loads(on(MASTERS[0], "cat", "/etc/mesos-master/http_credentials.json").stdout)["credentials"][0]
    info = SecretsHidden({
        "work": work, "inventory": str(inventory), "package": package, "installed": package, "image": testbed["TESTBED_PRIVATE_IMAGE_TLS"],
        "masters": {host: address(host) for host in MASTERS},
        "agents": {host: address(host) for host in AGENTS},
        "operator": (operator["principal"], operator["secret"]),
        "zk": on(AGENTS[0], "sh", "-c", ". /etc/default/mesos-agent; echo $MESOS_MASTER").stdout.strip(),
    })
    yield info
    # For a look at the cluster after a failure: MESOS_DOCKER_TEST_KEEP_HA=1 leaves the hosts running.
    if os.environ.get("MESOS_DOCKER_TEST_KEEP_HA") != "1":
        remove_hosts()


def metrics(ha, host, timeout=3):
    response = requests.get("http://%s:5050/metrics/snapshot" % ha["masters"][host], auth=ha["operator"],
                            timeout=timeout)
    response.raise_for_status()
    return response.json()


def leader(ha):
    """The master that says it leads (master/elected), or None."""
    for host in MASTERS:
        try:
            if metrics(ha, host).get("master/elected") == 1:
                return host
        except requests.RequestException:
            continue
    return None


def leader_get(ha, path):
    host = leader(ha)
    assert host, "no master leads"
    response = requests.get("http://%s:5050%s" % (ha["masters"][host], path), auth=ha["operator"], timeout=10)
    response.raise_for_status()
    return response.json()


def active_agents(ha):
    """{hostname: agent ID} of the agents the leader lists as active."""
    return {agent["hostname"]: agent["id"] for agent in leader_get(ha, "/master/slaves")["slaves"] if agent["active"]}


def agent_of_address(ha, hostname):
    return next(host for host, ip in ha["agents"].items() if ip == hostname or host == hostname)


def running_tasks(ha):
    """{task name: (framework ID, agent ID, state)} at the leader."""
    found = {}
    for framework in leader_get(ha, "/master/state")["frameworks"]:
        for task in framework["tasks"]:
            found[task["name"]] = (framework["id"], task["slave_id"], task["state"])
    return found


def task_containers():
    """{agent host: the IDs of its running mesos- task containers} (on each agent's own Docker)."""
    return {host: sorted(on(host, "docker", "ps", "-q", "--no-trunc", "--filter", "name=^/mesos-").stdout.split())
            for host in AGENTS}


def started_at(host, service):
    """When the service's current process started (systemd's monotonic clock, shared by the hosts)."""
    return int(on(host, "systemctl", "show", "--property=ExecMainStartTimestampMonotonic", "--value",
                  service).stdout.strip() or 0)


def start_task(ha, name):
    """A checkpointed docker task through the cluster, by mesos-execute on the first master host (it finds the
    leader through ZooKeeper, so it follows a failover); its output goes to /tmp/<name>.log there."""
    task = json.dumps(docker_task(name, ha["image"], "sleep 3600", TASK_RESOURCES))
    on(MASTERS[0], "sh", "-c", "cat > /tmp/%s.task.json <<'EOF'\n%s\nEOF" % (name, task))
    command = ("exec mesos-execute --master=%s --task=file:///tmp/%s.task.json --checkpoint --principal=%s "
               "--secret=file://%s >/tmp/%s.log 2>&1" % (ha["zk"], name, FRAMEWORK, FRAMEWORK_SECRET, name))
    docker("exec", "-d", MASTERS[0], "sh", "-c", command)

    def running():
        task = running_tasks(ha).get(name)
        return task if task and task[2] == "TASK_RUNNING" else None
    return wait_for("task %s running" % name, running, timeout=240)


@pytest.fixture(scope="module")
def tasks(ha):
    """Two checkpointed docker tasks, one per agent."""
    first = start_task(ha, "ha-task-1")
    second = start_task(ha, "ha-task-2")
    assert first[1] != second[1], "both tasks on one agent: %s %s" % (first, second)
    return {"ha-task-1": first, "ha-task-2": second}


def playbook(ha, name, *args, timeout=1800):
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", ha["inventory"],
               os.path.join(REPO, "playbooks", name)] + list(args)
    proc = subprocess.run(command, cwd=REPO, env=ansible_env(), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)
    return proc


def test_the_masters_elect_one_leader_and_fail_over_keeping_agents_and_tasks(ha, tasks):
    old_leader = leader(ha)
    assert old_leader, "no leader among %s" % MASTERS
    assert [metrics(ha, host)["master/elected"] for host in MASTERS].count(1) == 1
    agents_before = active_agents(ha)
    assert len(agents_before) == len(AGENTS), agents_before
    containers_before = task_containers()
    framework_id = tasks["ha-task-1"][0]

    stopped = time.time()
    on(old_leader, "systemctl", "stop", "mesos-master")
    new_leader = wait_for("a new leader", lambda: leader(ha), timeout=FAILOVER_TIMEOUT, interval=0.2)
    elected = time.time()
    assert new_leader != old_leader
    wait_for("every agent re-registered with %s" % new_leader,
             lambda: active_agents(ha) == agents_before, timeout=FAILOVER_TIMEOUT, interval=0.2)
    reregistered = time.time()
    print("failover: leader %s stopped -> %s elected in %.1f s, all %d agents re-registered (same IDs) after %.1f s"
          % (old_leader, new_leader, elected - stopped, len(AGENTS), reregistered - stopped))

    assert {name: task[2] for name, task in running_tasks(ha).items()} == {
        "ha-task-1": "TASK_RUNNING", "ha-task-2": "TASK_RUNNING"}
    assert task_containers() == containers_before
    frameworks = {f["id"]: f for f in leader_get(ha, "/master/frameworks")["frameworks"]}
    wait_for("the framework reconnected to %s" % new_leader,
             lambda: leader_get(ha, "/master/frameworks")["frameworks"]
             and {f["id"]: f for f in leader_get(ha, "/master/frameworks")["frameworks"]}
             .get(framework_id, {}).get("connected"), timeout=FAILOVER_TIMEOUT)
    assert framework_id in frameworks

    on(old_leader, "systemctl", "start", "mesos-master")
    wait_for("%s back as a follower with its log recovered" % old_leader,
             lambda: metrics(ha, old_leader).get("registrar/log/recovered") == 1
             and metrics(ha, old_leader).get("master/elected") == 0, timeout=120)
    assert leader(ha) == new_leader


class Sampler(threading.Thread):
    """Samples, every ~0.2 s, which masters refuse connections (down: a restarting master's port is closed; a slow
    answer on this loaded machine is no evidence of that) and which agents the leader lists as active (the leader
    is asked directly, and looked up again only when it stops answering as leader)."""

    def __init__(self, ha):
        super().__init__(daemon=True)
        self.ha = ha
        self.samples = []
        self.done = threading.Event()
        self.leader = None

    def down_masters(self):
        down = []
        for host in MASTERS:
            try:
                requests.get("http://%s:5050/health" % self.ha["masters"][host], timeout=2)
            except requests.ConnectionError:
                down.append(host)
            except requests.Timeout:
                pass
        return down

    def active(self):
        for _attempt in range(2):
            if self.leader is None:
                self.leader = leader(self.ha)
            if self.leader is None:
                return None
            try:
                response = requests.get("http://%s:5050/master/slaves" % self.ha["masters"][self.leader],
                                        auth=self.ha["operator"], timeout=3, allow_redirects=False)
            except requests.RequestException:
                response = None
            if response is not None and response.status_code == 200:
                return set(agent_of_address(self.ha, agent["hostname"]) for agent in response.json()["slaves"]
                           if agent["active"])
            self.leader = None
        return None

    def run(self):
        while not self.done.is_set():
            self.samples.append({"time": time.time(), "down": self.down_masters(), "active": self.active()})
            time.sleep(0.2)


def test_a_rolling_restart_loses_no_task_and_takes_one_host_down_at_a_time(ha, tasks):
    containers_before = task_containers()
    masters_before = {host: started_at(host, "mesos-master") for host in MASTERS}
    agents_before = {host: started_at(host, "mesos-agent") for host in AGENTS}
    ids_before = active_agents(ha)

    sampler = Sampler(ha)
    sampler.start()
    began = time.time()
    run = playbook(ha, "rolling_restart.yml", "-e", "mesos_rolling_serial=1")
    ended = time.time()
    sampler.done.set()
    sampler.join()
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-20000:]

    # Everything restarted once, and nothing else changed.
    assert all(started_at(host, "mesos-master") != masters_before[host] for host in MASTERS)
    assert all(started_at(host, "mesos-agent") != agents_before[host] for host in AGENTS)
    assert sorted(changed_tasks(output)) == ["mesos.docker.mesos_rolling : Restart mesos-agent",
                                             "mesos.docker.mesos_rolling : Restart mesos-master"], changed_tasks(output)
    assert all(recap(output, host)["changed"] == 1 for host in HOSTS), output[-3000:]

    # No task lost: the same tasks run in the same containers, on agents with the same IDs.
    assert {name: task[2] for name, task in running_tasks(ha).items()} == {
        "ha-task-1": "TASK_RUNNING", "ha-task-2": "TASK_RUNNING"}
    assert task_containers() == containers_before
    assert active_agents(ha) == ids_before

    # One host down at a time: never two masters without /health; once the masters are done (all healthy,
    # every agent back at a leader), never two agents inactive — and the sampler did see each agent go.
    assert sampler.samples, "no sample"
    assert max(len(sample["down"]) for sample in sampler.samples) <= 1, [s["down"] for s in sampler.samples]
    last_master_down = max([sample["time"] for sample in sampler.samples if sample["down"]] or [began])
    agent_phase = [sample for sample in sampler.samples if sample["time"] > last_master_down]
    settled = next((index for index, sample in enumerate(agent_phase)
                    if sample["active"] is not None and len(sample["active"]) == len(AGENTS)), None)
    assert settled is not None, "no sample with every agent active after the masters: %s" % sampler.samples[-20:]
    agent_phase = [sample for sample in agent_phase[settled:] if sample["active"] is not None]
    unavailable = [sorted(set(AGENTS) - sample["active"]) for sample in agent_phase]
    assert max(len(down) for down in unavailable) <= 1, unavailable
    # The sampler does see an agent's restart (an agent is inactive at the master until it re-registers).
    assert any(unavailable), "no sample saw an agent inactive: %d samples" % len(agent_phase)
    print("rolling restart of %d masters and %d agents (batches of 1): %.0f s, %d samples"
          % (len(MASTERS), len(AGENTS), ended - began, len(sampler.samples)))


def repacked(package, work):
    """The package with a higher Debian version (``+mdt1``): rebuilt from its own files by dpkg-deb."""
    tree = work / "repack"
    subprocess.run(["dpkg-deb", "-R", package, str(tree)], check=True)
    control = (tree / "DEBIAN" / "control").read_text()
    version = re.search(r"^Version: (.*)$", control, re.M).group(1)
    (tree / "DEBIAN" / "control").write_text(control.replace("Version: %s" % version, "Version: %s+mdt1" % version))
    newer = work / os.path.basename(package).replace(version.split(":")[-1], version.split(":")[-1] + "+mdt1")
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(newer)], check=True, capture_output=True)
    return str(newer), version + "+mdt1"


def runs_installed_binary(host, service, binary):
    """Whether the service's running process executes the file now at ``binary`` (same inode)."""
    pid = on(host, "systemctl", "show", "--property=MainPID", "--value", service).stdout.strip()
    running = on(host, "stat", "-L", "-c", "%i", "/proc/%s/exe" % pid).stdout.strip()
    return running == on(host, "stat", "-L", "-c", "%i", binary).stdout.strip()


def test_an_upgrade_to_a_newer_package_keeps_the_tasks_and_a_rerun_changes_nothing(ha, tasks):
    newer, version = repacked(ha["package"], ha["work"])
    # What the hosts run from here on (a later site.yml run names it, or apt refuses the older file).
    ha["installed"] = newer
    containers_before = task_containers()
    ids_before = active_agents(ha)
    extra = ["-e", "mesos_master_deb_file=%s" % newer, "-e", "mesos_agent_deb_file=%s" % newer,
             "-e", "mesos_rolling_serial=1"]

    run = playbook(ha, "upgrade.yml", *extra)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-20000:]
    for host in HOSTS:
        assert on(host, "dpkg-query", "-W", "-f=${Version}", "mesos").stdout == version, host
    assert all(runs_installed_binary(host, "mesos-master", "/usr/sbin/mesos-master") for host in MASTERS)
    assert all(runs_installed_binary(host, "mesos-agent", "/usr/sbin/mesos-agent") for host in AGENTS)
    # Masters before agents: every master's new process is older than every agent's.
    last_master = max(started_at(host, "mesos-master") for host in MASTERS)
    assert last_master < min(started_at(host, "mesos-agent") for host in AGENTS)
    assert {name: task[2] for name, task in running_tasks(ha).items()} == {
        "ha-task-1": "TASK_RUNNING", "ha-task-2": "TASK_RUNNING"}
    assert task_containers() == containers_before
    assert active_agents(ha) == ids_before

    again = playbook(ha, "upgrade.yml", *extra)
    output = again.stdout + again.stderr
    assert again.returncode == 0, output[-20000:]
    assert all(recap(output, host)["changed"] == 0 for host in HOSTS), (changed_tasks(output), output[-5000:])


@pytest.mark.parametrize("settings, message", [
    (["-e", "mesos_rolling_serial=0"], "serial '0' would put no agent in a batch"),
    (["-e", "mesos_rolling_serial=150%"], "serial '150%' is over 100%"),
    (["-e", "mesos_rolling_drain=true", "-e", "mesos_rolling_drain_deadline=10m"], "'10m' is not a Mesos duration"),
])
def test_bad_settings_of_a_rolling_restart_are_refused_before_any_restart(ha, settings, message):
    before = {host: started_at(host, "mesos-agent" if host in AGENTS else "mesos-master") for host in HOSTS}
    run = playbook(ha, "rolling_restart.yml", *settings)
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert message in output, output[-5000:]
    assert {host: started_at(host, "mesos-agent" if host in AGENTS else "mesos-master") for host in HOSTS} == before


def test_an_agent_that_does_not_come_back_stops_the_run_after_its_batch(ha, tasks):
    broken, other = AGENTS
    on(broken, "sh", "-c", "mkdir -p /etc/systemd/system/mesos-agent.service.d && printf '[Service]\\n"
       "ExecStartPre=/bin/false\\n' > /etc/systemd/system/mesos-agent.service.d/broken.conf && systemctl daemon-reload")
    other_before = started_at(other, "mesos-agent")
    try:
        run = playbook(ha, "rolling_restart.yml", "--limit", "agents", "-e", "mesos_rolling_serial=1")
        output = run.stdout + run.stderr
        assert run.returncode != 0, output[-5000:]
        assert "agent %s is not back" % broken in output, output[-5000:]
        assert "not touched: %s" % other in output, output[-5000:]
        assert started_at(other, "mesos-agent") == other_before
        assert recap(output, other)["changed"] == 0, output[-3000:]
    finally:
        on(broken, "sh", "-c", "rm -rf /etc/systemd/system/mesos-agent.service.d && systemctl daemon-reload "
           "&& systemctl restart mesos-agent")
    wait_for("both agents active again", lambda: len(active_agents(ha)) == len(AGENTS), timeout=120)
    assert {name: task[2] for name, task in running_tasks(ha).items()} == {
        "ha-task-1": "TASK_RUNNING", "ha-task-2": "TASK_RUNNING"}


def test_the_zookeeper_credential_of_the_masters_shows_on_no_endpoint(ha):
    secret = derived_secret(CREDENTIALS_KEY, "zookeeper/mesos")
    host = leader(ha)
    for path in ("/flags", "/master/state"):
        body = requests.get("http://%s:5050%s" % (ha["masters"][host], path), auth=ha["operator"], timeout=10).text
        # Mesos shows a file:// flag value by its path (stout's SecurePathOrValue), never the content.
        assert secret not in body and '"/etc/mesos-master/zk"' in body, path
    assert secret not in on(host, "ps", "-eo", "args").stdout
    assert on(host, "stat", "-c", "%a %U", "/etc/mesos-master/zk").stdout.split() == ["600", "root"]
    assert "@" not in ha["zk"], "the agents' --master carries no credential"


def test_a_master_change_through_site_restarts_the_masters_one_at_a_time(ha, tasks):
    containers_before = task_containers()
    masters_before = {host: started_at(host, "mesos-master") for host in MASTERS}
    ids_before = active_agents(ha)

    sampler = Sampler(ha)
    sampler.start()
    began = time.time()
    change = {"mesos_master_flags": {"max_completed_frameworks": 49},
              "mesos_master_deb_file": ha["installed"], "mesos_agent_deb_file": ha["installed"]}
    run = playbook(ha, "site.yml", "-e", json.dumps(change))
    ended = time.time()
    sampler.done.set()
    sampler.join()
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-20000:]

    # Every master restarted, with the new flag. (Not asserted: that no agent restarts. After the earlier tests'
    # playbooks this run rewrites the agents' --master, zk:// by host names to zk:// by addresses, and restarts
    # them: an open defect, see the session 8 note.)
    assert all(started_at(host, "mesos-master") != masters_before[host] for host in MASTERS), changed_tasks(output)
    for host in MASTERS:
        flags = requests.get("http://%s:5050/flags" % ha["masters"][host], auth=ha["operator"], timeout=10).json()
        assert flags["flags"]["max_completed_frameworks"] == "49", host
    # One at a time: the sampler saw masters down, never two at once.
    assert any(sample["down"] for sample in sampler.samples), "no sample saw a master restart"
    assert max(len(sample["down"]) for sample in sampler.samples) <= 1, [s["down"] for s in sampler.samples]
    # The agents (once a leader is elected) and the tasks are as they were.
    wait_for("a leader listing the agents active under the same IDs",
             lambda: leader(ha) and active_agents(ha) == ids_before, timeout=120)
    assert {name: task[2] for name, task in running_tasks(ha).items()} == {
        "ha-task-1": "TASK_RUNNING", "ha-task-2": "TASK_RUNNING"}
    assert task_containers() == containers_before
    print("site.yml with a master change on %d masters and %d agents: %.0f s, %d samples"
          % (len(MASTERS), len(AGENTS), ended - began, len(sampler.samples)))
