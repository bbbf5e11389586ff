"""mesos.docker.zookeeper refuses bad ensembles in its preflight, naming the value, before any change.

The hosts of the `zookeepers` group here are names of this machine (``connection: local``, no facts:
each is given its zookeeper_client_address); the role runs in check mode with only its
``always``-tagged tasks (the preflight, and read-only ``systemctl is-active``/``dpkg-query``).
tests/roles/test_zookeeper.py shows on a real ensemble that a failing preflight changes nothing.
"""
import sys

import pytest

from role_hosts import run_preflight_only


def run_preflight(tmp_path, count, hostvars=None, variables=None):
    hosts = {}
    for index in range(1, count + 1):
        name = "zk%d" % index
        hosts[name] = dict({"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                            "zookeeper_client_address": "10.0.0.%d" % index}, **(hostvars or {}).get(name, {}))
    play = "- hosts: zookeepers\n  gather_facts: false\n  roles:\n    - role: mesos.docker.zookeeper\n"
    return run_preflight_only(tmp_path, {"all": {"children": {"zookeepers": {"hosts": hosts}}}}, play, variables)


@pytest.mark.parametrize("count", [1, 5])
def test_odd_ensembles_pass(tmp_path, count):
    rc, out = run_preflight(tmp_path, count)
    assert rc == 0, out


@pytest.mark.parametrize("count", [2, 4, 7])
def test_other_counts_are_refused(tmp_path, count):
    rc, out = run_preflight(tmp_path, count)
    assert rc != 0, out
    assert "has %d hosts" % count in out and "1, 3 or 5" in out, out


@pytest.mark.parametrize("hostvars, variables, expected", [
    pytest.param({"zk3": {"zookeeper_id": 1}}, {}, ["zookeeper_id=1 is used by zk1 and zk3"], id="duplicate-id"),
    pytest.param({"zk2": {"zookeeper_id": 256}}, {}, ["1..255", "zk2=256"], id="id-above-255"),
    pytest.param({"zk2": {"zookeeper_id": "two"}}, {}, ["1..255", "zk2=two"], id="id-not-a-number"),
    pytest.param({"zk2": {"zookeeper_client_address": "zk2.example"}}, {},
                 ["zk2: zookeeper_client_address=\"zk2.example\"", "IPv4 address"], id="address-not-an-ip"),
    pytest.param({"zk3": {"zookeeper_client_port": 70000}}, {}, ["zookeeper_client_port", "zk3=70000"], id="port-too-large"),
    pytest.param({}, {"zookeeper_quorum_port": 0}, ["zookeeper_quorum_port", "zk1=0"], id="port-0"),
    pytest.param({}, {"zookeeper_election_port": 2181}, ["zookeeper_client_port=2181", "zookeeper_election_port=2181"],
                 id="ports-not-distinct"),
    pytest.param({}, {"zookeeper_group": "zk"}, ["zookeeper_group=\"zk\""], id="not-in-the-group"),
    pytest.param({}, {"zookeeper_4lw_commands": ["ruok"]}, ["zookeeper_4lw_commands=[\"ruok\"]"], id="4lw-without-srvr"),
    pytest.param({}, {"zookeeper_config_extra": {"admin.enableServer": "true"}}, ["admin.enableServer"],
                 id="admin-server-on"),
    pytest.param({}, {"zookeeper_mesos_password": "p@ss/word"}, ["zookeeper_mesos_password", "letters, digits"],
                 id="password-breaks-the-url"),
])
def test_bad_input_is_refused(tmp_path, hostvars, variables, expected):
    rc, out = run_preflight(tmp_path, 3, hostvars, variables)
    assert rc != 0, out
    for text in expected:
        assert text in out, out
    assert "p@ss/word" not in out
