#!/usr/bin/env python
"""Benchmark mesos.docker's dind network allocator (prints figures, asserts nothing about time).

Run from the repository root: ``.venv/bin/python bench/dind_allocation.py``.
"""

from __future__ import print_function

import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.join(REPO, ".build", "collections")
LINK = os.path.join(ROOT, "ansible_collections", "mesos", "docker")
if not os.path.exists(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    try:
        os.symlink(REPO, LINK)
    except FileExistsError:
        pass
sys.path.insert(0, ROOT)

from ansible_collections.mesos.docker.plugins.module_utils._dind_network import (  # noqa: E402
    allocate,
    build_state,
    previous_from_state,
)

NETWORK, SIZE = "10.0.0.0/8", 24
COUNTS = (1000, 10000, 60000)
REPEAT = 5


def best_of(func, repeat=REPEAT):
    best = None
    for dummy in range(repeat):
        start = time.perf_counter()
        func()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best


def main():
    print("allocate() in %s, size /%d, best of %d runs" % (NETWORK, SIZE, REPEAT))
    print("%8s | %10s | %15s | %17s" % ("agents", "fresh", "re-run (same)", "re-run (10% churn)"))
    print("-" * 60)
    for count in COUNTS:
        names = ["agent-%05d" % i for i in range(count)]
        first = allocate(NETWORK, SIZE, names)
        previous = previous_from_state(build_state(NETWORK, SIZE, first), NETWORK, SIZE)
        churned = names[count // 10:] + ["new-%05d" % i for i in range(count // 10)]
        fresh = best_of(lambda: allocate(NETWORK, SIZE, names))
        rerun = best_of(lambda: allocate(NETWORK, SIZE, names, previous=previous))
        churn = best_of(lambda: allocate(NETWORK, SIZE, churned, previous=previous))
        print("%8d | %8.1f ms | %12.1f ms | %15.1f ms" % (count, fresh * 1e3, rerun * 1e3, churn * 1e3))


if __name__ == "__main__":
    main()
