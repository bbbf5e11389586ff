# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.docker.plugins.filter.master_flags import FilterModule

FILTERS = FilterModule().filters()


def test_all_filters_are_exposed():
    assert set(FILTERS) == {"master_flag_errors"}


@pytest.mark.parametrize("flags, errors", [
    ({"work_dir": "/var/lib/mesos/master", "quorum": 1, "zk": "zk://z1:2181/mesos"}, []),
    ({"work_dir": "/w", "quorum": 0, "registry": "in_memory"}, []),
    ({"work_dir": "/w", "agent_ping_timout": "5secs"}, ["Failed to load unknown flag 'agent_ping_timout'"]),
    ({"quorum": "x", "registry": "in_memory"},
     ["Failed to load flag 'quorum': Failed to load value 'x': Failed to convert into required type"]),
    ({"ip": "10.0.0.1"}, ["--work_dir needed for replicated log based registry"]),
])
def test_master_flag_errors(flags, errors):
    assert FILTERS["master_flag_errors"](flags, "1.12.0") == errors


def test_master_flag_errors_rejects_a_bad_version():
    with pytest.raises(AnsibleFilterError):
        FILTERS["master_flag_errors"]({}, "latest")
