"""Molecule scenarios of mesos.docker, run the way a developer runs them.

``molecule test -s default`` converges ``playbooks/site.yml`` on three systemd hosts
(Debian 12, 11, 13) with their own Docker engines, checks that a check-mode run on the
fresh hosts changes nothing, that a second converge changes nothing, and verifies what a
user would check. Needs the test bed (``tests/testbed/testbed.sh up``).
"""
import base64
import os
import secrets
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
TESTBED_ENV = os.environ.get("TESTBED_ENV", os.path.join(REPO, ".testbed", "env"))
# A run over 15 minutes is a failure: the scenario takes about 6 on 2 cores.
TIMEOUT = 15 * 60


def _testbed_env():
    if not os.path.exists(TESTBED_ENV):
        pytest.fail("the test bed is not up (%s missing): run `tests/testbed/testbed.sh up`" % TESTBED_ENV)
    env = {}
    with open(TESTBED_ENV) as handle:
        for line in handle:
            key, sep, value = line.rstrip("\n").partition("=")
            if sep and value:
                env[key] = value
    return env


def molecule(scenario, *command, extra_env=None):
    env = dict(os.environ)
    env.update(_testbed_env())
    env.update(extra_env or {})
    env.update(
        ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PY_COLORS="0",
        MOLECULE_NO_LOG="false",
        PATH=BIN + os.pathsep + env.get("PATH", ""),
    )
    proc = subprocess.run(
        [os.path.join(BIN, "molecule")] + list(command) + ["-s", scenario],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT,
        stdin=subprocess.DEVNULL, check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


def test_molecule_default():
    """The scenario passes, and no known test secret shows in its output (``-vvv --diff``).

    verify.yml audits the hosts themselves (files, processes, journal, docker inspect,
    unauthenticated agent endpoints) and shows the audit catches an agent whose HTTP
    authentication is opted out.
    """
    testbed = _testbed_env()
    http_secret = "molecule-" + secrets.token_hex(12)
    rc, out = molecule("default", "test", extra_env={"MOLECULE_AGENT_HTTP_SECRET": http_secret,
                                                      "ANSIBLE_VERBOSITY": "3"})
    assert rc == 0, out[-30000:]
    user, password = testbed["TESTBED_REGISTRY_USER"], testbed["TESTBED_REGISTRY_PASSWORD"]
    for secret in (password, http_secret):
        for form in (secret, base64.b64encode(secret.encode()).decode()):
            assert form not in out, "a test secret shows in the molecule output"
    for pair in ("%s:%s" % (user, password), "molecule:%s" % http_secret):
        assert base64.b64encode(pair.encode()).decode() not in out, "a test secret shows in the molecule output"
