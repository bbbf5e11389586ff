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


def test_dind_agent_with_its_own_docker_config_logs_to_root_only_files():
    # Mesos logs every flag at start, the docker_config JSON read from the file included: an agent's own
    # flags.docker_config sends its log to root-only files exactly as the role-level one does (the
    # preflight's Jinja turned only HTTP authentication on for it, and left the log on stderr).
    inputs = CASES["mesos_agent_dind"]["agent_docker_config_flag_only"]["inputs"]
    first, second = _agent_spec.agent_spec(inputs)[:2]
    assert first["http_auth"] is True and first["flags"]["docker_config"] == "file:///etc/other/dc.json"
    assert (first["flags"]["log_dir"], first["flags"]["quiet"]) == (inputs["log_dir"], True)
    assert "docker_config" not in second["flags"] and "log_dir" not in second["flags"]


def test_missing_input_is_named():
    inputs = _host()
    del inputs["authentication"]
    with pytest.raises(KeyError, match="authentication"):
        _agent_spec.agent_spec(inputs)
