"""What the benches that provision systemd-container hosts share: shell and ``docker exec`` helpers, the
hosts as ``playbooks/tasks/lab_host.yml`` creates them, the test bed's systemd image of a package's Debian
release, and ``ansible-playbook`` with the collection of this checkout.

Used by ``bench/mesos_tls_cluster.py`` and ``bench/fleet_converge.py`` (not a bench itself).
"""
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "testbed"))
import testbed_env  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

from systemd_hosts import (LABEL, agent_vars, cluster_image, common_vars, hosts_play,  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
                           systemd_image)

BINDIR = os.path.dirname(sys.executable)


def sh(*command, check=True, timeout=600, **kwargs):
    proc = subprocess.run(list(command), capture_output=True, text=True, timeout=timeout, check=False, **kwargs)
    if check and proc.returncode != 0:
        raise SystemExit("%s failed (%d): %s%s"
                         % (" ".join(command), proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    return proc


def on(host, *command, check=True):
    return sh("docker", "exec", host, *command, check=check)


def address(host):
    return sh("docker", "inspect", "-f", "{{.NetworkSettings.IPAddress}}", host).stdout.strip()


def ansible_env(**extra):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"), ANSIBLE_NOCOLOR="1")
    env["PATH"] = BINDIR + os.pathsep + env.get("PATH", "")
    env.update(extra)
    return env


def ansible_playbook(inventory, playbook, *args, timeout=3600, env=None):
    """``ansible-playbook -i inventory playbook args...`` from the repository; the finished process (not checked)."""
    return sh(os.path.join(BINDIR, "ansible-playbook"), "-i", inventory, playbook, *args, check=False,
              timeout=timeout, cwd=REPO, env=env or ansible_env(), stdin=subprocess.DEVNULL)


def remove_hosts(hosts):
    """Remove the hosts (containers) and their Docker volumes; those not there are no error."""
    hosts = list(hosts)
    if hosts:
        sh("docker", "rm", "-f", "-v", *hosts, check=False, timeout=1200)
        sh("docker", "volume", "rm", "-f", *[host + "-docker" for host in hosts], check=False, timeout=1200)
