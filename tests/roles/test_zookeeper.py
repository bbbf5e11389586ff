"""mesos.docker.zookeeper on three real Debian 12 systemd hosts: a real ZooKeeper ensemble from Debian's packages.

Shown: the role converges (check on the fresh hosts -> apply -> check -> apply, changed=0 the second
time); the ensemble has one leader and two followers; the client port is bound to the host's address
and the AdminServer's port 8080 is closed; a znode that Mesos's digest identity creates under /mesos
(with the ACL Mesos gives its znodes: creator all, world read) cannot be written, deleted or added
to by an anonymous client or another digest identity, and /mesos itself cannot be deleted; the
password is in no world-readable file, no command line and no output; a configuration change
restarts the nodes one at a time (at least two of three serve at every moment of the run); the
ensemble keeps serving with its leader stopped; a duplicated id fails in the preflight and
changes nothing.

The hosts come from the test bed's image `zookeeper12` (systemd12 with Java and the libraries the
packages depend on; the role installs zookeeper, zookeeperd and libzookeeper-java itself), else
systemd12. The foreign clients are Python's kazoo (requirements-test.txt) on this machine, talking to the
containers' addresses.
"""
import json
import os
import re
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from kazoo import client as kazoo_client
from kazoo import exceptions as kazoo_exceptions
from kazoo import security as kazoo_security

from ansible_collections.mesos.docker.plugins.module_utils import _cluster_auth
from playbook_output import changed_tasks, recap
from role_hosts import BIN, HOST_PREFIX, REPO, Host, ansible_env, docker
from testbed_env import TEST_LABEL

PLAY = [{"name": "zookeeper ensemble", "hosts": "zookeepers", "become": True, "gather_facts": True,
         "roles": [{"role": "mesos.docker.zookeeper"}]}]
# The Mesos identity's password, derived from the cluster credentials key (read in `converged`).
PASSWORD = ""


def four_letter_word(address, word, port=2181, timeout=3):
    with socket.create_connection((address, port), timeout=timeout) as conn:
        conn.sendall(word.encode())
        chunks = []
        while True:
            data = conn.recv(4096)
            if not data:
                return b"".join(chunks).decode()
            chunks.append(data)


def mode(address):
    try:
        for line in four_letter_word(address, "srvr").splitlines():
            if line.startswith("Mode: "):
                return line[len("Mode: "):]
    except OSError:
        return None
    return None


class Ensemble:
    """Three hosts in the group `zookeepers` and ansible-playbook runs of the role against them."""

    def __init__(self, hosts, tmp_path):
        self.hosts = hosts
        self.tmp_path = tmp_path
        self.addresses = {host.name: host.sh("hostname -I").split()[0] for host in hosts}
        self.runs = []
        # The role's variables of the last configuration applied (a test that changes them records it here).
        self.variables = {}

    def inventory(self, hostvars=None):
        hosts = {host.name: dict({"ansible_connection": "community.docker.docker",
                                  "ansible_python_interpreter": "/usr/bin/python3"}, **(hostvars or {}).get(host.name, {}))
                 for host in self.hosts}
        path = self.tmp_path / ("inventory-%s.json" % os.urandom(3).hex())
        path.write_text(json.dumps({"all": {"children": {"zookeepers": {"hosts": hosts}}}}))
        return path

    def play(self, variables=None, check=False, diff=False, hostvars=None):
        tag = os.urandom(3).hex()
        playbook = self.tmp_path / ("play-%s.json" % tag)
        playbook.write_text(json.dumps(PLAY))
        extra = self.tmp_path / ("vars-%s.json" % tag)
        extra.touch(mode=0o600)
        extra.write_text(json.dumps(dict(self.variables, **(variables or {}))))
        cmd = [os.path.join(BIN, "ansible-playbook"), "-i", str(self.inventory(hostvars)), str(playbook),
               "-e", "@%s" % extra] + (["--check"] if check else []) + (["--diff"] if diff else [])
        started = time.monotonic()
        proc = subprocess.run(cmd, cwd=REPO, env=ansible_env(), capture_output=True, text=True, timeout=1500,
                              stdin=subprocess.DEVNULL, check=False)
        run = PlayRun(proc, [host.name for host in self.hosts], time.monotonic() - started)
        self.runs.append(run)
        return run

    def modes(self):
        return {name: mode(address) for name, address in self.addresses.items()}

    def connect_string(self):
        return ",".join("%s:2181" % address for address in self.addresses.values())

    def client(self, auth=None):
        client = kazoo_client.KazooClient(hosts=self.connect_string(), timeout=10,
                                          auth_data=[("digest", auth)] if auth else None)
        client.start(timeout=30)
        return client


