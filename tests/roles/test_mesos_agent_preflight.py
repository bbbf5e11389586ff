"""mesos_agent preflight: flags_via=cmdline refuses secrets before anything is written.

Same harness as test_preflight.py (this machine, check mode, only the always-tagged tasks).
"""
import pytest

from test_preflight import GOOD_AGENT, run_preflight

SECRET = "wt12-zk-s3cret"
CHECK = "TASK [mesos.docker.mesos_agent : Check that no secret would land in the unit file or the process list]"


def _check_passed(out):
    """The secrets check ran and passed (this machine is no systemd host: a later check may fail)."""
    after = out.split(CHECK, 1)
    return len(after) == 2 and after[1].lstrip("* \n").startswith("ok: [localhost]")


@pytest.mark.parametrize("variables, named", [
    pytest.param({"mesos_agent_master": "zk://ops:%s@zk1:2181/mesos" % SECRET}, "master (credentials in the zk:// URL)",
                 id="zk-credentials"),
    pytest.param({"mesos_agent_docker_config": '{"auths": {"r:5000": {"auth": "%s"}}}' % SECRET},
                 "docker_config (inline, not a file)", id="inline-docker-config"),
    pytest.param({"mesos_agent_flags": {"credential": '{"principal": "a", "secret": "%s"}' % SECRET}},
                 "credential (inline, not a file)", id="inline-credential"),
])
def test_cmdline_refuses_secrets(tmp_path, variables, named):
    rc, out = run_preflight(tmp_path, "mesos_agent", dict(GOOD_AGENT, mesos_agent_flags_via="cmdline", **variables))
    assert rc != 0, out
    assert "mesos_agent_flags_via=cmdline would put secrets" in out and named in out, out
    assert SECRET not in out


def test_cmdline_takes_secrets_as_files(tmp_path):
    variables = dict(GOOD_AGENT, mesos_agent_flags_via="cmdline",
                     mesos_agent_docker_config="file:///etc/mesos/docker_config.json",
                     mesos_agent_http_authentication="enabled")
    rc, out = run_preflight(tmp_path, "mesos_agent", variables)
    assert _check_passed(out), out


def test_env_takes_inline_secrets(tmp_path):
    variables = dict(GOOD_AGENT, mesos_agent_master="zk://ops:%s@zk1:2181/mesos" % SECRET)
    rc, out = run_preflight(tmp_path, "mesos_agent", variables)
    assert _check_passed(out), out
