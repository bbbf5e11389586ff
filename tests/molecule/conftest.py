"""Run molecule scenarios the way a developer runs them, from the repository root."""
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
# A scenario run over 20 minutes is a failure: default takes about 4-6 on 2 cores, dind about 2.
TIMEOUT = 20 * 60


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