class PlayRun:
    def __init__(self, proc, names, seconds):
        self.rc = proc.returncode
        self.output = proc.stdout + proc.stderr
        self.names = names
        self.seconds = seconds

    def changed(self, name=None):
        """The changed count of one host's recap, or of all together."""
        return sum(recap(self.output, host)["changed"] for host in ([name] if name else self.names))

    @property
    def changed_tasks(self):
        return changed_tasks(self.output)


@pytest.fixture(scope="module")
def ensemble(testbed, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("zookeeper")
    # The prepared layer (Java and the libraries already there) when the test bed built it.
    image = testbed.get("TESTBED_IMAGE_ZOOKEEPER12") or testbed.get("TESTBED_IMAGE_SYSTEMD12")
    label = testbed.get("TESTBED_TEST_LABEL") or TEST_LABEL
    network = "%szk-%s" % (HOST_PREFIX, os.urandom(4).hex())
    docker("network", "create", "--label", "%s=true" % label, network)
    hosts = [Host(image, tmp_path, label, network) for _index in range(3)]
    try:
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda host: host.start(), hosts))
        yield Ensemble(hosts, tmp_path)
    finally:
        for host in hosts:
            host.remove()
        docker("network", "rm", network, check=False)


@pytest.fixture(scope="module")
def converged(ensemble):
    """The quad: check on fresh hosts, apply, check, apply."""
    first_check = ensemble.play(check=True, diff=True)
    print("check on fresh hosts: %.0fs" % first_check.seconds)
    first = ensemble.play(diff=True)
    print("first apply: %.0fs" % first.seconds)
    second_check = ensemble.play(check=True, diff=True)
    second = ensemble.play()
    # No password given: the role derived it from the cluster credentials key it generated on the first
    # host (no `masters` group here) exactly as mesos_master derives its --zk credential.
    global PASSWORD  # pylint: disable=global-statement
    key = ensemble.hosts[0].sh("cat /etc/mesos-master/credentials.key")
    PASSWORD = _cluster_auth.derived_secret(key, "zookeeper/mesos")
    return ensemble, [first_check, first, second_check, second]


def test_converges_and_is_idempotent(converged):
    ensemble, (first_check, first, second_check, second) = converged
    print("wall time of the runs (s): %s" % [round(run.seconds, 1) for run in ensemble.runs[:4]])
    assert first_check.rc == 0, first_check.output
    assert first_check.changed() > 0
    assert first.rc == 0, first.output
    assert first.changed() > 0
    assert second_check.rc == 0, second_check.output
    assert second_check.changed() == 0, "changed in check mode: %s\n%s" % (second_check.changed_tasks, second_check.output)
    assert second.rc == 0, second.output
    assert second.changed() == 0, "changed on the second run: %s\n%s" % (second.changed_tasks, second.output)
    assert "RUNNING HANDLER" not in second.output
    # --diff shows the configuration (zoo.cfg) of the first run.
    assert "server.3=" in first.output and "4lw.commands.whitelist=ruok, srvr" in first.output
    for run in ensemble.runs[:4]:
        assert PASSWORD not in run.output


def test_one_leader_two_followers(converged):
    ensemble = converged[0]
    modes = sorted(ensemble.modes().values(), key=str)
    assert modes == ["follower", "follower", "leader"], modes


