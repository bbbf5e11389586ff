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


def test_unparseable_forked_pid_names_the_real_path_of_the_file(tmp_path):
    """The message names the file by its resolved path, whatever links lead there (here: a linked work_dir)."""
    real = tmp_path / "real"
    real.mkdir()
    _write_run(str(real), ME, "F1", "E1", U[0], pids={"forked.pid": "12ab", "libprocess.pid": "x"})
    _latest(str(real))
    os.symlink(str(real), str(tmp_path / "linked"))
    with pytest.raises(CheckpointError) as raised:
        read_checkpoint(str(tmp_path / "linked"), boot_id=BOOT)
    run = os.path.join(str(real), "meta", "slaves", ME, "frameworks", "F1", "executors", "E1", "runs", U[0])
    assert os.path.join(run, "pids", "forked.pid") in str(raised.value)


def _executor_dir(root, ex="E1"):
    return os.path.join(root, "meta", "slaves", ME, "frameworks", "F1", "executors", ex)


def _relink(link, target):
    os.unlink(link)
    os.symlink(target, link)


# How an executor's runs/latest may point at its run: Mesos writes the absolute path; relative links,
# chains and linked directories must resolve as os.path.realpath resolves them.
LINK_LAYOUTS = {
    "absolute": lambda runs, cid: _relink(os.path.join(runs, "latest"), os.path.join(runs, cid)),
    "relative": lambda runs, cid: _relink(os.path.join(runs, "latest"), cid),
    "relative-via-parent": lambda runs, cid: _relink(os.path.join(runs, "latest"), os.path.join("..", "runs", cid)),
    "chain": lambda runs, cid: (os.symlink(cid, os.path.join(runs, "newest")),
                                _relink(os.path.join(runs, "latest"), "newest")),
    "chain-absolute": lambda runs, cid: (os.symlink(os.path.join(runs, cid), os.path.join(runs, "newest")),
                                         _relink(os.path.join(runs, "latest"), os.path.join(runs, "newest"))),
    "run-dir-is-a-link": lambda runs, cid: (os.rename(os.path.join(runs, cid), os.path.join(runs, "moved")),
                                            os.symlink("moved", os.path.join(runs, cid))),
    "trailing-slash": lambda runs, cid: _relink(os.path.join(runs, "latest"), cid + "/"),
    "dot": lambda runs, cid: _relink(os.path.join(runs, "latest"), os.path.join(runs, cid, ".")),
    "dot-dot": lambda runs, cid: (os.makedirs(os.path.join(runs, cid, "sub")),
                                  _relink(os.path.join(runs, "latest"), os.path.join(cid, "sub", ".."))),
    "linked-executors-dir": lambda runs, cid: None,  # see below: the executor's directory is itself a link
}


@pytest.mark.parametrize("layout", sorted(LINK_LAYOUTS))
def test_latest_run_links_resolve_as_realpath_resolves_them(tmp_path, layout):
    """Same container ID and same verdict as reading through os.path.realpath (what the reader did before)."""
    from ansible_collections.mesos.docker.plugins.module_utils import _checkpoint

    root = str(tmp_path)
    if layout == "linked-executors-dir":
        _write_run(root, ME, "F1", "elsewhere", U[0])
        os.symlink("elsewhere", _executor_dir(root))
    else:
        _write_run(root, ME, "F1", "E1", U[0])
        LINK_LAYOUTS[layout](os.path.join(_executor_dir(root), "runs"), U[0])
    _latest(root)
    link = os.path.join(_executor_dir(root), "runs", "latest")
    run = _checkpoint._follow_last(link)
    assert os.path.basename(run) == os.path.basename(os.path.realpath(link))
    assert os.path.samefile(run, os.path.realpath(link))
    expected = os.path.basename(os.path.realpath(link))
    checkpoint = read_checkpoint(root, boot_id=BOOT)
    if expected == U[0]:
        assert checkpoint.known == {U[0]} and checkpoint.skipped == {}
    else:  # the run is not named by a container ID: skipped, as before
        assert checkpoint.known == set() and checkpoint.skipped == {}


def test_a_latest_link_loop_or_dangling_link_is_skipped(tmp_path):
    root = str(tmp_path)
    _write_run(root, ME, "F1", "E1", U[0])
    _relink(os.path.join(_executor_dir(root), "runs", "latest"), "latest")  # a link to itself
    _write_run(root, ME, "F1", "E2", U[1])
    _relink(os.path.join(_executor_dir(root, "E2"), "runs", "latest"), U[2])  # dangling
    _write_run(root, ME, "F1", "E3", U[3])
    _latest(root)
    checkpoint = read_checkpoint(root, boot_id=BOOT)
    assert checkpoint.known == {U[3]} and checkpoint.skipped == {}


def test_reading_resolves_the_agent_link_once_not_every_run(tmp_path, monkeypatch):
    """os.path.realpath lstat()s every component of a run's path and of each link target again (~30 calls per
    executor on a real work_dir): the reader resolves ``meta/slaves/latest`` once and each ``runs/latest`` by
    its own link only."""
    root = str(tmp_path)
    for index in range(20):
        _write_run(root, ME, "F1", "E%d" % index, U[index])
    _latest(root)
    calls = []
    realpath = os.path.realpath
    monkeypatch.setattr(os.path, "realpath", lambda path, *a, **kw: calls.append(path) or realpath(path, *a, **kw))
    checkpoint = read_checkpoint(root, boot_id=BOOT)
    assert checkpoint.agent_id == ME and checkpoint.known == set(U[:20])
    assert calls == [os.path.join(root, "meta", "slaves", "latest")]
