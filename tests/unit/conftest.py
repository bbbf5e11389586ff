"""Unit-test fixtures shared by every module test."""
import os
import sys

import pytest
from ansible.module_utils.common import warnings as ansible_warnings


@pytest.fixture(autouse=True)
def fresh_module_warnings():
    """A module runs in a process of its own in real life, so its warnings start empty.

    In-process module tests share ansible's global (de-duplicating) warning registry;
    clear it so one test's warning is not swallowed as a duplicate of another's.
    """
    ansible_warnings._global_warnings.clear()
    ansible_warnings._global_deprecations.clear()
    yield


# Shared fakes (recover_fakes.py) live beside this file.
if os.path.dirname(os.path.abspath(__file__)) not in sys.path:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
