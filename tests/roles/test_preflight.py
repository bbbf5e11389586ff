"""Bad inputs fail in the roles' preflight, before any change, naming the variable and value.

Runs each role against this machine (``connection: local``) in check mode with only
the ``always``-tagged tasks (the OS variables and the preflight): read-only commands
(``dpkg-query``, ``apt-cache policy``, ``stat``), nothing is installed or written.
"""
import os
import re
import sys

import pytest

from role_hosts import run_preflight_only

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

GOOD_AGENT = {
    "mesos_agent_install_method": "binary",
    "mesos_agent_binary": os.path.join(REPO, "tests", "standin", "mesos-agent"),
    "mesos_agent_master": "10.0.0.1:5050",
    # No `masters` group here: the cluster credentials key is given.
    "mesos_agent_credentials_key": "preflight-test-key",
}

# Preflight only: the package file is never read before the install phase.
GOOD_MASTER = {
    "mesos_master_install_method": "deb",
    "mesos_master_deb_file": "/nonexistent/mesos.deb",
}


# An ACL entry naming a principal the master does not have; a framework whose secret is empty.
INTRUDER_MAY_RUN_AS_ROOT = {"principals": {"values": ["intruder"]}, "users": {"values": ["root"]}}
BATCH_WITH_EMPTY_SECRET = {"principal": "batch", "secret": "", "roles": ["*"], "users": ["nobody"]}


def run_preflight(tmp_path, role, variables, groups=None):
    """``groups``: inventory groups ({name: [hosts]}) around localhost, which alone runs the role."""
    children = {name: {"hosts": dict.fromkeys(hosts)} for name, hosts in (groups or {}).items()}
    play = ("- hosts: localhost\n  connection: local\n  gather_facts: true\n"
            "  roles:\n    - role: mesos.docker.%s\n" % role)
    return run_preflight_only(tmp_path, {"all": {"hosts": {"localhost": None}, "children": children}}, play, variables,
                              ["-e", "ansible_python_interpreter=%s" % sys.executable])


