"""Pieces of the task state machine that need no engine: the sandbox's docker config, fetch errors, options."""
import os

import pytest

from ansible_collections.mesos.docker.plugins.module_utils._container_options import container_options
from ansible_collections.mesos.docker.plugins.module_utils._task_container import TaskSpecError, sandbox_link
from ansible_collections.mesos.docker.plugins.module_utils._task_runner import (
    TaskError, fetch_into, read_report, sandbox_docker_config)

CID = "2b1c6f3e-5b1a-4a38-9d1c-0f8e7b3c9a11"


def test_the_sandbox_docker_config_is_read_as_the_cli_reads_home(tmp_path):
    assert sandbox_docker_config(str(tmp_path)) is None
    (tmp_path / ".dockercfg").write_text("{}")
    assert sandbox_docker_config(str(tmp_path)) == str(tmp_path / ".dockercfg")
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_text("{}")
    assert sandbox_docker_config(str(tmp_path)) == str(tmp_path / ".docker" / "config.json")


def test_fetch_errors_are_wrapped_in_one_place(tmp_path):
    with pytest.raises(TaskError, match="fetching into %s failed: .*missing" % tmp_path):
        fetch_into(str(tmp_path), [dict(value="file:///nonexistent/missing", extract=True, executable=False,
                                        output_file=None)], 5, False)


@pytest.mark.parametrize("sandbox, work_dir, agent, link", [
    ("/w/slaves/S0/frameworks/f/executors/e:1/runs/" + CID, "/w", None, "/w/slaves/S0/docker/links/" + CID),
    ("/elsewhere/a:b", "/w", "S7", "/w/slaves/S7/docker/links/" + CID),
    ("/plain/sandbox", None, None, None),
])
def test_sandbox_link(sandbox, work_dir, agent, link):
    assert sandbox_link(sandbox, CID, work_dir, agent) == link


@pytest.mark.parametrize("sandbox, work_dir, agent, message", [
    ("/a:b", None, "S0", "give work_dir"),
    ("/elsewhere/a:b", "/w", None, "no agent_id"),
    ("/w/slaves/S:0/x", "/w", "S0", "would contain one too"),
])
def test_sandbox_link_refused(sandbox, work_dir, agent, message):
    with pytest.raises(TaskSpecError, match=message):
        sandbox_link(sandbox, CID, work_dir, agent)


def test_batch_entries_have_no_defaults_to_inherit_the_top_level():
    with_defaults, entry = container_options(), container_options(defaults=False)
    assert with_defaults["shell"].get("default") is None  # unset: decided by the command
    assert with_defaults["state"]["default"] == "started" and entry["state"]["default"] is None
    assert set(with_defaults) == set(entry)


def test_the_followers_report_is_read_until_every_container_is_named_or_the_pipe_closes():
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"attached c1\nbusy c2\n")
    assert read_report(read_fd, 2, 5.0) == ["attached c1", "busy c2"]
    os.write(write_fd, b"attached c3\n")
    os.close(write_fd)  # the follower died before naming c4
    assert read_report(read_fd, 2, 5.0) == ["attached c3"]
    os.close(read_fd)
