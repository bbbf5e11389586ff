# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The stand-in mesos-agent, run as a real subprocess on a free loopback port."""
import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

STANDIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mesos-agent")
HINT = "See `mesos-agent --help` for a list of supported flags."


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(extra=None):
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("MESOS_"))
    env.update(extra or {})
    return env


def run(args, env=None):
    return subprocess.run([sys.executable, STANDIN] + args, env=clean_env(env),
                          capture_output=True, text=True, timeout=20, check=False)


class Agent:
    def __init__(self, work_dir, args=(), env=None):
        self.port = free_port()
        self.work_dir = str(work_dir)
        self.process = subprocess.Popen(
            [sys.executable, STANDIN, "--master=zk://127.0.0.1:2181/mesos", "--work_dir=" + self.work_dir,
             "--ip=127.0.0.1", "--port=%d" % self.port] + list(args),
            env=clean_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("stand-in exited: %s" % self.process.stderr.read())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise AssertionError("stand-in did not listen")

    def get(self, path, auth=None):
        request = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path))
        if auth:
            request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                body = response.read()
                return response.status, (json.loads(body) if body else None), response.headers
        except urllib.error.HTTPError as error:
            return error.code, None, error.headers

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process.stdout.close()
        self.process.stderr.close()


@pytest.fixture
def agent(tmp_path):
    started = []

    def start(args=(), env=None, work_dir=None):
        started.append(Agent(work_dir or tmp_path / "work", args, env))
        return started[-1]

    yield start
    for running in started:
        running.stop()


def test_help_first_line_says_stand_in():
    result = run(["--help"])
    assert result.returncode == 0
    assert "STAND-IN for the Apache Mesos agent, for tests only" in result.stdout.splitlines()[2]


def test_version_flag():
    assert run(["--version"], {"MESOS_STANDIN_VERSION": "1.9.0"}).stdout == "mesos 1.9.0\n"


@pytest.mark.parametrize("args, error", [
    (["--foo=1"], "Failed to load unknown flag 'foo'"),
    (["--docker_remove_delay=soon"],
     "Failed to load flag 'docker_remove_delay': Failed to load value 'soon': Failed to convert '' to number"),
    (["--docker_kill_orphans=maybe"],
     "Failed to load flag 'docker_kill_orphans': Failed to load value 'maybe': Expecting a boolean (e.g., true or false)"),
    (["--master=m"], "Flag 'work_dir' is required, but it was not provided"),
    (["--master=m", "--work_dir=/w", "--docker_config=file:///nonexistent/c.json"],
     "Failed to load flag 'docker_config': Failed to load value 'file:///nonexistent/c.json': "
     "Error reading file '/nonexistent/c.json': No such file or directory"),
])
def test_flag_errors_exit_1_with_mesos_message(args, error):
    result = run(args)
    assert result.returncode == 1
    assert result.stderr == "%s\n\n%s\n" % (error, HINT)


def test_missing_master_exits(tmp_path):
    result = run(["--work_dir=%s" % tmp_path])
    assert result.returncode == 1
    assert "Missing required option `--master` or `--master_detector`" in result.stderr


def test_flags_are_strings_with_defaults(agent):
    flags = agent().get("/flags")[1]["flags"]
    assert all(isinstance(value, str) for value in flags.values())
    assert flags["docker_remove_delay"] == "6hrs"
    assert flags["docker_stop_timeout"] == "0ns"
    assert flags["executor_registration_timeout"] == "1mins"
    assert flags["sandbox_directory"] == "/mnt/mesos/sandbox"
    assert "docker_config" not in flags


def test_unknown_env_ignored_and_known_env_read(agent):
    running = agent(env={"MESOS_DOCKER_KIL_ORPHANS": "false", "MESOS_RESOURCES": "cpus:2;mem:1024;ports:[21000-21099]",
                         "MESOS_EXECUTOR_REGISTRATION_TIMEOUT": "300secs"})
    flags = running.get("/flags")[1]["flags"]
    assert flags["docker_kill_orphans"] == "true"
    assert flags["resources"] == "cpus:2;mem:1024;ports:[21000-21099]"
    assert flags["executor_registration_timeout"] == "5mins"
    assert running.get("/state")[1]["resources"]["cpus"] == 2.0


