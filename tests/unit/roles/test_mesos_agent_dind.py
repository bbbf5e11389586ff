"""Role mesos_agent_dind: the slices the role hands the entrypoint (computed by
plugins/module_utils/_dind_network.py, refusing what the seed's shell arithmetic silently wraps), the
entrypoint's checks of them, the preflight of the secrets, and how the entrypoint tells agent flags from a command."""
import ipaddress
import os
import subprocess

import pytest
import yaml

from ansible_collections.mesos.docker.plugins.module_utils._dind_network import DindNetworkError, allocate

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(REPO, "roles", "mesos_agent_dind")
ENTRYPOINT = os.path.join(ROLE, "files", "entrypoint.sh")


def _load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


def _slice(address, offset, size):
    """The slice the role passes (MESOS_AGENT_DIND_FIXED_CIDR) for an agent at ``address`` pinned to ``offset``."""
    network = str(ipaddress.ip_interface(address).network)
    return allocate(network, size, [{"name": "a", "offset": offset}])["a"]


# What the entrypoint's own arithmetic gave (or refused) before the role passed the slice: the same
# --fixed-cidr now, and the same refusals, before any container starts.
@pytest.mark.parametrize(
    "address, offset, size, outcome",
    [
        ("172.17.0.3/16", "0.0.1.0", 24, "172.17.1.0/24"),
        ("172.17.0.3/16", "0.0.2.0", 24, "172.17.2.0/24"),
        ("172.17.0.3/16", "0.0.255.0", 24, "172.17.255.0/24"),
        ("10.247.0.2/16", "0.0.128.0", 20, "10.247.128.0/20"),
        ("10.0.0.5/24", "0.0.0.64", 26, "10.0.0.64/26"),
        ("172.17.0.3/16", "0.1.0.0", 24, DindNetworkError("overflows past the end of the parent network")),  # seed: wraps
        ("10.0.0.5/24", "0.0.1.0", 26, DindNetworkError("overflows past the end of the parent network")),
        ("172.17.0.3/16", "0.0.256.0", 24, DindNetworkError("has octet 256 > 255")),
        ("172.17.0.3/16", "0.0.1.128", 24, DindNetworkError("is not aligned to /24 blocks")),
        ("172.17.0.3/16", "0.0.0.0", 24, DindNetworkError("is reserved")),
        ("172.17.0.3/16", "0.0.1.0", 16, DindNetworkError("is not larger than the prefix")),
        ("172.17.0.3/16", "0.0.1.0", 31, DindNetworkError("between 17 and 30")),
    ],
)
def test_the_role_passes_the_slice_the_entrypoint_computed(address, offset, size, outcome):
    if isinstance(outcome, Exception):
        with pytest.raises(type(outcome), match=str(outcome)):
            _slice(address, offset, size)
        return
    entry = _slice(address, offset, size)
    assert entry["fixed_cidr"] == outcome
    assert entry["last_ip"] == str(ipaddress.ip_network(outcome)[-1])


def check_slice(address, fixed_cidr, last_ip, route):
    """The entrypoint's check_slice, with ``ip -4 route get`` answering ``route``."""
    return subprocess.run(
        ["bash", "-c", 'source "$1" && ip() { printf "%s\\n" "$ROUTE"; } && check_slice "$2" "$3" "$4" eth0',
         "test", ENTRYPOINT, address, fixed_cidr, last_ip],
        env=dict(os.environ, ROUTE=route), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False,
    )


ON_LINK = "172.17.1.0 dev eth0 src 172.17.0.3 uid 0"