def test_ids_and_ensemble_from_the_group(converged):
    ensemble = converged[0]
    for index, host in enumerate(ensemble.hosts, start=1):
        assert host.sh("cat /var/lib/zookeeper/myid").strip() == str(index)
        config = host.sh("cat /etc/zookeeper/conf/zoo.cfg")
        for other_index, other in enumerate(ensemble.hosts, start=1):
            assert "server.%d=%s:2888:3888" % (other_index, ensemble.addresses[other.name]) in config, config
        assert "admin.enableServer=false" in config
        assert host.sh("systemctl is-active zookeeper.service").strip() == "active"
        assert host.sh("systemctl is-enabled zookeeper.service").strip() == "enabled"


def test_client_port_bound_to_the_address_and_admin_server_closed(converged):
    ensemble = converged[0]
    for host in ensemble.hosts:
        address = ensemble.addresses[host.name]
        listening = host.sh("ss -Htln")
        assert "%s:2181" % address in listening, listening
        assert "0.0.0.0:2181" not in listening and "*:2181" not in listening, listening
        assert ":8080" not in listening, listening
        with pytest.raises(OSError):
            socket.create_connection((address, 8080), timeout=3).close()
        # Only the four-letter words the role needs.
        assert four_letter_word(address, "ruok") == "imok"
        assert "is not executed because it is not in the whitelist" in four_letter_word(address, "stat")


def test_secret_file_root_only_and_not_in_ps(converged):
    ensemble = converged[0]
    for host in ensemble.hosts:
        assert host.sh("stat -c '%U:%G %a' /etc/zookeeper/mesos.secret").strip() == "root:root 600"
        assert host.sh("cat /etc/zookeeper/mesos.secret") == PASSWORD != ""
        assert PASSWORD not in host.sh("ps -eo args")
        assert PASSWORD not in host.sh("cat /etc/zookeeper/conf/zoo.cfg /etc/zookeeper/conf/environment")


def test_mesos_znode_refuses_foreign_clients(converged):
    ensemble = converged[0]
    mesos = ensemble.client(auth="mesos:%s" % PASSWORD)
    anonymous = ensemble.client()
    stranger = ensemble.client(auth="stranger:other-password")
    try:
        # What a Mesos master with zk://mesos:<password>@.../mesos does: its znodes get "creator all, world read".
        acl = [kazoo_security.ACL(kazoo_security.Permissions.ALL, kazoo_security.Id("auth", "")),
               kazoo_security.ACL(kazoo_security.Permissions.READ, kazoo_security.ANYONE_ID_UNSAFE)]
        path = mesos.create("/mesos/json.info_", b"master info", acl=acl, sequence=True)
        for foreign in (anonymous, stranger):
            assert foreign.get(path)[0] == b"master info"  # world read
            with pytest.raises(kazoo_exceptions.NoAuthError):
                foreign.set(path, b"forged")
            with pytest.raises(kazoo_exceptions.NoAuthError):
                foreign.delete(path)
            # No forged leader entry beside the master's, and /mesos itself stays.
            with pytest.raises(kazoo_exceptions.NoAuthError):
                foreign.create("/mesos/json.info_0000000000", b"forged")
            with pytest.raises(kazoo_exceptions.NoAuthError):
                foreign.set_acls("/mesos", [kazoo_security.ACL(kazoo_security.Permissions.ALL,
                                                               kazoo_security.ANYONE_ID_UNSAFE)])
        mesos.delete(path)
        # Empty now: still not deletable by anyone but the Mesos identity ("/" refuses world deletes).
        for foreign in (anonymous, stranger):
            with pytest.raises(kazoo_exceptions.NoAuthError):
                foreign.delete("/mesos")
        assert mesos.exists("/mesos")
    finally:
        for client in (mesos, anonymous, stranger):
            client.stop()
            client.close()


def _alive(address):
    try:
        return four_letter_word(address, "ruok", timeout=1) == "imok"
    except OSError:
        return False


