"""playbooks/site.yml the way AWX / Tower runs a job: through ansible-runner, no TTY.

A private data dir holds what a job template gives: the project (a playbook importing
``mesos.docker.site``), the inventory (the ``agents`` group: one Debian 12 systemd host of this
test), the extra vars as a file (``env/extravars``, registry credentials among them) and the
environment (``env/envvars``). ansible-runner runs it twice with stdin closed; the recap, read from
the job events runner writes (what AWX shows), must say no failure and no unreachable host, and the
second run must change nothing. The registry secret must not appear in any artifact.

The agent binary is the stand-in from a package file (see test_mesos_agent_host.py); the play is
site.yml unchanged: docker_engine, iptables, docker_config, mesos_agent (and dind.yml, whose
``dind_agents`` group is empty here).
"""
import glob
import json
import os
import subprocess
import sys

import pytest
import yaml

from role_hosts import REPO, ansible_env
from test_mesos_agent_host import _build_package

SECRET = "wt12-awx-registry-s3cret"


def _runner():
    """ansible-runner of the test venv (requirements-test.txt), or MESOS_DOCKER_ANSIBLE_RUNNER."""
    path = os.environ.get("MESOS_DOCKER_ANSIBLE_RUNNER") or os.path.join(os.path.dirname(sys.executable), "ansible-runner")
    assert os.access(path, os.X_OK), "ansible-runner not found at %s (requirements-test.txt installs it)" % path
    return path


def _stats(artifacts):
    """The playbook_on_stats event of a run: per-host counters, as AWX shows the recap."""
    for path in sorted(glob.glob(os.path.join(artifacts, "job_events", "*.json"))):
        with open(path, encoding="utf-8") as handle:
            event = json.load(handle)
        if event.get("event") == "playbook_on_stats":
            return event["event_data"]
    pytest.fail("no playbook_on_stats event in %s" % artifacts)


def _run(private, ident):
    env = ansible_env()
    env.pop("ANSIBLE_STDOUT_CALLBACK", None)
    proc = subprocess.run([_runner(), "run", str(private), "-p", "site.yml", "--ident", ident],
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=2400, check=False)
    artifacts = str(private / "artifacts" / ident)
    return proc, artifacts


def test_site_through_ansible_runner(systemd_host, tmp_path):
    host = systemd_host()
    private = tmp_path / "awx"
    (private / "project").mkdir(parents=True)
    (private / "inventory").mkdir()
    (private / "env").mkdir()
    (private / "project" / "site.yml").write_text(yaml.safe_dump([
        {"name": "The collection's site playbook", "ansible.builtin.import_playbook": "mesos.docker.site"}]))
    (private / "inventory" / "hosts.json").write_text(json.dumps({"agents": {"hosts": {host.name: {
        "ansible_connection": "community.docker.docker", "ansible_python_interpreter": "/usr/bin/python3"}}}}))
    extravars = private / "env" / "extravars"
    extravars.touch(mode=0o600)
    extravars.write_text(yaml.safe_dump({
        "mesos_agent_master": "127.0.0.1:5050",
        "mesos_agent_install_method": "deb",
        "mesos_agent_deb_file": _build_package(tmp_path),
        "mesos_agent_containerizers": ["docker", "mesos"],
        "mesos_agent_resources": {"cpus": 2, "mem": 512},
        "docker_config_registries": [{"registry": "registry.example.invalid:5000", "username": "deploy",
                                      "password": SECRET}],
        "iptables_agent_port_firewall": True,
        # No master here (the stand-in agent registers nowhere): the cluster credentials key is given.
        "mesos_agent_credentials_key": "role-test-key",
        "mesos_agent_registration_timeout": 0,
        "iptables_agent_port_sources": ["127.0.0.1"],
    }))
    (private / "env" / "envvars").write_text(yaml.safe_dump({
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, ".build", "collections"),
        "ANSIBLE_PIPELINING": "true",
    }))

    first, artifacts = _run(private, "first")
    assert first.returncode == 0, first.stdout[-8000:] + first.stderr
    stats = _stats(artifacts)
    assert not stats.get("failures") and not stats.get("dark"), stats
    assert stats["ok"].get(host.name), stats

    second, artifacts = _run(private, "second")
    assert second.returncode == 0, second.stdout[-8000:] + second.stderr
    stats = _stats(artifacts)
    assert not stats.get("failures") and not stats.get("dark"), stats
    assert not stats.get("changed", {}).get(host.name), "changed on the second run: %s\n%s" % (stats, second.stdout[-8000:])

    # What AWX stores of the job never holds the registry secret.
    for path in glob.glob(str(private / "artifacts" / "**" / "*"), recursive=True):
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as handle:
                assert SECRET not in handle.read(), path
    assert host.sh("systemctl is-active mesos-agent").strip() == "active"
