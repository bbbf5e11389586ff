"""The molecule scenario ``dind``: two bridged docker-in-docker agents on this machine's Docker engine.

Runs ``molecule test -s dind`` from the repository root (destroy, syntax, create, converge,
idempotence, verify, destroy) and asserts it succeeds; the output is attached on failure.
Needs the test bed (``tests/testbed/testbed.sh up``) for its Debian 12 and busybox images.
"""
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTBED_ENV = os.path.join(REPO, ".testbed", "env")


def test_molecule_dind_scenario():
    assert os.path.exists(TESTBED_ENV), "the test bed is not up: run `tests/testbed/testbed.sh up`"
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"),
        PATH=bindir + os.pathsep + env.get("PATH", ""),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        NO_COLOR="1",
        PY_COLORS="0",
    )
    proc = subprocess.run(
        [os.path.join(bindir, "molecule"), "test", "-s", "dind"],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=1200,
        check=False,
    )
    assert proc.returncode == 0, "molecule test -s dind failed (rc %d):\n%s" % (proc.returncode, proc.stdout[-30000:])
