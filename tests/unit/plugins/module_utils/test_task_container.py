"""Task spec → Docker API arguments, pinned against Mesos's Docker::RunOptions::create / Docker::run."""
import pytest

from ansible_collections.mesos.docker.plugins.module_utils import _task_container as tc
from ansible_collections.mesos.docker.plugins.module_utils._task_container import TaskSpecError

CID = "2b1c6f3e-5b1a-4a38-9d1c-0f8e7b3c9a11"
NAME = "mesos-" + CID


def spec(**kw):
    base = dict(name=NAME, container_id=CID, image="busybox:latest", sandbox="/var/lib/mesos/sb", command="echo hi")
    base.update(kw)
    return base


def env_of(built):
    return dict(e.split("=", 1) for e in built["create"]["environment"])


# ---- the three command rules -------------------------------------------------------------

def test_shell_true_overrides_entrypoint():
    b = tc.build(spec(command="echo $HOME && ls", shell=True))
    assert b["create"]["entrypoint"] == ["/bin/sh"]
    assert b["create"]["command"] == ["-c", "echo $HOME && ls"]


def test_shell_is_the_mesos_default():
    b = tc.build(spec(command="echo hi"))
    assert b["create"]["entrypoint"] == ["/bin/sh"]
    assert b["create"]["command"] == ["-c", "echo hi"]


def test_shell_true_ignores_arguments_with_warning():
    b = tc.build(spec(command="echo hi", shell=True, arguments=["a", "b"]))
    assert b["create"]["command"] == ["-c", "echo hi"]
    assert any("ignored" in w for w in b["warnings"])


def test_shell_false_value_and_arguments_go_to_entrypoint():
    b = tc.build(spec(command="first", shell=False, arguments=["second", "third"]))
    assert b["create"]["entrypoint"] is None  # the image's ENTRYPOINT stays
    assert b["create"]["command"] == ["first", "second", "third"]  # replaces CMD


def test_shell_false_arguments_only():
    b = tc.build(spec(command=None, shell=False, arguments=["x", "y"]))
    assert b["create"]["entrypoint"] is None
    assert b["create"]["command"] == ["x", "y"]


@pytest.mark.parametrize("shell", [False, None], ids=["shell-false", "shell-unset"])
def test_no_command_means_image_default(shell):
    """shell unset without a command is false: the image's default command runs."""
    b = tc.build(spec(command=None, shell=shell))
    assert b["create"]["entrypoint"] is None
    assert b["create"]["command"] is None


@pytest.mark.parametrize("shell, command, expected", [(None, "x", True), (None, None, False), (None, "", False),
                                                      (True, None, True), (False, "x", False)])
def test_resolve_shell(shell, command, expected):
    assert tc.resolve_shell(shell, command) is expected


@pytest.mark.parametrize("command", [None, ""])
def test_shell_without_command_is_an_error(command):
    with pytest.raises(TaskSpecError, match="no command"):
        tc.build(spec(command=command, shell=True))


def test_command_value_with_spaces_is_one_argument_without_shell():
    # Mesos pushes commandInfo.value() as a single argv element
    b = tc.build(spec(command="echo a b", shell=False))
    assert b["create"]["command"] == ["echo a b"]


# ---- resources -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "cpus, shares",
    [(1, 1024), (0.5, 512), (2.5, 2560), (0.001, 2), (0.0015, 2), (0.1, 102), (0.01, 10), (4, 4096), (0.0019, 2)],
)
def test_cpu_shares(cpus, shares):
    assert tc.cpu_shares(cpus) == shares
    assert tc.build(spec(cpus=cpus))["host_config"]["cpu_shares"] == shares


@pytest.mark.parametrize(
    "mem, expected",
    [(128, 134217728), (32, 32 * 1024 * 1024), (1, 32 * 1024 * 1024), (31.9, 32 * 1024 * 1024), (64.5, 64 * 1048576),
     (100.99, 100 * 1048576), (32.9, 32 * 1048576),
     (1024, 1 << 30)],
)
def test_memory(mem, expected):
    assert tc.memory_bytes(mem) == expected
    assert tc.build(spec(mem=mem))["host_config"]["mem_limit"] == expected


@pytest.mark.parametrize("field, value", [("cpus", -1), ("cpus", 0), ("mem", -5), ("mem", 0)])
def test_negative_or_zero_resources(field, value):
    with pytest.raises(TaskSpecError, match=field):
        tc.build(spec(**{field: value}))


def test_no_resources_no_limits_no_role():
    b = tc.build(spec())
    assert "cpu_shares" not in b["host_config"]
    assert "mem_limit" not in b["host_config"]
    assert "MESOS_ALLOCATION_ROLE" not in env_of(b)


