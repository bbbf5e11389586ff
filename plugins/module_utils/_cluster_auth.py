# Private to the mesos.docker collection: no API stability promise.
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Credentials and ACLs of a Mesos cluster that lets nobody in without credentials.

Stdlib only; imported by the ``cluster_auth`` filter plugins.

* :func:`derived_secret`: the secret of a principal, derived from one cluster key, so
  the master's ``--credentials`` file and every client's credential can be rendered
  anywhere the key is known, and always agree.
* :func:`default_acls`: the default ``--acls`` policy (``permissive: false``):
  operators may do everything, monitoring may only read, each framework may register
  only in its roles and run tasks only as its users, agents may only register.
* :func:`merge_acls`: the operator's own entries on top of the default policy.
* :func:`acl_errors`: what is wrong with an ``--acls`` value, including what Mesos
  accepts silently (misspelt keys and fields, lower-case ``any``) and what makes it
  refuse to start.

Where the table comes from
--------------------------
``ACL_TABLE`` is the ``ACLs`` message of ``include/mesos/authorizer/acls.proto`` of the
Mesos 1.12.0 development head (commit c1b42f79d157aa900be5cbb0c1023f1479962aa7), in the
order of the message.  The file is identical in Mesos 1.11.0: 1.11 has every key and
every field (``drain_agents``, ``deactivate_agents``, ``reactivate_agents`` came in 1.9,
``destroy_raw_disks`` in 1.10).  Every entry has a subject ``principals`` and one object
field; both are ``required`` (Mesos refuses to start without them).  Field numbers 4,
9 and 10 are the removed ``shutdown_frameworks``, ``set_quotas`` and ``remove_quotas``
(gone in 1.3, see ``REMOVED_KEYS``).

How Mesos reads ``--acls`` (``src/authorizer/local/authorizer.cpp``, stout's protobuf
parser; unchanged between 1.11.0 and 1.12.0):

* Unknown keys and unknown fields are dropped silently, and so is an unknown entity
  ``type`` (``"any"`` in lower case): that entity becomes ``SOME`` with no values, and
  matches nothing.  A misspelt key therefore silently removes a rule.
* Entries of a key are tried in order; the first entry whose subject *and* object both
  match decides (allowed only if both allow).  When none matches, ``permissive``
  decides (default ``true``).
* An entity ``{"type": "NONE"}`` matches every request and allows none, so
  ``{"principals": {"values": ["x"]}, "users": {"type": "NONE"}}`` denies ``x``.
* A request without a principal (no HTTP authentication on that endpoint, an agent or
  framework that did not authenticate and set no principal) has the subject ``ANY``: it
  matches only entries whose ``principals`` are ``ANY`` or ``NONE``.
* Some actions always ask about ``ANY`` object (``OBJECT_ANY_OR_NONE``): Mesos refuses
  to start when such a key has an entry with ``values`` (``ACL.RegisterAgent type must
  be either NONE or ANY``) -- except ``mark_agents_gone``, which it accepts although
  such an entry can never match (``OBJECT_ANY_NEVER_VALUES``).
* ``get_endpoints`` values must be one of ``AUTHORIZABLE_ENDPOINTS``
  (``src/common/authorization.cpp``), else Mesos refuses to start.

What the master checks (``MASTER_CHECKS``)
------------------------------------------
From ``src/master/http.cpp``, ``readonly_handler.cpp``, ``quota_handler.cpp``,
``weights_handler.cpp``, ``master.cpp``, ``framework.cpp``, ``authorization.cpp`` and
libprocess's authorization callbacks; identical in 1.11.0.  ``FORBIDS``: a denied
principal gets 403 (or the framework/agent is refused); ``FILTERS``: 200, with the
objects it may not see left out (``/state`` of a principal without any ACL is an
almost empty document, not a 403).

What the ACLs cannot close (every principal of ``--credentials`` passes HTTP
authentication, frameworks' and agents' included):

* ``UNCHECKED`` endpoints and calls answer any authenticated principal:
  ``/registrar(1)/registry`` (agents, maintenance schedule, quotas, weights), and the v1
  ``GET_METRICS``, ``GET_MASTER``, ``GET_VERSION``, ``GET_HEALTH``, ``GET_LOGGING_LEVEL``.
* ``POST /maintenance/schedule`` (and ``UPDATE_MAINTENANCE_SCHEDULE``) checks each machine
  of the new schedule, so an empty schedule is checked against nothing: any principal
  may clear a schedule that has no machine ``DOWN``.
