"""mesos.docker.recover with a fake Docker client: classification edge cases and the module contract."""
import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.mesos.docker.plugins.module_utils import _common
from ansible_collections.mesos.docker.plugins.module_utils._common import APIError, NotFound
from ansible_collections.mesos.docker.plugins.modules import recover

ME = "11111111-1111-4111-8111-111111111111-S0"
OTHER = "22222222-2222-4222-8222-222222222222-S3"
WORK = "/var/lib/mesos"
U = ["%08d-0000-4000-8000-%012d" % (i, i) for i in range(20)]


def c(name, labels=None, mounts=None, state="running", ident=None):
    return {
        "Id": ident or ("id-" + name),
        "Names": ["/" + name],
        "Labels": labels or {},
        "Mounts": [{"Type": "bind", "Source": m, "Destination": "/mnt/mesos/sandbox"} for m in (mounts or [])],
        "State": state,
    }


def sandbox(agent, cid):
    return "%s/slaves/%s/frameworks/F/executors/E/runs/%s" % (WORK, agent, cid)


class FakeClient:
    def __init__(self, containers):
        self.items = list(containers)
        self.calls = []

    def containers(self, all=False, filters=None):
        self.calls.append(("containers", all, filters))
        needle = (filters or {}).get("name", "")
        return [x for x in self.items if needle in x["Names"][0]]

    def stop(self, ident, timeout=None):
        self.calls.append(("stop", ident, timeout))

    def remove_container(self, ident, v=False, force=False):
        self.calls.append(("remove", ident, v, force))
        if ident == "id-broken":
            raise APIError("boom")
        if ident == "id-gone":
            raise NotFound("gone")
        self.items = [x for x in self.items if x["Id"] != ident]

    def names(self):
        return sorted(x["Names"][0][1:] for x in self.items)


def daemon():
    return [
        c("mesos-%s.%s" % (ME, U[0])),                       # mine, legacy, known
        c("mesos-%s.%s" % (ME, U[1]), state="exited"),       # mine, legacy, orphan
        c("mesos-%s.%s.executor" % (ME, U[1])),              # its executor
        c("mesos-%s.%s" % (OTHER, U[2])),                    # other agent, legacy
        c("mesos-%s.%s.executor" % (OTHER, U[2])),
        c("mesos-" + U[3], labels={"org.apache.mesos.agent_id": ME}),      # modern, labelled mine, orphan
        c("mesos-" + U[4], labels={"org.apache.mesos.agent_id": OTHER}),   # modern, labelled other
        c("mesos-" + U[5]),                                                # modern, no proof
        c("mesos-" + U[6], mounts=[sandbox(ME, U[6])]),                    # modern, mounts my sandbox
        c("mesos-" + U[6] + ".executor", mounts=[sandbox(ME, U[6])]),
        c("mesos-" + U[7], mounts=[sandbox(OTHER, U[7])]),                 # mounts another agent's sandbox
        c("mesos-" + U[8], labels={"org.apache.mesos.agent_id": ME}, mounts=[sandbox(OTHER, U[8])]),  # conflict
        c("mesos-" + U[9], labels={"org.apache.mesos.agent_id": ME}),      # modern, mine, known
        c("mesos-%s.%s" % (OTHER, U[10]), labels={"org.apache.mesos.agent_id": ME}),  # name says other
        c("mesos-agent-1"),
        c("mesos-not-a-uuid"),
        c("my-mesos-thing"),
        c("web"),
    ]


def test_classification():
    client = FakeClient(daemon())
    r = recover.Recoverer(client, ME, {U[0], U[9]}, work_dir=WORK)
    classes = r.classify()
    names = {k: sorted(e["name"] for e in v) for k, v in classes.items()}
    assert names["known"] == sorted(["mesos-%s.%s" % (ME, U[0]), "mesos-" + U[9]])
    assert names["orphans"] == sorted([
        "mesos-%s.%s" % (ME, U[1]), "mesos-%s.%s.executor" % (ME, U[1]),
        "mesos-" + U[3], "mesos-" + U[6], "mesos-" + U[6] + ".executor",
    ])
    foreign = {e["name"]: e["reason"] for e in classes["foreign"]}
    assert "web" not in foreign  # not returned by the name filter
    assert foreign["mesos-agent-1"] == "name does not parse as a Mesos container"
    assert foreign["my-mesos-thing"] == "not Mesos-named"
    assert foreign["mesos-" + U[5]] == "no proof of ownership by this agent"
    assert foreign["mesos-" + U[4]] == "belongs to agent " + OTHER
    assert foreign["mesos-" + U[7]] == "belongs to agent " + OTHER
    assert "conflicting" in foreign["mesos-" + U[8]]
    assert "conflicting" in foreign["mesos-%s.%s" % (OTHER, U[10])]
    assert client.calls == [("containers", True, {"name": "mesos-"})]  # one list call, no inspect


