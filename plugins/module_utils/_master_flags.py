# Private to the mesos.docker collection: no API stability promise.
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The Apache Mesos master's flags, checked with the agent's loader (``_agent_flags.py``).

Where the table comes from
--------------------------
Derived the same way as the agent's table, from the apache/mesos git history (tags
``0.20.0`` ... ``1.11.0`` and the ``1.12.0`` development head, commit
c1b42f79d157aa900be5cbb0c1023f1479962aa7): every ``add(&Flags::field, "name",
[DeprecatedName("old"),] help[, default][, validator])`` in ``src/master/flags.cpp``
(``src/master/flags.hpp`` before 1.0), ``src/logging/flags.cpp`` (``.hpp`` before 1.0),
the flags ``src/master/main.cpp`` added itself before 1.5 (``ip``, ``port``, ``zk``,
``advertise_ip``, ``advertise_port``, ``ip_discovery_command``; ``help`` up to 0.22),
plus stout's ``help``.  Types from the field declarations, defaults from the literal or
the constant (``src/master/constants.hpp``, ``src/common/http.hpp``,
``include/mesos/allocator/allocator.hpp``) printed the way stout stringifies them.  The
build is a Linux one with every optional feature enabled: ``max_executors_per_agent``
exists only in builds configured ``--with-network-isolator`` (``CONDITIONAL_FLAGS``).
``webui_dir`` depends on the install prefix; the table has the autotools default
``/usr/local`` (a package built ``--prefix=/opt/mesos`` prints
``/opt/mesos/share/mesos/webui``, see ``PREFIX_DEPENDENT_DEFAULTS``).

Versions, the meaning of ``(type, default, first_version, last_version)``, the types and
how values load are those of ``_agent_flags.py``.  The 1.0 renames (``slave`` ->
``agent``, ``authenticate`` -> ``authenticate_frameworks``, ...) and 1.7's
``user_sorter`` -> ``role_sorter`` left the old name as an alias (``FLAG_ALIASES``):
the old name is a flag of its own up to the release before.

Required flags
--------------
No master flag is required by stout: ``work_dir`` has been an ``Option`` without default
in every release.  ``src/master/main.cpp`` checks after loading, and exits with a
message, among others: ``--work_dir`` is needed unless ``--registry=in_memory`` (the
default registry is ``replicated_log``); ``--quorum`` is needed with ``--zk`` and a
replicated log; ``--registry`` must be ``in_memory`` or ``replicated_log``.
:func:`startup_errors` mirrors those that need nothing but the flags.  An empty
``--work_dir=`` is not one of them: Mesos accepts it and keeps the replicated log in
``/replicated_log`` (``path::join("", ...)``), so callers must refuse it themselves.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mesos.docker.plugins.module_utils import _agent_flags as loader