* Validation comes first: ``/teardown`` of an unknown framework is a 400, not a 403;
  ``/machine/down`` and ``/machine/up`` check machines only once they are in the schedule.
* ``run_tasks`` checks the user Mesos is asked for; the Docker containerizer does not pass
  it to ``docker run``, so a Docker task runs as its image's user whatever the ACL says.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import collections
import difflib
import hashlib
import hmac
import json

DERIVATION_PREFIX = "mesos.docker credential:"
SECRET_LENGTH = 32

# How an ACL's object entity may be written.
OBJECT_VALUES = "values"  # {values: [...]}, {type: ANY} or {type: NONE}
OBJECT_ANY_OR_NONE = "any_or_none"  # Mesos refuses {values} at start-up
OBJECT_ANY_NEVER_VALUES = "any_never_values"  # Mesos accepts {values}, which can never match
OBJECT_PATHS = "paths"  # {values} limited to AUTHORIZABLE_ENDPOINTS

AclSpec = collections.namedtuple("AclSpec", "object_field object_form actions")

# key of ACLs -> (object field, how the object may be written, authorization::Action(s))
ACL_TABLE = collections.OrderedDict([
    ("register_frameworks", AclSpec("roles", OBJECT_VALUES, ("REGISTER_FRAMEWORK",))),
    ("run_tasks", AclSpec("users", OBJECT_VALUES, ("RUN_TASK",))),
    ("reserve_resources", AclSpec("roles", OBJECT_VALUES, ("RESERVE_RESOURCES",))),
    ("unreserve_resources", AclSpec("reserver_principals", OBJECT_VALUES, ("UNRESERVE_RESOURCES",))),
    ("create_volumes", AclSpec("roles", OBJECT_VALUES, ("CREATE_VOLUME",))),
    ("destroy_volumes", AclSpec("creator_principals", OBJECT_VALUES, ("DESTROY_VOLUME",))),
    ("teardown_frameworks", AclSpec("framework_principals", OBJECT_VALUES, ("TEARDOWN_FRAMEWORK",))),
    ("update_weights", AclSpec("roles", OBJECT_VALUES, ("UPDATE_WEIGHT",))),
    ("get_endpoints", AclSpec("paths", OBJECT_PATHS, ("GET_ENDPOINT_WITH_PATH",))),
    ("get_quotas", AclSpec("roles", OBJECT_VALUES, ("GET_QUOTA",))),
    ("update_quotas", AclSpec("roles", OBJECT_VALUES, ("UPDATE_QUOTA", "UPDATE_QUOTA_WITH_CONFIG"))),
    ("view_frameworks", AclSpec("users", OBJECT_VALUES, ("VIEW_FRAMEWORK",))),
    ("view_tasks", AclSpec("users", OBJECT_VALUES, ("VIEW_TASK",))),
    ("view_executors", AclSpec("users", OBJECT_VALUES, ("VIEW_EXECUTOR",))),
    ("access_sandboxes", AclSpec("users", OBJECT_VALUES, ("ACCESS_SANDBOX",))),
    ("access_mesos_logs", AclSpec("logs", OBJECT_ANY_OR_NONE, ("ACCESS_MESOS_LOG",))),
    ("view_roles", AclSpec("roles", OBJECT_VALUES, ("VIEW_ROLE",))),
    ("view_flags", AclSpec("flags", OBJECT_ANY_OR_NONE, ("VIEW_FLAGS",))),
    ("launch_nested_containers_as_user", AclSpec("users", OBJECT_VALUES, ("LAUNCH_NESTED_CONTAINER",))),
    ("launch_nested_containers_under_parent_with_user",
     AclSpec("users", OBJECT_VALUES, ("LAUNCH_NESTED_CONTAINER",))),
    ("kill_nested_containers", AclSpec("users", OBJECT_VALUES, ("KILL_NESTED_CONTAINER",))),
    ("wait_nested_containers", AclSpec("users", OBJECT_VALUES, ("WAIT_NESTED_CONTAINER",))),
    ("launch_nested_container_sessions_as_user",
     AclSpec("users", OBJECT_VALUES, ("LAUNCH_NESTED_CONTAINER_SESSION",))),
    ("launch_nested_container_sessions_under_parent_with_user",
     AclSpec("users", OBJECT_VALUES, ("LAUNCH_NESTED_CONTAINER_SESSION",))),
    ("attach_containers_input", AclSpec("users", OBJECT_VALUES, ("ATTACH_CONTAINER_INPUT",))),
    ("attach_containers_output", AclSpec("users", OBJECT_VALUES, ("ATTACH_CONTAINER_OUTPUT",))),
    ("view_containers", AclSpec("users", OBJECT_VALUES, ("VIEW_CONTAINER",))),
    ("set_log_level", AclSpec("level", OBJECT_ANY_OR_NONE, ("SET_LOG_LEVEL",))),
    ("remove_nested_containers", AclSpec("users", OBJECT_VALUES, ("REMOVE_NESTED_CONTAINER",))),
    ("register_agents", AclSpec("agents", OBJECT_ANY_OR_NONE, ("REGISTER_AGENT",))),
    ("update_maintenance_schedules", AclSpec("machines", OBJECT_ANY_OR_NONE, ("UPDATE_MAINTENANCE_SCHEDULE",))),
    ("get_maintenance_schedules", AclSpec("machines", OBJECT_ANY_OR_NONE, ("GET_MAINTENANCE_SCHEDULE",))),
    ("start_maintenances", AclSpec("machines", OBJECT_ANY_OR_NONE, ("START_MAINTENANCE",))),
    ("stop_maintenances", AclSpec("machines", OBJECT_ANY_OR_NONE, ("STOP_MAINTENANCE",))),
    ("get_maintenance_statuses", AclSpec("machines", OBJECT_ANY_OR_NONE, ("GET_MAINTENANCE_STATUS",))),
    ("drain_agents", AclSpec("agents", OBJECT_ANY_OR_NONE, ("DRAIN_AGENT",))),
    ("deactivate_agents", AclSpec("agents", OBJECT_ANY_OR_NONE, ("DEACTIVATE_AGENT",))),
    ("reactivate_agents", AclSpec("agents", OBJECT_ANY_OR_NONE, ("REACTIVATE_AGENT",))),
    ("mark_agents_gone", AclSpec("agents", OBJECT_ANY_NEVER_VALUES, ("MARK_AGENT_GONE",))),
    ("launch_standalone_containers", AclSpec("users", OBJECT_ANY_OR_NONE, ("LAUNCH_STANDALONE_CONTAINER",))),
    ("kill_standalone_containers", AclSpec("users", OBJECT_ANY_OR_NONE, ("KILL_STANDALONE_CONTAINER",))),
    ("wait_standalone_containers", AclSpec("users", OBJECT_ANY_OR_NONE, ("WAIT_STANDALONE_CONTAINER",))),
    ("remove_standalone_containers", AclSpec("users", OBJECT_ANY_OR_NONE, ("REMOVE_STANDALONE_CONTAINER",))),
    ("view_standalone_containers", AclSpec("users", OBJECT_ANY_OR_NONE, ("VIEW_STANDALONE_CONTAINER",))),
    ("modify_resource_provider_configs",
     AclSpec("resource_providers", OBJECT_ANY_OR_NONE, ("MODIFY_RESOURCE_PROVIDER_CONFIG",))),
    ("mark_resource_providers_gone", AclSpec("resource_providers", OBJECT_ANY_OR_NONE, ("MARK_RESOURCE_PROVIDER_GONE",))),
    ("view_resource_providers", AclSpec("resource_providers", OBJECT_ANY_OR_NONE, ("VIEW_RESOURCE_PROVIDER",))),
    ("prune_images", AclSpec("images", OBJECT_ANY_OR_NONE, ("PRUNE_IMAGES",))),
    ("resize_volumes", AclSpec("roles", OBJECT_VALUES, ("RESIZE_VOLUME",))),
    ("create_block_disks", AclSpec("roles", OBJECT_VALUES, ("CREATE_BLOCK_DISK",))),
    ("destroy_block_disks", AclSpec("roles", OBJECT_VALUES, ("DESTROY_BLOCK_DISK",))),
    ("create_mount_disks", AclSpec("roles", OBJECT_VALUES, ("CREATE_MOUNT_DISK",))),
    ("destroy_mount_disks", AclSpec("roles", OBJECT_VALUES, ("DESTROY_MOUNT_DISK",))),
    ("destroy_raw_disks", AclSpec("roles", OBJECT_VALUES, ("DESTROY_RAW_DISK",))),
])

