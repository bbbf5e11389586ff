"""Molecule scenarios of mesos.docker, run the way a developer runs them.

``molecule test -s default`` converges ``playbooks/site.yml`` on three systemd hosts
(Debian 12, 11, 13) with their own Docker engines, checks that a check-mode run on the
fresh hosts changes nothing, that a second converge changes nothing, and verifies what a
user would check. Needs the test bed (``tests/testbed/testbed.sh up``).
"""
import base64
import secrets


def test_molecule_default(run_molecule, testbed):
    """The scenario passes, and no known test secret shows in its output (``-vvv --diff``).

    verify.yml audits the hosts themselves (files, processes, journal, docker inspect,
    unauthenticated agent endpoints) and shows the audit catches an agent whose HTTP
    authentication is opted out.
    """
    http_secret = "molecule-" + secrets.token_hex(12)
    rc, out = run_molecule("default", "test",
                           extra_env={"MOLECULE_AGENT_HTTP_SECRET": http_secret, "ANSIBLE_VERBOSITY": "3"})
    assert rc == 0, out[-30000:]
    user, password = testbed["TESTBED_REGISTRY_USER"], testbed["TESTBED_REGISTRY_PASSWORD"]
    for secret in (password, http_secret):
        for form in (secret, base64.b64encode(secret.encode()).decode()):
            assert form not in out, "a test secret shows in the molecule output"
    for pair in ("%s:%s" % (user, password), "molecule:%s" % http_secret):
        assert base64.b64encode(pair.encode()).decode() not in out, "a test secret shows in the molecule output"
