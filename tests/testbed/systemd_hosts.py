"""Systemd-container hosts of the test bed's images as the real-Mesos tests and the benches make them: the
image of a package's Debian release, the play that creates the hosts (``playbooks/tasks/lab_host.yml``) and
the inventory vars every such cluster shares. Standard library only (the benches import it without pytest).
"""
import os
import re

from testbed_env import TEST_LABEL

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The test bed's `down` removes every container with this label, whatever its value.
LABEL = TEST_LABEL

# The Debian releases (codename -> version number) the collection builds packages for and tests on: the one
# table, read here without PyYAML (its lines are ``codename: number``).
DEBIAN_RELEASES_FILE = os.path.join(REPO, "roles", "mesos_package", "files", "debian_releases.yml")


def _debian_releases(path=DEBIAN_RELEASES_FILE):
    with open(path) as handle:
        return dict((match.group(1), int(match.group(2)))
                    for match in (re.match(r"^([a-z]+): *([0-9]+) *$", line) for line in handle) if match)


DEBIAN_RELEASES = _debian_releases()


def image_of_release(testbed, kind, release):
    """The test bed's image of ``kind`` (``DEBIAN`` or ``SYSTEMD``) for the Debian ``release`` (a codename)."""
    return testbed["TESTBED_IMAGE_%s%d" % (kind, DEBIAN_RELEASES[release])]


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


def release_of(package):
    """The Debian codename in a package's name (``mesos_<version>~<codename>[+tls]_<arch>.deb``, as
    playbooks/mesos_package.yml names it), else bookworm."""
    release = re.search(r"~(%s)(\+tls)?_[^_]+\.deb$" % "|".join(DEBIAN_RELEASES), os.path.basename(package))
    return release.group(1) if release else "bookworm"


def systemd_image(testbed, package):
    """The test bed's systemd image of the Debian release the package was built for (the hosts run that release)."""
    return image_of_release(testbed, "SYSTEMD", release_of(package))


def cluster_image(testbed, package):
    """The Debian 12 systemd image with the cluster's Debian packages already there (tests/testbed/images/
    systemd12-cluster: several hosts need not download them each); another release's plain systemd image."""
    image = systemd_image(testbed, package)
    return testbed["TESTBED_IMAGE_SYSTEMD12_CLUSTER"] if image == testbed["TESTBED_IMAGE_SYSTEMD12"] else image


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
        # Agents inside systemd containers (see ../shared/mesos/README.md): not needed on real hosts.
        "mesos_agent_flags": {"systemd_enable_support": False, "launcher": "posix"},
        "docker_engine_registry_ca_certs": [{"registry": registry, "ca": ca}],
        "docker_config_registries": [{"registry": registry, "username": testbed["TESTBED_REGISTRY_USER"],
                                      "password": testbed["TESTBED_REGISTRY_PASSWORD"]}],
    }
