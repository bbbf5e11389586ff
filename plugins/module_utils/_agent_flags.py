# Private to the mesos.docker collection: no API stability promise.
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The Apache Mesos agent's flags, and how Mesos loads, checks and prints them.

Stdlib only: this file is shipped to managed hosts, imported by filter plugins and by
the test stand-in ``tests/standin/mesos-agent``.  Its loader (everything taking a
``table`` argument, the agent's ``AGENT_TABLE`` by default) also serves the master's
flags in ``_master_flags.py``: both programs load flags with the same stout code.

Where the table comes from
--------------------------
Derived from the apache/mesos git history (tags ``0.20.0`` ... ``1.11.0`` and the
``1.12.0`` development head, commit c1b42f79d157aa900be5cbb0c1023f1479962aa7): every
``add(&Flags::field, "name", help[, default][, validator])`` in ``src/slave/flags.cpp``
(``src/slave/flags.hpp`` before 0.22), ``src/logging/flags.cpp`` and the flags that
``src/slave/main.cpp`` adds itself (``ip``, ``port``, ``master``, ... before 1.3), plus
stout's ``help``.  Types come from the field declarations in the headers, defaults from
the literal or the constant in ``src/slave/constants.hpp``, printed the way stout
stringifies them (``Hours(6)`` -> ``6hrs``, ``Seconds(60)`` -> ``1mins``).  The build is a
Linux one with every optional isolator enabled (``#ifdef __linux__``/``ENABLE_*`` branches
taken, ``__WINDOWS__`` ones not; ``CONDITIONAL_FLAGS`` names the configure option
behind each optional flag).  Defaults that depend on the host are the values for
root on Linux with the autotools prefix ``/usr/local``: ``launcher`` ``linux``,
``runtime_dir`` ``/var/run/mesos``, ``launcher_dir`` ``/usr/local/libexec/mesos``.

Versions are tracked per minor release (``x.y.0``); patch releases are assumed to
have the flags of their minor release.  APPROXIMATION: releases before 0.20 are treated
as 0.20 (the oldest one derived), and releases after 1.12 as 1.12.

``AGENT_FLAGS`` maps a flag name to ``(type, default, first_version, last_version)``:
``default`` is what ``/flags`` prints when the flag is not given (``None``: the flag has
no value and ``/flags`` leaves it out), ``last_version`` is ``None`` when the flag still
exists.  The value is the one of the newest release having the flag; older defaults and
types are in ``EARLIER_DEFAULTS`` / ``EARLIER_TYPES``.

Types, each loaded the way stout's ``flags::fetch``/``flags::parse`` loads it:

``bool``
    ``true``/``1`` or ``false``/``0``; ``--name`` alone means true, ``--no-name`` false.
``int``, ``uint``, ``uint16``, ``double``
    numbers read with ``std::istringstream``.
``duration``
    ``<number><unit>``, unit one of ns us ms secs mins hrs days weeks.
``bytes``
    ``<integer><unit>``, unit one of B KB MB GB TB (any case).
``string``
    any text.
``json``
    a JSON object (``JSON::Object`` or a protobuf message such as ``ACLs``, ``Modules``).
``uint_list``
    comma-separated unsigned integers (``nvidia_gpu_devices``).
``string_set``
    comma-separated names, no duplicates; ``/flags`` prints ``{ a, b }`` (the master's
    ``fair_sharing_excluded_resource_names``).
``path``
    a path, never read while loading (``http_credentials``, ``credential``); stout's
    ``Path`` drops a leading ``file://``, so ``/flags`` shows the bare path.
``secure_string``
    text; from ``file://`` the content is used but ``/flags`` shows the path (``master``).

For every type except ``path`` a value ``file:///some/file`` means "the content of that
file" (stout's ``fetch``), so ``--resources=file://...``, ``--docker_config=file://...``,
``--acls=file://...`` all work, and ``/flags`` prints the content, not the path.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import json
import re

AGENT_FLAGS = {
    "acls": ("json", None, "1.0.0", None),
    "advertise_ip": ("string", None, "0.27.0", None),
    "advertise_port": ("string", None, "0.27.0", None),
    "agent_features": ("json", None, "1.5.0", None),
    "agent_subsystems": ("string", None, "1.0.0", None),
    "allowed_capabilities": ("json", None, "1.1.0", "1.3.0"),
    "allowed_devices": ("json", None, "1.3.0", None),
    "appc_simple_discovery_uri_prefix": ("string", "http://", "0.28.0", None),
    "appc_store_dir": ("string", "/tmp/mesos/store/appc", "0.24.0", None),
    "attributes": ("string", None, "0.20.0", None),
    "authenticate_http_executors": ("bool", "false", "1.3.0", None),
    "authenticate_http_readonly": ("bool", "false", "1.0.0", None),
    "authenticate_http_readwrite": ("bool", "false", "1.0.0", None),
    "authenticatee": ("string", "crammd5", "0.22.0", None),
    "authentication_backoff_factor": ("duration", "1secs", "1.0.0", None),
    "authentication_timeout_max": ("duration", "1mins", "1.7.0", None),
    "authentication_timeout_min": ("duration", "5secs", "1.7.0", None),
    "authorizer": ("string", "local", "1.0.0", None),
    "bounding_capabilities": ("json", None, "1.4.0", None),
    "cgroups_cpu_enable_pids_and_tids_count": ("bool", "false", "0.23.0", None),
    "cgroups_destroy_timeout": ("duration", "1mins", "1.7.0", None),
    "cgroups_enable_cfs": ("bool", "false", "0.20.0", None),
    "cgroups_hierarchy": ("string", "/sys/fs/cgroup", "0.20.0", None),
    "cgroups_limit_swap": ("bool", "false", "0.20.0", None),
    "cgroups_net_cls_primary_handle": ("string", None, "0.28.0", None),
    "cgroups_net_cls_secondary_handles": ("string", None, "0.28.0", None),
    "cgroups_root": ("string", "mesos", "0.20.0", None),
    "cgroups_subsystems": ("string", None, "0.20.0", "0.21.0"),
    "check_agent_port_range_only": ("bool", "false", "1.5.0", None),
    "checkpoint": ("bool", "true", "0.20.0", "0.21.0"),
    "container_disk_watch_interval": ("duration", "15secs", "0.22.0", None),
    "container_logger": ("string", None, "0.27.0", None),
    "container_ports_isolated_range": ("string", None, "1.8.0", None),
    "container_ports_watch_interval": ("duration", "30secs", "1.5.0", None),
    "containerizer_path": ("string", None, "0.20.0", "1.0.0"),
    "containerizers": ("string", "mesos", "0.20.0", None),
    "credential": ("path", None, "0.20.0", None),
    "csi_plugin_config_dir": ("string", None, "1.11.0", None),
    "default_container_dns": ("json", None, "1.4.0", None),
    "default_container_image": ("string", None, "0.20.0", "1.0.0"),
    "default_container_info": ("json", None, "0.21.0", None),
    "default_container_shm_size": ("bytes", None, "1.9.0", None),
    "default_role": ("string", "*", "0.20.0", None),
    "disallow_sharing_agent_ipc_namespace": ("bool", "false", "1.9.0", None),
    "disallow_sharing_agent_pid_namespace": ("bool", "false", "1.4.0", None),
    "disk_profile_adaptor": ("string", None, "1.5.0", None),
    "disk_watch_interval": ("duration", "1mins", "0.20.0", None),
    "docker": ("string", "docker", "0.20.0", None),
    "docker_auth_server": ("string", "https://auth.docker.io", "0.26.0", "0.27.0"),
    "docker_auth_server_port": ("string", "443", "0.26.0", "0.26.0"),
    "docker_config": ("json", None, "1.0.0", None),
    "docker_ignore_runtime": ("bool", "false", "1.9.0", None),
    "docker_kill_orphans": ("bool", "true", "0.23.0", None),
    "docker_local_archives_dir": ("string", "/tmp/mesos/images/docker", "0.26.0", "0.26.0"),
    "docker_mesos_image": ("string", None, "0.23.0", None),
    "docker_puller": ("string", "local", "0.26.0", "0.26.0"),
    "docker_puller_timeout": ("string", "60", "0.26.0", "0.27.0"),
    "docker_registry": ("string", "https://registry-1.docker.io", "0.26.0", None),
    "docker_registry_port": ("string", "443", "0.26.0", "0.26.0"),
    "docker_remove_delay": ("duration", "6hrs", "0.21.0", None),
    "docker_sandbox_directory": ("string", "/mnt/mesos/sandbox", "0.20.0", "0.23.0"),
    "docker_socket": ("string", "/var/run/docker.sock", "0.23.0", None),
    "docker_stop_timeout": ("duration", "0ns", "0.22.0", None),
    "docker_store_dir": ("string", "/tmp/mesos/store/docker", "0.26.0", None),
    "docker_volume_checkpoint_dir": ("string", "/var/run/mesos/isolators/docker/volume", "1.0.0", None),
    "docker_volume_chown": ("bool", "false", "1.9.0", None),
    "domain": ("json", None, "1.4.0", None),
    "domain_socket_location": ("string", None, "1.10.0", None),
    "effective_capabilities": ("json", None, "1.4.0", None),
    "egress_burst": ("bytes", None, "1.12.0", None),
    "egress_ceil_limit": ("bytes", None, "1.12.0", None),
    "egress_flow_classifier_parent": ("string", "root", "0.27.0", None),
    "egress_rate_limit_per_container": ("bytes", None, "0.21.0", None),
    "egress_rate_per_cpu": ("string", None, "1.12.0", None),
    "egress_unique_flow_per_container": ("bool", "false", "0.23.0", None),
    "enforce_container_disk_quota": ("bool", "false", "0.22.0", None),
    "enforce_container_ports": ("bool", "false", "1.7.0", None),
    "ephemeral_ports_per_container": ("uint16", "1024", "0.20.0", None),
    "eth0_name": ("string", None, "0.20.0", None),
    "executor_environment_variables": ("json", None, "0.23.0", None),
    "executor_registration_timeout": ("duration", "1mins", "0.20.0", None),
    "executor_reregistration_retry_interval": ("duration", None, "1.4.0", None),
    "executor_reregistration_timeout": ("duration", "2secs", "1.4.0", None),
    "executor_secret_key": ("path", None, "1.3.0", "1.4.0"),
    "executor_shutdown_grace_period": ("duration", "5secs", "0.20.0", None),
    "external_log_file": ("string", None, "0.22.0", None),
    "fetcher_cache_dir": ("string", "/tmp/mesos/fetch", "0.23.0", None),
    "fetcher_cache_size": ("bytes", "2GB", "0.23.0", None),
    "fetcher_stall_timeout": ("duration", "1mins", "1.6.0", None),
    "firewall_rules": ("json", None, "0.23.0", None),
    "frameworks_home": ("string", "", "0.20.0", None),
    "gc_delay": ("duration", "1weeks", "0.20.0", None),
    "gc_disk_headroom": ("double", "0.1", "0.22.0", None),
    "gc_non_executor_container_sandboxes": ("bool", "false", "1.7.0", None),
    "hadoop_home": ("string", None, "0.20.0", None),
    "help": ("bool", "false", "0.20.0", None),
    "hooks": ("string", None, "0.22.0", None),
    "host_path_volume_force_creation": ("string", None, "1.8.0", None),
    "hostname": ("string", None, "0.20.0", None),
    "hostname_lookup": ("bool", "true", "0.25.0", None),
    "http_authenticators": ("string", None, "1.0.0", None),
    "http_command_executor": ("bool", "false", "1.0.0", None),
    "http_credentials": ("path", None, "1.0.0", None),
    "http_executor_domain_sockets": ("bool", "false", "1.10.0", None),
    "http_heartbeat_interval": ("duration", "30secs", "1.2.0", None),
    "image_gc_config": ("json", None, "1.5.0", None),
    "image_providers": ("string", None, "0.25.0", None),
    "image_provisioner_backend": ("string", None, "0.25.0", None),
    "ingress_burst": ("bytes", None, "1.12.0", None),
    "ingress_ceil_limit": ("bytes", None, "1.12.0", None),
    "ingress_isolate_existing_containers": ("bool", "true", "1.12.0", None),
    "ingress_rate_limit_per_container": ("bytes", None, "1.12.0", None),
    "ingress_rate_per_cpu": ("string", None, "1.12.0", None),
    "initialize_driver_logging": ("bool", "true", "0.20.0", None),
    "ip": ("string", None, "0.20.0", None),
    "ip6": ("string", None, "1.4.0", None),
    "ip6_discovery_command": ("string", None, "1.4.0", None),
    "ip_discovery_command": ("string", None, "0.24.0", None),
    "isolation": ("string", "posix/cpu,posix/mem", "0.20.0", None),
    "jwt_secret_key": ("path", None, "1.5.0", None),
    "launcher": ("string", "linux", "0.25.0", None),
    "launcher_dir": ("string", "/usr/local/libexec/mesos", "0.20.0", None),
    "lo_name": ("string", None, "0.20.0", None),
    "log_dir": ("string", None, "0.20.0", None),
    "logbufsecs": ("int", "0", "0.20.0", None),
    "logging_level": ("string", "INFO", "0.20.0", None),
    "master": ("secure_string", None, "0.20.0", None),
    "master_detector": ("string", None, "1.0.0", None),
    "max_completed_executors_per_framework": ("uint", "150", "1.1.0", None),
    "maximum_egress_rate_limit": ("bytes", None, "1.12.0", None),
    "maximum_ingress_rate_limit": ("bytes", None, "1.12.0", None),
    "memory_profiling": ("bool", "false", "1.6.0", None),
    "minimum_egress_rate_limit": ("bytes", None, "1.12.0", None),
    "minimum_ingress_rate_limit": ("bytes", None, "1.12.0", None),
    "modules": ("json", None, "0.21.0", None),
    "modules_dir": ("string", None, "1.0.0", None),
    "network_cni_config_dir": ("string", None, "1.0.0", None),
    "network_cni_metrics": ("bool", "true", "1.7.0", None),
    "network_cni_plugins_dir": ("string", None, "1.0.0", None),
    "network_cni_root_dir_persist": ("bool", "false", "1.8.0", None),
    "network_enable_rate_statistics": ("bool", "false", "1.12.0", None),
    "network_enable_snmp_statistics": ("bool", "false", "0.28.0", None),
    "network_enable_socket_statistics_details": ("bool", "false", "0.22.0", None),
    "network_enable_socket_statistics_summary": ("bool", "false", "0.22.0", None),
    "network_link_speed": ("bytes", None, "1.12.0", None),
    "network_rate_statistics_interval": ("duration", None, "1.12.0", None),
    "network_rate_statistics_window": ("duration", None, "1.12.0", None),
    "nvidia_gpu_devices": ("uint_list", None, "1.0.0", None),
    "oversubscribed_resources_interval": ("duration", "15secs", "0.23.0", None),
    "perf_duration": ("duration", "10secs", "0.20.0", None),
    "perf_events": ("string", None, "0.20.0", None),
    "perf_interval": ("duration", "1mins", "0.20.0", None),
    "port": ("uint16", "5051", "0.20.0", None),
    "provisioners": ("string", None, "0.24.0", "0.24.0"),
    "qos_controller": ("string", None, "0.23.0", None),
    "qos_correction_interval_min": ("duration", "0ns", "0.23.0", None),
    "quiet": ("bool", "false", "0.20.0", None),
    "reconfiguration_policy": ("string", "equal", "1.5.0", None),
    "recover": ("string", "reconnect", "0.20.0", None),
    "recovery_timeout": ("duration", "15mins", "0.20.0", None),
    "registration_backoff_factor": ("duration", "1secs", "0.20.0", None),
    "resource_estimator": ("string", None, "0.23.0", None),
    "resource_monitoring_interval": ("duration", "1secs", "0.20.0", "0.25.0"),
    "resource_provider_config_dir": ("string", None, "1.4.0", None),
    "resources": ("string", None, "0.20.0", None),
    "revocable_cpu_low_priority": ("bool", "true", "0.23.0", None),
    "runtime_dir": ("string", "/var/run/mesos", "1.1.0", None),
    "sandbox_directory": ("string", "/mnt/mesos/sandbox", "0.24.0", None),
    "seccomp_config_dir": ("string", None, "1.8.0", None),
    "seccomp_profile_name": ("string", None, "1.8.0", None),
    "secret_resolver": ("string", None, "1.4.0", None),
    "slave_subsystems": ("string", None, "0.20.0", "0.28.0"),
    "strict": ("bool", "true", "0.20.0", None),
    "switch_user": ("bool", "true", "0.20.0", None),
    "systemd_enable_support": ("bool", "true", "0.28.0", None),
    "systemd_runtime_directory": ("string", "/run/systemd/system", "0.25.0", None),
    "version": ("bool", "false", "0.20.0", None),
    "volume_gid_range": ("string", None, "1.8.0", None),
    "work_dir": ("string", None, "0.20.0", None),
    "xfs_kill_containers": ("bool", "false", "1.6.0", None),
    "xfs_project_range": ("string", "[5000-10000]", "1.0.0", None),
    "xfs_quota_headroom": ("bytes", "10MB", "1.12.0", None),
    "zk_session_timeout": ("duration", "10secs", "1.5.0", None),
}

# Defaults that changed: name -> ((version_it_changed_in, default_before_that), ...).
EARLIER_DEFAULTS = {
    "docker_auth_server": (("0.27.0", "auth.docker.io"),),
    "docker_registry": (("0.27.0", "registry-1.docker.io"),),
    "hadoop_home": (("1.7.0", ""),),
    "http_authenticators": (("1.3.0", "basic"),),
    "image_provisioner_backend": (("1.2.0", "copy"),),
    "launcher": (("1.1.0", None),),
    "work_dir": (("1.0.0", "/tmp/mesos"),),
}

# Types that changed: name -> ((version_it_changed_in, type_before_that), ...).
EARLIER_TYPES = {
    "credential": (("0.22.0", "string"),),
    "master": (("1.5.0", "string"),),
}

# Flags stout refuses to do without (a non-Option field without default), since version.
REQUIRED_FLAGS = {"work_dir": "1.0.0"}

# Deprecated names still accepted: alias -> (flag, first version where it is an alias).
FLAG_ALIASES = {
    "slave_subsystems": ("agent_subsystems", "1.0.0"),
    "allowed_capabilities": ("effective_capabilities", "1.4.0"),
    "executor_secret_key": ("jwt_secret_key", "1.5.0"),
}

# Flags only some builds have: name -> the configure option that adds them (the table
# assumes all of them; a package built without one lacks its flags).
CONDITIONAL_FLAGS = {
    "check_agent_port_range_only": "--enable-network-ports-isolator",
    "container_ports_isolated_range": "--enable-network-ports-isolator",
    "container_ports_watch_interval": "--enable-network-ports-isolator",
    "enforce_container_ports": "--enable-network-ports-isolator",
    "seccomp_config_dir": "--enable-seccomp-isolator",
    "seccomp_profile_name": "--enable-seccomp-isolator",
    "authenticate_http_executors": "--enable-ssl",
    "executor_secret_key": "--enable-ssl",
    "jwt_secret_key": "--enable-ssl",
    "xfs_kill_containers": "--enable-xfs-disk-isolator",
    "xfs_project_range": "--enable-xfs-disk-isolator",
    "xfs_quota_headroom": "--enable-xfs-disk-isolator",
    "egress_burst": "--with-network-isolator",
    "egress_ceil_limit": "--with-network-isolator",
    "egress_flow_classifier_parent": "--with-network-isolator",
    "egress_rate_limit_per_container": "--with-network-isolator",
    "egress_rate_per_cpu": "--with-network-isolator",
    "egress_unique_flow_per_container": "--with-network-isolator",
    "ephemeral_ports_per_container": "--with-network-isolator",
    "eth0_name": "--with-network-isolator",
    "ingress_burst": "--with-network-isolator",
    "ingress_ceil_limit": "--with-network-isolator",
    "ingress_isolate_existing_containers": "--with-network-isolator",
    "ingress_rate_limit_per_container": "--with-network-isolator",
    "ingress_rate_per_cpu": "--with-network-isolator",
    "lo_name": "--with-network-isolator",
    "maximum_egress_rate_limit": "--with-network-isolator",
    "maximum_ingress_rate_limit": "--with-network-isolator",
    "minimum_egress_rate_limit": "--with-network-isolator",
    "minimum_ingress_rate_limit": "--with-network-isolator",
    "network_enable_rate_statistics": "--with-network-isolator",
    "network_enable_snmp_statistics": "--with-network-isolator",
    "network_enable_socket_statistics_details": "--with-network-isolator",
    "network_enable_socket_statistics_summary": "--with-network-isolator",
    "network_link_speed": "--with-network-isolator",
    "network_rate_statistics_interval": "--with-network-isolator",
    "network_rate_statistics_window": "--with-network-isolator",
}

# Defaults under the install prefix (the table has the autotools default, DEFAULT_PREFIX).
PREFIX_DEPENDENT_DEFAULTS = ("launcher_dir",)
DEFAULT_PREFIX = "/usr/local"

OLDEST_DERIVED_VERSION = "0.20.0"
NEWEST_DERIVED_VERSION = "1.12.0"
FIRST_AGENT_BINARY_VERSION = "1.0.0"

FILE_PREFIX = "file://"
ENV_PREFIX = "MESOS_"

FlagSpec = collections.namedtuple("FlagSpec", ["type", "default", "required"])

# One Mesos program's flags: the tables above for the agent, ``_master_flags.py`` for the
# master.  ``validators``: name -> (first_version, check(parsed value) -> error or None),
# the ``add(..., validator)`` lambdas of Mesos, whose error stout prints as it is.
FlagTable = collections.namedtuple("FlagTable", [
    "flags", "earlier_defaults", "earlier_types", "required", "aliases", "validators"])

AGENT_TABLE = FlagTable(AGENT_FLAGS, EARLIER_DEFAULTS, EARLIER_TYPES, REQUIRED_FLAGS, FLAG_ALIASES, {})

DURATION_UNITS_NS = collections.OrderedDict([
    ("ns", 1),
    ("us", 10 ** 3),
    ("ms", 10 ** 6),
    ("secs", 10 ** 9),
    ("mins", 60 * 10 ** 9),
    ("hrs", 3600 * 10 ** 9),
    ("days", 86400 * 10 ** 9),
    ("weeks", 7 * 86400 * 10 ** 9),
])
_INT64_MAX = 2 ** 63 - 1

BYTES_UNITS = collections.OrderedDict([
    ("B", 1),
    ("KB", 1024),
    ("MB", 1024 ** 2),
    ("GB", 1024 ** 3),
    ("TB", 1024 ** 4),
])

BOOLEAN_ERROR = "Expecting a boolean (e.g., true or false)"
NUMBER_ERROR = "Failed to convert into required type"

_INTEGER_RANGES = {
    "int": (-(2 ** 31), 2 ** 31 - 1),
    "uint": (0, 2 ** 64 - 1),
    "uint16": (0, 2 ** 16 - 1),
}
_ISTREAM_INTEGER = re.compile(r"\s*([+-]?)(\d+)\Z")
_ISTREAM_DOUBLE = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\Z")


def version_tuple(version):
    """``'1.12.0'``, ``'1.9'``, ``'1.4.0-rc2'`` or ``(1, 9)`` -> ``(major, minor, patch)``."""
    if isinstance(version, (tuple, list)):
        parts = [int(part) for part in version]
    else:
        match = re.match(r"\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", str(version))
        if not match:
            raise ValueError("Not a Mesos version: %r" % (version,))
        parts = [int(part) for part in match.groups() if part is not None]
    return tuple((parts + [0, 0, 0])[:3])


def _in_range(version, first, last):
    minor = version_tuple(version)[:2]
    if minor < version_tuple(first)[:2]:
        return False
    return last is None or minor <= version_tuple(last)[:2]


def _value_at(name, version, latest, earlier):
    """The newest value, unless ``earlier`` says it was different at ``version``."""
    minor = version_tuple(version)[:2]
    for changed_in, before in earlier.get(name, ()):
        if minor < version_tuple(changed_in)[:2]:
            return before
    return latest


def _clamp(version):
    """Versions outside the derived range behave like its nearest end."""
    wanted = version_tuple(version)
    oldest = version_tuple(OLDEST_DERIVED_VERSION)
    newest = version_tuple(NEWEST_DERIVED_VERSION)
    return max(oldest, min(newest, wanted))


def flags_for_version(version, table=None):
    """All flags of Mesos ``version`` (the agent's unless ``table`` says otherwise):
    name -> ``FlagSpec(type, default, required)``."""
    table = table or AGENT_TABLE
    version = _clamp(version)
    result = {}
    for name, (flag_type, default, first, last) in table.flags.items():
        if not _in_range(version, first, last):
            continue
        required_since = table.required.get(name)
        result[name] = FlagSpec(
            _value_at(name, version, flag_type, table.earlier_types),
            _value_at(name, version, default, table.earlier_defaults),
            required_since is not None and version[:2] >= version_tuple(required_since)[:2],
        )
    return result


def aliases_for_version(version, table=None):
    """Deprecated flag names accepted by Mesos ``version``: alias -> flag."""
    table = table or AGENT_TABLE
    version = _clamp(version)
    return dict(
        (alias, flag) for alias, (flag, since) in table.aliases.items()
        if version[:2] >= version_tuple(since)[:2]
    )


def binary_name(version):
    """``mesos-agent`` from 1.0 on, ``mesos-slave`` before (1.x still ships that name as a link)."""
    if version_tuple(version) >= version_tuple(FIRST_AGENT_BINARY_VERSION):
        return "mesos-agent"
    return "mesos-slave"


def env_name(flag):
    """``docker_config`` -> ``MESOS_DOCKER_CONFIG``."""
    return ENV_PREFIX + flag.upper()


def flag_from_env(variable):
    """``MESOS_DOCKER_CONFIG`` -> ``docker_config``; None when not a ``MESOS_`` variable.

    Mesos lowercases what follows the prefix, so ``MESOS_docker_config`` works too.
    """
    if not variable.startswith(ENV_PREFIX) or len(variable) == len(ENV_PREFIX):
        return None
    return variable[len(ENV_PREFIX):].lower()


def _numify_double(text):
    """stout's ``numify<double>`` (boost::lexical_cast) on the digits-and-dots prefix."""
    try:
        if not re.match(r"(\d+\.?\d*|\.\d+)\Z", text):
            raise ValueError(text)
        return float(text)
    except ValueError:
        raise ValueError("Failed to convert '%s' to number" % text)


def parse_duration(text):
    """A Mesos duration such as ``5mins`` or ``1.5secs`` -> nanoseconds (int).

    Raises ValueError carrying stout's own message (``Duration::parse``).
    """
    text = str(text)
    index = 0
    while index < len(text) and (text[index].isdigit() or text[index] == "."):
        index += 1
    if index == len(text):
        raise ValueError("Invalid duration '%s'" % text)
    number = _numify_double(text[:index])
    unit = text[index:]
    if unit not in DURATION_UNITS_NS:
        raise ValueError(
            "Unknown duration unit '%s'; supported units are 'ns', 'us', 'ms', "
            "'secs', 'mins', 'hrs', 'days', and 'weeks'" % unit)
    nanoseconds = number * DURATION_UNITS_NS[unit]
    if nanoseconds > _INT64_MAX:
        raise ValueError(
            "Argument out of the range that a Duration can represent due to int64_t's size limit")
    return int(nanoseconds)


def format_duration(nanoseconds):
    """Nanoseconds -> the text stout prints: the largest unit giving a whole number."""
    nanoseconds = int(nanoseconds)
    if nanoseconds < 0:
        return "-" + format_duration(-nanoseconds)
    chosen = "ns"
    for unit, size in DURATION_UNITS_NS.items():
        if nanoseconds >= size and nanoseconds % size == 0:
            chosen = unit
    return "%d%s" % (nanoseconds // DURATION_UNITS_NS[chosen], chosen)


def parse_bytes(text):
    """A Mesos byte size such as ``512MB`` -> bytes (int); ValueError with stout's message."""
    text = str(text)
    index = 0
    while index < len(text):
        if text[index].isdigit():
            index += 1
            continue
        if text[index] == ".":
            raise ValueError("Fractional bytes '%s'" % text)
        if index == 0:
            raise ValueError("Failed to convert '' to number")
        unit = text[index:].upper()
        if unit not in BYTES_UNITS:
            raise ValueError("Unknown bytes unit '%s'" % unit)
        return int(text[:index]) * BYTES_UNITS[unit]
    raise ValueError("Invalid bytes '%s'" % text)


def format_bytes(count):
    """Bytes -> the text stout prints: raise the unit only without loss (``0B``, ``2GB``)."""
    count = int(count)
    if count == 0:
        return "0B"
    chosen = "B"
    for unit, size in BYTES_UNITS.items():
        if count % size == 0:
            chosen = unit
    return "%d%s" % (count // BYTES_UNITS[chosen], chosen)


def parse_bool(text):
    """stout's ``parse<bool>``: exactly ``true``/``1`` and ``false``/``0``."""
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise ValueError(BOOLEAN_ERROR)


def _parse_integer(text, flag_type):
    match = _ISTREAM_INTEGER.match(text)
    if not match:
        raise ValueError(NUMBER_ERROR)
    sign, digits = match.groups()
    value = int(digits)
    lowest, highest = _INTEGER_RANGES[flag_type]
    if lowest < 0:
        value = -value if sign == "-" else value
        if not lowest <= value <= highest:
            raise ValueError(NUMBER_ERROR)
        return value
    # istream >> unsigned accepts a minus sign and wraps around, as C++ does.
    if value > highest:
        raise ValueError(NUMBER_ERROR)
    return (highest + 1 - value) % (highest + 1) if sign == "-" else value


def _parse_double(text):
    if not _ISTREAM_DOUBLE.match(text):
        raise ValueError(NUMBER_ERROR)
    return float(text)


def _json_error(error):
    return "syntax error at line %d near: %s" % (error.lineno, error.doc[error.pos:])


def _parse_json_object(text):
    try:
        value = json.loads(text)
    except ValueError as error:
        if hasattr(error, "lineno"):
            raise ValueError(_json_error(error))
        raise
    if not isinstance(value, dict):
        raise ValueError("Unexpected JSON type parsed")
    return value


def _parse_uint_list(text):
    return [_parse_integer(item.strip(), "uint") for item in text.split(",") if item.strip()]


def _parse_string_set(text):
    """stout's ``parse<std::set<std::string>>``: comma-separated, empty items dropped."""
    result = set()
    for item in (item for item in text.split(",") if item):
        if item in result:
            raise ValueError("Duplicate token '%s'" % item)
        result.add(item)
    return result


def _format_string_set(value):
    """Like stout's ``stringify(std::set)``: ``{ a, b }`` in byte order."""
    return "{ %s }" % ", ".join(sorted(value, key=lambda item: item.encode("utf-8")))


def _format_double(value):
    """Like ``std::ostream << double`` (6 significant digits, no trailing zeros)."""
    return "%g" % value


def _identity(text):
    return text


# type -> (parse(text) -> value, stringify(value) -> what /flags prints)
_CODECS = {
    "bool": (parse_bool, lambda value: "true" if value else "false"),
    "int": (lambda text: _parse_integer(text, "int"), str),
    "uint": (lambda text: _parse_integer(text, "uint"), str),
    "uint16": (lambda text: _parse_integer(text, "uint16"), str),
    "double": (_parse_double, _format_double),
    "duration": (parse_duration, format_duration),
    "bytes": (parse_bytes, format_bytes),
    "json": (_parse_json_object, lambda value: json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)),
    "uint_list": (_parse_uint_list, lambda value: ",".join(str(item) for item in value)),
    "string_set": (_parse_string_set, _format_string_set),
    "string": (_identity, _identity),
    "secure_string": (_identity, _identity),
    "path": (lambda text: text[len(FILE_PREFIX):] if text.startswith(FILE_PREFIX) else text, _identity),
}

TYPES = tuple(sorted(_CODECS))


def is_file_reference(flag_type, text):
    """Whether Mesos reads ``text`` as ``file://<path>`` for a flag of ``flag_type``."""
    return flag_type != "path" and str(text).startswith(FILE_PREFIX)


def read_flag_file(text):
    """The content behind a ``file://`` value; ValueError with stout's message."""
    path = text[len(FILE_PREFIX):]
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError) as error:
        raise ValueError("Error reading file '%s': %s" % (path, error.strerror or error))


def load_value(flag_type, text, read_files=True):
    """Load ``text`` like stout: ``(parsed, shown)``, ``shown`` being what ``/flags`` prints.

    ``file://`` values are read unless ``read_files`` is false, then they are accepted
    unchecked (the file lives on the agent host, not here) and shown as given.
    Raises ValueError with stout's message (without the ``Failed to load ...`` prefix).
    """
    parse, stringify = _CODECS[flag_type]
    if is_file_reference(flag_type, text):
        if not read_files:
            return text, text
        content = read_flag_file(text)
        if flag_type == "secure_string":
            return content, text[len(FILE_PREFIX):]
        text = content
    value = parse(text)
    return value, stringify(value)


def render_value(value):
    """A Python value as a Mesos flag value: bools ``true``/``false``, dicts compact JSON,
    lists joined with ``,`` (``containerizers: [docker, mesos]`` -> ``docker,mesos``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, (list, tuple)):
        return ",".join(render_value(item) for item in value)
    if value is None:
        return ""
    return str(value)


def _render_range(item):
    if isinstance(item, (list, tuple)):
        if len(item) != 2:
            raise ValueError("A port range needs two ends, got %r" % (item,))
        return "%s-%s" % (item[0], item[1])
    return str(item)


def _render_resource_value(value):
    """Scalars as they are, ranges as ``[a-b,c-d]``, sets as ``{a,b}``."""
    if isinstance(value, bool):
        raise ValueError("A resource value cannot be a boolean: %r" % (value,))
    if isinstance(value, (list, tuple)):
        if len(value) == 2 and all(isinstance(end, int) and not isinstance(end, bool) for end in value):
            value = [value]
        return "[%s]" % ",".join(_render_range(item) for item in value)
    if isinstance(value, (set, frozenset)):
        return "{%s}" % ",".join(sorted(str(item) for item in value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _render_pairs(mapping, render_item):
    if mapping is None:
        return ""
    if not isinstance(mapping, dict):
        return str(mapping)
    return ";".join("%s:%s" % (name, render_item(value)) for name, value in mapping.items())


def render_resources(resources):
    """``{'cpus': 4, 'ports': '[21000-21099]'}`` -> ``cpus:4;ports:[21000-21099]``.

    Order is preserved; ports may be a string, a list of ``'a-b'`` strings or of
    ``[a, b]`` pairs; a string is returned as it is.
    """
    return _render_pairs(resources, _render_resource_value)


def render_attributes(attributes):
    """``{'rack': 'a', 'zone': 'b'}`` -> ``rack:a;zone:b`` (a string is returned as it is)."""
    return _render_pairs(attributes, render_value)


def resolve_flag_name(name, version, table=None):
    """A name as given (``no-`` prefix and alias allowed) -> (flag, negated) or None."""
    negated = name.startswith("no-")
    bare = name[3:] if negated else name
    known = flags_for_version(version, table)
    flag = aliases_for_version(version, table).get(bare, bare)
    if flag not in known:
        return None
    return flag, negated


def unknown_flag_error(name):
    return "Failed to load unknown flag '%s'" % name


def value_error(name, text, reason):
    return "Failed to load flag '%s': Failed to load value '%s': %s" % (name, text, reason)


def required_flag_error(name):
    return "Flag '%s' is required, but it was not provided" % name


def _validator_error(flag, value, version, table):
    since, check = table.validators.get(flag, (None, None))
    if check is None or version_tuple(_clamp(version))[:2] < version_tuple(since)[:2]:
        return None
    return check(value)


def validate_flag(name, value, version, read_files=False, table=None):
    """The error Mesos ``version`` gives for ``--name=value``, or None if it accepts it.

    ``value`` may be a Python value (rendered with :func:`render_value`) or None, which
    for a boolean means ``--name`` (true).  ``file://`` values are only read when
    ``read_files`` is true.  ``table``: the program's flags (the agent's by default).
    """
    table = table or AGENT_TABLE
    resolved = resolve_flag_name(name, version, table)
    if resolved is None:
        return unknown_flag_error(name[3:] if name.startswith("no-") else name)
    flag, negated = resolved
    spec = flags_for_version(version, table)[flag]
    if spec.type != "bool" and negated:
        return "Failed to load non-boolean flag '%s' via '%s'" % (flag, name)
    if value is None:
        if spec.type != "bool":
            return "Failed to load non-boolean flag '%s': Missing value" % flag
        return _validator_error(flag, not negated, version, table)
    text = render_value(value)
    if spec.type == "bool" and negated:
        if text:
            return "Failed to load boolean flag '%s' via '%s' with value '%s'" % (flag, name, text)
        return _validator_error(flag, False, version, table)
    if spec.type == "bool" and text == "":
        return _validator_error(flag, True, version, table)
    try:
        parsed, _shown = load_value(spec.type, text, read_files=read_files)
    except ValueError as error:
        return value_error(flag, text, str(error))
    if is_file_reference(spec.type, text) and not read_files:
        return None
    return _validator_error(flag, parsed, version, table)


def validate_flags(flags, version, read_files=False, check_required=True, table=None):
    """Every error Mesos ``version`` would give for these flags, in Mesos's order (by name).

    Mesos itself stops at the first; this lists all, plus the required flags missing
    (``check_required``).  ``table``: the program's flags (the agent's by default).
    """
    flags = flags or {}
    errors = [
        error for error in (
            validate_flag(name, flags[name], version, read_files=read_files, table=table)
            for name in sorted(flags)
        )
        if error
    ]
    if check_required:
        given = set()
        for name in flags:
            resolved = resolve_flag_name(name, version, table)
            if resolved:
                given.add(resolved[0])
        for name, spec in sorted(flags_for_version(version, table).items()):
            if spec.required and name not in given:
                errors.append(required_flag_error(name))
    return errors


def cmdline(flags):
    """Flags as ``mesos-agent`` arguments: ``['--name=value', ...]`` sorted by name."""
    return ["--%s=%s" % (name, render_value(value)) for name, value in sorted((flags or {}).items())]


def environment(flags):
    """Flags as ``MESOS_<NAME>`` environment variables."""
    return dict((env_name(name), render_value(value)) for name, value in (flags or {}).items())