@pytest.mark.parametrize("address, fixed_cidr, last_ip", [
    ("172.17.0.3/16", "172.17.1.0/24", "172.17.1.255"),
    ("10.0.0.5/24", "10.0.0.64/26", "10.0.0.127"),
    ("10.0.0.9/24", "10.0.0.64/26", "10.0.0.127"),  # 9 < 64 as numbers, not as strings
    ("10.0.0.128/24", "10.0.0.64/26", "10.0.0.127"),
])
def test_entrypoint_accepts_a_slice_on_its_network(address, fixed_cidr, last_ip):
    proc = check_slice(address, fixed_cidr, last_ip, ON_LINK)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("address, fixed_cidr, last_ip, route, reason", [
    ("172.17.1.3/16", "172.17.1.0/24", "172.17.1.255", ON_LINK, "own address 172.17.1.3 lies inside its slice"),
    ("10.0.0.64/24", "10.0.0.64/26", "10.0.0.127", ON_LINK, "own address 10.0.0.64 lies inside its slice"),
    ("10.0.0.127/24", "10.0.0.64/26", "10.0.0.127", ON_LINK, "own address 10.0.0.127 lies inside its slice"),
    ("172.17.0.3/16", "172.18.1.0/24", "172.18.1.255", "172.18.1.0 via 172.17.0.1 dev eth0 src 172.17.0.3",
     "the slice 172.18.1.0/24 is not on the network of eth0 (172.17.0.3/16)"),
    ("172.17.0.3/16", "172.18.1.0/24", "172.18.1.255", "", "the route to 172.18.1.0 is 'none'"),
])
def test_entrypoint_refuses_a_slice_off_its_network_or_on_its_address(address, fixed_cidr, last_ip, route, reason):
    proc = check_slice(address, fixed_cidr, last_ip, route)
    assert proc.returncode != 0
    assert reason in proc.stderr


def test_entrypoint_refuses_an_offset_it_no_longer_computes():
    proc = subprocess.run(["bash", "-c", 'source "$1" && prepare_network', "test", ENTRYPOINT],
                          env=dict(os.environ, DOCKER_NETWORK_OFFSET="0.0.1.0"), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, check=False)
    assert proc.returncode != 0 and "give the slice as MESOS_AGENT_DIND_FIXED_CIDR" in proc.stderr, proc.stderr


# Preflight of the secrets (issue 6), run through ansible-playbook with tasks_from: preflight
# (no Docker needed): the flags each agent gets, the refusals, the opt-out warning.
PREFLIGHT_PLAY = """
- hosts: localhost
  gather_facts: false
  vars:
    mesos_agent_dind_master: 127.0.0.1:5050
    mesos_agent_dind_agents: [{name: a}]
    mesos_agent_dind_docker_config: {auths: {"127.0.0.1:5000": {auth: dXNlcjpzM2NyM3Q=}}}
    mesos_agent_dind_credentials_key: unit-test-cluster-key
  tasks:
    - ansible.builtin.include_role:
        name: mesos.docker.mesos_agent_dind
        tasks_from: preflight
        # The specs are a role variable (vars/main.yml, the agent_spec filter): public shows it to the debug below.
        public: true
    - ansible.builtin.debug:
        msg: "SPECS={{ _mesos_agent_dind_specs | to_json }}"
"""


def preflight(tmp_path, **extra):
    import json
    import sys

    play = tmp_path / "preflight.yml"
    play.write_text(PREFLIGHT_PLAY)
    collections = tmp_path / "collections" / "ansible_collections" / "mesos"
    collections.mkdir(parents=True)
    (collections / "docker").symlink_to(REPO)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    proc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
         str(play), "-e", json.dumps(extra)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, check=False,
    )
    specs = None
    for line in proc.stdout.splitlines():
        if '"msg": "SPECS=' in line:
            specs = json.loads(json.loads("{" + line.strip() + "}")["msg"][len("SPECS="):])
    return proc, specs


