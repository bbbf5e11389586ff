"""mesos.docker.recover with a fake Docker client: the module contract (classification: test_recoverer.py)."""
import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.mesos.docker.plugins.module_utils import _common
from ansible_collections.mesos.docker.plugins.module_utils import _recoverer as recoverer_utils
from ansible_collections.mesos.docker.plugins.modules import recover

from recover_fakes import ME, U, WORK, FakeClient, c, daemon  # noqa: E402  (tests/unit is on sys.path)


# ---- the module ------------------------------------------------------------------------------

@pytest.fixture
def fake(monkeypatch):
    client = FakeClient(daemon())
    monkeypatch.setattr(_common.DockerModule, "client", property(lambda self: client))
    return client


def run_module(args, capsys, check=False):
    if check:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            recover.main()
    return json.loads(capsys.readouterr().out)


def test_module_kills_only_my_orphans_and_is_idempotent(fake, capsys):
    args = dict(agent_id=ME, known_containers=[U[0], U[9]], work_dir=WORK, kill_orphans=True, stop_timeout=3)
    before = fake.names()
    checked = run_module(args, capsys, check=True)
    assert checked["changed"] is True and len(checked["killed"]) == 5
    assert fake.names() == before  # check mode kills nothing
    first = run_module(args, capsys)
    assert first["changed"] is True
    assert sorted(first["killed"]) == sorted(checked["killed"])
    assert set(before) - set(fake.names()) == set(first["killed"])
    stops = [x for x in fake.calls if x[0] == "stop"]
    # only running ones are stopped, with the grace period; exited ones are just removed
    assert ("stop", "id-mesos-%s.%s" % (ME, U[1]), 3) not in stops
    assert ("stop", "id-mesos-" + U[3], 3) in stops
    assert all(x[2:] == (True, True) for x in fake.calls if x[0] == "remove")
    second = run_module(args, capsys)
    assert second["changed"] is False and second["killed"] == [] and second["orphans"] == []


def test_module_without_kill_reports_only(fake, capsys):
    out = run_module(dict(agent_id=ME, known_containers=[]), capsys)
    assert out["changed"] is False and out["killed"] == []
    # no work_dir: mount evidence is not read (U6 is foreign, U8 counts as mine by its label)
    assert len(out["orphans"]) == 6 and "mesos-" + U[6] in [e["name"] for e in out["foreign"]]
    assert not [x for x in fake.calls if x[0] != "containers"]


@pytest.mark.parametrize(
    "args, message",
    [
        (dict(agent_id=ME, known_containers=["nope"]), "not UUIDs: nope"),
        (dict(agent_id=ME), "one of the following is required"),
        (dict(known_containers=[]), "Cannot tell which agent"),
        (dict(agent_id=ME, work_dir="/nonexistent-work-dir"), "No agent checkpoint"),
        (dict(agent_id=ME, known_containers=[], stop_timeout=-1), "stop_timeout"),
        (dict(agent_id=ME, known_containers=[], max_workers=0), "max_workers must be an integer of at least 1, got 0"),
    ],
)
def test_module_bad_input_touches_nothing(fake, capsys, args, message):
    out = run_module(args, capsys)
    assert out["failed"] and message in out["msg"]
    assert fake.calls == []  # validated before any Docker call


def test_module_reports_kill_failures(monkeypatch, capsys):
    client = FakeClient([c("mesos-%s.%s" % (ME, U[1]), ident="id-broken"), c("mesos-%s.%s" % (ME, U[2]), ident="id-gone")])
    monkeypatch.setattr(_common.DockerModule, "client", property(lambda self: client))
    out = run_module(dict(agent_id=ME, known_containers=[], kill_orphans=True), capsys)
    assert out["failed"] and "mesos-%s.%s" % (ME, U[1]) in out["msg"] and "boom" in out["msg"]
    assert U[2] not in out["msg"]  # already gone is fine


def test_module_uses_checkpoint_agent_id(fake, capsys, tmp_path):
    root = str(tmp_path)
    _checkpoint(root, {U[0]: dict()})
    out = run_module(dict(work_dir=root), capsys)
    assert out["agent_id"] == ME and out["known_container_ids"] == [U[0]]