def test_command_line_wins_over_env(agent):
    flags = agent(["--docker_kill_orphans=false"], env={"MESOS_DOCKER_KILL_ORPHANS": "true"}).get("/flags")[1]["flags"]
    assert flags["docker_kill_orphans"] == "false"


def test_docker_config_shown_in_full_from_file(agent, tmp_path):
    config = {"auths": {"127.0.0.1:5055": {"auth": "dXNlcjpwYXNz"}}}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    flags = agent(["--docker_config=file://%s" % path]).get("/flags")[1]["flags"]
    assert json.loads(flags["docker_config"]) == config


def test_state_and_other_endpoints(agent):
    running = agent(["--attributes=rack:a;zone:b"])
    status, state, dummy = running.get("/state")
    assert status == 200
    for key in ("attributes", "flags", "hostname", "id", "resources", "version", "start_time"):
        assert key in state
    assert state["attributes"] == {"rack": "a", "zone": "b"}
    assert state["version"] == "1.12.0"
    assert os.path.basename(os.readlink(os.path.join(running.work_dir, "meta", "slaves", "latest"))) == state["id"]
    assert running.get("/health")[0] == 200
    assert running.get("/containers")[1] == []
    assert running.get("/nothing")[0] == 404


def test_agent_id_survives_restart(agent, tmp_path):
    first = agent()
    agent_id = first.get("/state")[1]["id"]
    first.stop()
    assert agent().get("/state")[1]["id"] == agent_id


@pytest.fixture
def credentials(tmp_path):
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({"credentials": [{"principal": "ops", "secret": "s3cret"}]}))
    os.chmod(str(path), 0o600)
    return str(path)


def test_http_authentication(agent, credentials):
    running = agent(["--authenticate_http_readonly", "--http_credentials=file://%s" % credentials])
    for path in ("/flags", "/state", "/containers"):
        status, dummy, headers = running.get(path)
        assert status == 401
        assert headers["WWW-Authenticate"] == 'Basic realm="mesos-agent-readonly"'
        assert running.get(path, auth="ops:wrong")[0] == 401
        assert running.get(path, auth="ops:s3cret")[0] == 200
    assert running.get("/health")[0] == 200
    assert running.get("/flags", auth="ops:s3cret")[1]["flags"]["http_credentials"] == credentials


def test_readonly_authentication_needs_credentials(tmp_path):
    result = run(["--master=m", "--work_dir=%s" % tmp_path, "--authenticate_http_readonly",
                  "--port=%d" % free_port(), "--ip=127.0.0.1"])
    assert result.returncode == 1
    assert "No credentials provided for the default 'basic' HTTP authenticator" in result.stderr


def restart_with(tmp_path, resources, policy=None):
    args = ["--master=m", "--work_dir=%s" % (tmp_path / "work"), "--ip=127.0.0.1",
            "--port=%d" % free_port(), "--resources=" + resources]
    if policy:
        args.append("--reconfiguration_policy=" + policy)
    return run(args)


def test_incompatible_agent_info_exits(agent, tmp_path):
    agent(["--resources=cpus:2;mem:1024"]).stop()
    result = restart_with(tmp_path, "cpus:4;mem:1024")
    assert result.returncode == 1
    assert "Failed to perform recovery: Incompatible agent info detected." in result.stderr
    assert "--reconfiguration_policy" in result.stderr
    assert "rm -f %s" % (tmp_path / "work" / "meta" / "slaves" / "latest") in result.stderr


def test_additive_policy_accepts_added_resources(agent, tmp_path):
    agent(["--resources=cpus:2;mem:1024"]).stop()
    running = agent(["--resources=cpus:4;mem:1024;disk:100", "--reconfiguration_policy=additive"])
    assert running.get("/state")[1]["resources"]["cpus"] == 4.0


def test_additive_policy_refuses_removed_resources(agent, tmp_path):
    agent(["--resources=cpus:2;mem:1024"]).stop()
    result = restart_with(tmp_path, "cpus:1;mem:1024", policy="additive")
    assert result.returncode == 1
    assert "Incompatible agent info detected." in result.stderr
