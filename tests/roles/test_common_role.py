"""The internal role mesos.docker._common: the agent roles' HTTP credentials logic and the apt probe, once.

Its task files run here (connection local) with the credentials file in a temporary directory.
"""
import glob
import json
import os
import stat
import subprocess
import sys

import pytest

from role_hosts import BIN, REPO, ansible_env, changed_tasks

HANDLER_TOPIC = "wt12 credentials changed"


def _play(tmp_path, tasks, variables=None, check=False):
    playbook = tmp_path / "play.json"
    playbook.write_text(json.dumps([{
        "name": "_common", "hosts": "localhost", "connection": "local", "gather_facts": True,
        "tasks": tasks,
        "handlers": [{"name": "Note the credentials change", "ansible.builtin.debug": {"msg": "HANDLER RAN"},
                      "listen": HANDLER_TOPIC}],
    }]))
    extra = tmp_path / "vars.json"
    extra.touch(mode=0o600)
    extra.write_text(json.dumps(variables or {}))
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", str(playbook),
           "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", "@%s" % extra]
    if check:
        cmd.append("--check")
    proc = subprocess.run(cmd, cwd=REPO, env=ansible_env(), capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def _credentials_tasks(path, credentials):
    source = {"name": "mesos.docker._common", "tasks_from": "http_credentials.yml"}
    return [{"name": "credentials", "ansible.builtin.import_role": source,
             "vars": {"_common_http_credentials": credentials, "_common_http_principal": "wt12-ops",
                      "_common_http_credentials_path": str(path), "_common_notify": [HANDLER_TOPIC]}},
            {"name": "show", "ansible.builtin.debug": {"msg": "CHANGED={{ __common_http_credentials_changed }}"}}]


def test_generates_once_then_keeps(tmp_path):
    path = tmp_path / "http_credentials.json"
    rc, out = _play(tmp_path, _credentials_tasks(path, []))
    assert rc == 0, out
    assert "CHANGED=True" in out and "HANDLER RAN" in out, out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    generated = json.loads(path.read_text())["credentials"]
    assert [c["principal"] for c in generated] == ["wt12-ops"] and len(generated[0]["secret"]) == 32
    assert generated[0]["secret"] not in out
    rc, out = _play(tmp_path, _credentials_tasks(path, []))
    assert rc == 0, out
    assert "CHANGED=False" in out and "HANDLER RAN" not in out, changed_tasks(out)
    assert json.loads(path.read_text())["credentials"] == generated


def test_writes_given_credentials(tmp_path):
    path = tmp_path / "http_credentials.json"
    given = [{"principal": "ops", "secret": "wt12-given-s3cret"}]
    rc, out = _play(tmp_path, _credentials_tasks(path, given), check=True)
    assert rc == 0 and "CHANGED=True" in out and not path.exists(), out
    rc, out = _play(tmp_path, _credentials_tasks(path, given))
    assert rc == 0 and "CHANGED=True" in out, out
    assert json.loads(path.read_text()) == {"credentials": given}
    assert "wt12-given-s3cret" not in out
    rc, out = _play(tmp_path, _credentials_tasks(path, given))
    assert rc == 0 and "CHANGED=False" in out, out


def test_preflight_names_the_callers_variables(tmp_path):
    source = {"name": "mesos.docker._common", "tasks_from": "http_credentials_preflight.yml"}
    tasks = [{"name": "preflight", "ansible.builtin.import_role": source,
              "vars": {"_common_role": "wt12_role", "_common_http_credentials": [{"principal": "ops", "secret": ""}],
                       "_common_http_credentials_var": "wt12_role_http_credentials",
                       "_common_http_principal": "x", "_common_http_principal_var": "wt12_role_http_principal"}}]
    rc, out = _play(tmp_path, tasks)
    assert rc != 0, out
    assert "wt12_role: every entry of wt12_role_http_credentials needs a non-empty principal and secret" in out
    assert '"ops"' in out


def test_apt_probe_in_check_mode(tmp_path):
    source = {"name": "mesos.docker._common", "tasks_from": "apt_usable.yml"}
    tasks = [{"name": "probe", "ansible.builtin.import_role": source},
             {"name": "show", "ansible.builtin.debug": {"msg": "APT={{ __common_apt_usable }}"}}]
    installed = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "python3-apt"], capture_output=True,
                               text=True, check=False).stdout
    rc, out = _play(tmp_path, tasks, check=True)
    assert rc == 0, out
    assert ("APT=%s" % ("install ok installed" in installed)) in out, out
    rc, out = _play(tmp_path, tasks)
    assert rc == 0 and "APT=True" in out, out


def test_refuses_to_run_on_its_own(tmp_path):
    rc, out = _play(tmp_path, [{"name": "direct", "ansible.builtin.import_role": {"name": "mesos.docker._common"}}])
    assert rc != 0 and "internal to the mesos.docker roles" in out, out


@pytest.mark.parametrize("marker", ["lookup('ansible.builtin.password'", "python3-apt]", "needs a non-empty principal and secret"])
def test_logic_lives_only_in_common(marker):
    """The roles carry no copy of the credentials logic or the apt probe: they import _common."""
    holders = sorted(os.path.relpath(p, REPO) for p in glob.glob(os.path.join(REPO, "roles", "*", "tasks", "*.yml"))
                     if marker in open(p, encoding="utf-8").read())
    assert holders and all(h.startswith("roles/_common/") for h in holders), holders
