"""_agent_spec: the agent specification the roles mesos_agent and mesos_agent_dind start their agents with.

agent_spec_cases.json holds, per case of the Jinja that composed the flags before (roles/mesos_agent/vars/main.yml
and the mesos_agent_dind preflight: authentication on/off/auto, secrets, log settings, resources and attributes
as dicts or strings, container mode and shared daemons, docker_config, custom flags, old versions, the
default master), the filter's inputs as the role builds them and what that Jinja rendered for it.
"""
import json
import os

import pytest

from ansible_collections.mesos.docker.plugins.module_utils import _agent_spec

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "agent_spec_cases.json")) as _handle:
    CASES = json.load(_handle)


@pytest.mark.parametrize("case", sorted(CASES["mesos_agent"]))
def test_host_agent_as_the_jinja_rendered_it(case):
    inputs, expected = CASES["mesos_agent"][case]["inputs"], CASES["mesos_agent"][case]["expected"]
    spec = _agent_spec.agent_spec(inputs)
    for key in ("flags", "http_auth", "has_secret_flags", "secret_flags", "log_flags", "info", "cmdline_secrets", "port",
                "health_host"):
        assert spec[key] == expected[key], key


@pytest.mark.parametrize("case", sorted(CASES["mesos_agent_dind"]))
def test_dind_agents_as_the_jinja_rendered_them(case):
    inputs, expected = CASES["mesos_agent_dind"][case]["inputs"], CASES["mesos_agent_dind"][case]["expected"]
    assert _agent_spec.agent_spec(inputs) == expected


def _host(**changes):
    return dict(CASES["mesos_agent"]["good_agent"]["inputs"], **changes)


def test_host_credential_and_principal_only_with_authentication():
    spec = _agent_spec.agent_spec(_host())
    assert (spec["credential_path"], spec["principal"]) == ("/etc/mesos-agent/credential.json", "good_agent")
    spec = _agent_spec.agent_spec(_host(authentication="disabled"))
    assert (spec["credential_path"], spec["principal"]) == (None, None) and "credential" not in spec["flags"]


def test_dind_log_follows_only_the_role_level_docker_config():
    # As the preflight's Jinja did: an agent's own flags.docker_config turns HTTP authentication on (auto)
    # but does not send the log to root-only files.
    inputs = CASES["mesos_agent_dind"]["agent_docker_config_flag_only"]["inputs"]
    first = _agent_spec.agent_spec(inputs)[0]
    assert first["http_auth"] is True and first["flags"]["docker_config"] == "file:///etc/other/dc.json"
    assert "log_dir" not in first["flags"] and "quiet" not in first["flags"]


def test_missing_input_is_named():
    inputs = _host()
    del inputs["authentication"]
    with pytest.raises(KeyError, match="authentication"):
        _agent_spec.agent_spec(inputs)