def test_module_agent_url(fake, capsys, monkeypatch):
    answers = {"http://agent:5051/state": {"id": ME}, "http://agent:5051/containers": [
        {"container_id": U[9], "executor_id": "e", "framework_id": "f"}, {"container_id": "junk"}]}
    seen = []

    def fake_get(url, **kw):
        seen.append((url, kw.get("username"), kw.get("password")))
        return answers[url]

    monkeypatch.setattr(recoverer_utils, "get_json", fake_get)
    out = run_module(dict(agent_url="http://agent:5051/", agent_url_username="ops", agent_url_password="s3cret"), capsys)
    assert out["agent_id"] == ME and out["known_container_ids"] == [U[9]]
    assert seen[0] == ("http://agent:5051/state", "ops", "s3cret")
    assert "s3cret" not in json.dumps(out)


# ---- issue 11: as Mesos, every container whose ID is known is kept; the checkpoint read as the agent reads it ----

def _checkpoint(root, runs, boot_id=None):
    """``runs``: ``{container_id: dict(pids=..., info=True, sentinel=False)}``, each the latest run of its executor."""
    for index, (cid, spec) in enumerate(sorted(runs.items())):
        executor = os.path.join(root, "meta", "slaves", ME, "frameworks", "F", "executors", "E%d" % index)
        run = os.path.join(executor, "runs", cid)
        os.makedirs(os.path.join(run, "pids"))
        for pid_file, content in spec.get("pids", {"forked.pid": "4242", "libprocess.pid": "executor(1)@127.0.0.1:4000"}).items():
            with open(os.path.join(run, "pids", pid_file), "w") as handle:
                handle.write(content)
        if spec.get("info", True):
            with open(os.path.join(executor, "executor.info"), "wb") as handle:
                handle.write(b"\x0a\x04E-id")
        for marker in spec.get("markers", ()):
            open(os.path.join(run, marker), "w").close()
        os.symlink(run, os.path.join(executor, "runs", "latest"))
    os.symlink(os.path.join(root, "meta", "slaves", ME), os.path.join(root, "meta", "slaves", "latest"))
    if boot_id is not None:
        with open(os.path.join(root, "meta", "boot_id"), "w") as handle:
            handle.write(boot_id + "\n")


def _use(monkeypatch, containers):
    client = FakeClient(containers)
    monkeypatch.setattr(_common.DockerModule, "client", property(lambda self: client))
    return client


def test_module_keeps_executor_container_of_a_known_task(monkeypatch, capsys):
    """Mesos keeps every container whose container ID it knows, `.executor` included (host-mode agent too)."""
    client = _use(monkeypatch, [c("mesos-%s.%s" % (ME, U[0])), c("mesos-%s.%s.executor" % (ME, U[0])),
                                c("mesos-" + U[1] + ".executor", labels={"org.apache.mesos.agent_id": ME})])
    out = run_module(dict(agent_id=ME, known_containers=[U[0], U[1]], kill_orphans=True), capsys)
    assert out["changed"] is False and out["killed"] == [] and out["orphans"] == []
    assert sorted(e["name"] for e in out["known"]) == sorted(
        ["mesos-%s.%s" % (ME, U[0]), "mesos-%s.%s.executor" % (ME, U[0]), "mesos-" + U[1] + ".executor"])
    assert len(client.items) == 3


@pytest.mark.parametrize(
    "run, recovered",
    [
        (dict(), True),
        (dict(pids={"forked.pid": "4242"}, markers=("http.marker",)), False),   # docker executors are libprocess executors
        (dict(pids={"forked.pid": "4242", "libprocess.pid": ""}), False),       # empty pid file: not recovered
        (dict(pids={"forked.pid": "", "libprocess.pid": "executor(1)@127.0.0.1:4000"}), False),
        (dict(pids={"libprocess.pid": "executor(1)@127.0.0.1:4000"}), False),
        (dict(info=False), False),                                              # no executor.info: skipped
        (dict(markers=("executor.sentinel",)), False),                          # completed run
    ],
    ids=["live", "http-marker-only", "empty-libprocess-pid", "empty-forked-pid", "no-forked-pid", "no-executor-info",
         "completed"],
)
def test_module_reads_checkpoint_runs_as_the_agent_does(monkeypatch, capsys, tmp_path, run, recovered):
    root = str(tmp_path)
    _checkpoint(root, {U[0]: run})
    _use(monkeypatch, [c("mesos-%s.%s" % (ME, U[0]))])
    out = run_module(dict(work_dir=root), capsys)
    assert out["known_container_ids"] == ([U[0]] if recovered else [])
    assert [e["name"] for e in out["orphans" if not recovered else "known"]] == ["mesos-%s.%s" % (ME, U[0])]