MASTER_FLAGS = {
    "acls": ("json", None, "0.20.0", None),
    "advertise_ip": ("string", None, "0.24.0", None),
    "advertise_port": ("string", None, "0.24.0", None),
    "agent_ping_timeout": ("duration", "15secs", "1.0.0", None),
    "agent_removal_rate_limit": ("string", None, "1.0.0", None),
    "agent_reregister_timeout": ("duration", "10mins", "1.0.0", None),
    "allocation_interval": ("duration", "1secs", "0.20.0", None),
    "allocator": ("string", "hierarchical", "0.23.0", None),
    "allocator_agent_recovery_factor": ("double", "0.8", "1.11.0", None),
    "allocator_recovery_timeout": ("duration", "10mins", "1.11.0", None),
    "authenticate": ("bool", "false", "0.20.0", "0.28.0"),
    "authenticate_agents": ("bool", "false", "1.0.0", None),
    "authenticate_frameworks": ("bool", "false", "1.0.0", None),
    "authenticate_http": ("bool", "false", "0.27.0", "0.28.0"),
    "authenticate_http_frameworks": ("bool", "false", "1.0.0", None),
    "authenticate_http_readonly": ("bool", "false", "1.0.0", None),
    "authenticate_http_readwrite": ("bool", "false", "1.0.0", None),
    "authenticate_slaves": ("bool", "false", "0.20.0", "0.28.0"),
    "authentication_v0_timeout": ("duration", "15secs", "1.7.0", None),
    "authenticators": ("string", "crammd5", "0.21.0", None),
    "authorizers": ("string", "local", "0.24.0", None),
    "cluster": ("string", None, "0.20.0", None),
    "credentials": ("path", None, "0.20.0", None),
    "domain": ("json", None, "1.4.0", None),
    "external_log_file": ("string", None, "0.22.0", None),
    "fair_sharing_excluded_resource_names": ("string_set", None, "1.0.0", None),
    "filter_gpu_resources": ("bool", "true", "1.4.0", None),
    "firewall_rules": ("json", None, "0.23.0", None),
    "framework_sorter": ("string", "drf", "0.20.0", None),
    "help": ("bool", "false", "0.20.0", None),
    "hooks": ("string", None, "0.22.0", None),
    "hostname": ("string", None, "0.20.0", None),
    "hostname_lookup": ("bool", "true", "0.25.0", None),
    "http_authenticators": ("string", "basic", "0.27.0", None),
    "http_framework_authenticators": ("string", None, "1.0.0", None),
    "initialize_driver_logging": ("bool", "true", "0.20.0", None),
    "ip": ("string", None, "0.20.0", None),
    "ip_discovery_command": ("string", None, "0.24.0", None),
    "log_auto_initialize": ("bool", "true", "0.20.0", None),
    "log_dir": ("string", None, "0.20.0", None),
    "logbufsecs": ("int", "0", "0.20.0", None),
    "logging_level": ("string", "INFO", "0.20.0", None),
    "master_contender": ("string", None, "1.0.0", None),
    "master_detector": ("string", None, "1.0.0", None),
    "max_agent_ping_timeouts": ("uint", "5", "1.0.0", None),
    "max_completed_frameworks": ("uint", "50", "0.27.0", None),
    "max_completed_tasks_per_framework": ("uint", "1000", "0.27.0", None),
    "max_executors_per_agent": ("uint", None, "1.0.0", None),
    "max_executors_per_slave": ("uint", None, "0.20.0", "0.28.0"),
    "max_operator_event_stream_subscribers": ("uint", "1000", "1.8.0", None),
    "max_slave_ping_timeouts": ("uint", "5", "0.23.0", "0.28.0"),
    "max_unreachable_tasks_per_framework": ("uint", "1000", "1.2.0", None),
    "memory_profiling": ("bool", "false", "1.6.0", None),
    "min_allocatable_resources": ("string", "cpus:0.01|mem:32", "1.7.0", None),
    "modules": ("json", None, "0.21.0", None),
    "modules_dir": ("string", None, "1.0.0", None),
    "offer_constraints_re2_max_mem": ("bytes", "4KB", "1.11.0", None),
    "offer_constraints_re2_max_program_size": ("int", "100", "1.11.0", None),
    "offer_timeout": ("duration", None, "0.21.0", None),
    "port": ("uint16", "5050", "0.20.0", None),
    "publish_per_framework_metrics": ("bool", "true", "1.8.0", None),
    "quiet": ("bool", "false", "0.20.0", None),
    "quorum": ("int", None, "0.20.0", None),
    "rate_limits": ("json", None, "0.20.0", None),
    "recovery_agent_removal_limit": ("string", "100%", "1.0.0", None),
    "recovery_slave_removal_limit": ("string", "100%", "0.20.0", "0.28.0"),
    "registry": ("string", "replicated_log", "0.20.0", None),
    "registry_fetch_timeout": ("duration", "1mins", "0.20.0", None),
    "registry_gc_interval": ("duration", "15mins", "1.1.0", None),
    "registry_max_agent_age": ("duration", "2weeks", "1.1.0", None),
    "registry_max_agent_count": ("uint", "102400", "1.1.0", None),
    "registry_store_timeout": ("duration", "20secs", "0.20.0", None),
    "registry_strict": ("bool", "false", "0.20.0", None),
    "require_agent_domain": ("bool", "false", "1.5.0", None),
    "role_sorter": ("string", "drf", "1.7.0", None),
    "roles": ("string", None, "0.20.0", None),
    "root_submissions": ("bool", "true", "0.20.0", None),
    "slave_ping_timeout": ("duration", "15secs", "0.23.0", "0.28.0"),
    "slave_removal_rate_limit": ("string", None, "0.22.0", "0.28.0"),
    "slave_reregister_timeout": ("duration", "10mins", "0.20.0", "0.28.0"),
    "user_sorter": ("string", "drf", "0.20.0", "1.6.0"),
    "version": ("bool", "false", "0.20.0", None),
    "webui_dir": ("string", "/usr/local/share/mesos/webui", "0.20.0", None),
    "weights": ("string", None, "0.20.0", None),
    "whitelist": ("path", None, "0.20.0", None),
    "work_dir": ("string", None, "0.20.0", None),
    "zk": ("secure_string", None, "0.20.0", None),
    "zk_session_timeout": ("duration", "10secs", "0.20.0", None),
}

