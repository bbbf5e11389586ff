"""agent_info_refusals mirrors src/slave/compatibility.cpp (equal and additive)."""
import pytest

from ansible_collections.mesos.docker.plugins.filter.agent_info import agent_info_refusals

BASE = {"hostname": "a1", "port": "5051", "domain": "", "resources": "cpus:2;mem:512;ports:[31000-31099]",
        "attributes": "rack:r1;level:3"}


def info(**changes):
    return dict(BASE, **changes)


@pytest.mark.parametrize("current, refused", [
    (info(), []),
    (info(resources="cpus:4;mem:512;ports:[31000-31199]"), []),
    (info(resources="cpus:2;mem:512;ports:[31000-31099];disk:100"), []),
    (info(attributes="rack:r1;level:3;zone:a"), []),
    (info(resources="cpus:1;mem:512;ports:[31000-31099]"), ["resources cpus went from 2 to 1"]),
    (info(resources="cpus:2;ports:[31000-31099]"), ["resources mem removed"]),
    (info(resources="cpus:2;mem:512;ports:[31050-31099]"), ["resources ports no longer covers its earlier ranges"]),
    (info(attributes="rack:r2;level:3"), ["attributes rack changed"]),
    (info(attributes="rack:r1;level:4"), ["attributes level went from 3 to 4"]),
    (info(port="5052"), ["port changed"]),
    (info(hostname="a2"), ["hostname changed"]),
    (info(domain="eu"), []),
])
def test_additive(current, refused):
    assert agent_info_refusals(current, BASE, "additive") == refused


def test_additive_keeps_a_set_domain():
    assert agent_info_refusals(info(domain="us"), info(domain="eu"), "additive") == ["domain changed"]


def test_equal_refuses_any_change():
    assert agent_info_refusals(info(resources="cpus:4;mem:512;ports:[31000-31099]"), BASE, "equal") == ["resources changed"]
    assert agent_info_refusals(info(), BASE, "equal") == []


def test_fields_an_older_record_lacks_are_unchanged():
    older = {k: BASE[k] for k in ("hostname", "resources", "attributes")}
    assert agent_info_refusals(info(port="5052", domain="eu"), older, "equal") == []


def test_json_resources_cannot_be_compared_additively():
    refused = agent_info_refusals(info(resources='[{"name": "cpus"}]'), BASE, "additive")
    assert refused and "cannot be compared" in refused[0]