def test_docker_config_turns_http_authentication_on(tmp_path):
    proc, specs = preflight(tmp_path)
    assert proc.returncode == 0, proc.stdout
    flags = specs[0]["flags"]
    assert flags["docker_config"] == "file:///etc/mesos-agent-dind/docker_config.json"
    assert flags["authenticate_http_readonly"] is True and flags["authenticate_http_readwrite"] is True
    assert flags["http_credentials"] == "file:///etc/mesos-agent-dind/http_credentials.json"
    assert sorted(specs[0]["secret_files"]) == ["/etc/mesos-agent-dind/a.credential.json",
                                                "/etc/mesos-agent-dind/docker_config.json",
                                                "/etc/mesos-agent-dind/http_credentials.json"]
    assert "dXNlcjpzM2NyM3Q=" not in proc.stdout and "WARNING mesos_agent_dind" not in proc.stdout


def test_opting_out_warns(tmp_path):
    proc, specs = preflight(tmp_path, mesos_agent_dind_http_authentication="disabled")
    assert proc.returncode == 0, proc.stdout
    assert "http_credentials" not in specs[0]["flags"]
    assert "WARNING mesos_agent_dind: mesos_agent_dind_http_authentication=disabled" in proc.stdout
    assert "reads the registry credentials from /flags and /state" in proc.stdout


def test_http_authentication_is_on_without_docker_config_too(tmp_path):
    proc, specs = preflight(tmp_path, mesos_agent_dind_docker_config={})
    assert proc.returncode == 0, proc.stdout
    assert "docker_config" not in specs[0]["flags"]
    assert specs[0]["flags"]["http_credentials"] == "file:///etc/mesos-agent-dind/http_credentials.json"


def test_auto_without_docker_config_no_authentication(tmp_path):
    proc, specs = preflight(tmp_path, mesos_agent_dind_docker_config={}, mesos_agent_dind_http_authentication="auto")
    assert proc.returncode == 0, proc.stdout
    assert "docker_config" not in specs[0]["flags"] and "http_credentials" not in specs[0]["flags"]
    assert specs[0]["secret_files"] == ["/etc/mesos-agent-dind/a.credential.json"]


def test_each_agent_registers_with_its_own_credential(tmp_path):
    proc, specs = preflight(tmp_path, mesos_agent_dind_agents=[{"name": "a"}, {"name": "b", "principal": "rack-1/b"}])
    assert proc.returncode == 0, proc.stdout
    assert [(s["principal"], s["credential_path"], s["flags"]["credential"]) for s in specs] == [
        ("localhost/a", "/etc/mesos-agent-dind/a.credential.json", "file:///etc/mesos-agent-dind/a.credential.json"),
        ("rack-1/b", "/etc/mesos-agent-dind/b.credential.json", "file:///etc/mesos-agent-dind/b.credential.json")]
    assert "/etc/mesos-agent-dind/b.credential.json" not in specs[0]["secret_files"]
    assert "/etc/mesos-agent-dind/a.credential.json" not in specs[1]["secret_files"]


def test_no_agent_authentication_no_credential(tmp_path):
    proc, specs = preflight(tmp_path, mesos_agent_dind_authentication="disabled")
    assert proc.returncode == 0, proc.stdout
    assert "credential" not in specs[0]["flags"] and specs[0]["credential_path"] is None
    assert "/etc/mesos-agent-dind/a.credential.json" not in specs[0]["secret_files"]


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"mesos_agent_dind_http_credentials": [{"principal": "ops", "secret": ""}]},
         "every entry of mesos_agent_dind_http_credentials needs a non-empty principal and secret"),
        ({"mesos_agent_dind_http_credentials_path": "creds.json"}, 'mesos_agent_dind_http_credentials_path=\\"creds.json\\"'),
        ({"mesos_agent_dind_secrets_dir": "/etc"}, 'mesos_agent_dind_secrets_dir=\\"/etc\\"'),
        ({"mesos_agent_dind_http_authentication": "off"}, "mesos_agent_dind_http_authentication=off (auto|enabled|disabled)"),
        ({"mesos_agent_dind_docker_config": {}, "mesos_agent_dind_agents": [{"name": "a", "flags": {"docker_config": '{"auths": {}}'}}]},
         "docker_config given as a value in mesos_agent_dind_agents[a].flags"),
        ({"mesos_agent_dind_credentials_key": ""},
         "agent authentication is on (mesos_agent_dind_authentication=enabled) but there is no credential"),
    ],
)
def test_preflight_refuses(tmp_path, extra, message):
    proc, dummy = preflight(tmp_path, **extra)
    assert proc.returncode != 0
    assert message in proc.stdout, proc.stdout[-3000:]