# Defaults that changed: name -> ((version_it_changed_in, default_before_that), ...).
EARLIER_DEFAULTS = {
    "allocator": (("1.7.0", "HierarchicalDRF"),),
    "registry_store_timeout": (("0.28.0", "5secs"),),
    "whitelist": (("0.22.0", "*"),),
}

# Types that changed: name -> ((version_it_changed_in, type_before_that), ...).
EARLIER_TYPES = {
    "credentials": (("0.22.0", "string"),),
    "whitelist": (("0.22.0", "string"),),
    "zk": (("1.5.0", "string"),),
}

# Deprecated names still accepted: alias -> (flag, first version where it is an alias).
FLAG_ALIASES = {
    "authenticate": ("authenticate_frameworks", "1.0.0"),
    "authenticate_http": ("authenticate_http_readwrite", "1.0.0"),
    "authenticate_slaves": ("authenticate_agents", "1.0.0"),
    "max_executors_per_slave": ("max_executors_per_agent", "1.0.0"),
    "max_slave_ping_timeouts": ("max_agent_ping_timeouts", "1.0.0"),
    "recovery_slave_removal_limit": ("recovery_agent_removal_limit", "1.0.0"),
    "slave_ping_timeout": ("agent_ping_timeout", "1.0.0"),
    "slave_removal_rate_limit": ("agent_removal_rate_limit", "1.0.0"),
    "slave_reregister_timeout": ("agent_reregister_timeout", "1.0.0"),
    "user_sorter": ("role_sorter", "1.7.0"),
}

# Flags only some builds have: name -> the configure option that adds them.
CONDITIONAL_FLAGS = {
    "max_executors_per_agent": "--with-network-isolator",
    "max_executors_per_slave": "--with-network-isolator",
}

# Defaults under the install prefix (the table has the autotools default, DEFAULT_PREFIX).
PREFIX_DEPENDENT_DEFAULTS = ("webui_dir",)
DEFAULT_PREFIX = "/usr/local"

_PING_TIMEOUT_MIN_NS = 10 ** 9
_PING_TIMEOUT_MAX_NS = 15 * 60 * 10 ** 9


def _ping_timeout_in_range(flag):
    def check(nanoseconds):
        if not _PING_TIMEOUT_MIN_NS <= nanoseconds <= _PING_TIMEOUT_MAX_NS:
            return "Expected `--%s` to be between %s and %s" % (
                flag, loader.format_duration(_PING_TIMEOUT_MIN_NS), loader.format_duration(_PING_TIMEOUT_MAX_NS))
        return None
    return check


def _at_least_one(flag):
    def check(count):
        return "Expected `--%s` to be at least 1" % flag if count < 1 else None
    return check


