"""Make the collection importable as ``ansible_collections.mesos.docker`` for pytest."""
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS_ROOT = os.path.join(REPO, ".build", "collections")
_link = os.path.join(COLLECTIONS_ROOT, "ansible_collections", "mesos", "docker")
if not os.path.exists(_link):
    os.makedirs(os.path.dirname(_link), exist_ok=True)
    try:
        os.symlink(REPO, _link)
    except FileExistsError:
        pass
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)


# Fast and telling first; the real engine, registry and molecule scenarios last.
RUN_ORDER = ("unit", "roles", "standin", "lint", "integration", "molecule")


def pytest_collection_modifyitems(items):
    def rank(item):
        parts = os.path.relpath(str(item.path), os.path.join(REPO, "tests")).split(os.sep)
        return RUN_ORDER.index(parts[0]) if parts[0] in RUN_ORDER else len(RUN_ORDER)

    items.sort(key=rank)  # stable: keeps each directory's own order
