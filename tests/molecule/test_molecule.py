"""The molecule scenario ``default``: host-mode agents on systemd hosts.

``molecule test -s default`` converges ``playbooks/site.yml`` on three systemd hosts
(Debian 12, 11, 13) with their own Docker engines, checks that a check-mode run on the
fresh hosts changes nothing, that a second converge changes nothing, and verifies what a
user would check. It runs at ``-vvv --diff``, and no test secret (registry password,
agent HTTP secret; plain or base64) may show in its output. verify.yml audits the hosts
themselves (files, processes, journal, docker inspect, unauthenticated agent endpoints)
and shows the audit catches an agent whose HTTP authentication is opted out.
"""
import pytest

pytestmark = pytest.mark.real_mesos


def test_molecule_default(run_audited_scenario):
    run_audited_scenario("default")
