"""Mesos container names: format and parse, as src/slave/containerizer/docker.cpp."""
import pytest

from ansible_collections.mesos.docker.plugins.module_utils import _mesos_names as names

CID = "2b1c6f3e-5b1a-4a38-9d1c-0f8e7b3c9a11"
AGENT = "7447f438-a19c-4f12-b4f0-a5b33561eb16-S0"


def test_constants_match_mesos():
    assert names.PREFIX == "mesos-"
    assert names.SEPARATOR == "."


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        (dict(), "mesos-" + CID),
        (dict(executor=True), "mesos-" + CID + ".executor"),
        (dict(agent_id=AGENT), "mesos-" + CID),  # modern ignores the agent
        (dict(agent_id=AGENT, naming="legacy"), "mesos-" + AGENT + "." + CID),
        (dict(agent_id=AGENT, naming="legacy", executor=True), "mesos-" + AGENT + "." + CID + ".executor"),
    ],
)
def test_format_name(kwargs, expected):
    assert names.format_name(CID, **kwargs) == expected


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (("not-a-uuid",), {}, "UUID"),
        ((CID,), dict(naming="old"), "naming"),
        ((CID,), dict(naming="legacy"), "agent_id"),
        ((CID,), dict(naming="legacy", agent_id="a.b"), "cannot be part"),
        ((CID + "x",), {}, "UUID"),
    ],
)
def test_format_name_rejects(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        names.format_name(*args, **kwargs)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("mesos-" + CID, (None, CID, False)),
        ("/mesos-" + CID, (None, CID, False)),
        ("mesos-" + CID + ".executor", (None, CID, True)),
        ("mesos-" + AGENT + "." + CID, (AGENT, CID, False)),
        ("/mesos-" + AGENT + "." + CID + ".executor", (AGENT, CID, True)),
        ("mesos-slave1." + CID, ("slave1", CID, False)),
        ("mesos-" + CID.upper(), (None, CID.upper(), False)),
        # not Mesos names
        ("mesos-agent-x", None),
        ("mesos-agent-" + CID, None),
        ("mesos-", None),
        ("mesos", None),
        ("my-mesos-" + CID, None),
        ("xmesos-" + CID, None),
        ("mesos-" + CID + ".exec", None),
        ("mesos-" + CID + ".executor.executor", None),
        ("mesos-a.b." + CID, None),
        ("mesos-" + AGENT + "." + CID + ".x", None),
        ("mesos-" + CID + "." + AGENT, None),
        ("mesos-.executor", None),
        ("mesos-" + CID.replace("-", ""), None),  # Mesos wants the hyphenated form
        ("mesos-{%s}" % CID, None),
        ("mesos-" + AGENT + ".not-a-uuid", None),
        ("//mesos-" + CID, None),
        (None, None),
        ("", None),
    ],
)
def test_parse_name(name, expected):
    assert names.parse_name(name) == expected


@pytest.mark.parametrize("naming", ["modern", "legacy"])
@pytest.mark.parametrize("executor", [False, True])
def test_round_trip(naming, executor):
    cid = names.new_container_id()
    name = names.format_name(cid, agent_id=AGENT, naming=naming, executor=executor)
    assert names.parse_name(name) == ((AGENT if naming == "legacy" else None), cid, executor)
    assert names.parse_name("/" + name) == names.parse_name(name)


def test_hypothesis_round_trip():
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies

    @hypothesis.given(st.uuids(), st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,40}\Z"), st.booleans(), st.booleans())
    def check(u, agent, legacy, executor):
        cid = str(u)
        name = names.format_name(cid, agent_id=agent, naming="legacy" if legacy else "modern", executor=executor)
        assert names.parse_name(name) == ((agent if legacy else None), cid, executor)

    check()


def test_primary_name_skips_link_aliases():
    c = {"Names": ["/other/alias", "/mesos-" + CID]}
    assert names.primary_name(c) == "mesos-" + CID
    assert names.container_names(c) == ["other/alias", "mesos-" + CID]
    assert names.primary_name({"Names": []}) is None


def test_is_uuid():
    assert names.is_uuid(CID)
    assert not names.is_uuid(CID[:-1] + "g")
    assert not names.is_uuid(123)