def _watch(ensemble, stop, samples):
    """Samples (time, nodes whose server answers ruok, nodes serving as leader or follower)."""
    while not stop.is_set():
        alive = sum(1 for address in ensemble.addresses.values() if _alive(address))
        serving = sum(1 for value in ensemble.modes().values() if value in ("leader", "follower"))
        samples.append((time.monotonic(), alive, serving))
        time.sleep(0.2)


def test_config_change_restarts_one_node_at_a_time_the_leader_last(converged):
    ensemble = converged[0]
    pids = {host.name: host.sh("systemctl show -p MainPID --value zookeeper.service").strip() for host in ensemble.hosts}
    leader = next(name for name, value in ensemble.modes().items() if value == "leader")
    stop, samples = threading.Event(), []
    watcher = threading.Thread(target=_watch, args=(ensemble, stop, samples))
    watcher.start()
    try:
        run = ensemble.play({"zookeeper_max_client_cnxns": 100})
    finally:
        stop.set()
        watcher.join()
    assert run.rc == 0, run.output
    ensemble.variables = {"zookeeper_max_client_cnxns": 100}
    restarted = re.findall(r"^changed: \[[^]]+\] => \(item=(\S+) \((\w+)\)\)$", run.output, re.M)
    assert len(restarted) == 3, run.output
    assert restarted[-1] == (leader, "leader"), restarted
    for host in ensemble.hosts:
        assert host.sh("systemctl show -p MainPID --value zookeeper.service").strip() != pids[host.name]
        assert "maxClientCnxns=100" in host.sh("cat /etc/zookeeper/conf/zoo.cfg")
    # Never two servers down at once; without a quorum only while the two others elect a new leader.
    assert samples and min(sample[1] for sample in samples) >= 2, samples
    gaps, since = [], None
    for moment, _alive_count, serving in samples:
        if serving < 2 and since is None:
            since = moment
        elif serving >= 2 and since is not None:
            gaps.append(moment - since)
            since = None
    print("rolling restart: %.0fs, stretches without a serving majority: %s" % (
        run.seconds, [round(gap, 1) for gap in gaps]))
    assert since is None and all(gap < 30 for gap in gaps), gaps
    assert sorted(ensemble.modes().values(), key=str) == ["follower", "follower", "leader"]


def test_duplicate_id_fails_before_any_change(converged):
    ensemble = converged[0]
    names = [host.name for host in ensemble.hosts]
    before = {host.name: (host.sh("md5sum /etc/zookeeper/conf/zoo.cfg"),
                          host.sh("systemctl show -p MainPID --value zookeeper.service")) for host in ensemble.hosts}
    run = ensemble.play({"zookeeper_max_client_cnxns": 61}, hostvars={names[2]: {"zookeeper_id": 1}})
    assert run.rc != 0, run.output
    assert "zookeeper_id=1 is used by %s and %s" % (names[0], names[2]) in run.output, run.output
    assert run.changed() == 0, run.output
    for host in ensemble.hosts:
        assert (host.sh("md5sum /etc/zookeeper/conf/zoo.cfg"),
                host.sh("systemctl show -p MainPID --value zookeeper.service")) == before[host.name]


def test_ensemble_serves_with_its_leader_stopped(converged):
    ensemble = converged[0]
    leader = next(host for host in ensemble.hosts if mode(ensemble.addresses[host.name]) == "leader")
    leader.sh("systemctl stop zookeeper.service")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            modes = {name: value for name, value in ensemble.modes().items() if name != leader.name}
            if sorted(modes.values(), key=str) == ["follower", "leader"]:
                break
            time.sleep(0.5)
        assert sorted(modes.values(), key=str) == ["follower", "leader"], modes
        mesos = ensemble.client(auth="mesos:%s" % PASSWORD)
        try:
            path = mesos.create("/mesos/leaderless-check", b"ok")
            assert mesos.get(path)[0] == b"ok"
            mesos.delete(path)
        finally:
            mesos.stop()
            mesos.close()
    finally:
        leader.sh("systemctl start zookeeper.service")
    run = ensemble.play()
    assert run.rc == 0 and run.changed() == 0, run.output
    assert sorted(ensemble.modes().values(), key=str) == ["follower", "follower", "leader"]
