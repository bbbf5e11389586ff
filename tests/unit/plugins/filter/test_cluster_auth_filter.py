# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.docker.plugins.filter.cluster_auth import FilterModule
from ansible_collections.mesos.docker.plugins.module_utils import _cluster_auth

FILTERS = FilterModule().filters()
PRINCIPALS = {"operators": ["ops"], "monitoring": ["mon"],
              "frameworks": [{"principal": "fw", "roles": ["*"], "users": ["nobody"]}], "agents": ["a1", "a2"]}


def test_all_filters_are_exposed():
    assert set(FILTERS) == {"derived_secret", "default_acls", "merge_acls", "acl_errors"}


def test_derived_secret_takes_the_principal_as_input_and_the_key_as_argument():
    assert FILTERS["derived_secret"]("fw", "cluster key") == _cluster_auth.derived_secret("cluster key", "fw")


@pytest.mark.parametrize("principal, key", [("fw", ""), ("", "key")])
def test_derived_secret_fails_on_empty_input(principal, key):
    with pytest.raises(AnsibleFilterError, match="derived_secret: the"):
        FILTERS["derived_secret"](principal, key)


def test_default_acls_takes_one_dict():
    acls = FILTERS["default_acls"](PRINCIPALS)
    assert acls == _cluster_auth.default_acls(["ops"], ["mon"], PRINCIPALS["frameworks"], ["a1", "a2"])
    assert FILTERS["acl_errors"](json.dumps(acls), ["ops", "mon", "fw", "a1", "a2"]) == []
    assert FILTERS["default_acls"]({"frameworks": ["fw"]})["run_tasks"] == [
        {"principals": {"values": ["fw"]}, "users": {"values": ["nobody"]}}]


@pytest.mark.parametrize("principals, message", [
    (["ops"], "default_acls: expects a dict"),
    ({"operator": ["ops"]}, r"default_acls: unknown field\(s\) operator"),
    ({"operators": "ops"}, "default_acls: operators must be a list of names"),
])
def test_default_acls_fails_clearly(principals, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS["default_acls"](principals)


def test_merge_acls_puts_the_extra_entries_first():
    deny = {"principals": {"values": ["mon"]}, "flags": {"type": "NONE"}}
    merged = FILTERS["merge_acls"](FILTERS["default_acls"](PRINCIPALS), {"view_flags": [deny]})
    assert merged["view_flags"][0] == deny
    with pytest.raises(AnsibleFilterError, match="merge_acls: the base ACLs must be a dict"):
        FILTERS["merge_acls"]("[]", {})


def test_acl_errors():
    assert FILTERS["acl_errors"]({"run_task": []}) == [
        "unknown ACL 'run_task' (Mesos ignores it silently, so its entries would not apply); did you mean run_tasks or prune_images?"]
    assert FILTERS["acl_errors"]("{")[0].startswith("the ACLs are not valid JSON")
    with pytest.raises(AnsibleFilterError, match="acl_errors: known_principals must be a list"):
        FILTERS["acl_errors"]({}, "ops")
