"""scripts/test.sh: the exit status and the teardown of a run in two lanes.

The real scripts/test.sh runs in a copy of the checkout whose lib.sh is the real one with the
installing and test-bed functions replaced by recorders, and with a ``pytest`` on PATH that only
says which lane it is and exits as told; so what is shown is test.sh's own logic: both lanes run,
the run fails when either lane fails and passes when both pass, the background lane's output is
printed, and the test bed's ``down`` runs at the end in every case.
"""
import os
import shutil
import stat
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

STUB_LIB = """source "%(real_lib)s"
REPO=%(checkout)s
find_mesos_package() { return 0; }
ensure_venv() { :; }
testbed_up() { echo up >>"$REPO/calls"; }
ensure_mesos_package() { :; }
testbed_down() { echo down >>"$REPO/calls"; }
PATH=%(stub_bin)s:$PATH
"""

STUB_PYTEST = """#!/bin/sh
case "$*" in
  *"-m real_mesos"*) echo "real-mesos lane output"; exit "${REAL_MESOS_RC:-0}" ;;
  *"-m not real_mesos"*) echo "other lane output"; exit "${OTHER_RC:-0}" ;;
  *) echo "pytest $*"; exit "${OTHER_RC:-0}" ;;
esac
"""


def run_test_sh(tmp_path, *args, real_mesos_rc=0, other_rc=0):
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    stub_bin = tmp_path / "bin"
    stub_bin.mkdir()
    pytest_stub = stub_bin / "pytest"
    pytest_stub.write_text(STUB_PYTEST)
    pytest_stub.chmod(pytest_stub.stat().st_mode | stat.S_IXUSR)
    shutil.copy(os.path.join(REPO, "scripts", "test.sh"), str(checkout / "scripts" / "test.sh"))
    (checkout / "scripts" / "lib.sh").write_text(STUB_LIB % {
        "real_lib": os.path.join(REPO, "scripts", "lib.sh"), "checkout": checkout, "stub_bin": stub_bin})
    env = dict(os.environ, REAL_MESOS_RC=str(real_mesos_rc), OTHER_RC=str(other_rc), TMPDIR=str(tmp_path))
    proc = subprocess.run(["bash", str(checkout / "scripts" / "test.sh")] + list(args), capture_output=True,
                          text=True, env=env, timeout=60, check=False)
    calls = (checkout / "calls").read_text().split() if (checkout / "calls").exists() else []
    return proc.returncode, proc.stdout + proc.stderr, calls


def test_both_lanes_passing_pass_the_run_and_the_test_bed_goes_down(tmp_path):
    rc, out, calls = run_test_sh(tmp_path)
    assert rc == 0, out
    assert calls == ["up", "down"], out
    assert "other lane output" in out and "real-mesos lane output" in out, out


def test_a_failing_real_mesos_lane_fails_the_run(tmp_path):
    rc, out, calls = run_test_sh(tmp_path, real_mesos_rc=1)
    assert rc != 0, out
    assert calls == ["up", "down"], out
    assert "real-Mesos lane 1, the other lane 0" in out, out


def test_a_failing_other_lane_fails_the_run(tmp_path):
    rc, out, calls = run_test_sh(tmp_path, other_rc=2)
    assert rc != 0, out
    assert calls == ["up", "down"], out
    assert "real-Mesos lane 0, the other lane 2" in out, out


def test_arguments_run_one_pytest_with_them(tmp_path):
    rc, out, calls = run_test_sh(tmp_path, "tests/unit", "-k", "image", other_rc=3)
    assert rc == 3, out
    assert "pytest -p no:cacheprovider tests/unit -k image" in out and "lane output" not in out, out
    assert calls == ["up", "down"], out