# Keys Mesos once had: Mesos now ignores them silently.
REMOVED_KEYS = {
    "shutdown_frameworks": ("1.3.0", "teardown_frameworks"),
    "set_quotas": ("1.3.0", "update_quotas"),
    "remove_quotas": ("1.3.0", "update_quotas"),
}

# GET_ENDPOINT_WITH_PATH paths (agent paths without their /slave(1) prefix).
AUTHORIZABLE_ENDPOINTS = (
    "/containers", "/containerizer/debug", "/files/debug", "/logging/toggle", "/metrics/snapshot",
    "/monitor/statistics")

ENTITY_TYPES = ("SOME", "ANY", "NONE")

# Keys for clients, not operators.
CLIENT_KEYS = ("register_frameworks", "run_tasks", "register_agents")

# The read-only ACLs monitoring gets.  Not access_mesos_logs, access_sandboxes,
# attach_containers_output (logs and task output may hold secrets) nor /files/debug,
# /containerizer/debug (debugging) and /logging/toggle (a GET that changes the log level).
MONITORING_KEYS = (
    "get_endpoints", "get_quotas", "view_frameworks", "view_tasks", "view_executors", "view_roles", "view_flags",
    "view_containers", "get_maintenance_schedules", "get_maintenance_statuses", "view_standalone_containers",
    "view_resource_providers")
