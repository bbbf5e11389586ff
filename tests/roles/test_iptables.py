"""The iptables role on a real Debian 12 host: the rule is compared in iptables' own form.

``iptables -S`` prints ``-p all`` as nothing, a subnet with host bits as its network, and a comment
of letters, digits, ``-`` and ``_`` without quotes. A second run must leave the live rule alone
(changed=0) in each of those cases, with exactly one rule of the role in the chain.
"""
import pytest


CASES = [
    pytest.param({"iptables_bridge_subnet": "172.17.0.1/16", "iptables_rule_comment": "wt12 host bits"},
                 "-A INPUT -s 172.17.0.0/16 -i docker0 -p tcp -m comment --comment \"wt12 host bits\" -j ACCEPT",
                 id="subnet-with-host-bits"),
    pytest.param({"iptables_bridge_subnet": "172.18.0.0/16", "iptables_protocol": "all",
                  "iptables_rule_comment": "wt12 protocol all"},
                 "-A INPUT -s 172.18.0.0/16 -i docker0 -m comment --comment \"wt12 protocol all\" -j ACCEPT",
                 id="protocol-all"),
    pytest.param({"iptables_bridge_subnet": "172.19.0.0/16", "iptables_rule_comment": "wt12-plain_comment"},
                 "-A INPUT -s 172.19.0.0/16 -i docker0 -p tcp -m comment --comment wt12-plain_comment -j ACCEPT",
                 id="comment-printed-without-quotes"),
]


@pytest.fixture(scope="module")
def host(systemd_host):
    return systemd_host()


@pytest.mark.parametrize("variables, live_rule", CASES)
def test_second_run_leaves_the_rule_alone(host, variables, live_rule):
    first = host.roles(["iptables"], variables)
    assert first.rc == 0, first.output
    assert live_rule in host.sh("iptables -S INPUT").splitlines()

    second = host.roles(["iptables"], variables)
    assert second.rc == 0, second.output
    assert second.recap["changed"] == 0, "changed on the second run: %s\n%s" % (second.changed, second.output)
    rules = host.sh("iptables -S INPUT").splitlines()
    assert rules.count(live_rule) == 1, rules
    # The line restored at boot is the same rule, once.
    assert host.sh("cat /etc/iptables/rules.v4").splitlines().count(live_rule) == 1


def test_agent_port_sources_with_host_bits_are_idempotent(host):
    variables = {"iptables_bridge_subnet": "172.20.0.0/16", "iptables_rule_comment": "wt12 agent port",
                 "iptables_agent_port_firewall": True, "iptables_agent_port_sources": ["10.0.0.5/24", "10.9.9.9"],
                 "mesos_agent_port": 5071}
    first = host.roles(["iptables"], variables)
    assert first.rc == 0, first.output
    chain = host.sh("iptables -S MESOS-AGENT-PORT").splitlines()
    assert "-A MESOS-AGENT-PORT -s 10.0.0.0/24 -j ACCEPT" in chain and "-A MESOS-AGENT-PORT -s 10.9.9.9/32 -j ACCEPT" in chain
    # iptables_agent_port follows mesos_agent_port.
    assert any("--dport 5071" in line and "-j MESOS-AGENT-PORT" in line for line in host.sh("iptables -S INPUT").splitlines())
    second = host.roles(["iptables"], variables)
    assert second.rc == 0, second.output
    assert second.recap["changed"] == 0, "changed on the second run: %s\n%s" % (second.changed, second.output)