@pytest.mark.parametrize("argv, agent", [
    ([], True),
    (["--work_dir=/var/lib/mesos", "--port=5051"], True),
    (["-h"], True),
    # What Mesos runs in a container of docker_mesos_image (shell=false: these arrive as arguments).
    (["/opt/mesos/libexec/mesos/mesos-docker-executor", "--container=mesos-x", "--docker=docker"], False),
    (["sh", "-c", "echo hi"], False),
])
def test_entrypoint_tells_agent_flags_from_a_command(argv, agent):
    run = subprocess.run(["bash", "-c", 'source "$1"; shift; agent_arguments "$@"', "test", ENTRYPOINT] + argv,
                         check=False)
    assert (run.returncode == 0) is agent


def test_entrypoint_execs_an_executor_command_unchanged_as_any_pid(tmp_path):
    # Not PID 1, not in a container, no MESOS_AGENT_DIND_* environment: an executor in a container started
    # with --pid=host runs as Mesos gave it, with its arguments untouched.
    out = tmp_path / "argv"
    script = "printf '%s\\n' \"$@\" > " + str(out)
    run = subprocess.run(["bash", ENTRYPOINT, "sh", "-c", script, "executor", "--container=mesos-1 2", "--x="],
                         env={"PATH": os.environ["PATH"]}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert out.read_text().splitlines() == ["--container=mesos-1 2", "--x="]


def test_entrypoint_still_refuses_to_start_the_agent_outside_its_own_container():
    # Agent flags here (not PID 1 of a container, no container mode): refused before touching /sys or a dockerd,
    # as "outside a container" or, where this test itself runs in one, as "not PID 1".
    run = subprocess.run(["bash", ENTRYPOINT, "--work_dir=/tmp/x"], env={"PATH": os.environ["PATH"]},
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    assert run.returncode == 1 and "refusing to run" in run.stderr, run.stderr


def test_the_image_runs_the_mesos_agent_roles_cgroup2_workaround():
    """One hybrid-cgroup2 workaround: the script the mesos_agent role's host unit runs the agent through is
    copied into the image at the same path, and the entrypoint runs it."""
    with open(os.path.join(REPO, "roles", "mesos_agent", "vars", "main.yml")) as handle:
        host_path = yaml.safe_load(handle)["_mesos_agent_cgroup2_wrapper"]
    [wrapper] = [entry for entry in _load("vars", "main.yml")["_mesos_agent_dind_image_files"]
                 if entry["src"] == "{{ role_path }}/../mesos_agent/files/without-unified-cgroup2"]
    assert wrapper["dest"] == host_path and wrapper["mode"] == "0755"
    assert os.path.isfile(os.path.join(REPO, "roles", "mesos_agent", "files", "without-unified-cgroup2"))
    with open(ENTRYPOINT) as handle:
        assert "\nCGROUP2_WRAPPER=%s\n" % host_path in handle.read()


@pytest.mark.parametrize("wrapper, logged", [("true", ""), ("false", "cannot detach the cgroup2 mounts")])
def test_entrypoint_goes_on_when_the_cgroup2_workaround_fails(wrapper, logged):
    proc = subprocess.run(["bash", "-c", 'source "$1" && CGROUP2_WRAPPER=$2 && hide_hybrid_cgroup2', "test", ENTRYPOINT,
                           wrapper], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    assert proc.returncode == 0 and logged in proc.stderr, proc.stderr
