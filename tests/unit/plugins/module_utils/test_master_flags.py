# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
import pytest

from ansible_collections.mesos.docker.plugins.module_utils import _agent_flags as af
from ansible_collections.mesos.docker.plugins.module_utils import _master_flags as mf

GOOD = {"work_dir": "/var/lib/mesos/master", "ip": "10.0.0.1"}


def test_table_entries_are_well_formed():
    for name, (flag_type, default, first, last) in mf.MASTER_FLAGS.items():
        assert flag_type in af.TYPES, name
        assert af.version_tuple(first) >= af.version_tuple(af.OLDEST_DERIVED_VERSION), name
        assert last is None or af.version_tuple(last) >= af.version_tuple(first), name
        if default is not None:
            assert af.load_value(flag_type, default)[1] == default, "%s default %r does not load" % (name, default)


RELEASES = ["0.%d.0" % minor for minor in range(20, 29)] + ["1.%d.0" % minor for minor in range(0, 13)]


def test_aliases_name_flags_of_that_version_and_were_flags_of_the_release_before():
    for alias, (flag, since) in mf.FLAG_ALIASES.items():
        before = RELEASES[RELEASES.index(since) - 1]
        assert flag in mf.flags_for_version(since), alias
        assert alias not in mf.flags_for_version(since), alias
        assert alias in mf.flags_for_version(before), alias
        assert mf.aliases_for_version(since)[alias] == flag
        assert alias not in mf.aliases_for_version(before)


@pytest.mark.parametrize("version, present, absent", [
    ("0.20.0", ["slave_reregister_timeout", "authenticate", "whitelist", "user_sorter"],
     ["agent_reregister_timeout", "hostname_lookup", "advertise_ip", "authorizers"]),
    ("0.28.0", ["slave_ping_timeout", "authenticate_http", "ip_discovery_command"], ["agent_ping_timeout"]),
    ("1.0.0", ["agent_ping_timeout", "authenticate_frameworks", "master_contender"], ["slave_ping_timeout"]),
    ("1.6.0", ["user_sorter", "memory_profiling"], ["role_sorter", "min_allocatable_resources"]),
    ("1.12.0", ["role_sorter", "offer_constraints_re2_max_mem", "allocator_recovery_timeout"],
     ["user_sorter", "authenticate"]),
])
def test_flags_appear_and_disappear_by_version(version, present, absent):
    flags = mf.flags_for_version(version)
    assert [name for name in present if name not in flags] == []
    assert [name for name in absent if name in flags] == []


@pytest.mark.parametrize("name, version, default, flag_type", [
    ("allocator", "1.6.0", "HierarchicalDRF", "string"),
    ("allocator", "1.7.0", "hierarchical", "string"),
    ("registry_store_timeout", "0.27.0", "5secs", "duration"),
    ("registry_store_timeout", "1.12.0", "20secs", "duration"),
    ("whitelist", "0.21.0", "*", "string"),
    ("whitelist", "1.12.0", None, "path"),
    ("zk", "1.4.0", None, "string"),
    ("zk", "1.5.0", None, "secure_string"),
    ("work_dir", "1.12.0", None, "string"),
    ("port", "1.12.0", "5050", "uint16"),
])
def test_defaults_and_types_by_version(name, version, default, flag_type):
    spec = mf.flags_for_version(version)[name]
    assert (spec.default, spec.type) == (default, flag_type)


def test_no_master_flag_is_required_by_stout():
    assert [name for name, spec in mf.flags_for_version("1.12.0").items() if spec.required] == []


@pytest.mark.parametrize("flags, version, errors", [
    (GOOD, "1.12.0", []),
    (dict(GOOD, registry="in_memory", work_dir=None), "1.12.0",
     ["Failed to load non-boolean flag 'work_dir': Missing value"]),
    ({"registry": "in_memory"}, "1.12.0", []),
    ({}, "1.12.0", ["--work_dir needed for replicated log based registry"]),
    ({"registry": "replicated_log"}, "0.20.0", ["--work_dir needed for replicated log based registry"]),
    (dict(GOOD, registry="etcd"), "1.12.0", ["'etcd' is not a supported option for registry persistence"]),
    (dict(GOOD, zk="zk://z1:2181/mesos"), "1.12.0",
     ["Need to specify --quorum for replicated log based registry when using ZooKeeper"]),
    (dict(GOOD, zk="zk://z1:2181/mesos", quorum=2), "1.12.0", []),
    ({"registry": "in_memory", "zk": "zk://z1:2181/mesos"}, "1.12.0", []),
    (dict(GOOD, ip_discovery_command="hostname -i"), "1.12.0",
     ["Only one of `--ip` or `--ip_discovery_command` should be specified"]),
    (dict(GOOD, master_contender="x"), "1.12.0",
     ["Both --master_contender and --master_detector should be specified or omitted."]),
    (dict(GOOD, zk="zk://z/m", quorum=1, master_contender="x", master_detector="y"), "1.12.0",
     ["Only one of --zk or the --master_contender/--master_detector pair should be specified."]),
    (dict(GOOD, modules={"libraries": []}, modules_dir="/etc/mesos/modules"), "1.12.0",
     ["Only one of --modules or --modules_dir should be specified"]),
    (dict(GOOD, work_dir=""), "1.12.0", []),
])
def test_startup_checks_of_main_cpp(flags, version, errors):
    assert mf.validate_flags(flags, version) == errors


