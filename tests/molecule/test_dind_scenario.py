"""The molecule scenario ``dind``: two bridged docker-in-docker agents on this machine's Docker engine.

Runs ``molecule test -s dind`` from the repository root (destroy, syntax, create, converge,
idempotence, verify, destroy) and asserts it succeeds; the output is attached on failure.
Needs the test bed (``tests/testbed/testbed.sh up``) for its Debian 12 and busybox images.
"""


def test_molecule_dind_scenario(run_molecule):
    rc, out = run_molecule("dind", "test")
    assert rc == 0, "molecule test -s dind failed (rc %d):\n%s" % (rc, out[-30000:])
