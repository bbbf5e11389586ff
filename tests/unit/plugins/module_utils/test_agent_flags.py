# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
import pytest

from ansible_collections.mesos.docker.plugins.module_utils import _agent_flags as af


@pytest.mark.parametrize("text, nanoseconds", [
    ("0ns", 0), ("1ms", 10 ** 6), ("5secs", 5 * 10 ** 9), ("1.5mins", 90 * 10 ** 9),
    ("6hrs", 6 * 3600 * 10 ** 9), ("2days", 2 * 86400 * 10 ** 9), ("1weeks", 7 * 86400 * 10 ** 9),
])
def test_parse_duration_accepts_mesos_units(text, nanoseconds):
    assert af.parse_duration(text) == nanoseconds


@pytest.mark.parametrize("text, message", [
    ("soon", "Failed to convert '' to number"),
    ("10", "Invalid duration '10'"),
    ("5minutes", "Unknown duration unit 'minutes'; supported units are 'ns', 'us', 'ms', "
                 "'secs', 'mins', 'hrs', 'days', and 'weeks'"),
    ("1.2.3secs", "Failed to convert '1.2.3' to number"),
])
def test_parse_duration_errors_match_stout(text, message):
    with pytest.raises(ValueError) as error:
        af.parse_duration(text)
    assert str(error.value) == message


@pytest.mark.parametrize("nanoseconds, text", [
    (0, "0ns"), (60 * 10 ** 9, "1mins"), (6 * 3600 * 10 ** 9, "6hrs"), (90 * 10 ** 9, "90secs"),
])
def test_format_duration_prints_like_stout(nanoseconds, text):
    assert af.format_duration(nanoseconds) == text


@pytest.mark.parametrize("text, count", [("0B", 0), ("512MB", 512 * 2 ** 20), ("2gb", 2 * 2 ** 30), ("1TB", 2 ** 40)])
def test_parse_bytes(text, count):
    assert af.parse_bytes(text) == count


@pytest.mark.parametrize("text, message", [
    ("MB", "Failed to convert '' to number"), ("1.5GB", "Fractional bytes '1.5GB'"),
    ("10", "Invalid bytes '10'"), ("10XB", "Unknown bytes unit 'XB'"),
])
def test_parse_bytes_errors(text, message):
    with pytest.raises(ValueError) as error:
        af.parse_bytes(text)
    assert str(error.value) == message


@pytest.mark.parametrize("text, value", [("true", True), ("1", True), ("false", False), ("0", False)])
def test_parse_bool_accepts_exactly_stout_values(text, value):
    assert af.parse_bool(text) is value


@pytest.mark.parametrize("text", ["yes", "True", "on", "", "maybe"])
def test_parse_bool_rejects_others(text):
    with pytest.raises(ValueError):
        af.parse_bool(text)


@pytest.mark.parametrize("name, value, expected", [
    ("foo", "1", "Failed to load unknown flag 'foo'"),
    ("docker_remove_delay", "soon",
     "Failed to load flag 'docker_remove_delay': Failed to load value 'soon': Failed to convert '' to number"),
    ("docker_kill_orphans", "maybe",
     "Failed to load flag 'docker_kill_orphans': Failed to load value 'maybe': Expecting a boolean (e.g., true or false)"),
    ("port", "http", "Failed to load flag 'port': Failed to load value 'http': Failed to convert into required type"),
    ("port", "70000", "Failed to load flag 'port': Failed to load value '70000': Failed to convert into required type"),
    ("docker_config", "{bad", None),
    ("executor_registration_timeout", "5mins", None),
    ("docker_kill_orphans", False, None),
    ("docker_kill_orphans", None, None),
    ("no-docker_kill_orphans", None, None),
    ("no-work_dir", None, "Failed to load non-boolean flag 'work_dir' via 'no-work_dir'"),
    ("work_dir", None, "Failed to load non-boolean flag 'work_dir': Missing value"),
    ("docker_config", "file:///nonexistent/config.json", None),
    ("slave_subsystems", "cpu", None),
])
def test_validate_flag(name, value, expected):
    if name == "docker_config" and value == "{bad":
        assert af.validate_flag(name, value, "1.12.0").startswith(
            "Failed to load flag 'docker_config': Failed to load value '{bad': ")
    else:
        assert af.validate_flag(name, value, "1.12.0") == expected


def test_validate_flag_reads_files_only_when_asked():
    error = af.validate_flag("docker_config", "file:///nonexistent/c.json", "1.12.0", read_files=True)
    assert error == ("Failed to load flag 'docker_config': Failed to load value "
                     "'file:///nonexistent/c.json': Error reading file '/nonexistent/c.json': "
                     "No such file or directory")