MONITORING_ENDPOINTS = ("/metrics/snapshot", "/monitor/statistics", "/containers")

DEFAULT_FRAMEWORK_ROLES = ("*",)
DEFAULT_FRAMEWORK_USERS = ("nobody",)

FORBIDS = "forbids"
FILTERS = "filters"
UNCHECKED = "unchecked"

# What the master (1.11.0 and 1.12.0 alike) checks for an endpoint or call.
MASTER_CHECKS = collections.OrderedDict([
    ("GET /state", (("view_roles", "view_frameworks", "view_tasks", "view_executors", "view_flags"), FILTERS)),
    ("GET /state-summary", (("view_roles", "view_frameworks"), FILTERS)),
    ("GET /slaves", (("view_roles",), FILTERS)),
    ("GET /frameworks", (("view_frameworks", "view_tasks", "view_executors"), FILTERS)),
    ("GET /tasks", (("view_frameworks", "view_tasks"), FILTERS)),
    ("GET /roles", (("view_roles",), FILTERS)),
    ("GET /flags", (("view_flags",), FORBIDS)),
    ("GET /metrics/snapshot", (("get_endpoints",), FORBIDS)),
    ("GET /logging/toggle", (("get_endpoints",), FORBIDS)),
    ("GET /files/debug", (("get_endpoints",), FORBIDS)),
    ("GET /files/read?path=/master/log", (("access_mesos_logs",), FORBIDS)),
    ("GET /maintenance/schedule", (("get_maintenance_schedules",), FILTERS)),
    ("POST /maintenance/schedule", (("update_maintenance_schedules",), FORBIDS)),
    ("GET /maintenance/status", (("get_maintenance_statuses",), FILTERS)),
    ("POST /machine/down", (("start_maintenances",), FORBIDS)),
    ("POST /machine/up", (("stop_maintenances",), FORBIDS)),
    ("GET /quota", (("get_quotas",), FILTERS)),
    ("POST /quota", (("update_quotas",), FORBIDS)),
    ("DELETE /quota", (("update_quotas",), FORBIDS)),
    ("GET /weights", (("view_roles",), FILTERS)),
    ("PUT /weights", (("update_weights",), FORBIDS)),
    ("POST /teardown", (("teardown_frameworks",), FORBIDS)),
    ("POST /reserve", (("reserve_resources",), FORBIDS)),
    ("POST /unreserve", (("unreserve_resources",), FORBIDS)),
    ("POST /create-volumes", (("create_volumes",), FORBIDS)),
    ("POST /destroy-volumes", (("destroy_volumes",), FORBIDS)),
    ("GET /registrar(1)/registry", ((), UNCHECKED)),
    ("GET /health", ((), UNCHECKED)),
    ("GET /version", ((), UNCHECKED)),
    ("GET_HEALTH", ((), UNCHECKED)),
    ("GET_VERSION", ((), UNCHECKED)),
    ("GET_METRICS", ((), UNCHECKED)),
    ("GET_LOGGING_LEVEL", ((), UNCHECKED)),
    ("GET_MASTER", ((), UNCHECKED)),
    ("GET_FLAGS", (("view_flags",), FORBIDS)),
    ("SET_LOGGING_LEVEL", (("set_log_level",), FORBIDS)),
    ("LIST_FILES", (("access_mesos_logs",), FORBIDS)),
    ("READ_FILE", (("access_mesos_logs",), FORBIDS)),
    ("GET_STATE", (("view_roles", "view_frameworks", "view_tasks", "view_executors"), FILTERS)),
    ("GET_AGENTS", (("view_roles",), FILTERS)),
    ("GET_FRAMEWORKS", (("view_frameworks",), FILTERS)),
    ("GET_EXECUTORS", (("view_frameworks", "view_executors"), FILTERS)),
    ("GET_TASKS", (("view_frameworks", "view_tasks"), FILTERS)),
    ("GET_ROLES", (("view_roles",), FILTERS)),
    ("GET_OPERATIONS", (("view_roles",), FILTERS)),
    ("GET_WEIGHTS", (("view_roles",), FILTERS)),
    ("UPDATE_WEIGHTS", (("update_weights",), FORBIDS)),
    ("SUBSCRIBE", (("view_frameworks", "view_tasks", "view_executors", "view_roles"), FILTERS)),
    ("RESERVE_RESOURCES", (("reserve_resources", "unreserve_resources"), FORBIDS)),
    ("UNRESERVE_RESOURCES", (("unreserve_resources",), FORBIDS)),
    ("CREATE_VOLUMES", (("create_volumes",), FORBIDS)),
    ("DESTROY_VOLUMES", (("destroy_volumes",), FORBIDS)),
    ("GROW_VOLUME", (("resize_volumes",), FORBIDS)),
    ("SHRINK_VOLUME", (("resize_volumes",), FORBIDS)),
    ("GET_MAINTENANCE_STATUS", (("get_maintenance_statuses",), FILTERS)),
    ("GET_MAINTENANCE_SCHEDULE", (("get_maintenance_schedules",), FILTERS)),
    ("UPDATE_MAINTENANCE_SCHEDULE", (("update_maintenance_schedules",), FORBIDS)),
    ("START_MAINTENANCE", (("start_maintenances",), FORBIDS)),
    ("STOP_MAINTENANCE", (("stop_maintenances",), FORBIDS)),
    ("DRAIN_AGENT", (("drain_agents", "mark_agents_gone"), FORBIDS)),
    ("DEACTIVATE_AGENT", (("deactivate_agents",), FORBIDS)),
    ("REACTIVATE_AGENT", (("reactivate_agents",), FORBIDS)),
    ("GET_QUOTA", (("get_quotas",), FILTERS)),
    ("UPDATE_QUOTA", (("update_quotas",), FORBIDS)),
    ("SET_QUOTA", (("update_quotas",), FORBIDS)),
    ("REMOVE_QUOTA", (("update_quotas",), FORBIDS)),
    ("TEARDOWN", (("teardown_frameworks",), FORBIDS)),
    ("MARK_AGENT_GONE", (("mark_agents_gone",), FORBIDS)),
    ("scheduler SUBSCRIBE (v1 HTTP, v0 driver register/reregister), UPDATE_FRAMEWORK",
     (("register_frameworks",), FORBIDS)),
    ("scheduler ACCEPT LAUNCH / LAUNCH_GROUP", (("run_tasks",), FORBIDS)),
    ("scheduler ACCEPT RESERVE / UNRESERVE / CREATE / DESTROY / GROW_VOLUME / SHRINK_VOLUME",
     (("reserve_resources", "unreserve_resources", "create_volumes", "destroy_volumes", "resize_volumes"), FORBIDS)),
    ("agent register / reregister", (("register_agents", "reserve_resources"), FORBIDS)),
])


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value


