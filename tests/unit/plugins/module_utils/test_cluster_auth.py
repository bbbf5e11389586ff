# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
import base64
import copy
import hashlib
import hmac
import json

import pytest

from ansible_collections.mesos.docker.plugins.module_utils import _cluster_auth as ca

PRINCIPALS = {"operators": ["ops"], "monitoring": ["mon"],
              "frameworks": [{"principal": "fw", "roles": ["*"], "users": ["nobody"]}], "agents": ["a1", "a2"]}
KNOWN = ["ops", "mon", "fw", "a1", "a2"]


def policy(**changes):
    args = dict(PRINCIPALS, **changes)
    return ca.default_acls(args["operators"], args["monitoring"], args["frameworks"], args["agents"])


# --- A model of Mesos's local authorizer (src/authorizer/local/authorizer.cpp) ------------

def _entity(entity):
    return entity.get("type", "SOME"), entity.get("values", [])


def _matches(request, acl):
    (rtype, rvalues), (atype, avalues) = request, _entity(acl)
    if rtype == "NONE":
        return atype == "NONE"
    if rtype == "ANY":
        return atype in ("ANY", "NONE")
    return atype in ("ANY", "NONE") or all(value in avalues for value in rvalues)


def _allows(request, acl):
    (rtype, rvalues), (atype, avalues) = request, _entity(acl)
    if rtype in ("NONE", "ANY"):
        return atype == rtype
    if atype == "ANY":
        return True
    if atype == "NONE":
        return False
    return all(value in avalues for value in rvalues)


def authorized(acls, key, principal, obj=None):
    """Whether Mesos allows ``principal`` (None: unauthenticated) ``key`` on ``obj`` (None: ANY)."""
    subject = ("SOME", [principal]) if principal else ("ANY", [])
    target = ("SOME", [obj]) if obj is not None else ("ANY", [])
    field = ca.ACL_TABLE[key].object_field
    for entry in acls.get(key, []):
        if _matches(subject, entry["principals"]) and _matches(target, entry[field]):
            return _allows(subject, entry["principals"]) and _allows(target, entry[field])
    return acls.get("permissive", True)


# What a request's object is, for each kind of ACL (None: Mesos asks about ANY object).
SAMPLE_OBJECTS = {"roles": "*", "users": "nobody", "framework_principals": "fw", "reserver_principals": "fw",
                  "creator_principals": "fw", "paths": "/metrics/snapshot"}


def sample_object(key):
    if ca.ACL_TABLE[key].object_form in (ca.OBJECT_ANY_OR_NONE, ca.OBJECT_ANY_NEVER_VALUES):
        return None
    return SAMPLE_OBJECTS[ca.ACL_TABLE[key].object_field]


# --- derived_secret ----------------------------------------------------------------------

def test_derived_secret_is_the_documented_hmac():
    digest = hmac.new(b"cluster key", b"mesos.docker credential:fw", hashlib.sha256).digest()
    expected = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")[:32]
    assert ca.derived_secret("cluster key", "fw") == expected
    assert ca.derived_secret(b"cluster key", "fw") == expected


def test_derived_secret_is_deterministic_and_urlsafe():
    first = ca.derived_secret("k" * 40, "marathon")
    assert first == ca.derived_secret("k" * 40, "marathon")
    assert len(first) == 32
    assert set(first) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_derived_secrets_of_principals_and_keys_are_independent():
    secrets = [ca.derived_secret("key", name) for name in ("fw", "fw2", "ops", "mon", "a1", "a2")]
    assert len(set(secrets)) == len(secrets)
    assert ca.derived_secret("key", "fw") != ca.derived_secret("key2", "fw")
    assert ca.derived_secret("key", "fw") != ca.derived_secret("key\n", "fw")  # byte for byte
    # no common prefix beyond chance
    assert ca.derived_secret("key", "fw")[:4] != ca.derived_secret("key", "fw ")[:4]


