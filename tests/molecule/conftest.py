"""Run molecule scenarios the way a developer runs them, from the repository root."""
import base64
import os
import secrets
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
# A scenario that has not ended after 45 minutes hangs: default (real Mesos on four hosts)
# takes well under that on 2 idle cores.
TIMEOUT = 45 * 60


@pytest.fixture
def run_molecule(testbed):
    """``run_molecule(scenario, *command, extra_env=None)`` → ``(rc, output)``, with the test bed's env."""

    def run(scenario, *command, extra_env=None):
        env = dict(os.environ)
        env.update({k: v for k, v in testbed.items() if v})
        env.update(extra_env or {})
        env.update(
            ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_FORCE_COLOR="0",
            NO_COLOR="1",
            PY_COLORS="0",
            MOLECULE_NO_LOG="false",
            PATH=BIN + os.pathsep + env.get("PATH", ""),
        )
        proc = subprocess.run(
            [os.path.join(BIN, "molecule")] + list(command) + ["-s", scenario],
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, timeout=TIMEOUT, check=False,
        )
        return proc.returncode, proc.stdout

    return run


# Every principal of the scenarios whose secret is derived from the cluster credentials key: the master's
# monitoring and framework principals, the default scenario's agent, the dind scenario's agents.
DERIVED_PRINCIPALS = ("mesos-master-ops", "mesos-monitoring", "mesos-framework", "mdt-molecule-debian12",
                      "dind-host/a", "dind-host/b", "dind-host/c")


def secret_forms(testbed, http_secret, credentials_key):
    """Every form of the scenario's test secrets that must never show: plain, base64, base64 of user:secret;
    the cluster credentials key and each secret derived from it (and base64 of principal:secret)."""
    from ansible_collections.mesos.docker.plugins.module_utils._cluster_auth import derived_secret

    user, password = testbed["TESTBED_REGISTRY_USER"], testbed["TESTBED_REGISTRY_PASSWORD"]
    forms = []
    derived = dict((p, derived_secret(credentials_key, p)) for p in DERIVED_PRINCIPALS)
    for secret in (password, http_secret, credentials_key) + tuple(derived.values()):
        forms += [secret, base64.b64encode(secret.encode()).decode()]
    for principal, secret in derived.items():
        forms.append(base64.b64encode(("%s:%s" % (principal, secret)).encode()).decode())
    for pair in ("%s:%s" % (user, password), "molecule:%s" % http_secret):
        forms.append(base64.b64encode(pair.encode()).decode())
    return forms


@pytest.fixture
def run_audited_scenario(run_molecule, testbed):
    """``molecule test -s <scenario>`` at ``-vvv`` with a fresh HTTP secret; asserts it passes and shows no secret."""

    def run(scenario):
        http_secret = "molecule-" + secrets.token_hex(12)
        credentials_key = "molecule-key-" + secrets.token_hex(16)
        rc, out = run_molecule(scenario, "test",
                               extra_env={"MOLECULE_AGENT_HTTP_SECRET": http_secret, "ANSIBLE_VERBOSITY": "3",
                                          "MOLECULE_CREDENTIALS_KEY": credentials_key})
        if rc != 0:
            # At -vvv the failing task is far from the end (cleanup and destroy follow): its lines first.
            # (-vvv prints a failure's result over many lines: the 80 after each.)
            lines = out.splitlines()
            failures = [lines[index:index + 80] for index, line in enumerate(lines) if line.startswith(("fatal:", "failed:"))]
            pytest.fail("molecule test -s %s failed (rc %d); the failing tasks:\n%s\n\nthe end of the output:\n%s"
                        % (scenario, rc, "\n--\n".join("\n".join(block) for block in failures), out[-20000:]))
        shown = [i for i, form in enumerate(secret_forms(testbed, http_secret, credentials_key)) if form in out]
        assert not shown, "test secrets (forms %s) show in the molecule output of %s" % (shown, scenario)

    return run