@pytest.mark.parametrize("role, variables, expected", [
    pytest.param("mesos_agent", dict(GOOD_AGENT, mesos_agent_flags={"docker_kil_orphans": False}),
                 ["Failed to load unknown flag 'docker_kil_orphans'"], id="misspelled-flag"),
    pytest.param("mesos_agent", dict(GOOD_AGENT, mesos_agent_executor_registration_timeout="soon"),
                 ["Failed to load flag 'executor_registration_timeout'", "'soon'"], id="duration-not-a-duration"),
    pytest.param("mesos_agent", dict(GOOD_AGENT, mesos_agent_flags={"docker_kill_orphans": "maybe"}),
                 ["Failed to load flag 'docker_kill_orphans'", "'maybe'"], id="bool-not-a-bool"),
    pytest.param("mesos_agent", dict(GOOD_AGENT, mesos_agent_resources={"cpus": -1, "mem": 1024}),
                 ["mesos_agent_resources", "cpus=-1"], id="negative-resource"),
    pytest.param("mesos_agent", dict(GOOD_AGENT, mesos_agent_master="mesos-master"),
                 ["mesos_agent_master=\"mesos-master\"", "zk://"], id="master-neither-host-port-nor-zk"),
    pytest.param("mesos_agent", dict(GOOD_AGENT, mesos_agent_master="http://m1:5050"),
                 ["mesos_agent_master=\"http://m1:5050\""], id="master-url"),
    pytest.param("mesos_agent", dict(GOOD_AGENT, mesos_agent_version="1.12.0",
                                     mesos_agent_flags={"docker_mesos_imag": "x"}),
                 ["unknown flag 'docker_mesos_imag'"], id="misspelled-flag-in-flags"),
    pytest.param("mesos_agent", dict(GOOD_AGENT, mesos_agent_http_credentials=[{"principal": "ops", "secret": ""}]),
                 ["mesos_agent_http_credentials", "\"ops\""], id="empty-http-secret"),
    pytest.param("mesos_agent", dict(GOOD_AGENT, mesos_agent_http_credentials_path="creds.json"),
                 ["mesos_agent_http_credentials_path=creds.json"], id="relative-http-credentials-path"),
    pytest.param("mesos_agent", dict(GOOD_AGENT, mesos_agent_binary="/nonexistent/mesos-agent"),
                 ["mesos_agent_binary=/nonexistent/mesos-agent"], id="binary-missing"),
    pytest.param("mesos_master", dict(GOOD_MASTER, mesos_master_work_dir=""),
                 ["mesos_master_work_dir=\"\"", "absolute path"], id="master-empty-work-dir"),
    pytest.param("mesos_master", dict(GOOD_MASTER, mesos_master_quorum=0),
                 ["quorum 0 cannot be met by 1 master(s)"], id="master-quorum-0"),
    pytest.param("mesos_master", dict(GOOD_MASTER, mesos_master_quorum=2),
                 ["quorum 2 cannot be met by 1 master(s)"], id="master-quorum-2-alone"),
    pytest.param("mesos_master", dict(GOOD_MASTER, mesos_master_flags={"offer_timout": "30secs"}),
                 ["mesos_master:", "Failed to load unknown flag 'offer_timout'"], id="master-misspelled-flag"),
    pytest.param("mesos_master", dict(GOOD_MASTER, mesos_master_flags={"zk": "zk://ops:s3cret@zk1:2181/mesos"},
                                      mesos_master_flags_via="cmdline"),
                 ["mesos_master_flags_via=cmdline", "zk"], id="master-credentials-on-cmdline"),
    pytest.param("mesos_master", dict(GOOD_MASTER, mesos_master_registry="zookeeper"),
                 ["mesos_master_registry", "zookeeper", "replicated_log, in_memory"], id="master-unknown-registry"),
    pytest.param("mesos_agent", dict(GOOD_AGENT, mesos_agent_credentials_key=""),
                 ["agent authentication is on", "mesos_agent_credentials_key", "`masters` group"],
                 id="agent-authentication-without-credential"),
    pytest.param("mesos_master", dict(GOOD_MASTER, mesos_master_acls={"run_task": []}),
                 ["mesos_master_acls", "run_task", "run_tasks"], id="acl-unknown-key"),
    pytest.param("mesos_master", dict(GOOD_MASTER, mesos_master_acls='{"run_tasks": ['),
                 ["mesos_master_acls", "JSON"], id="acl-bad-json"),
    pytest.param("mesos_master", dict(GOOD_MASTER, mesos_master_acls={"run_tasks": [INTRUDER_MAY_RUN_AS_ROOT]}),
                 ["mesos_master_acls", "intruder"], id="acl-unknown-principal"),
    pytest.param("mesos_master", dict(GOOD_MASTER, mesos_master_frameworks=[BATCH_WITH_EMPTY_SECRET]),
                 ["mesos_master_frameworks", "\"batch\"", "empty secret"], id="framework-empty-secret"),
    pytest.param("mesos_master", dict(GOOD_MASTER, mesos_master_monitoring_principal="mesos-master-ops"),
                 ["used more than once: mesos-master-ops"], id="principal-twice"),
    pytest.param("docker_engine", {"docker_engine_registry_ca_certs": [{"registry": "r.example:5443", "ca": "not a pem"}]},
                 ["docker_engine_registry_ca_certs", "r.example:5443", "BEGIN CERTIFICATE"], id="registry-ca-not-pem"),
    pytest.param("docker_engine", {"docker_engine_min_version": "99.0.0"},
                 ["below 99.0.0"], id="docker-below-bound"),
    pytest.param("docker_config", {"docker_config_registries": [{"registry": "r.example:5000", "username": "u"}]},
                 ["r.example:5000", "need a registry and either username and password"], id="registry-without-password"),
    pytest.param("docker_config", {"docker_config_mode": "0644"},
                 ["docker_config_mode=0644"], id="world-readable-credentials"),
    pytest.param("iptables", {"iptables_bridge_subnet": "172.17.0.0"},
                 ["iptables_bridge_subnet=172.17.0.0"], id="subnet-without-prefix"),
])
def test_bad_input_fails_in_preflight(tmp_path, role, variables, expected):
    rc, out = run_preflight(tmp_path, role, variables)
    assert rc != 0, out
    for text in expected:
        assert text in out, out