@pytest.mark.parametrize("key, principal, message", [
    ("", "fw", "the cluster key is empty"),
    ("  \n", "fw", "the cluster key is empty"),
    ("key", "", "the principal is empty"),
    (None, "fw", "the cluster key must be a string"),
    ("key", None, "the principal must be a string"),
])
def test_derived_secret_refuses_empty_input(key, principal, message):
    with pytest.raises(ValueError, match=message):
        ca.derived_secret(key, principal)


# --- the table ---------------------------------------------------------------------------

def test_table_has_every_key_of_the_acls_message():
    assert len(ca.ACL_TABLE) == 54  # the repeated fields of message ACLs
    assert ca.ACL_TABLE["register_frameworks"].object_field == "roles"
    assert ca.ACL_TABLE["run_tasks"].object_field == "users"
    assert ca.ACL_TABLE["teardown_frameworks"].object_field == "framework_principals"
    assert ca.ACL_TABLE["register_agents"] == ca.AclSpec("agents", ca.OBJECT_ANY_OR_NONE, ("REGISTER_AGENT",))
    assert ca.ACL_TABLE["view_frameworks"].object_field == "users"
    assert ca.ACL_TABLE["get_endpoints"].object_field == "paths"
    assert ca.ACL_TABLE["set_log_level"].object_field == "level"
    assert ca.ACL_TABLE["mark_agents_gone"].object_form == ca.OBJECT_ANY_NEVER_VALUES
    assert "permissive" not in ca.ACL_TABLE
    assert not set(ca.REMOVED_KEYS) & set(ca.ACL_TABLE)


def test_master_checks_name_only_known_acls():
    for what, (keys, effect) in ca.MASTER_CHECKS.items():
        assert effect in (ca.FORBIDS, ca.FILTERS, ca.UNCHECKED), what
        assert bool(keys) == (effect != ca.UNCHECKED), what
        for key in keys:
            assert key in ca.ACL_TABLE, (what, key)


# --- default_acls ------------------------------------------------------------------------

def test_default_policy_passes_its_own_check_and_is_json():
    acls = policy()
    assert ca.acl_errors(acls, KNOWN) == []
    assert ca.acl_errors(json.dumps(acls), KNOWN) == []
    assert list(acls)[0] == "permissive" and acls["permissive"] is False


def test_default_policy_shape():
    acls = policy()
    assert acls["register_frameworks"] == [{"principals": {"values": ["fw"]}, "roles": {"values": ["*"]}}]
    assert acls["run_tasks"] == [{"principals": {"values": ["fw"]}, "users": {"values": ["nobody"]}}]
    assert acls["register_agents"] == [{"principals": {"values": ["a1", "a2"]}, "agents": {"type": "ANY"}}]
    assert acls["teardown_frameworks"] == [
        {"principals": {"values": ["ops"]}, "framework_principals": {"type": "ANY"}}]
    assert acls["get_endpoints"] == [
        {"principals": {"values": ["ops"]}, "paths": {"type": "ANY"}},
        {"principals": {"values": ["mon"]}, "paths": {"values": ["/metrics/snapshot", "/monitor/statistics",
                                                                 "/containers"]}}]
    assert [key for key in acls if key != "permissive"] == [key for key in ca.ACL_TABLE if key in acls]


WRITE_KEYS = ("teardown_frameworks", "update_maintenance_schedules", "start_maintenances", "stop_maintenances",
              "drain_agents", "deactivate_agents", "reactivate_agents", "mark_agents_gone", "update_quotas",
              "update_weights", "reserve_resources", "unreserve_resources", "create_volumes", "destroy_volumes",
              "resize_volumes", "set_log_level", "access_mesos_logs", "access_sandboxes")


@pytest.mark.parametrize("key", WRITE_KEYS)
def test_only_operators_are_in_the_operator_entries(key):
    for entry in policy()[key]:
        assert entry["principals"] == {"values": ["ops"]}, key


def test_operators_may_do_everything_but_be_clients():
    acls = policy()
    for key in ca.ACL_TABLE:
        allowed = authorized(acls, key, "ops", sample_object(key))
        assert allowed == (key not in ca.CLIENT_KEYS), key
    assert authorized(acls, "get_endpoints", "ops", "/logging/toggle")
    assert authorized(acls, "teardown_frameworks", "ops", None)  # a framework without principal