def test_mount_proof_needs_work_dir():
    r = recover.Recoverer(FakeClient([]), ME, set())
    cls, entry = r.classify_one(c("mesos-" + U[6], mounts=[sandbox(ME, U[6])]))
    assert cls == "foreign" and "no proof" in entry["reason"]


def test_mount_under_similar_prefix_is_no_proof():
    r = recover.Recoverer(FakeClient([]), ME, set(), work_dir=WORK)
    cls, dummy = r.classify_one(c("mesos-" + U[6], mounts=["/var/lib/mesos2/slaves/%s/x" % ME]))
    assert cls == "foreign"
    cls, dummy = r.classify_one(c("mesos-" + U[6], mounts=["%s/slaves/%sX/x" % (WORK, ME)]))
    assert cls == "foreign"


@pytest.mark.parametrize("mesos_image, expected", [(True, "known"), (False, "orphans")])
def test_executor_of_known_task(mesos_image, expected):
    r = recover.Recoverer(FakeClient([]), ME, {U[0]}, docker_mesos_image=mesos_image)
    assert r.classify_one(c("mesos-%s.%s.executor" % (ME, U[0])))[0] == expected
    assert r.classify_one(c("mesos-%s.%s" % (ME, U[0])))[0] == "known"


def _write_run(root, agent, fw, ex, cid, pids=("forked.pid", "libprocess.pid"), latest=True, sentinel=False):
    run = os.path.join(root, "meta", "slaves", agent, "frameworks", fw, "executors", ex, "runs", cid)
    os.makedirs(os.path.join(run, "pids"))
    for p in pids:
        open(os.path.join(run, "pids", p), "w").write("1")
    if sentinel:
        open(os.path.join(run, "executor.sentinel"), "w").close()
    if latest:
        link = os.path.join(os.path.dirname(run), "latest")
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(run, link)


def test_read_checkpoint(tmp_path):
    root = str(tmp_path)
    assert recover.read_checkpoint(root) == (None, set())
    _write_run(root, ME, "F1", "E1", U[0])
    _write_run(root, ME, "F1", "E2", U[1], latest=False)        # earlier run
    _write_run(root, ME, "F1", "E2", U[2])                      # latest run of E2
    _write_run(root, ME, "F2", "E3", U[3], pids=("forked.pid",))  # no libprocess pid
    _write_run(root, ME, "F2", "E4", U[4], sentinel=True)       # completed
    _write_run(root, ME, "F2", "E5", U[5], pids=())             # no forked pid
    os.symlink(os.path.join(root, "meta", "slaves", ME), os.path.join(root, "meta", "slaves", "latest"))
    assert recover.read_checkpoint(root) == (ME, {U[0], U[2]})


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
    _write_run(root, ME, "F1", "E1", U[0])
    os.symlink(os.path.join(root, "meta", "slaves", ME), os.path.join(root, "meta", "slaves", "latest"))
    out = run_module(dict(work_dir=root), capsys)
    assert out["agent_id"] == ME and out["known_container_ids"] == [U[0]]


def test_module_agent_url(fake, capsys, monkeypatch):
    answers = {"http://agent:5051/state": {"id": ME}, "http://agent:5051/containers": [
        {"container_id": U[9], "executor_id": "e", "framework_id": "f"}, {"container_id": "junk"}]}
    seen = []

    def fake_get(url, **kw):
        seen.append((url, kw.get("username"), kw.get("password")))
        return answers[url]

    monkeypatch.setattr(recover, "_get_json", fake_get)
    out = run_module(dict(agent_url="http://agent:5051/", agent_url_username="ops", agent_url_password="s3cret"), capsys)
    assert out["agent_id"] == ME and out["known_container_ids"] == [U[9]]
    assert seen[0] == ("http://agent:5051/state", "ops", "s3cret")
    assert "s3cret" not in json.dumps(out)
