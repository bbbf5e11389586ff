"""docker_config applied alone (no mesos_agent in the play) writes its file and runs cleanly.

Runs on this machine (connection local) with the file in a temporary directory.
"""
import json
import os
import stat
import subprocess
import sys

from role_hosts import BIN, REPO, ansible_env, recap


def _apply(tmp_path, variables):
    playbook = tmp_path / "docker_config.yml"
    playbook.write_text(json.dumps([{"name": "docker_config alone", "hosts": "localhost", "connection": "local",
                                     "gather_facts": False, "roles": [{"role": "mesos.docker.docker_config"}]}]))
    extra = tmp_path / "vars.json"
    extra.touch(mode=0o600)
    extra.write_text(json.dumps(variables))
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", str(playbook),
                           "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", "@%s" % extra],
                          cwd=REPO, env=ansible_env(), capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_docker_config_alone_runs_cleanly(tmp_path):
    path = tmp_path / "etc" / "docker_config.json"
    variables = {"docker_config_path": str(path),
                 "docker_config_registries": [{"registry": "r.example:5000", "username": "u", "password": "wt12-s3cret"}]}
    rc, out = _apply(tmp_path, variables)
    assert rc == 0, out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["auths"]["r.example:5000"]["auth"]
    assert "wt12-s3cret" not in out
    # A change again, with nothing to restart in the play: still clean.
    variables["docker_config_registries"][0]["password"] = "wt12-rotated"
    rc, out = _apply(tmp_path, variables)
    assert rc == 0, out
    assert recap(out, "localhost")["changed"] == 1, out
    rc, out = _apply(tmp_path, variables)
    assert rc == 0 and recap(out, "localhost")["changed"] == 0, out
