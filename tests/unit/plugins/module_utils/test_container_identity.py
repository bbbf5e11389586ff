"""Which container a task spec means: given, found by its identity labels, or a new one."""
import pytest

from ansible_collections.mesos.docker.plugins.module_utils._container_identity import (
    IdentityError,
    container_name,
    identity_labels,
    resolve,
)

U = ["%08d-0000-4000-8000-%012d" % (i, i) for i in range(5)]


def labelled(cid, task, executor=False, framework="fw", agent="A-S0"):
    labels = {"org.apache.mesos.launcher": "mesos.docker", "org.apache.mesos.container_id": cid,
              "org.apache.mesos.task_id": task, "org.apache.mesos.framework_id": framework,
              "org.apache.mesos.agent_id": agent}
    if executor:
        labels["org.apache.mesos.executor"] = "true"
    return dict(Id="id-" + cid, Labels=labels)


class Lister:
    def __init__(self, items):
        self.items, self.calls = items, 0

    def containers(self, all=False, filters=None):
        self.calls += 1
        assert filters == {"label": "org.apache.mesos.launcher=mesos.docker"}
        return self.items


def spec(**kw):
    base = dict(task_id="t1", framework_id="fw", agent_id="A-S0", state="started")
    base.update(kw)
    return base


def test_found_by_labels_given_or_generated_with_one_list_call():
    client = Lister([labelled(U[0], "t1"), labelled(U[1], "t1", executor=True), labelled(U[2], "t2", framework="other")])
    answers = resolve(client, [spec(), spec(executor=True), spec(container_id=U[3]), spec(task_id="t2"),
                               spec(task_id="t9", state="absent")])
    assert answers[:3] == [(U[0], False), (U[1], False), (U[3], False)]
    assert answers[3][1] is True and answers[3][0] not in U  # t2 of another framework is not ours: a new one
    assert answers[4] == (None, False)  # nothing to stop, nothing to make
    assert client.calls == 1


def test_several_matches_are_an_error():
    with pytest.raises(IdentityError, match="matches several containers"):
        resolve(Lister([labelled(U[0], "t1"), labelled(U[1], "t1")]), [spec()])


def test_no_list_call_when_every_container_id_is_given():
    client = Lister([])
    assert resolve(client, [spec(container_id=U[0])]) == [(U[0], False)]
    assert client.calls == 0


def test_labels_and_names():
    assert identity_labels(spec(executor_id=None))["org.apache.mesos.executor_id"] is None
    assert container_name(spec(naming="legacy"), U[0]) == "mesos-A-S0." + U[0]
    assert container_name(spec(executor=True), U[0]) == "mesos-%s.executor" % U[0]
    with pytest.raises(IdentityError):
        container_name(spec(naming="legacy", agent_id=None), U[0])