def test_module_distrusts_checkpointed_pids_after_a_reboot(monkeypatch, capsys, tmp_path):
    """A boot ID that changed since the checkpoint means the checkpointed pids are obsolete (src/slave/state.cpp)."""
    from ansible_collections.mesos.docker.plugins.module_utils import _checkpoint as checkpoint_utils

    root = str(tmp_path)
    _checkpoint(root, {U[0]: dict()}, boot_id="0aaaaaaa-0000-4000-8000-000000000000")
    _use(monkeypatch, [c("mesos-%s.%s" % (ME, U[0]))])
    monkeypatch.setattr(checkpoint_utils, "current_boot_id", lambda: "0bbbbbbb-0000-4000-8000-000000000000")
    out = run_module(dict(work_dir=root), capsys)
    assert out["known_container_ids"] == [] and [e["name"] for e in out["orphans"]] == ["mesos-%s.%s" % (ME, U[0])]
    monkeypatch.setattr(checkpoint_utils, "current_boot_id", lambda: "0aaaaaaa-0000-4000-8000-000000000000")
    out = run_module(dict(work_dir=root), capsys)
    assert out["known_container_ids"] == [U[0]]


def test_module_refuses_an_unparseable_forked_pid(monkeypatch, capsys, tmp_path):
    """The agent's recovery fails on it (numify error): kill nothing, say which file."""
    root = str(tmp_path)
    _checkpoint(root, {U[0]: dict(pids={"forked.pid": "garbage", "libprocess.pid": "x"})})
    client = _use(monkeypatch, [c("mesos-%s.%s" % (ME, U[0]))])
    out = run_module(dict(work_dir=root, kill_orphans=True), capsys)
    assert out["failed"] and "forked.pid" in out["msg"] and "garbage" in out["msg"]
    assert [x for x in client.calls if x[0] != "containers"] == []


class FlakyClient(FakeClient):
    """A daemon whose connection breaks while one orphan is stopped and times out on another."""

    def stop(self, ident, timeout=None):
        from ansible_collections.mesos.docker.plugins.module_utils._common import RequestsConnectionError, RequestsTimeout

        if ident == "id-reset":
            raise RequestsConnectionError("Connection aborted: connection reset by peer")
        if ident == "id-slow":
            raise RequestsTimeout("Read timed out")
        if ident == "id-weird":
            raise RuntimeError("unexpected")
        super(FlakyClient, self).stop(ident, timeout)


def test_module_worker_errors_are_a_clean_failure_reporting_the_others(monkeypatch, capsys):
    client = FlakyClient([c("mesos-%s.%s" % (ME, U[1]), ident="id-reset"), c("mesos-%s.%s" % (ME, U[2]), ident="id-slow"),
                          c("mesos-%s.%s" % (ME, U[3]), ident="id-weird"), c("mesos-%s.%s" % (ME, U[4]))])
    monkeypatch.setattr(_common.DockerModule, "client", property(lambda self: client))
    out = run_module(dict(agent_id=ME, known_containers=[], kill_orphans=True, max_workers=4), capsys)
    assert out["failed"] and "Traceback" not in json.dumps(out)
    for cid, word in ((U[1], "reset"), (U[2], "timed out"), (U[3], "unexpected")):
        assert "mesos-%s.%s" % (ME, cid) in out["msg"] and word in out["msg"]
    assert out["killed"] == ["mesos-%s.%s" % (ME, U[4])]  # what the other worker did is still reported
    assert sorted(out["kill_failed"]) == sorted("mesos-%s.%s" % (ME, u) for u in U[1:4])


def test_module_listing_error_is_a_clean_failure(monkeypatch, capsys):
    from ansible_collections.mesos.docker.plugins.module_utils._common import RequestsConnectionError

    class Down(FakeClient):
        def containers(self, all=False, filters=None):
            raise RequestsConnectionError("Connection refused")

    monkeypatch.setattr(_common.DockerModule, "client", property(lambda self: Down([])))
    out = run_module(dict(agent_id=ME, known_containers=[], kill_orphans=True), capsys)
    assert out["failed"] and "Listing the Mesos containers" in out["msg"] and "refused" in out["msg"]