def test_monitoring_reads_but_does_not_write():
    acls = policy()
    for what, (keys, effect) in ca.MASTER_CHECKS.items():
        if effect == ca.FILTERS:
            assert all(authorized(acls, key, "mon", sample_object(key)) for key in keys), what
    for key in ("view_flags", "get_endpoints", "view_frameworks", "view_roles"):
        assert authorized(acls, key, "mon", sample_object(key)), key
    for key in WRITE_KEYS + ca.CLIENT_KEYS:
        assert not authorized(acls, key, "mon", sample_object(key)), key
    for path in ("/logging/toggle", "/files/debug", "/containerizer/debug"):
        assert not authorized(acls, "get_endpoints", "mon", path), path


def test_frameworks_register_in_their_roles_and_run_as_their_users_only():
    acls = policy(frameworks=[{"principal": "fw", "roles": ["web", "batch"], "users": ["nobody", "www"]},
                              {"principal": "root-fw", "users": ["root"]}, "plain"])
    assert authorized(acls, "register_frameworks", "fw", "web")
    assert authorized(acls, "register_frameworks", "fw", "batch")
    assert not authorized(acls, "register_frameworks", "fw", "*")
    assert authorized(acls, "run_tasks", "fw", "www")
    assert not authorized(acls, "run_tasks", "fw", "root")
    assert authorized(acls, "run_tasks", "root-fw", "root")
    assert not authorized(acls, "run_tasks", "root-fw", "nobody")
    assert authorized(acls, "register_frameworks", "plain", "*")
    assert authorized(acls, "run_tasks", "plain", "nobody")
    for entry in acls["run_tasks"]:
        if entry["principals"]["values"] != ["root-fw"]:
            assert "root" not in entry["users"].get("values", []), entry
            assert entry["users"].get("type") != "ANY", entry
    for key in ca.ACL_TABLE:
        if key not in ("register_frameworks", "run_tasks"):
            assert not authorized(acls, key, "fw", sample_object(key)), key


def test_agents_only_register_and_reserve_their_static_roles():
    acls = policy(agents=["a1", {"principal": "a2", "roles": ["web"]}])
    assert authorized(acls, "register_agents", "a1")
    assert authorized(acls, "register_agents", "a2")
    assert authorized(acls, "reserve_resources", "a2", "web")
    assert not authorized(acls, "reserve_resources", "a2", "batch")
    assert not authorized(acls, "reserve_resources", "a1", "web")
    for key in ca.ACL_TABLE:
        if key not in ("register_agents", "reserve_resources"):
            assert not authorized(acls, key, "a2", sample_object(key)), key


def test_unauthenticated_requests_get_nothing():
    acls = policy()
    for key in ca.ACL_TABLE:
        assert not authorized(acls, key, None, sample_object(key)), key


def test_empty_groups_leave_keys_out():
    acls = ca.default_acls(frameworks=["fw"])
    assert set(acls) == {"permissive", "register_frameworks", "run_tasks"}
    assert ca.default_acls() == {"permissive": False}


@pytest.mark.parametrize("kwargs, message", [
    ({"operators": "ops"}, "operators must be a list of names"),
    ({"operators": ["ops", "ops"]}, "lists 'ops' twice"),
    ({"monitoring": [""]}, "monitoring must hold non-empty strings"),
    ({"frameworks": ["fw", {"principal": "fw"}]}, "the framework 'fw' is listed twice"),
    ({"frameworks": [{"principal": "fw", "role": ["*"]}]}, r"unknown field\(s\) role"),
    ({"frameworks": [{"roles": ["*"]}]}, "needs a non-empty principal"),
    ({"frameworks": [{"principal": "fw", "users": []}]}, "at least one role and one user"),
    ({"frameworks": [{"principal": "fw", "users": "root"}]}, "the users of framework 'fw' must be a list"),
    ({"frameworks": [42]}, "a framework must be a principal name or a dict"),
    ({"agents": ["a1", "a1"]}, "the agent 'a1' is listed twice"),
])
def test_default_acls_refuses_malformed_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ca.default_acls(**kwargs)


