"""The recoverer: which Mesos-named containers are this agent's known ones, orphans or foreign."""
from ansible_collections.mesos.docker.plugins.module_utils._common import RequestsConnectionError
from ansible_collections.mesos.docker.plugins.module_utils._recoverer import Recoverer

from recover_fakes import ME, OTHER, U, WORK, FakeClient, c, daemon, sandbox  # noqa: E402  (tests/unit is on sys.path)


def test_classification():
    client = FakeClient(daemon())
    r = Recoverer(client, ME, {U[0], U[9]}, work_dir=WORK)
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
    r = Recoverer(FakeClient([]), ME, set())
    cls, entry = r.classify_one(c("mesos-" + U[6], mounts=[sandbox(ME, U[6])]))
    assert cls == "foreign" and "no proof" in entry["reason"]


def test_mount_under_similar_prefix_is_no_proof():
    r = Recoverer(FakeClient([]), ME, set(), work_dir=WORK)
    cls, dummy = r.classify_one(c("mesos-" + U[6], mounts=["/var/lib/mesos2/slaves/%s/x" % ME]))
    assert cls == "foreign"
    cls, dummy = r.classify_one(c("mesos-" + U[6], mounts=["%s/slaves/%sX/x" % (WORK, ME)]))
    assert cls == "foreign"


def test_executor_container_of_known_task_is_known():
    r = Recoverer(FakeClient([]), ME, {U[0]})
    assert r.classify_one(c("mesos-%s.%s.executor" % (ME, U[0])))[0] == "known"
    assert r.classify_one(c("mesos-%s.%s" % (ME, U[0])))[0] == "known"
    assert r.classify_one(c("mesos-%s.%s.executor" % (ME, U[1])))[0] == "orphans"


def test_kill_all_reports_each_worker_and_never_raises():
    class Flaky(FakeClient):
        def stop(self, ident, timeout=None):
            if ident == "id-reset":
                raise RequestsConnectionError("connection reset by peer")
            FakeClient.stop(self, ident, timeout)

    client = Flaky([c("mesos-%s.%s" % (ME, U[1]), ident="id-reset"), c("mesos-%s.%s" % (ME, U[2]))])
    r = Recoverer(client, ME, set())
    killed, errors = r.kill_all(r.classify()["orphans"], 0, max_workers=2)
    assert killed == ["mesos-%s.%s" % (ME, U[2])]
    assert len(errors) == 1 and "mesos-%s.%s" % (ME, U[1]) in errors[0] and "reset" in errors[0]