def _refuse_registry_strict(enabled):
    if enabled:
        return ("Support for '--registry_strict' has been disabled and will be removed "
                "in a future version of Mesos")
    return None


def _domain_has_fault_domain(domain):
    return None if "fault_domain" in domain else "`domain` must define `fault_domain`"


# The validator lambdas of src/master/flags.cpp (1.x wording): name -> (since, check).
VALIDATORS = {
    "agent_ping_timeout": ("1.0.0", _ping_timeout_in_range("agent_ping_timeout")),
    "slave_ping_timeout": ("0.23.0", _ping_timeout_in_range("slave_ping_timeout")),
    "max_agent_ping_timeouts": ("1.0.0", _at_least_one("max_agent_ping_timeouts")),
    "max_slave_ping_timeouts": ("0.23.0", _at_least_one("max_slave_ping_timeouts")),
    "registry_strict": ("1.0.0", _refuse_registry_strict),
    "domain": ("1.4.0", _domain_has_fault_domain),
}

MASTER_TABLE = loader.FlagTable(MASTER_FLAGS, EARLIER_DEFAULTS, EARLIER_TYPES, {}, FLAG_ALIASES, VALIDATORS)

REGISTRIES = ("in_memory", "replicated_log", "log_storage")
FIRST_CONTENDER_FLAGS_VERSION = "1.0.0"


def flags_for_version(version):
    """All master flags of Mesos ``version``: name -> ``FlagSpec(type, default, required)``."""
    return loader.flags_for_version(version, MASTER_TABLE)


def aliases_for_version(version):
    """Deprecated master flag names accepted by Mesos ``version``: alias -> flag."""
    return loader.aliases_for_version(version, MASTER_TABLE)


def _given(flags, version):
    """Flags as given -> {flag: rendered value} under their current names (``no-x`` -> false)."""
    given = {}
    for name, value in (flags or {}).items():
        resolved = loader.resolve_flag_name(name, version, MASTER_TABLE)
        if resolved is None:
            continue
        flag, negated = resolved
        given[flag] = "false" if negated else loader.render_value(True if value is None else value)
    return given


def startup_errors(flags, version):
    """The errors ``src/master/main.cpp`` of ``version`` exits with after loading these
    flags, for the checks that need nothing but the flags (Mesos stops at the first)."""
    given = _given(flags, version)
    errors = []
    if "ip" in given and "ip_discovery_command" in given:
        errors.append("Only one of `--ip` or `--ip_discovery_command` should be specified")
    contender_flags = loader.version_tuple(version) >= loader.version_tuple(FIRST_CONTENDER_FLAGS_VERSION)
    if contender_flags and "zk" not in given and ("master_contender" in given) != ("master_detector" in given):
        errors.append("Both --master_contender and --master_detector should be specified or omitted.")
    if contender_flags and "zk" in given and ("master_contender" in given or "master_detector" in given):
        errors.append("Only one of --zk or the --master_contender/--master_detector pair should be specified.")
    if contender_flags and "modules" in given and "modules_dir" in given:
        errors.append("Only one of --modules or --modules_dir should be specified")
    registry = given.get("registry", MASTER_FLAGS["registry"][1])
    if registry not in REGISTRIES:
        errors.append("'%s' is not a supported option for registry persistence" % registry)
    elif registry != "in_memory":
        if "work_dir" not in given:
            errors.append("--work_dir needed for replicated log based registry")
        if "zk" in given and "quorum" not in given:
            errors.append("Need to specify --quorum for replicated log based registry when using ZooKeeper")
    return errors


def validate_flags(flags, version, read_files=False):
    """Every error the master of ``version`` would give for these flags: loading
    (unknown names, bad values, validators) first, then :func:`startup_errors` when
    all of them loaded (as Mesos, which exits at the first load error)."""
    errors = loader.validate_flags(flags, version, read_files=read_files, table=MASTER_TABLE)
    return errors or startup_errors(flags, version)
