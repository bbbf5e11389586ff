# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The one capability set of a container with its own Docker daemon or systemd, and the filter that hands it out."""
import os

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.docker.plugins.filter.container_privileges import FilterModule
from ansible_collections.mesos.docker.plugins.module_utils._container_privileges import FALLBACK

FILTERS = FilterModule().filters()
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def test_the_fallback_set():
    assert FALLBACK == {"capabilities": ("ALL",), "cap_drop": ("SYS_RESOURCE",),
                        "security_opts": ("seccomp=unconfined", "apparmor=unconfined"),
                        "device_cgroup_rules": ("a *:* rwm",)}


@pytest.mark.parametrize("privileged", [True, "true", "yes"])
def test_privileged_is_privileged_alone(privileged):
    assert FILTERS["container_privileges"](privileged) == {"privileged": True}


@pytest.mark.parametrize("privileged", [False, "false", "False"])
def test_unprivileged_gets_the_fallback_set_as_lists(privileged):
    options = FILTERS["container_privileges"](privileged)
    assert options == {"privileged": False, "capabilities": ["ALL"], "cap_drop": ["SYS_RESOURCE"],
                       "security_opts": ["seccomp=unconfined", "apparmor=unconfined"],
                       "device_cgroup_rules": ["a *:* rwm"]}
    options["capabilities"].append("X")  # a copy: the constant stays as it is
    assert FALLBACK["capabilities"] == ("ALL",)


def test_anything_else_is_refused():
    with pytest.raises(AnsibleFilterError, match="container_privileges: expects true or false"):
        FILTERS["container_privileges"]("maybe")


@pytest.mark.parametrize("path", ["roles/mesos_agent_dind/tasks/run.yml", "roles/mesos_agent_dind/vars/main.yml",
                                  "playbooks/tasks/lab_host.yml", "tests/roles/role_hosts.py"])
def test_no_copy_of_the_set(path):
    """The role, the lab's hosts and the role tests' hosts read the set from here; none of them spells it out."""
    with open(os.path.join(REPO, path)) as handle:
        text = handle.read()
    for value in ("seccomp=unconfined", "a *:* rwm", "- SYS_RESOURCE", '"SYS_RESOURCE"'):
        assert value not in text, (path, value)
