"""The two README commands side by side: ``scripts/test.sh`` stops only what it started itself.

``scripts/lab.sh`` brings the test bed up and leaves it running; ``scripts/test.sh`` then brings it
up again (finding it running) and, at its end, takes down what *it* started: nothing of the lab's.

This runs ``tests/testbed/testbed.sh`` the way both scripts do, on a state directory and a registry
port of its own, with a container label of its own, so the shared test bed is never touched:

- the "lab's dockerd" is a ``sleep`` process of this test, recorded in the state's ``dockerd.pid``
  as lab.sh's ``up`` records a dockerd it started (the shared dockerd answers, so no ``up`` here
  ever starts or stops a real one);
- the lab's registry is a real ``docker-registry`` on a free port, started by the lab's ``up``.
"""
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTBED_SH = os.path.join(REPO, "tests", "testbed", "testbed.sh")
TEST_SH = os.path.join(REPO, "scripts", "test.sh")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _registry_code(addr):
    try:
        return urllib.request.urlopen("http://%s/v2/" % addr, timeout=5).status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by this test) is not alive.
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class Bed:
    """testbed.sh on a private state directory, registry port and test label."""

    def __init__(self, tmp_path):
        self.state = tmp_path / "state"
        self.registry = "127.0.0.1:%d" % _free_port()
        self.registry_tls_port = str(_free_port())
        self.label = "wt12-testbed-%s" % uuid.uuid4().hex[:8]

    def env(self, session=None):
        env = dict(os.environ, TESTBED_STATE=str(self.state), TESTBED_REGISTRY=self.registry,
                   TESTBED_REGISTRY_TLS_PORT=self.registry_tls_port, TESTBED_TEST_LABEL=self.label)
        env.pop("TESTBED_SESSION", None)
        if session:
            env["TESTBED_SESSION"] = str(session)
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
        return env

    def run(self, command, session=None):
        proc = subprocess.run([TESTBED_SH, command], env=self.env(session), capture_output=True, text=True,
                              timeout=1200, stdin=subprocess.DEVNULL, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stderr

    def pidfile(self, name):
        path = self.state / ("%s.pid" % name)
        return int(path.read_text()) if path.exists() else None


@pytest.fixture
def bed(testbed, tmp_path):
    bed = Bed(tmp_path)
    yield bed
    # Stop what this test's beds started (its registry, its stand-in dockerd), remove its containers.
    subprocess.run([TESTBED_SH, "down"], env=bed.env(), capture_output=True, timeout=300, check=False)


def test_test_run_leaves_the_lab_running(bed, tmp_path):
    # The lab: `up` as scripts/lab.sh runs it. Its registry is started here; its dockerd is a stand-in.
    bed.state.mkdir()
    lab_dockerd = subprocess.Popen(["sleep", "600"], start_new_session=True)
    try:
        (bed.state / "dockerd.pid").write_text(str(lab_dockerd.pid))
        out = bed.run("up")
        assert "starting registry on http://%s/v2/" % bed.registry in out, out
        lab_registry = bed.pidfile("registry")
        assert lab_registry and _registry_code(bed.registry) == 401

        # A test run: `up` and `down` as scripts/test.sh runs them, with its session file.
        session = tmp_path / "session"
        out = bed.run("up", session=session)
        assert "registry already answers" in out, out
        test_container = "wt12-testbed-%s" % uuid.uuid4().hex[:8]
        subprocess.run(["docker", "run", "-d", "--name", test_container, "--label", bed.label,
                        "--label", "mesos-docker-test=true", "mesos-docker-testbed/busybox:latest", "sleep", "600"],
                       check=True, capture_output=True)
        bed.run("down", session=session)

        assert _alive(lab_dockerd.pid), "test.sh's down stopped the lab's dockerd"
        assert bed.pidfile("dockerd") == lab_dockerd.pid
        assert _alive(lab_registry) and _registry_code(bed.registry) == 401, "test.sh's down stopped the lab's registry"
        assert (bed.state / "env").exists(), "test.sh's down removed the env of the running lab"
        # The containers the test run made are gone.
        listed = subprocess.run(["docker", "ps", "-aq", "--filter", "name=^%s$" % test_container],
                                capture_output=True, text=True, check=True).stdout
        assert not listed.strip(), "the test run's container %s was left behind" % test_container
    finally:
        lab_dockerd.kill()
        lab_dockerd.wait()


def test_test_run_stops_what_it_started(bed, tmp_path):
    session = tmp_path / "session"
    out = bed.run("up", session=session)
    assert "starting registry on http://%s/v2/" % bed.registry in out, out
    registry = bed.pidfile("registry")
    assert _registry_code(bed.registry) == 401
    bed.run("down", session=session)
    assert not _alive(registry), "test.sh's down left the registry it started running"
    assert _registry_code(bed.registry) is None
    assert not (bed.state / "env").exists()
