"""Repository-wide checks: yamllint, ansible-lint, ansible-test sanity, docs (the build: test_galaxy_install.py).

Each runs the real tool and fails with its output.
"""
import glob
import os
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
COLLECTIONS_ROOT = os.path.join(REPO, ".build", "collections")
MODULES = sorted(
    os.path.basename(path)[:-3]
    for path in glob.glob(os.path.join(REPO, "plugins", "modules", "*.py"))
    if not os.path.basename(path).startswith("_")
)
FILTERS = sorted(
    os.path.basename(path)[:-4] for path in glob.glob(os.path.join(REPO, "plugins", "filter", "*.yml"))
)
# What ansible-test sanity must not see: local state and the venv.
NOT_COLLECTION_CONTENT = (".git", ".venv", ".build", ".testbed", ".pytest_cache", "__pycache__", "tests/output")

pytestmark = pytest.mark.lint


def run(cmd, cwd=REPO, timeout=1200, env=None):
    run_env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_NOCOLOR="1")
    run_env["PATH"] = BIN + os.pathsep + run_env.get("PATH", "")
    run_env.update(env or {})
    proc = subprocess.run(cmd, cwd=cwd, env=run_env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_yamllint():
    rc, out = run(["yamllint", "--strict", "."])
    assert rc == 0, out


def test_ansible_lint_production_profile():
    rc, out = run(["ansible-lint", "--offline", "--profile", "production"])
    assert rc == 0, out


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_renders_module(module):
    rc, out = run(["ansible-doc", "mesos.docker.%s" % module])
    assert rc == 0, out
    assert "[WARNING]" not in out and "ERROR" not in out, out
    assert "EXAMPLES:" in out and "RETURN VALUES:" in out, out


@pytest.mark.parametrize("filter_name", FILTERS)
def test_ansible_doc_renders_filter(filter_name):
    rc, out = run(["ansible-doc", "-t", "filter", "mesos.docker.%s" % filter_name])
    assert rc == 0, out
    assert "[WARNING]" not in out and "ERROR" not in out, out


def _ignore_local_state(directory, names):
    rel = os.path.relpath(directory, REPO)
    return [n for n in names if n in NOT_COLLECTION_CONTENT or os.path.normpath(os.path.join(rel, n)) in NOT_COLLECTION_CONTENT]


def test_ansible_test_sanity(tmp_path):
    """ansible-test needs the collection at .../ansible_collections/mesos/docker: test a copy."""
    copy = tmp_path / "ansible_collections" / "mesos" / "docker"
    shutil.copytree(REPO, str(copy), ignore=_ignore_local_state, symlinks=True)
    # The pip bootstrap script ansible-test would download lives on a host this machine cannot reach.
    cache = os.path.expanduser("~/.ansible/test/cache/get_pip_24_2.py")
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    shutil.copyfile(os.path.join(REPO, "tests", "lint", "get_pip_offline.py"), cache)
    rc, out = run(["ansible-test", "sanity", "--requirements", "--python", "%d.%d" % sys.version_info[:2]],
                  cwd=str(copy), timeout=1800)
    assert rc == 0, out[-20000:]
