"""Make the collection importable as ``ansible_collections.mesos.docker`` for pytest."""
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS_ROOT = os.path.join(REPO, ".build", "collections")
_link = os.path.join(COLLECTIONS_ROOT, "ansible_collections", "mesos", "docker")
if not os.path.exists(_link):
    os.makedirs(os.path.dirname(_link), exist_ok=True)
    try:
        os.symlink(REPO, _link)
    except FileExistsError:
        pass
for _path in (COLLECTIONS_ROOT, os.path.join(REPO, "tests", "testbed")):
    if _path not in sys.path:
        sys.path.insert(0, _path)


# Fast and telling first; the real engine, registry and molecule scenarios last.
RUN_ORDER = ("unit", "roles", "standin", "lint", "integration", "molecule")


def pytest_collection_modifyitems(items):
    def rank(item):
        parts = os.path.relpath(str(item.path), os.path.join(REPO, "tests")).split(os.sep)
        return RUN_ORDER.index(parts[0]) if parts[0] in RUN_ORDER else len(RUN_ORDER)

    items.sort(key=rank)  # stable: keeps each directory's own order


@pytest.fixture(scope="session")
def testbed():
    """The test bed's facts: registry address and credentials, image tags. Fails, never skips, when it is not up."""
    import testbed_env

    try:
        return testbed_env.load()
    except testbed_env.TestbedNotUp as exc:
        pytest.fail(str(exc))
