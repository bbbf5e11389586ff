"""Helpers of the role tests (tests/roles/conftest.py): real hosts, systemd containers of the test bed's images, made and removed by each test.

A host is started like the molecule and lab hosts (playbooks/tasks/lab_host.yml): the explicit capability
set of mesos.docker.container_privileges (plugins/module_utils/_container_privileges.py), the host cgroup namespace,
/sys/fs/cgroup writable, tmpfs on /run and /run/lock, /var/lib/docker on a volume. Its name
starts with ``mdt-role-`` plus a random part and it carries the test label, so runs never collide and
``testbed.sh down`` removes what a crashed run left. Roles run against it with ansible-playbook
over the community.docker.docker connection.
"""
import json
import os
import subprocess
import sys
import time
import uuid

import pytest

from ansible_collections.mesos.docker.plugins.module_utils._container_privileges import FALLBACK
from playbook_output import changed_tasks, recap

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
HOST_PREFIX = "mdt-role-"
# FALLBACK as `docker run` arguments.
_OPTION_FLAGS = {"capabilities": "--cap-add", "cap_drop": "--cap-drop", "security_opts": "--security-opt",
                 "device_cgroup_rules": "--device-cgroup-rule"}
PRIVILEGE_ARGS = [word for option, flag in sorted(_OPTION_FLAGS.items()) for value in FALLBACK[option]
                  for word in (flag, value)]


def ansible_env(extra=None):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_PIPELINING="true")
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    env.update(extra or {})
    return env


def run_preflight_only(tmp_path, inventory, play, variables, extra_args=()):
    """ansible-playbook of ``play`` (YAML text) over ``inventory`` (a dict) in check mode with only the
    ``always``-tagged tasks (the OS variables and the preflight), extra vars from a file; (rc, output)."""
    inventory_file = tmp_path / "inventory.json"
    inventory_file.write_text(json.dumps(inventory))
    playbook = tmp_path / "preflight.yml"
    playbook.write_text(play)
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps(variables or {}))
    proc = subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), "-i", str(inventory_file), str(playbook), "--check",
         "--tags", "mesos_docker_preflight_only", "-e", "@%s" % extra] + list(extra_args),
        cwd=REPO, env=ansible_env(), capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


def docker(*args, check=True):
    return subprocess.run(["docker"] + list(args), capture_output=True, text=True, check=check, timeout=300)


class Host:
    """One systemd host (a container) and ansible-playbook runs against it."""

    def __init__(self, image, tmp_path, label, network=None):
        self.name = "%s%s" % (HOST_PREFIX, uuid.uuid4().hex[:10])
        self.image = image
        # A docker network of its own (like the lab's hosts), else the default bridge.
        self.network = network
        self.tmp_path = tmp_path
        self.label = label
        self.inventory = tmp_path / ("inventory-%s.json" % self.name)
        self.inventory.write_text(json.dumps({"all": {"hosts": {self.name: {
            "ansible_connection": "community.docker.docker",
            "ansible_python_interpreter": "/usr/bin/python3",
        }}}}))

    def start(self):
        docker("run", "-d", "--name", self.name, "--hostname", self.name, "--label", "%s=true" % self.label,
               *(["--network", self.network] if self.network else []), *PRIVILEGE_ARGS, "--cgroupns", "host",
               "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "-v", "%s-docker:/var/lib/docker" % self.name,
               "--tmpfs", "/run", "--tmpfs", "/run/lock", self.image)
        state = ""
        for _attempt in range(60):
            state = docker("exec", self.name, "systemctl", "is-system-running", check=False).stdout.strip()
            if state in ("running", "degraded"):
                return self
            time.sleep(1)
        pytest.fail("systemd in %s did not come up: %s" % (self.name, state))

    def remove(self):
        docker("rm", "-f", "-v", self.name, check=False)
        docker("volume", "rm", "%s-docker" % self.name, check=False)

    def sh(self, command, check=True):
        """Run a shell command on the host; its stdout."""
        proc = docker("exec", self.name, "sh", "-c", command, check=False)
        if check:
            assert proc.returncode == 0, "%s on %s: %s%s" % (command, self.name, proc.stdout, proc.stderr)
        return proc.stdout

    def play(self, plays, variables=None, check=False, diff=False, env=None, tags=None):
        """ansible-playbook with ``plays`` (a list of plays, hosts: all) and extra vars from a 0600 file."""
        tag = uuid.uuid4().hex[:6]
        playbook = self.tmp_path / ("play-%s.json" % tag)
        playbook.write_text(json.dumps(plays))
        cmd = [os.path.join(BIN, "ansible-playbook"), "-i", str(self.inventory), str(playbook)]
        if variables:
            extra = self.tmp_path / ("vars-%s.json" % tag)
            extra.touch(mode=0o600)
            extra.write_text(json.dumps(variables))
            cmd += ["-e", "@%s" % extra]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if tags:
            cmd += ["--tags", tags]
        proc = subprocess.run(cmd, cwd=REPO, env=ansible_env(env), capture_output=True, text=True, timeout=1500,
                              stdin=subprocess.DEVNULL, check=False)
        return Run(proc, self.name)

    def roles(self, roles, variables=None, **kwargs):
        """Apply ``roles`` (names under mesos.docker) in one play."""
        play = {"name": "roles under test", "hosts": "all", "become": True, "gather_facts": True,
                "roles": [{"role": "mesos.docker.%s" % role} for role in roles]}
        return self.play([play], variables, **kwargs)


class Run:
    def __init__(self, proc, host):
        self.rc = proc.returncode
        self.output = proc.stdout + proc.stderr
        self.host = host

    @property
    def recap(self):
        return recap(self.output, self.host)

    @property
    def changed(self):
        return changed_tasks(self.output)