# --- merge_acls --------------------------------------------------------------------------

DENY_MON_FLAGS = {"view_flags": [{"principals": {"values": ["mon"]}, "flags": {"type": "NONE"}}]}


def test_merge_puts_extra_entries_first_so_they_win():
    base = policy()
    merged = ca.merge_acls(base, DENY_MON_FLAGS)
    assert merged["view_flags"][0] == DENY_MON_FLAGS["view_flags"][0]
    assert merged["view_flags"][1:] == base["view_flags"]
    assert authorized(base, "view_flags", "mon")
    assert not authorized(merged, "view_flags", "mon")
    assert authorized(merged, "view_flags", "ops")


def test_merge_adds_new_keys_overrides_permissive_and_changes_nothing_given():
    base = policy(operators=[])
    before = copy.deepcopy(base)
    extra = {"permissive": True, "access_mesos_logs": [{"principals": {"values": ["mon"]}, "logs": {"type": "ANY"}}]}
    merged = ca.merge_acls(base, json.dumps(extra))
    assert merged["permissive"] is True
    assert merged["access_mesos_logs"] == extra["access_mesos_logs"]
    assert list(merged)[:2] == ["permissive", "register_frameworks"]
    assert list(merged)[-1] == "access_mesos_logs"
    assert base == before
    assert ca.merge_acls(base, None) == base
    assert ca.merge_acls(base, {})["permissive"] is False


def test_merge_drops_repeated_entries():
    base = policy()
    merged = ca.merge_acls(base, {"run_tasks": base["run_tasks"]})
    assert merged["run_tasks"] == base["run_tasks"]


@pytest.mark.parametrize("base, extra, message", [
    ([], {}, "the base ACLs must be a dict"),
    ({}, "{oops", "the extra ACLs is not valid JSON"),
    ({"run_tasks": {}}, {}, "run_tasks must be a list of entries in the base ACLs"),
    ({}, {"run_tasks": "x"}, "run_tasks must be a list of entries in the extra ACLs"),
])
def test_merge_refuses_what_is_not_acls(base, extra, message):
    with pytest.raises(ValueError, match=message):
        ca.merge_acls(base, extra)


# --- acl_errors --------------------------------------------------------------------------

def _entry(principals=None, **obj):
    entry = {"principals": principals if principals is not None else {"values": ["fw"]}}
    entry.update(obj)
    return entry


