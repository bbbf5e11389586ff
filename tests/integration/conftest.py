"""Fixtures for integration tests: the real test bed, and Ansible runs against it.

The test bed (``tests/testbed/testbed.sh up``) must be up: a test that needs it fails
with the command to run, it is never skipped.
"""
import json
import os
import subprocess
import sys
import uuid

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS_ROOT = os.path.join(REPO, ".build", "collections")
# Every container a test makes carries this label; `testbed.sh down` removes them.
TEST_LABEL = "mesos-docker-test"


@pytest.fixture(scope="session")
def docker_api(testbed):
    import docker

    client = docker.APIClient(version="auto")
    yield client
    client.close()


@pytest.fixture
def name_prefix():
    """A random lowercase prefix, so that parallel and repeated runs never collide."""
    return "mdt%s" % uuid.uuid4().hex[:8]


def ansible_env(extra=None):
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT,
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_HOST_KEY_CHECKING="0",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
        PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
    )
    if extra:
        env.update(extra)
    return env


class AnsibleRun:
    """The outcome of one ansible-playbook run: exit code, text output, results by task name."""

    RESULT_MARKER = "MESOS_DOCKER_RESULT "

    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.results = {}
        for line in proc.stdout.splitlines():
            if line.startswith(self.RESULT_MARKER):
                record = json.loads(line[len(self.RESULT_MARKER):])
                self.results[record["task"]] = record["result"]

    @property
    def result(self):
        """The result of the only recorded task."""
        assert len(self.results) == 1, "expected one task result, got %s\n%s\n%s" % (
            list(self.results), self.stdout, self.stderr)
        return next(iter(self.results.values()))

    @property
    def output(self):
        return self.stdout + self.stderr


_CALLBACK = '''
import json
from ansible.plugins.callback import CallbackBase

class CallbackModule(CallbackBase):
    """Prints each task result as one JSON line (beside the default output)."""
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "mesos_docker_results"
    CALLBACK_NEEDS_ENABLED = False

    def _record(self, result, failed=False):
        data = dict(result._result)
        data["failed"] = failed or bool(data.get("failed"))
        print("MESOS_DOCKER_RESULT " + json.dumps({"task": result._task.get_name(), "result": data}, default=str))

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=True)

    def v2_runner_on_skipped(self, result):
        self._record(result)
'''


def _callback_dir():
    path = os.path.join(REPO, ".build", "test-callbacks")
    os.makedirs(path, exist_ok=True)
    target = os.path.join(path, "mesos_docker_results.py")
    if not os.path.exists(target) or open(target).read() != _CALLBACK:
        with open(target, "w") as handle:
            handle.write(_CALLBACK)
    return path


def run_ansible_playbook(playbook, extra_vars=None, check=False, diff=False, verbosity=0, env=None, inventory=None):
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), playbook]
    if inventory is None:
        cmd += ["-i", "localhost,", "-e", "ansible_connection=local", "-e", "ansible_python_interpreter=%s" % sys.executable]
    else:
        cmd += ["-i", inventory]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    run_env = ansible_env(env)
    run_env["ANSIBLE_CALLBACK_PLUGINS"] = _callback_dir()
    run_env["ANSIBLE_CALLBACKS_ENABLED"] = "mesos_docker_results"
    proc = subprocess.run(cmd, cwd=REPO, env=run_env, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL, check=False)
    return AnsibleRun(proc)


@pytest.fixture
def run_playbook():
    """Run a playbook on localhost; results are keyed by task name."""
    return run_ansible_playbook


@pytest.fixture
def run_module(tmp_path):
    """Run one task of ``mesos.docker.<module>`` on localhost; ``.result`` is its result."""

    def run(module, args, check=False, diff=False, verbosity=0, env=None):
        playbook = tmp_path / ("%s-%s.yml" % (module, uuid.uuid4().hex[:6]))
        play = [{
            "name": "run %s" % module,
            "hosts": "all",
            "gather_facts": False,
            "tasks": [{"name": "module under test", "mesos.docker.%s" % module: args}],
        }]
        playbook.write_text(json.dumps(play))
        return run_ansible_playbook(str(playbook), check=check, diff=diff, verbosity=verbosity, env=env)

    return run
