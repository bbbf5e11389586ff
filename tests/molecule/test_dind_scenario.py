"""The molecule scenario ``dind``: two bridged docker-in-docker agents on this machine's Docker engine.

``molecule test -s dind`` (destroy, syntax, create, converge, idempotence, verify, destroy) at
``-vvv`` must pass, and no test secret (registry password, agent HTTP secret; plain or base64) may
show in its output. verify.yml checks the agents' HTTP authentication, audits the host for the
secrets, and shows the audit catches an agent whose authentication is opted out.
"""
import pytest

pytestmark = pytest.mark.real_mesos


def test_molecule_dind_scenario(run_audited_scenario):
    run_audited_scenario("dind")