@pytest.mark.parametrize("name, version, known", [
    ("reconfiguration_policy", "1.4.0", False), ("reconfiguration_policy", "1.5.0", True),
    ("docker_ignore_runtime", "1.8.3", False), ("docker_ignore_runtime", "1.9.0", True),
    ("docker_config", "0.28.0", False), ("docker_config", "1.0.0", True),
    ("docker_sandbox_directory", "0.23.0", True), ("docker_sandbox_directory", "0.24.0", False),
    ("sandbox_directory", "0.24.0", True), ("docker_kill_orphans", "1.12.0", True),
])
def test_flags_follow_mesos_versions(name, version, known):
    assert (name in af.flags_for_version(version)) is known


@pytest.mark.parametrize("name, default", [
    ("docker_remove_delay", "6hrs"), ("docker_stop_timeout", "0ns"),
    ("executor_registration_timeout", "1mins"), ("sandbox_directory", "/mnt/mesos/sandbox"),
    ("docker_socket", "/var/run/docker.sock"), ("reconfiguration_policy", "equal"),
    ("recover", "reconnect"), ("strict", "true"), ("docker_kill_orphans", "true"),
    ("port", "5051"), ("docker_config", None),
])
def test_defaults_as_mesos_1_12_prints_them(name, default):
    assert af.flags_for_version("1.12.0")[name].default == default


def test_work_dir_is_required_from_1_0_and_had_a_default_before():
    assert af.flags_for_version("1.0.0")["work_dir"] == af.FlagSpec("string", None, True)
    assert af.flags_for_version("0.28.2")["work_dir"] == af.FlagSpec("string", "/tmp/mesos", False)
    assert af.validate_flags({"master": "zk://z:2181/mesos"}, "1.12.0") == [
        "Flag 'work_dir' is required, but it was not provided"]
    assert af.validate_flags({"master": "zk://z:2181/mesos"}, "0.28.0") == []


def test_validate_flags_lists_every_error_in_name_order():
    errors = af.validate_flags({"zzz": 1, "docker_kill_orphans": "maybe", "work_dir": "/w", "aaa": 2}, "1.12.0")
    assert errors == [
        "Failed to load unknown flag 'aaa'",
        "Failed to load flag 'docker_kill_orphans': Failed to load value 'maybe': Expecting a boolean (e.g., true or false)",
        "Failed to load unknown flag 'zzz'",
    ]


def test_every_table_row_is_well_formed():
    for name, (flag_type, default, first, last) in af.AGENT_FLAGS.items():
        assert flag_type in af.TYPES, name
        af.version_tuple(first)
        assert last is None or af.version_tuple(last) >= af.version_tuple(first), name
        if default is not None and flag_type != "bool" or default in ("true", "false"):
            af.load_value(flag_type, default, read_files=False)


@pytest.mark.parametrize("value, rendered", [
    (True, "true"), (False, "false"), (["docker", "mesos"], "docker,mesos"), (5, "5"),
    ({"auths": {"r": {"auth": "x"}}}, '{"auths":{"r":{"auth":"x"}}}'),
])
def test_render_value(value, rendered):
    assert af.render_value(value) == rendered


@pytest.mark.parametrize("ports", ["[21000-21099]", ["21000-21099"], [[21000, 21099]], [21000, 21099]])
def test_render_resources_port_forms(ports):
    resources = {"cpus": 4, "mem": 1280, "disk": 25600, "ports": ports}
    assert af.render_resources(resources) == "cpus:4;mem:1280;disk:25600;ports:[21000-21099]"


def test_render_resources_keeps_order_and_several_ranges():
    assert af.render_resources({"ports": [[1, 2], [5, 9]], "cpus": 0.5}) == "ports:[1-2,5-9];cpus:0.5"


def test_render_attributes():
    assert af.render_attributes({"rack": "a", "zone": "b"}) == "rack:a;zone:b"
    assert af.render_attributes("rack:a") == "rack:a"


@pytest.mark.parametrize("flag, variable", [("docker_config", "MESOS_DOCKER_CONFIG"), ("work_dir", "MESOS_WORK_DIR")])
def test_env_names_round_trip(flag, variable):
    assert af.env_name(flag) == variable
    assert af.flag_from_env(variable) == flag


def test_flag_from_env_ignores_other_variables():
    assert af.flag_from_env("PATH") is None
    assert af.flag_from_env("MESOS_") is None


@pytest.mark.parametrize("version, binary", [("0.28.2", "mesos-slave"), ("1.0.0", "mesos-agent"), ("1.12.0", "mesos-agent")])
def test_binary_name(version, binary):
    assert af.binary_name(version) == binary