def test_resources_set_allocation_role():
    assert env_of(tc.build(spec(cpus=1)))["MESOS_ALLOCATION_ROLE"] == "*"
    assert env_of(tc.build(spec(mem=64, role="web")))["MESOS_ALLOCATION_ROLE"] == "web"


# ---- env -------------------------------------------------------------------------------------

def test_env_is_sorted_and_mesos_variables_win():
    b = tc.build(spec(env={"ZED": 1, "ALPHA": "a=b", "MESOS_SANDBOX": "/elsewhere", "EMPTY": None}))
    env = b["create"]["environment"]
    assert env == sorted(env)
    d = env_of(b)
    assert d["MESOS_SANDBOX"] == "/mnt/mesos/sandbox"
    assert d["MESOS_CONTAINER_NAME"] == NAME
    assert d["ALPHA"] == "a=b" and d["ZED"] == "1" and d["EMPTY"] == ""
    assert any("MESOS_SANDBOX" in w for w in b["warnings"])


def test_custom_sandbox_directory():
    b = tc.build(spec(sandbox_directory="/sandbox"))
    assert env_of(b)["MESOS_SANDBOX"] == "/sandbox"
    assert b["host_config"]["binds"] == ["/var/lib/mesos/sb:/sandbox"]


# ---- volumes -------------------------------------------------------------------------------

def test_sandbox_bind_last():
    b = tc.build(spec(volumes=[{"host_path": "/data", "container_path": "/data", "mode": "ro"}]))
    assert b["host_config"]["binds"] == ["/data:/data:ro", "/var/lib/mesos/sb:/mnt/mesos/sandbox"]


def test_relative_container_path_resolves_under_container_sandbox():
    b = tc.build(spec(volumes=[{"host_path": "/data", "container_path": "data"}]))
    assert b["host_config"]["binds"][0] == "/data:/mnt/mesos/sandbox/data:rw"


def test_relative_host_path_resolves_under_host_sandbox():
    b = tc.build(spec(volumes=[{"host_path": "cache", "container_path": "/cache"}]))
    assert b["host_config"]["binds"][0] == "/var/lib/mesos/sb/cache:/cache:rw"


def test_both_relative_is_an_error():
    with pytest.raises(TaskSpecError, match="are relative"):
        tc.build(spec(volumes=[{"host_path": "a", "container_path": "b"}]))


def test_named_docker_volume():
    b = tc.build(spec(volumes=[{"source": "myvol", "container_path": "v", "mode": "ro"}]))
    assert b["host_config"]["binds"][0] == "myvol:/mnt/mesos/sandbox/v:ro"


@pytest.mark.parametrize(
    "volume, message",
    [
        ({"container_path": "/x"}, "Host path or volume source"),
        ({"host_path": "/x"}, "container_path"),
        ({"host_path": "/x", "source": "v", "container_path": "/x"}, "not both"),
        ({"host_path": "/x", "container_path": "/x", "mode": "rx"}, "mode"),
    ],
)
def test_bad_volumes(volume, message):
    with pytest.raises(TaskSpecError, match=message):
        tc.build(spec(volumes=[volume]))


@pytest.mark.parametrize("sandbox", [None, "", "relative/sb", "sb"])
def test_sandbox_must_be_absolute(sandbox):
    with pytest.raises(TaskSpecError, match="sandbox"):
        tc.build(spec(sandbox=sandbox))


def test_sandbox_directory_must_be_absolute():
    with pytest.raises(TaskSpecError, match="sandbox_directory"):
        tc.build(spec(sandbox_directory="mnt"))


def test_image_required():
    with pytest.raises(TaskSpecError, match="image"):
        tc.build(spec(image=None))


# ---- network ---------------------------------------------------------------------------------

def test_host_network_is_default():
    assert tc.build(spec())["host_config"]["network_mode"] == "host"


@pytest.mark.parametrize("network", ["bridge", "none", "my-user-net"])
def test_other_networks(network):
    assert tc.build(spec(network=network))["host_config"]["network_mode"] == network


@pytest.mark.parametrize("network", ["host", "none", None])
def test_port_mappings_refused_on_host_and_none(network):
    with pytest.raises(TaskSpecError, match="Port mappings"):
        tc.build(spec(network=network, port_mappings=[{"host_port": 31000, "container_port": 80}]))