def derived_secret(key, principal):
    """The secret of ``principal``: HMAC-SHA256 of the cluster ``key`` over
    ``mesos.docker credential:<principal>``, urlsafe base64 without padding, 32 characters.

    Deterministic; the secrets of two principals are unrelated.  The key is used byte for
    byte (a trailing newline read from a file makes other secrets).  ValueError for an
    empty (or blank) key or an empty principal.
    """
    if not isinstance(key, (str, bytes)):
        raise ValueError("derived_secret: the cluster key must be a string, got %s" % type(key).__name__)
    if not isinstance(principal, (str, bytes)):
        raise ValueError("derived_secret: the principal must be a string, got %s" % type(principal).__name__)
    key_bytes = key if isinstance(key, bytes) else key.encode("utf-8")
    if not key_bytes.strip():
        raise ValueError("derived_secret: the cluster key is empty; give the cluster's secret key")
    principal = _text(principal)
    if not principal:
        raise ValueError("derived_secret: the principal is empty; give the name the secret is for")
    digest = hmac.new(key_bytes, (DERIVATION_PREFIX + principal).encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")[:SECRET_LENGTH]


def _values(names):
    return {"values": list(names)}


def _any():
    return {"type": "ANY"}


def _entry(key, principals, obj):
    return {"principals": _values(principals), ACL_TABLE[key].object_field: obj}


def _names(value, what):
    """A list of principal names (or roles, users): non-empty strings, each once."""
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValueError("%s must be a list of names, got %r" % (what, value))
    names = []
    for name in value:
        if not isinstance(name, str) or not name:
            raise ValueError("%s must hold non-empty strings, got %r" % (what, name))
        if name in names:
            raise ValueError("%s lists %r twice" % (what, name))
        names.append(name)
    return names


def _client(item, what, fields):
    """A framework or agent: a principal name or a dict ``{principal, <fields>...}``."""
    if isinstance(item, str):
        item = {"principal": item}
    if not isinstance(item, dict):
        raise ValueError("%s must be a principal name or a dict {principal, %s}, got %r"
                         % (what, ", ".join(fields), item))
    unknown = sorted(set(item) - set(("principal",) + tuple(fields)))
    if unknown:
        raise ValueError("%s %r: unknown field(s) %s (expected principal, %s)"
                         % (what, item.get("principal"), ", ".join(unknown), ", ".join(fields)))
    principal = item.get("principal")
    if not isinstance(principal, str) or not principal:
        raise ValueError("%s needs a non-empty principal, got %r" % (what, item))
    return principal, item


def default_acls(operators=None, monitoring=None, frameworks=None, agents=None):
    """The default ``--acls`` policy as a dict (dump it to JSON), ``permissive: false``.

    ``operators``, ``monitoring``: lists of principals.  ``frameworks``: principals or
    dicts ``{principal, roles: ['*'], users: ['nobody']}``.  ``agents``: principals or dicts
    ``{principal, roles: []}``, ``roles`` being the roles the agent reserves resources for
    statically (``--resources`` with ``cpus(role):..``, ``--default_role``): Mesos then
    also checks ``reserve_resources`` for the agent's principal when it registers.

    * operators: every key but ``register_frameworks``, ``run_tasks`` and
      ``register_agents``, on ANY object (all of ``get_endpoints`` included);
    * monitoring: ``MONITORING_KEYS`` on ANY object, ``get_endpoints`` only for
      ``MONITORING_ENDPOINTS``;
    * each framework: ``register_frameworks`` in its roles, ``run_tasks`` as its users
      (``root`` only when listed);
    * agents: ``register_agents``, plus ``reserve_resources`` for their static roles.

    Everything else is denied (nothing matches, and ``permissive`` is false).  Keys come
    in ``ACL_TABLE`` order; keys nobody gets are left out.  ValueError on a malformed
    argument or a framework or agent listed twice.
    """
    operators = _names(operators, "operators")
    monitoring = _names(monitoring, "monitoring")
    specs = []
    seen = set()
    for item in frameworks or []:
        principal, spec = _client(item, "a framework", ("roles", "users"))
        if principal in seen:
            raise ValueError("the framework %r is listed twice" % principal)
        seen.add(principal)
        roles = _names(spec.get("roles", list(DEFAULT_FRAMEWORK_ROLES)), "the roles of framework %r" % principal)
        users = _names(spec.get("users", list(DEFAULT_FRAMEWORK_USERS)), "the users of framework %r" % principal)
        if not roles or not users:
            raise ValueError("framework %r needs at least one role and one user" % principal)
        specs.append((principal, roles, users))
    agent_names = []
    agent_roles = []
    for item in agents or []:
        principal, spec = _client(item, "an agent", ("roles",))
        if principal in agent_names:
            raise ValueError("the agent %r is listed twice" % principal)
        agent_names.append(principal)
        roles = _names(spec.get("roles"), "the roles of agent %r" % principal)
        if roles:
            agent_roles.append((principal, roles))

    entries = collections.OrderedDict((key, []) for key in ACL_TABLE)
    for key in ACL_TABLE:
        if operators and key not in CLIENT_KEYS:
            entries[key].append(_entry(key, operators, _any()))
        if monitoring and key in MONITORING_KEYS:
            obj = _values(MONITORING_ENDPOINTS) if key == "get_endpoints" else _any()
            entries[key].append(_entry(key, monitoring, obj))
    for principal, roles, users in specs:
        entries["register_frameworks"].append(_entry("register_frameworks", [principal], _values(roles)))
        entries["run_tasks"].append(_entry("run_tasks", [principal], _values(users)))
    if agent_names:
        entries["register_agents"].append(_entry("register_agents", agent_names, _any()))
    for principal, roles in agent_roles:
        entries["reserve_resources"].append(_entry("reserve_resources", [principal], _values(roles)))

    acls = {"permissive": False}
    for key, key_entries in entries.items():
        if key_entries:
            acls[key] = key_entries
    return acls


def _load(acls, what):
    if isinstance(acls, (str, bytes)):
        try:
            acls = json.loads(_text(acls))
        except ValueError as error:
            raise ValueError("%s is not valid JSON: %s" % (what, error))
    if not isinstance(acls, dict):
        raise ValueError("%s must be a dict (the JSON object of Mesos's ACLs message), got %s"
                         % (what, type(acls).__name__))
    return acls


def merge_acls(base, extra):
    """``base`` (the default policy) with the operator's ``extra`` ACLs on top.

    Each key's ``extra`` entries come *before* ``base``'s: Mesos takes the first
    matching entry, so an operator's entry wins (a deny ``{"type": "NONE"}`` included).
    ``permissive`` of ``extra`` replaces ``base``'s when given.  An entry equal to an
    earlier one of the same key is dropped (it could never decide).  Both may be dicts
    or JSON strings; neither is changed.  ValueError when one is not an object or a
    key's value is not a list (see :func:`acl_errors` for the rest).
    """
    base = _load(base, "merge_acls: the base ACLs")
    extra = _load({} if extra is None else extra, "merge_acls: the extra ACLs")
    merged = {}
    if "permissive" in extra:
        merged["permissive"] = extra["permissive"]
    elif "permissive" in base:
        merged["permissive"] = base["permissive"]
    keys = [key for key in base if key != "permissive"]
    keys += [key for key in extra if key != "permissive" and key not in base]
    for key in keys:
        entries = []
        for source, name in ((extra, "extra"), (base, "base")):
            value = source.get(key, [])
            if not isinstance(value, list):
                raise ValueError("merge_acls: %s must be a list of entries in the %s ACLs, got %r" % (key, name, value))
            for entry in value:
                if entry not in entries:
                    entries.append(entry)
        merged[key] = entries
    return merged


def _describe(value):
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else repr(value)


def _entity_errors(where, entity):
    """Errors of one Entity; (errors, values) with the values when it is a {values} entity."""
    expected = "{values: [names]} or {type: ANY} or {type: NONE}"
    if not isinstance(entity, dict):
        return ["%s must be %s, got %s" % (where, expected, _describe(entity))], None
    unknown = sorted(set(entity) - set(("type", "values")))
    if unknown:
        return ["%s: unknown field(s) %s in %s (Mesos ignores them); expected %s"
                % (where, ", ".join(unknown), _describe(entity), expected)], None
    kind = entity.get("type", "SOME")
    if kind not in ENTITY_TYPES:
        return ["%s: type %s is not SOME, ANY or NONE (upper case; Mesos silently drops an unknown type, and the "
                "entity then matches nothing); expected %s" % (where, _describe(kind), expected)], None
    if kind != "SOME":
        if "values" in entity:
            return ["%s: values %s are ignored with type %s; expected {type: %s} alone or {values: [names]}"
                    % (where, _describe(entity["values"]), kind, kind)], None
        return [], None
    values = entity.get("values")
    if not isinstance(values, list) or not values:
        return ["%s must be %s, got %s (an entity without values matches nothing)"
                % (where, expected, _describe(entity))], None
    bad = [value for value in values if not isinstance(value, str) or not value]
    if bad:
        return ["%s: values must be non-empty strings, got %s" % (where, _describe(bad))], None
    return [], values


def _object_errors(key, where, values):
    form = ACL_TABLE[key].object_form
    if values is None or form == OBJECT_VALUES:
        return []
    if form == OBJECT_ANY_OR_NONE:
        return ["%s: values %s are refused by Mesos at start-up (the object of %s is implicit); "
                "expected {type: ANY} or {type: NONE}" % (where, _describe(values), key)]
    if form == OBJECT_ANY_NEVER_VALUES:
        return ["%s: values %s never match (Mesos asks %s about ANY agent); expected {type: ANY} or {type: NONE}"
                % (where, _describe(values), key)]
    unknown = [path for path in values if path not in AUTHORIZABLE_ENDPOINTS]
    if unknown:
        return ["%s: %s not authorizable endpoint(s), Mesos refuses to start; expected any of %s "
                "(other endpoints are governed by the view_* and other ACLs)"
                % (where, _describe(unknown), ", ".join(AUTHORIZABLE_ENDPOINTS))]
    return []


def _unknown_key_error(key):
    message = "unknown ACL %s (Mesos ignores it silently, so its entries would not apply)" % _describe(key)
    if key in REMOVED_KEYS:
        removed, replacement = REMOVED_KEYS[key]
        return "%s; removed in Mesos %s, use %s" % (message, removed, replacement)
    close = difflib.get_close_matches(str(key), list(ACL_TABLE) + ["permissive"], n=3, cutoff=0.6)
    if close:
        return "%s; did you mean %s?" % (message, " or ".join(close))
    return "%s; expected permissive or one of %s" % (message, ", ".join(ACL_TABLE))


def _principal_set(known_principals):
    if known_principals is None:
        return None
    if isinstance(known_principals, (str, bytes)):
        raise ValueError("acl_errors: known_principals must be a list of principals, got the string %r"
                         % (known_principals,))
    return set(known_principals)


def acl_errors(acls, known_principals=None):
    """What is wrong with ``acls`` (a dict or a JSON string), one message each; [] when fine.

    Also what Mesos itself accepts silently (unknown keys and fields, unknown entity
    types) or refuses at start-up (missing fields, ``values`` where only ANY/NONE go,
    paths that are not authorizable).  With ``known_principals`` (the principals of the
    master's ``--credentials``), ``principals.values`` naming anybody else are errors.
    """
    known = _principal_set(known_principals)
    if isinstance(acls, (str, bytes)):
        try:
            acls = json.loads(_text(acls))
        except ValueError as error:
            return ["the ACLs are not valid JSON: %s; expected a JSON object such as "
                    "{\"permissive\": false, \"run_tasks\": [...]}" % error]
    if not isinstance(acls, dict):
        return ["the ACLs must be a dict (the JSON object of Mesos's ACLs message), got %s %s"
                % (type(acls).__name__, _describe(acls))]
    errors = []
    for key, value in acls.items():
        if key == "permissive":
            if not isinstance(value, bool):
                errors.append("permissive must be true or false, got %s" % _describe(value))
            continue
        if key not in ACL_TABLE:
            errors.append(_unknown_key_error(key))
            continue
        object_field = ACL_TABLE[key].object_field
        form = "{principals: ..., %s: ...}" % object_field
        if not isinstance(value, list):
            errors.append("%s must be a list of entries %s, got %s" % (key, form, _describe(value)))
            continue
        for index, entry in enumerate(value):
            where = "%s[%d]" % (key, index)
            if not isinstance(entry, dict):
                errors.append("%s must be a dict %s, got %s" % (where, form, _describe(entry)))
                continue
            unknown = sorted(set(entry) - set(("principals", object_field)))
            if unknown:
                errors.append("%s: unknown field(s) %s (Mesos ignores them); expected principals and %s"
                              % (where, ", ".join(unknown), object_field))
            for field in ("principals", object_field):
                if field not in entry:
                    errors.append("%s: %s is missing (Mesos refuses to start without it); expected %s"
                                  % (where, field, form))
                    continue
                field_errors, values = _entity_errors("%s.%s" % (where, field), entry[field])
                errors.extend(field_errors)
                if field == object_field:
                    errors.extend(_object_errors(key, "%s.%s" % (where, field), values))
                elif values is not None and known is not None:
                    strangers = [name for name in values if name not in known]
                    if strangers:
                        errors.append("%s.principals: %s not among the known principals (%s)"
                                      % (where, _describe(strangers), ", ".join(sorted(known)) or "none"))
    return errors
