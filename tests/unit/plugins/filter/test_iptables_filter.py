"""The iptables filters write values exactly as ``iptables -S`` prints them (checked live in tests/roles)."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.docker.plugins.filter.iptables import iptables_network


@pytest.mark.parametrize("value, printed", [
    ("172.17.0.0/16", "172.17.0.0/16"),
    ("172.17.0.1/16", "172.17.0.0/16"),
    ("10.1.2.3", "10.1.2.3/32"),
    ("10.1.2.3/32", "10.1.2.3/32"),
    ("192.168.77.129/25", "192.168.77.128/25"),
    (" 0.0.0.0/0 ", "0.0.0.0/0"),
])
def test_iptables_network_matches_iptables_print(value, printed):
    assert iptables_network(value) == printed


@pytest.mark.parametrize("value", ["172.17.0.0/33", "300.1.1.1/8", "docker0", "", "fe80::/64"])
def test_iptables_network_refuses_what_is_not_ipv4(value):
    with pytest.raises(AnsibleFilterError, match="iptables_network: .* is not an IPv4 address"):
        iptables_network(value)