def test_port_mappings_bridge():
    b = tc.build(
        spec(
            network="bridge",
            port_mappings=[
                {"host_port": 31000, "container_port": 80},
                {"host_port": 31001, "container_port": 80},
                {"host_port": 31002, "container_port": 53, "protocol": "UDP"},
            ],
        )
    )
    assert b["create"]["ports"] == [(80, "tcp"), (53, "udp")]
    assert b["host_config"]["port_bindings"] == {"80/tcp": [31000, 31001], "53/udp": [31002]}


@pytest.mark.parametrize(
    "mapping", [{"host_port": 0, "container_port": 80}, {"host_port": 70000, "container_port": 80},
                {"host_port": 1, "container_port": 80, "protocol": "icmp"}, {"container_port": 80}]
)
def test_bad_port_mappings(mapping):
    with pytest.raises(TaskSpecError, match="port mapping"):
        tc.build(spec(network="bridge", port_mappings=[mapping]))


def test_hostname_not_with_host_network():
    with pytest.raises(TaskSpecError, match="hostname"):
        tc.build(spec(hostname="h"))
    assert tc.build(spec(hostname="h", network="bridge"))["create"]["hostname"] == "h"


# ---- labels ----------------------------------------------------------------------------------

def test_labels_record_identity():
    b = tc.build(spec(agent_id="A-S0", framework_id="F", task_id="T", executor_id="E", executor=True, labels={"x": 1}))
    labels = b["create"]["labels"]
    assert labels["org.apache.mesos.agent_id"] == "A-S0"
    assert labels["org.apache.mesos.framework_id"] == "F"
    assert labels["org.apache.mesos.task_id"] == "T"
    assert labels["org.apache.mesos.executor_id"] == "E"
    assert labels["org.apache.mesos.container_id"] == CID
    assert labels["org.apache.mesos.executor"] == "true"
    assert labels["org.apache.mesos.launcher"] == "mesos.docker"
    assert labels["x"] == "1"


def test_reserved_labels_refused():
    with pytest.raises(TaskSpecError, match="reserved"):
        tc.build(spec(labels={"org.apache.mesos.agent_id": "other"}))


# ---- the reference task of MESOS-REFERENCE.md -------------------------------------------------

def test_matches_observed_mesos_launch():
    b = tc.build(spec(command="sleep 1", cpus=1, mem=128))
    assert b["create"]["name"] == NAME
    assert b["create"]["entrypoint"] == ["/bin/sh"]
    assert b["create"]["command"] == ["-c", "sleep 1"]
    assert b["host_config"] == {
        "binds": ["/var/lib/mesos/sb:/mnt/mesos/sandbox"],
        "network_mode": "host",
        "cpu_shares": 1024,
        "mem_limit": 134217728,
    }
    assert b["create"]["environment"] == [
        "MESOS_ALLOCATION_ROLE=*",
        "MESOS_CONTAINER_NAME=" + NAME,
        "MESOS_SANDBOX=/mnt/mesos/sandbox",
    ]


# ---- views for idempotence -------------------------------------------------------------------

def _inspect_for(built, image_config=None):
    c, hc = built["create"], built["host_config"]
    image_config = image_config or {"Entrypoint": None, "Cmd": ["sh"], "Env": ["PATH=/bin"]}
    return {
        "Config": {
            "Image": c["image"],
            "Entrypoint": c["entrypoint"] if c["entrypoint"] is not None else image_config["Entrypoint"],
            "Cmd": c["command"] if c["command"] is not None else (image_config["Cmd"] if c["entrypoint"] is None else None),
            "Env": image_config["Env"] + c["environment"],
            "Labels": dict(c["labels"], **{"from.image": "1"}),
            "Hostname": "abc",
        },
        "HostConfig": {
            "Binds": hc["binds"],
            "NetworkMode": hc["network_mode"],
            "CpuShares": hc.get("cpu_shares", 0),
            "Memory": hc.get("mem_limit", 0),
            "PortBindings": {k: [{"HostIp": "", "HostPort": str(p)} for p in v] for k, v in (hc.get("port_bindings") or {}).items()},
            "Privileged": False,
        },
    }


@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(command=None, shell=False),
        dict(command="x", shell=False, arguments=["y"]),
        dict(cpus=0.5, mem=64, env={"A": "1"}),
        dict(network="bridge", port_mappings=[{"host_port": 31000, "container_port": 80}]),
    ],
)
def test_views_equal_for_same_spec(kw):
    b = tc.build(spec(**kw))
    desired = tc.desired_view(b)
    image_config = {"Entrypoint": None, "Cmd": ["sh"], "Env": ["PATH=/bin"]}
    assert tc.actual_view(_inspect_for(b, image_config), desired, image_config) == desired


