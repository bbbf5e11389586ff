"""Every role's defaults/main.yml is mirrored in its meta/argument_specs.yml: the same variables, the same
default values, each with a description (what ``ansible-doc -t role`` shows and the role validates).
A default computed from other variables (a template) is either given as the same template or left out of
the spec and said in the description (an ``int`` option cannot carry a template's text)."""
import glob
import os

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLES = sorted(os.path.basename(os.path.dirname(os.path.dirname(path)))
               for path in glob.glob(os.path.join(REPO, "roles", "*", "defaults", "main.yml")))


def _load(role, *parts):
    with open(os.path.join(REPO, "roles", role, *parts)) as handle:
        return yaml.safe_load(handle)


def test_the_roles_with_defaults_are_found():
    assert {"docker_engine", "mesos_agent", "mesos_agent_dind", "mesos_master", "mesos_package"} <= set(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_defaults_mirror_argument_specs(role):
    defaults = _load(role, "defaults", "main.yml")
    options = _load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert sorted(defaults) == sorted(options)
    for name, value in defaults.items():
        computed = isinstance(value, str) and "{{" in value
        assert options[name].get("default") in ((value, None) if computed else (value,)), name
        assert options[name].get("description"), name
