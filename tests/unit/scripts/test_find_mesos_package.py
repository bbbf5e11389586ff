"""scripts/lib.sh: where the README commands take the Mesos package from."""
import os
import shutil
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def find_package(repo_dir, env_package=None):
    env = dict(os.environ)
    env.pop("MESOS_PACKAGE", None)
    if env_package is not None:
        env["MESOS_PACKAGE"] = env_package
    proc = subprocess.run(
        ["bash", "-c", 'source "$1/scripts/lib.sh"; find_mesos_package && echo "FOUND=$MESOS_PACKAGE"', "-", repo_dir],
        capture_output=True, text=True, env=env, timeout=30, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def make_repo(tmp_path, debs=()):
    repo = tmp_path / "checkout"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(os.path.join(REPO, "scripts", "lib.sh"), str(repo / "scripts" / "lib.sh"))
    shared = tmp_path / "shared" / "mesos"
    shared.mkdir(parents=True)
    for name in debs:
        (shared / name).write_bytes(b"!<arch>\n")
    return str(repo), shared


def test_no_package_says_so_naming_mesos_package_and_the_expected_file(tmp_path):
    """rc 1: the scripts then take the package playbooks/mesos_package.yml built (or build one)."""
    repo, shared = make_repo(tmp_path)
    rc, out = find_package(repo)
    assert rc == 1, out
    assert "MESOS_PACKAGE" in out and str(shared) in out and "mesos_" in out, out


def test_the_newest_shared_package_is_taken_by_default(tmp_path):
    repo, shared = make_repo(tmp_path, ["mesos_1.11.0-1_amd64.deb", "mesos_1.12.0~dev-1_amd64.deb"])
    rc, out = find_package(repo)
    assert rc == 0, out
    assert "FOUND=%s" % (shared / "mesos_1.12.0~dev-1_amd64.deb") in out, out


def test_mesos_package_wins_and_a_missing_file_is_refused(tmp_path):
    repo, shared = make_repo(tmp_path, ["mesos_1.12.0-1_amd64.deb"])
    own = tmp_path / "mine.deb"
    own.write_bytes(b"!<arch>\n")
    rc, out = find_package(repo, str(own))
    assert rc == 0 and "FOUND=%s" % own in out, out
    rc, out = find_package(repo, str(tmp_path / "absent.deb"))
    assert rc == 2 and "MESOS_PACKAGE=%s" % (tmp_path / "absent.deb") in out, out
