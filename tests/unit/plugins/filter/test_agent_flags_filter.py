# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.docker.plugins.filter.agent_flags import FilterModule

FILTERS = FilterModule().filters()


def test_all_filters_are_exposed():
    assert set(FILTERS) == {"agent_flag_errors", "agent_resources", "agent_attributes", "agent_cmdline", "agent_env"}


@pytest.mark.parametrize("flags, errors", [
    ({"master": "zk://z/mesos", "work_dir": "/var/lib/mesos"}, []),
    ({"master": "m", "work_dir": "/w", "docker_kil_orphans": False}, ["Failed to load unknown flag 'docker_kil_orphans'"]),
    ({"master": "m"}, ["Flag 'work_dir' is required, but it was not provided"]),
])
def test_agent_flag_errors(flags, errors):
    assert FILTERS["agent_flag_errors"](flags, "1.12.0") == errors


def test_agent_flag_errors_rejects_a_bad_version():
    with pytest.raises(AnsibleFilterError):
        FILTERS["agent_flag_errors"]({}, "latest")


def test_agent_resources_and_attributes():
    assert FILTERS["agent_resources"]({"cpus": 4, "ports": [[21000, 21099]]}) == "cpus:4;ports:[21000-21099]"
    assert FILTERS["agent_attributes"]({"rack": "a", "zone": "b"}) == "rack:a;zone:b"


def test_agent_resources_rejects_a_bad_range():
    with pytest.raises(AnsibleFilterError):
        FILTERS["agent_resources"]({"ports": [[1, 2, 3]]})


def test_agent_cmdline_and_env():
    flags = {"work_dir": "/w", "containerizers": ["docker", "mesos"], "docker_kill_orphans": True}
    assert FILTERS["agent_cmdline"](flags) == [
        "--containerizers=docker,mesos", "--docker_kill_orphans=true", "--work_dir=/w"]
    assert FILTERS["agent_env"](flags) == {
        "MESOS_WORK_DIR": "/w", "MESOS_CONTAINERIZERS": "docker,mesos", "MESOS_DOCKER_KILL_ORPHANS": "true"}