@pytest.mark.parametrize("acls, expected", [
    ("{not json", "the ACLs are not valid JSON: Expecting property name"),
    ([], "the ACLs must be a dict (the JSON object of Mesos's ACLs message), got list []"),
    ("[1]", "the ACLs must be a dict (the JSON object of Mesos's ACLs message), got list [1]"),
    ({"permissive": "false"}, "permissive must be true or false, got 'false'"),
    ({"register_framework": []},
     "unknown ACL 'register_framework' (Mesos ignores it silently, so its entries would not apply); "
     "did you mean register_frameworks"),
    ({"shutdown_frameworks": []}, "removed in Mesos 1.3.0, use teardown_frameworks"),
    ({"zzz": []}, "unknown ACL 'zzz' (Mesos ignores it silently, so its entries would not apply); "
                  "expected permissive or one of register_frameworks, run_tasks,"),
    ({"run_tasks": {}}, "run_tasks must be a list of entries {principals: ..., users: ...}, got {}"),
    ({"run_tasks": ["fw"]}, "run_tasks[0] must be a dict {principals: ..., users: ...}, got 'fw'"),
    ({"run_tasks": [_entry(users={"type": "ANY"}, user={"type": "ANY"})]},
     "run_tasks[0]: unknown field(s) user (Mesos ignores them); expected principals and users"),
    ({"run_tasks": [_entry()]},
     "run_tasks[0]: users is missing (Mesos refuses to start without it); expected {principals: ..., users: ...}"),
    ({"run_tasks": [{"users": {"type": "ANY"}}]}, "run_tasks[0]: principals is missing"),
    ({"run_tasks": [_entry(users="nobody")]},
     "run_tasks[0].users must be {values: [names]} or {type: ANY} or {type: NONE}, got 'nobody'"),
    ({"run_tasks": [_entry(users={"values": "nobody"})]},
     "run_tasks[0].users must be {values: [names]} or {type: ANY} or {type: NONE}, got {\"values\": \"nobody\"}"),
    ({"run_tasks": [_entry(users={"values": []})]}, "(an entity without values matches nothing)"),
    ({"run_tasks": [_entry(users={})]}, "run_tasks[0].users must be {values: [names]}"),
    ({"run_tasks": [_entry(users={"values": [1]})]}, "run_tasks[0].users: values must be non-empty strings, got [1]"),
    ({"run_tasks": [_entry(users={"type": "any"})]},
     "run_tasks[0].users: type 'any' is not SOME, ANY or NONE (upper case; Mesos silently drops an unknown type"),
    ({"run_tasks": [_entry(users={"type": "ANY", "values": ["root"]})]},
     "run_tasks[0].users: values [\"root\"] are ignored with type ANY"),
    ({"run_tasks": [_entry(users={"value": ["root"]})]},
     "run_tasks[0].users: unknown field(s) value in {\"value\": [\"root\"]} (Mesos ignores them)"),
    ({"register_agents": [_entry(agents={"values": ["a1"]})]},
     "register_agents[0].agents: values [\"a1\"] are refused by Mesos at start-up"),
    ({"view_flags": [_entry(flags={"values": ["x"]})]}, "expected {type: ANY} or {type: NONE}"),
    ({"mark_agents_gone": [_entry(agents={"values": ["a1"]})]},
     "mark_agents_gone[0].agents: values [\"a1\"] never match"),
    ({"get_endpoints": [_entry(paths={"values": ["/state", "/metrics/snapshot"]})]},
     "get_endpoints[0].paths: [\"/state\"] not authorizable endpoint(s), Mesos refuses to start"),
    ({"run_tasks": [_entry({"values": ["fw", "bob", "eve"]}, users={"type": "ANY"})]},
     "run_tasks[0].principals: [\"bob\", \"eve\"] not among the known principals (a1, a2, fw, mon, ops)"),
])
def test_acl_errors(acls, expected):
    errors = ca.acl_errors(acls, KNOWN)
    assert len(errors) == 1, errors
    assert expected in errors[0]


def test_acl_errors_accepts_good_forms():
    acls = {"permissive": True,
            "run_tasks": [_entry(users={"type": "SOME", "values": ["nobody"]}),
                          _entry({"type": "ANY"}, users={"type": "NONE"}),
                          _entry({"type": "NONE"}, users={"type": "ANY"})],
            "get_endpoints": [_entry(paths={"values": list(ca.AUTHORIZABLE_ENDPOINTS)})]}
    assert ca.acl_errors(acls, KNOWN) == []
    assert ca.acl_errors({}) == []


def test_acl_errors_checks_principals_only_when_known_principals_are_given():
    acls = {"run_tasks": [_entry({"values": ["stranger"]}, users={"type": "ANY"})]}
    assert ca.acl_errors(acls) == []
    assert ca.acl_errors(acls, {"fw": "secret"}) == [
        "run_tasks[0].principals: [\"stranger\"] not among the known principals (fw)"]
    assert ca.acl_errors(acls, []) == [
        "run_tasks[0].principals: [\"stranger\"] not among the known principals (none)"]
    with pytest.raises(ValueError, match="known_principals must be a list"):
        ca.acl_errors(acls, "fw")


def test_acl_errors_lists_every_problem():
    acls = {"permissive": 0, "run_task": [], "run_tasks": [{"principals": {"type": "all"}}, 3]}
    assert len(ca.acl_errors(acls)) == 5
