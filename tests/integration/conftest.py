"""Fixtures for integration tests: the real test bed, and Ansible runs against it.

The test bed (``tests/testbed/testbed.sh up``) must be up: a test that needs it fails
with the command to run, it is never skipped.
"""
import fcntl
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS_ROOT = os.path.join(REPO, ".build", "collections")
# Cached images carry this label (as the test bed's own images do) and are kept by `down`.
IMAGE_NS = "mesos-docker-testbed"
RECIPE_LABEL = IMAGE_NS + ".recipe"
# The real Mesos package: MESOS_PACKAGE, else the newest of these (see ../shared/mesos/README.md).
MESOS_PACKAGE_GLOB = os.path.join(os.path.dirname(REPO), "shared", "mesos", "mesos_*.deb")
# libsasl2-modules: the CRAM-MD5 mechanism the master loads to authenticate agents and v0 frameworks
# (a plugin, so no library dependency of the package; a Recommends that --no-install-recommends skips).
_PACKAGE_DOCKERFILE = """FROM {base}
COPY {deb} /tmp/{deb}
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/{deb} libsasl2-modules {extra} \\
 && rm -rf /var/lib/apt/lists/* /tmp/{deb}
"""


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


def run_ansible_playbook(playbook, extra_vars=None, check=False, diff=False, verbosity=0, env=None, inventory=None,
                         timeout=900):
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
    proc = subprocess.run(cmd, cwd=REPO, env=run_env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)
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


def mesos_package_path():
    """The Mesos .deb the tests install: ``MESOS_PACKAGE``, else the newest ``../shared/mesos/mesos_*.deb``.

    Fails (never skips) with a message naming MESOS_PACKAGE and the expected file when there is none.
    """
    package = os.environ.get("MESOS_PACKAGE")
    if package:
        if not os.path.isfile(package):
            pytest.fail("MESOS_PACKAGE=%s: no such file (a Mesos .deb is expected)" % package)
        return os.path.abspath(package)
    found = sorted(glob.glob(MESOS_PACKAGE_GLOB), key=os.path.getmtime)
    if not found:
        pytest.fail("no Mesos package: set MESOS_PACKAGE to a mesos_*.deb or put one at %s" % MESOS_PACKAGE_GLOB)
    return found[-1]


def _sha256_of_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_mesos_package_image(base_image, package, extra_packages=()):
    """The tag of ``base_image`` (a Debian 12 test bed image) with ``package`` installed by apt.

    Tagged ``mesos-docker-testbed/mesos12:<hash>``, the hash covering the package's sha256, the base
    image tag and the recipe, and labelled ``mesos-docker-testbed.recipe`` like the test bed's images:
    built once (about a minute, Debian's archive must be reachable), then reused by every run and
    worktree; a lock keeps parallel sessions from building it twice.
    """
    deb = "mesos.deb"
    dockerfile = _PACKAGE_DOCKERFILE.format(base=base_image, deb=deb, extra=" ".join(extra_packages))
    recipe = hashlib.sha256(("%s\n%s" % (_sha256_of_file(package), dockerfile)).encode()).hexdigest()[:12]
    tag = "%s/mesos12:%s" % (IMAGE_NS, recipe)
    lock_path = os.path.join(tempfile.gettempdir(), "mesos-docker-testbed-mesos12-%s.lock" % recipe)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        present = subprocess.run(["docker", "image", "inspect", tag], capture_output=True, check=False)
        if present.returncode == 0:
            return tag
        context = tempfile.mkdtemp(prefix="mesos12-image-")
        try:
            shutil.copyfile(package, os.path.join(context, deb))
            with open(os.path.join(context, "Dockerfile"), "w") as handle:
                handle.write(dockerfile)
            build = subprocess.run(
                ["docker", "build", "-q", "-t", tag, "--label", "%s=%s" % (RECIPE_LABEL, tag), context],
                capture_output=True, text=True, timeout=900, check=False)
        finally:
            shutil.rmtree(context, ignore_errors=True)
        if build.returncode != 0:
            pytest.fail("building %s from %s failed:\n%s%s" % (tag, package, build.stdout, build.stderr))
    return tag


@pytest.fixture(scope="session")
def mesos_package_image(testbed):
    """Tag of the test bed's Debian 12 image with the real Mesos package installed (see ensure_mesos_package_image)."""
    return ensure_mesos_package_image(testbed["TESTBED_IMAGE_DEBIAN12"], mesos_package_path())


@pytest.fixture(scope="session")
def mesos_package():
    """Path of the real Mesos package (see mesos_package_path), for roles that install it themselves."""
    return mesos_package_path()