@pytest.mark.parametrize("groups, variables, expected", [
    pytest.param({"masters": ["localhost", "master-2"], "zookeepers": ["zk-1"]}, {},
                 ["2 masters: an even count", "use 1, 3 or 5"], id="two-masters"),
    pytest.param({"masters": ["localhost", "master-2", "master-3", "master-4"], "zookeepers": ["zk-1"]}, {},
                 ["4 masters: an even count"], id="four-masters"),
    pytest.param({"masters": ["localhost", "master-2", "master-3"]}, {},
                 ["3 masters need --zk"], id="three-masters-without-zookeeper"),
    pytest.param({"masters": ["localhost", "master-2", "master-3"], "zookeepers": ["zk-1"]}, {"mesos_master_quorum": 1},
                 ["quorum 1 of 3 masters is not a majority (at least 2)"], id="quorum-not-a-majority"),
    pytest.param({"masters": ["localhost", "master-2", "master-3"], "zookeepers": ["zk-1"]},
                 {"mesos_master_registry": "in_memory"},
                 ["3 masters with --registry=in_memory share no state"], id="in-memory-registry-of-three"),
])
def test_masters_that_cannot_form_a_cluster_fail_in_preflight(tmp_path, groups, variables, expected):
    rc, out = run_preflight(tmp_path, "mesos_master", dict(GOOD_MASTER, **variables), groups=groups)
    assert rc != 0, out
    for text in expected:
        assert text in out, out


def test_three_masters_on_zookeeper_get_a_quorum_of_two_and_pass_the_cluster_check(tmp_path):
    """(This machine is no systemd host: the preflight stops later, at the service manager check.)"""
    rc, out = run_preflight(tmp_path, "mesos_master", GOOD_MASTER,
                            groups={"masters": ["localhost", "master-2", "master-3"], "zookeepers": ["zk-1"]})
    check = re.search(r"TASK \[mesos.docker.mesos_master : Check the masters can form a cluster: "
                      r"3 in masters, quorum 2\][^\n]*\n(\w+):", out)
    assert check and check.group(1) == "ok", out


def test_flag_errors_are_reported_all_at_once(tmp_path):
    rc, out = run_preflight(tmp_path, "mesos_agent", dict(GOOD_AGENT, mesos_agent_flags={
        "docker_kil_orphans": False, "docker_remove_delay": "soon"}))
    assert rc != 0, out
    assert "unknown flag 'docker_kil_orphans'" in out and "'docker_remove_delay'" in out, out


def test_secrets_do_not_appear_in_preflight_failures(tmp_path):
    rc, out = run_preflight(tmp_path, "docker_config", {"docker_config_registries": [
        {"registry": "r.example:5000", "username": "u", "password": "s3cret-pass"},
        {"registry": "", "username": "v", "password": "other-s3cret"}]})
    assert rc != 0, out
    assert "s3cret" not in out, out


def _hybrid_cgroup_layout():
    with open("/proc/self/mounts") as mounts:
        return any(line.split()[1:3] == ["/sys/fs/cgroup/unified", "cgroup2"] for line in mounts)


def test_hybrid_cgroup_layout_without_the_workaround_fails_naming_the_mount(tmp_path):
    """These machines have systemd's hybrid layout, where Mesos 1.12 exits at start."""
    rc, out = run_preflight(tmp_path, "mesos_agent", dict(GOOD_AGENT, mesos_agent_hide_hybrid_cgroup2=False))
    if _hybrid_cgroup_layout():
        assert rc != 0, out
        assert "/sys/fs/cgroup/unified" in out and "mesos_agent_hide_hybrid_cgroup2" in out, out
    else:
        assert rc == 0, out
