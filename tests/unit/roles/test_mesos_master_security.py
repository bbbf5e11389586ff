"""Role mesos_master: what its secure default renders, from the role's own defaults and vars (no host).

A play loads roles/mesos_master/defaults and vars for the master of a small inventory (host-mode agents,
a docker-in-docker host with three agents, one absent) and prints the flags, the credentials and the
policy the role would write: every principal once with a secret derived from the cluster key, the agent
principals the agent roles use, the flags that close each door, and the default ACLs.
"""
import json
import os
import subprocess
import sys

import pytest

from ansible_collections.mesos.docker.plugins.module_utils._cluster_auth import derived_secret

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
KEY = "unit-test-cluster-key"

INVENTORY = {
    "masters": {"hosts": {"m1": None}},
    "agents": {"hosts": {"a1": None, "a2": {"mesos_agent_principal": "rack-2/a2"}}},
    "dind_agents": {"hosts": {"d1": {"mesos_agent_dind_agents": [
        {"name": "x"}, {"name": "y", "state": "absent"}, {"name": "z", "principal": "custom-z"}]}}},
}

PLAY = """
- hosts: m1
  gather_facts: false
  tasks:
    - ansible.builtin.include_vars: @REPO@/roles/mesos_master/defaults/main.yml
    - ansible.builtin.include_vars: @REPO@/roles/mesos_master/vars/main.yml
    - ansible.builtin.set_fact:
        __common_credentials_key: @KEY@
    - ansible.builtin.debug:
        msg: "RENDERED={{ {'flags': _mesos_master_all_flags, 'credentials': _mesos_master_credentials,
                          'acls': _mesos_master_acls} | to_json }}"
"""


def render(tmp_path, **extra):
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"children": INVENTORY, "vars": {"ansible_connection": "local"}}}))
    play = tmp_path / "render.yml"
    play.write_text(PLAY.replace("@REPO@", REPO).replace("@KEY@", KEY))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    proc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(inventory), str(play),
         "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", json.dumps(extra)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stdout
    for line in proc.stdout.splitlines():
        if '"msg": "RENDERED=' in line:
            return json.loads(json.loads("{" + line.strip() + "}")["msg"][len("RENDERED="):])
    pytest.fail(proc.stdout)


@pytest.fixture(scope="module")
def default(tmp_path_factory):
    return render(tmp_path_factory.mktemp("default"))


def test_every_door_has_its_flag(default):
    flags = default["flags"]
    assert flags["authenticate_frameworks"] is True and flags["authenticate_http_frameworks"] is True
    assert flags["http_framework_authenticators"] == "basic"
    assert flags["authenticate_agents"] is True
    assert flags["authenticate_http_readonly"] is True and flags["authenticate_http_readwrite"] is True
    assert flags["credentials"] == "/etc/mesos-master/http_credentials.json"
    assert flags["acls"] == "file:///etc/mesos-master/acls.json"


def test_every_principal_once_with_a_derived_secret_operators_first(default):
    principals = [c["principal"] for c in default["credentials"]]
    assert principals == ["mesos-master-ops", "mesos-monitoring", "mesos-framework",
                          "a1", "rack-2/a2", "d1/x", "custom-z"]
    for entry in default["credentials"]:
        assert entry["secret"] == derived_secret(KEY, entry["principal"]), entry["principal"]


def test_the_default_policy_closes_what_nobody_needs(default):
    acls = default["acls"]
    assert acls["permissive"] is False
    assert acls["register_frameworks"] == [{"principals": {"values": ["mesos-framework"]}, "roles": {"values": ["*"]}}]
    assert acls["run_tasks"] == [{"principals": {"values": ["mesos-framework"]}, "users": {"values": ["nobody"]}}]
    assert acls["register_agents"] == [{"principals": {"values": ["a1", "rack-2/a2", "d1/x", "custom-z"]},
                                        "agents": {"type": "ANY"}}]
    assert acls["teardown_frameworks"] == [{"principals": {"values": ["mesos-master-ops"]},
                                            "framework_principals": {"type": "ANY"}}]
    assert [e["principals"]["values"] for e in acls["update_maintenance_schedules"]] == [["mesos-master-ops"]]
    assert ["mesos-monitoring"] in [e["principals"]["values"] for e in acls["view_frameworks"]]


def test_given_secrets_and_extra_acls_come_first(tmp_path):
    rendered = render(tmp_path, mesos_master_http_credentials=[{"principal": "ops", "secret": "from-vault"}],
                      mesos_master_frameworks=[{"principal": "batch", "secret": "batch-vault", "users": ["batch"]}],
                      mesos_master_acls={"run_tasks": [{"principals": {"values": ["batch"]},
                                                        "users": {"values": ["root"]}}]})
    secrets = dict((c["principal"], c["secret"]) for c in rendered["credentials"])
    assert secrets["ops"] == "from-vault" and secrets["batch"] == "batch-vault"
    assert rendered["acls"]["run_tasks"][0]["users"] == {"values": ["root"]}
    assert rendered["acls"]["run_tasks"][1]["users"] == {"values": ["batch"]}


def test_authentication_off_leaves_the_flags_out(tmp_path):
    rendered = render(tmp_path, mesos_master_authenticate_frameworks=False, mesos_master_authenticate_agents=False,
                      mesos_master_authorization=False, mesos_master_http_authentication="disabled")
    for flag in ("authenticate_frameworks", "authenticate_http_frameworks", "authenticate_agents", "acls",
                 "credentials", "authenticate_http_readonly"):
        assert flag not in rendered["flags"], flag
