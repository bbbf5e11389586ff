"""The checkpoint reader: which container IDs a restarting agent recovers (src/slave/state.cpp)."""
import os

import pytest

from ansible_collections.mesos.docker.plugins.module_utils._checkpoint import CheckpointError, read_checkpoint

ME = "11111111-1111-4111-8111-111111111111-S0"
U = ["%08d-0000-4000-8000-%012d" % (i, i) for i in range(20)]
BOOT = "0aaaaaaa-0000-4000-8000-000000000000"


def _write_run(root, agent, fw, ex, cid, pids=None, latest=True, sentinel=False, info=True, marker=False):
    executor = os.path.join(root, "meta", "slaves", agent, "frameworks", fw, "executors", ex)
    run = os.path.join(executor, "runs", cid)
    os.makedirs(os.path.join(run, "pids"))
    if pids is None:
        pids = {"forked.pid": "4242", "libprocess.pid": "executor(1)@127.0.0.1:4000"}
    for name, content in pids.items():
        with open(os.path.join(run, "pids", name), "w") as handle:
            handle.write(content)
    if info:
        with open(os.path.join(executor, "executor.info"), "w") as handle:
            handle.write("info")
    if sentinel:
        open(os.path.join(run, "executor.sentinel"), "w").close()
    if marker:
        open(os.path.join(run, "http.marker"), "w").close()
    if latest:
        link = os.path.join(executor, "runs", "latest")
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(run, link)


def _latest(root, agent=ME):
    os.symlink(os.path.join(root, "meta", "slaves", agent), os.path.join(root, "meta", "slaves", "latest"))


def test_no_checkpoint(tmp_path):
    checkpoint = read_checkpoint(str(tmp_path), boot_id=BOOT)
    assert checkpoint.agent_id is None and checkpoint.known == set() and not checkpoint.rebooted


def test_only_live_latest_runs_are_recovered(tmp_path):
    root = str(tmp_path)
    _write_run(root, ME, "F1", "E1", U[0])
    _write_run(root, ME, "F1", "E2", U[1], latest=False)                  # earlier run
    _write_run(root, ME, "F1", "E2", U[2])                                # latest run of E2
    _write_run(root, ME, "F2", "E3", U[3], pids={"forked.pid": "7"})      # no libprocess pid
    _write_run(root, ME, "F2", "E4", U[4], sentinel=True)                 # completed
    _write_run(root, ME, "F2", "E5", U[5], pids={})                       # no forked pid
    _write_run(root, ME, "F2", "E6", U[6], pids={"forked.pid": "7"}, marker=True)  # HTTP executor: not docker's
    _write_run(root, ME, "F2", "E7", U[7], info=False)                    # executor.info missing
    _write_run(root, ME, "F2", "E8", U[8], pids={"forked.pid": "7", "libprocess.pid": ""})  # empty pid file
    _latest(root)
    checkpoint = read_checkpoint(root, boot_id=BOOT)
    assert checkpoint.agent_id == ME and checkpoint.known == {U[0], U[2]}
    assert checkpoint.skipped == {
        U[3]: "no libprocess.pid", U[4]: "run completed (executor.sentinel)", U[5]: "no forked.pid",
        U[6]: "no libprocess.pid", U[7]: "no executor.info", U[8]: "no libprocess.pid",
    }


@pytest.mark.parametrize("recorded, rebooted", [(None, False), (BOOT, False), ("0bbbbbbb-0000-4000-8000-000000000000", True)])
def test_a_changed_boot_id_distrusts_every_pid(tmp_path, recorded, rebooted):
    root = str(tmp_path)
    _write_run(root, ME, "F1", "E1", U[0])
    _latest(root)
    if recorded:
        with open(os.path.join(root, "meta", "boot_id"), "w") as handle:
            handle.write(recorded + "\n")
    checkpoint = read_checkpoint(root, boot_id=BOOT)
    assert checkpoint.rebooted is rebooted
    assert checkpoint.known == (set() if rebooted else {U[0]})


def test_unparseable_forked_pid_fails_like_the_agent(tmp_path):
    root = str(tmp_path)
    _write_run(root, ME, "F1", "E1", U[0], pids={"forked.pid": "12ab", "libprocess.pid": "x"}, sentinel=True)
    _latest(root)
    with pytest.raises(CheckpointError, match="forked.pid"):
        read_checkpoint(root, boot_id=BOOT)