@pytest.mark.parametrize("name, value, version, error", [
    ("agent_ping_timeout", "20mins", "1.12.0", "Expected `--agent_ping_timeout` to be between 1secs and 15mins"),
    ("agent_ping_timeout", "500ms", "1.12.0", "Expected `--agent_ping_timeout` to be between 1secs and 15mins"),
    ("agent_ping_timeout", "30secs", "1.12.0", None),
    ("slave_ping_timeout", "20mins", "1.12.0", "Expected `--agent_ping_timeout` to be between 1secs and 15mins"),
    ("slave_ping_timeout", "20mins", "0.28.0", "Expected `--slave_ping_timeout` to be between 1secs and 15mins"),
    ("max_agent_ping_timeouts", 0, "1.12.0", "Expected `--max_agent_ping_timeouts` to be at least 1"),
    ("registry_strict", True, "1.12.0",
     "Support for '--registry_strict' has been disabled and will be removed in a future version of Mesos"),
    ("registry_strict", None, "1.12.0",
     "Support for '--registry_strict' has been disabled and will be removed in a future version of Mesos"),
    ("registry_strict", True, "0.28.0", None),
    ("no-registry_strict", None, "1.12.0", None),
    ("domain", {"fault_domain": {"region": {"name": "r"}, "zone": {"name": "z"}}}, "1.12.0", None),
    ("domain", {}, "1.12.0", "`domain` must define `fault_domain`"),
    ("domain", "file:///etc/mesos/domain.json", "1.12.0", None),
])
def test_validators_of_flags_cpp(name, value, version, error):
    assert af.validate_flag(name, value, version, table=mf.MASTER_TABLE) == error


@pytest.mark.parametrize("name, value, error", [
    ("quorum", "two", "Failed to load flag 'quorum': Failed to load value 'two': Failed to convert into required type"),
    ("port", 70000, "Failed to load flag 'port': Failed to load value '70000': Failed to convert into required type"),
    ("zk_session_timeout", "10", "Failed to load flag 'zk_session_timeout': Failed to load value '10': "
                                 "Invalid duration '10'"),
    ("docker_config", "{}", "Failed to load unknown flag 'docker_config'"),
    ("fair_sharing_excluded_resource_names", "gpus,gpus",
     "Failed to load flag 'fair_sharing_excluded_resource_names': Failed to load value 'gpus,gpus': "
     "Duplicate token 'gpus'"),
    ("fair_sharing_excluded_resource_names", "gpus,fpgas", None),
    ("authenticate_agents", True, None),
    ("authenticate_slaves", True, None),
])
def test_loading_master_values(name, value, error):
    assert af.validate_flag(name, value, "1.12.0", table=mf.MASTER_TABLE) == error


def test_load_errors_come_without_startup_checks_as_mesos_stops_at_the_first():
    assert mf.validate_flags({"wrok_dir": "/w"}, "1.12.0") == ["Failed to load unknown flag 'wrok_dir'"]


def test_string_set_prints_like_stout():
    assert af.load_value("string_set", "gpus,fpgas,,gpus2") == ({"gpus", "fpgas", "gpus2"}, "{ fpgas, gpus, gpus2 }")


def test_agent_table_is_still_the_default():
    assert af.validate_flag("docker_config", "{}", "1.12.0") is None
    assert af.validate_flags({"master": "m"}, "1.12.0") == ["Flag 'work_dir' is required, but it was not provided"]


@pytest.mark.parametrize("table, conditional, prefixed, prefix", [
    (af.AGENT_FLAGS, af.CONDITIONAL_FLAGS, af.PREFIX_DEPENDENT_DEFAULTS, af.DEFAULT_PREFIX),
    (mf.MASTER_FLAGS, mf.CONDITIONAL_FLAGS, mf.PREFIX_DEPENDENT_DEFAULTS, mf.DEFAULT_PREFIX),
])
def test_build_dependent_entries_name_flags_of_the_table(table, conditional, prefixed, prefix):
    assert sorted(set(conditional) - set(table)) == []
    assert all(option.startswith(("--enable-", "--with-")) for option in conditional.values())
    assert [name for name in prefixed if not table[name][1].startswith(prefix + "/")] == []