def test_views_differ_on_change():
    b1 = tc.build(spec(cpus=1))
    b2 = tc.build(spec(cpus=2))
    assert tc.actual_view(_inspect_for(b1), tc.desired_view(b2)) != tc.desired_view(b2)


# ---- issue 11: executor containers, port resources, the sandbox link, log options, current-image ---------

def test_executor_container_gets_what_mesos_gives_it():
    """DockerContainerizerProcess::Container::create under --docker_mesos_image."""
    b = tc.build(spec(executor=True, docker_socket="/run/docker.sock"))
    hc = b["host_config"]
    assert hc["pid_mode"] == "host" and hc["cap_add"] == ["SYS_ADMIN", "SYS_PTRACE"]
    assert hc["binds"] == ["/run/docker.sock:/run/docker.sock:ro", "/var/lib/mesos/sb:/var/lib/mesos/sb:rw",
                           "/var/lib/mesos/sb:/mnt/mesos/sandbox"]
    plain = tc.build(spec())["host_config"]
    assert "pid_mode" not in plain and "cap_add" not in plain


@pytest.mark.parametrize("host_port, ok", [(31000, True), (31099, True), (32005, True), (30999, False), (31100, False)])
def test_port_mappings_within_ports_resources(host_port, ok):
    kw = dict(network="bridge", port_mappings=[dict(host_port=host_port, container_port=80)],
              ports=["31000-31099", "32005"])
    if ok:
        assert tc.build(spec(**kw))["host_config"]["port_bindings"] == {"80/tcp": [host_port]}
    else:
        with pytest.raises(TaskSpecError, match=r"Port \[%d\] not included in resources" % host_port):
            tc.build(spec(**kw))


@pytest.mark.parametrize("ports", [["31000-30000"], ["abc"], ["0-10"], ["70000"]])
def test_bad_ports_resources(ports):
    with pytest.raises(TaskSpecError, match="ports must be"):
        tc.port_ranges(ports)


def test_sandbox_mount_replaces_the_sandbox_in_binds():
    b = tc.build(spec(sandbox="/w/slaves/S:0/runs/x", sandbox_mount="/w/slaves/S0/docker/links/" + CID,
                      volumes=[dict(container_path="/data", host_path="data")]))
    assert b["host_config"]["binds"] == ["/w/slaves/S0/docker/links/%s/data:/data:rw" % CID,
                                         "/w/slaves/S0/docker/links/%s:/mnt/mesos/sandbox" % CID]


def test_log_options_are_compared_only_when_given():
    built = tc.build(spec(log_options={"max-size": "10m", "max-file": 3}))
    assert built["host_config"]["log_config"] == dict(type=None, config={"max-size": "10m", "max-file": "3"})
    desired = tc.desired_view(built)
    inspect = dict(Config=dict(Image="busybox:latest"), HostConfig=dict(LogConfig=dict(
        Type="json-file", Config={"max-size": "10m", "max-file": "3", "compress": "false"})))
    assert tc.actual_view(inspect, desired)["log_options"] == desired["log_options"]
    plain = tc.desired_view(tc.build(spec()))
    assert plain["log_options"] is None and tc.actual_view(inspect, plain)["log_options"] is None


def test_default_command_compared_with_the_image_the_container_was_created_from():
    """A moved tag (new CMD) is no difference: the caller passes the config of the container's own image."""
    desired = tc.desired_view(tc.build(spec(command=None, shell=None)))
    inspect = dict(Image="sha256:old", Config=dict(Image="busybox:latest", Cmd=["old-cmd"], Entrypoint=None, Env=[]),
                   HostConfig=dict(Binds=["/var/lib/mesos/sb:/mnt/mesos/sandbox"], NetworkMode="host"))
    assert tc.actual_view(inspect, desired, dict(Cmd=["old-cmd"]))["command"] is None
    assert tc.actual_view(inspect, desired, dict(Cmd=["new-cmd"]))["command"] == ["old-cmd"]


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(image="UPPER/Case"), "image:"),
        (dict(container_id="nope"), "container_id must be a UUID"),
        (dict(container_id=None, task_id=None), "container_id or task_id"),
        (dict(work_dir="rel"), "work_dir must be an absolute"),
        (dict(shell=True, command=None), "no command"),
    ],
)
def test_validate_spec_names_the_option(kw, message):
    base = dict(container_id=CID, image="busybox:latest", sandbox="/var/lib/mesos/sb", command="echo hi", state="started")
    base.update(kw)
    with pytest.raises(TaskSpecError, match=message):
        tc.validate_spec(base)
