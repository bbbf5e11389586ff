"""What the benches that provision systemd-container hosts share: shell and ``docker exec`` helpers, the
hosts as ``playbooks/tasks/lab_host.yml`` creates them, the test bed's systemd image of a package's Debian
release, and ``ansible-playbook`` with the collection of this checkout.

Used by ``bench/mesos_tls_cluster.py`` and ``bench/fleet_converge.py`` (not a bench itself).
"""
import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "testbed"))
import testbed_env  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

BINDIR = os.path.dirname(sys.executable)
# The test bed's `down` removes every container with this label, whatever its value.
LABEL = "mesos-docker-test"
SYSTEMD_IMAGE = {"bullseye": "TESTBED_IMAGE_SYSTEMD11", "bookworm": "TESTBED_IMAGE_SYSTEMD12",
                 "trixie": "TESTBED_IMAGE_SYSTEMD13"}

# A play that creates each host of ``{groups}`` (an expression of the inventory's groups) as a systemd
# container able to run Docker, from the image in its ``lab_image``, labelled LABEL=``{label}``.
HOSTS_PLAY = """
- name: Create the hosts
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Create each host as a systemd container able to run Docker
      ansible.builtin.include_tasks: {repo}/playbooks/tasks/lab_host.yml
      vars:
        lab_host_name: "{{{{ item }}}}"
        lab_host_image: "{{{{ hostvars[item].lab_image }}}}"
        lab_host_labels:
          {label_key}: {label}
      loop: "{{{{ {groups} }}}}"
"""


def hosts_play(label, groups="groups['masters'] + groups['agents']"):
    """HOSTS_PLAY for the hosts of ``groups``, labelled LABEL=``label``."""
    return HOSTS_PLAY.format(repo=REPO, label_key=LABEL, label=label, groups=groups)


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


def release_of(package):
    """The Debian codename in a package's name (``mesos_<version>~<codename>[+tls]_<arch>.deb``), else bookworm."""
    release = re.search(r"~(bullseye|bookworm|trixie)(\+tls)?_[^_]+\.deb$", os.path.basename(package))
    return release.group(1) if release else "bookworm"


def systemd_image(testbed, package):
    """The test bed's systemd image of the package's Debian release."""
    return testbed[SYSTEMD_IMAGE[release_of(package)]]


def common_vars(package, image):
    """The inventory's ``all`` vars of such hosts: reached with ``docker exec``, master and agent from ``package``."""
    return {
        "ansible_connection": "community.docker.docker",
        "ansible_python_interpreter": "/usr/bin/python3",
        "ansible_pipelining": True,
        "lab_image": image,
        "mesos_master_install_method": "deb", "mesos_master_deb_file": package,
        "mesos_agent_install_method": "deb", "mesos_agent_deb_file": package,
    }


def agent_vars(testbed):
    """The ``agents`` group's vars: resources, and the test bed's TLS registry (its CA in the agent's Docker, its
    credentials in the agent's docker config)."""
    registry = testbed["TESTBED_REGISTRY_TLS"]
    with open(testbed["TESTBED_REGISTRY_CA"]) as handle:
        ca = handle.read()
    return {
        "mesos_agent_resources": {"cpus": 2, "mem": 1024, "disk": 2048, "ports": "[21000-21099]"},
        "mesos_agent_docker_stop_timeout": "5secs",
        # Agents inside systemd containers (see lab/inventory.yml): not needed on real hosts.
        "mesos_agent_flags": {"systemd_enable_support": False, "launcher": "posix"},
        "docker_engine_registry_ca_certs": [{"registry": registry, "ca": ca}],
        "docker_config_registries": [{"registry": registry, "username": testbed["TESTBED_REGISTRY_USER"],
                                      "password": testbed["TESTBED_REGISTRY_PASSWORD"]}],
    }


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
