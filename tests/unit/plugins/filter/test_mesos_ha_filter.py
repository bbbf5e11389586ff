# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.docker.plugins.filter.mesos_ha import FilterModule

FILTERS = FilterModule().filters()


def test_all_filters_are_exposed():
    assert set(FILTERS) == {"zookeeper_url", "quorum_errors", "rolling_errors", "rolling_batches", "duration_seconds"}


def test_zookeeper_url_reads_each_hosts_published_address_then_facts_then_ansible_host_then_name():
    hostvars = {
        "zk1": {"zookeeper_client_address": "10.0.0.1", "zookeeper_client_port": 2281,
                "ansible_facts": {"default_ipv4": {"address": "10.9.9.9"}}},
        "zk2": {"ansible_facts": {"default_ipv4": {"address": "10.0.0.2"}}, "ansible_host": "zk2.example"},
        "zk3": {"ansible_host": "zk3.example"},
        "zk4": {},
    }
    assert FILTERS["zookeeper_url"](["zk1", "zk2", "zk3", "zk4"], hostvars) == (
        "zk://10.0.0.1:2281,10.0.0.2:2181,zk3.example:2181,zk4:2181/mesos")


def test_zookeeper_url_with_a_credential_and_without_hostvars():
    assert FILTERS["zookeeper_url"](["a:1", "b"], path="/m", user="u", password="p") == "zk://u:p@a:1,b:2181/m"


def test_zookeeper_url_refusal_names_the_filter():
    with pytest.raises(AnsibleFilterError, match="zookeeper_url: .*needs both"):
        FILTERS["zookeeper_url"](["a"], user="u")


def test_quorum_errors_takes_one_dict():
    assert FILTERS["quorum_errors"]({"masters": 3, "quorum": "2", "registry": "replicated_log", "zk": "zk"}) == []
    assert "even count" in FILTERS["quorum_errors"]({"masters": 4, "quorum": 3, "registry": "replicated_log",
                                                     "zk": "zk"})[0]
    with pytest.raises(AnsibleFilterError, match="expects {masters, quorum, registry, zk}"):
        FILTERS["quorum_errors"]({"masters": 3})


def test_rolling_errors_checks_the_drain_deadline_only_when_draining():
    assert FILTERS["rolling_errors"]({"serial": "10%", "drain": False, "drain_deadline": "soon"}) == []
    errors = FILTERS["rolling_errors"]({"serial": 0, "drain": True, "drain_deadline": "soon"})
    assert len(errors) == 2 and "no agent in a batch" in errors[0] and "'soon' is not a Mesos duration" in errors[1]


def test_rolling_batches_and_duration_seconds_refuse_bad_input():
    assert FILTERS["rolling_batches"](["a", "b", "c"], 2) == [["a", "b"], ["c"]]
    with pytest.raises(AnsibleFilterError, match="rolling_batches: serial '0'"):
        FILTERS["rolling_batches"](["a"], 0)
    assert FILTERS["duration_seconds"]("2mins") == 120
    with pytest.raises(AnsibleFilterError, match="duration_seconds: '2m' is not a Mesos duration"):
        FILTERS["duration_seconds"]("2m")
