#!/usr/bin/python
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: container
short_description: Launch, stop and remove Mesos task or executor containers the way the Mesos Docker containerizer does
version_added: 0.1.0
description:
  - Runs a task container exactly as the Mesos Docker containerizer would (C(src/docker/docker.cpp)) -
    to smoke-test an agent's Docker set-up, or to run and clean up task containers by hand.
  - "Launch order, as Mesos: the O(sandbox) is created, the O(uris) are fetched into it, the image is
    pulled (only when absent unless O(force_pull)), then the container is created and started with the
    sandbox bound at O(sandbox_directory), C(MESOS_SANDBOX) and C(MESOS_CONTAINER_NAME) set and host
    networking by default."
  - "B(Identity and idempotence.) The container is named C(mesos-<container_id>) (O(naming=modern),
    Mesos <= 0.22 and >= 1.4) or C(mesos-<agent_id>.<container_id>) (O(naming=legacy), Mesos 0.23 to 1.3),
    plus C(.executor) with O(executor=true). Labels C(org.apache.mesos.agent_id), C(.framework_id),
    C(.executor_id), C(.task_id), C(.container_id), C(.executor) and C(org.apache.mesos.launcher=mesos.docker)
    record the identity (real Mesos adds no labels; M(mesos.docker.recover) uses them as proof of ownership).
    Either O(container_id) or O(task_id) is required. Without O(container_id), the container labelled with the same
    agent, framework, executor and task IDs is reused; only when there is none a new UUID is generated
    (and returned). So a re-run never launches a second container."
  - "B(Commands) (Mesos's rules): no O(command) and O(shell=false) - the image's default command; O(shell=true)
    (the Mesos default) - C(/bin/sh -c <command>), overriding the image's entrypoint (O(arguments) are
    ignored, as in Mesos); O(shell=false) - O(command) (when given, as one argument) followed by O(arguments)
    replace the image's CMD and are handed to its ENTRYPOINT."
  - "B(Resources.) O(cpus) - C(CpuShares = max(int(1024 * cpus), 2)); O(mem) (MB) - C(Memory = max(mem MiB, 32 MiB));
    with either, C(MESOS_ALLOCATION_ROLE) is set to O(role)."
  - "B(Logs.) The container's stdout and stderr end up in C(<sandbox>/stdout) and C(<sandbox>/stderr).
    Mesos's docker executor follows C(docker run)'s output for the container's whole life; a module exits, so
    after starting a container it leaves a small detached log follower (one process per call, a thread per
    stream, C(docker logs --follow)) that writes both files and ends when the container stops
    (O(log_follow)). Every later run of the module, C(wait), C(state=stopped) and C(state=absent) rewrite
    both files completely from C(docker logs) once the follower is gone, so the files of an exited container
    are complete; while a container runs they are as current as the follower (or as the last run of the module
    with O(log_follow=false)). The follower's PID is in C(<sandbox>/.mesos-docker-logger.pid)."
  - "B(States.) V(started) - launched (a finished task is not restarted: Mesos never restarts a task; a container
    whose configuration differs from the requested one is stopped, removed and launched again). V(stopped) - SIGTERM,
    O(stop_timeout) seconds of grace, SIGKILL; the exited container is kept (as Mesos keeps it until
    C(--docker_remove_delay)). V(absent) - stopped the same way, then removed. The sandbox is never deleted."
  - "B(Batch.) O(containers) launches (stops, removes) many containers in one call, O(max_workers) at a time;
    every top-level option is the default of each entry; images are ensured once for all entries."
author:
  - mesos.docker developers (@mesos-docker)
extends_documentation_fragment:
  - mesos.docker.docker
  - mesos.docker.docker.attributes
options:
  container_id:
    description: The Mesos container ID, a UUID. See the identity rules above.
    type: str
  agent_id:
    description: The agent ID; part of the name with O(naming=legacy) and recorded as a label.
    type: str
  framework_id:
    description: Framework ID, recorded as a label and used to find the container when O(container_id) is omitted.
    type: str
  executor_id:
    description: Executor ID, recorded as a label and used to find the container when O(container_id) is omitted.
    type: str
  task_id:
    description: Task ID, recorded as a label and used to find the container when O(container_id) is omitted.
    type: str
  naming:
    description: V(modern) gives C(mesos-<container_id>), V(legacy) C(mesos-<agent_id>.<container_id>) (needs O(agent_id)).
    type: str
    choices: [modern, legacy]
    default: modern
  executor:
    description: The executor's own container (C(--docker_mesos_image)); the name gets C(.executor).
    type: bool
    default: false
  image:
    description: The image to run; required with O(state=started). Pulled only when absent unless O(force_pull).
    type: str
  force_pull:
    description: Mesos's C(force_pull_image); always pull before launching.
    type: bool
    default: false
    aliases: [force_pull_image]
  docker_config:
    description:
      - Registry credentials, given like the agent's C(--docker_config) - a path, a C(file://) URL or the JSON
        object (see M(mesos.docker.image)). Never logged or returned.
    type: raw
  sandbox:
    description:
      - Absolute host directory of the task's sandbox; created when missing (mode 0755). Required with O(state=started).
      - Mesos uses C(<work_dir>/slaves/<agentID>/frameworks/<frameworkID>/executors/<executorID>/runs/<containerID>);
        using that layout lets M(mesos.docker.recover) prove ownership by the mount.
    type: path
  sandbox_directory:
    description: Where the sandbox is mounted in the container (the agent's C(--sandbox_directory)); C(MESOS_SANDBOX) is set to it.
    type: str
    default: /mnt/mesos/sandbox
  uris:
    description:
      - Files fetched into the sandbox before the container starts, as the Mesos fetcher does (http, https,
        C(file://) URIs and absolute paths).
      - A URI already fetched into this sandbox with the same options, whose file still has the recorded size and
        sha256 (and, for a local source, whose source is unchanged) is not fetched again; the record is
        C(<sandbox>/.mesos-docker-fetcher.json).
    type: list
    elements: dict
    suboptions:
      value:
        description: The URI.
        type: str
        required: true
      extract:
        description: Unpack C(.tar .tgz .tar.gz .tbz2 .tar.bz2 .txz .tar.xz .zip) into the sandbox, gunzip a bare C(.gz).
        type: bool
        default: true
      executable:
        description: Make the file executable (0755); no extraction then.
        type: bool
        default: false
      output_file:
        description: File name inside the sandbox (directories created); default the URI's last path component.
        type: str
  command:
    description: The task's command (Mesos C(CommandInfo.value)).
    type: str
  shell:
    description: Run O(command) with C(/bin/sh -c), overriding the entrypoint. The Mesos default is V(true).
    type: bool
    default: true
  arguments:
    description: Arguments handed to the image's entrypoint after O(command) when O(shell=false).
    type: list
    elements: str
  env:
    description: Environment variables. C(MESOS_SANDBOX) and C(MESOS_CONTAINER_NAME) are always set by Mesos and win.
    type: dict
  cpus:
    description: CPUs (fractions allowed), giving cpu shares. Must be positive.
    type: float
  mem:
    description: Memory in MB, giving the memory limit. Must be positive.
    type: float
  role:
    description: The C(MESOS_ALLOCATION_ROLE) set when O(cpus) or O(mem) is given.
    type: str
    default: "*"
  volumes:
    description:
      - Extra volumes. A relative O(volumes[].container_path) is inside the container's sandbox
        (O(sandbox_directory)); a relative O(volumes[].host_path) is inside the host O(sandbox); both relative is an error.
    type: list
    elements: dict
    suboptions:
      container_path:
        description: Path in the container.
        type: str
        required: true
      host_path:
        description: Host path bound there.
        type: str
      source:
        description: Name of a Docker volume instead of O(volumes[].host_path).
        type: str
      mode:
        description: Read-write or read-only.
        type: str
        choices: [rw, ro]
        default: rw
  network:
    description: V(host) (the Mesos default), V(bridge), V(none) or the name of a user-defined network.
    type: str
    default: host
  port_mappings:
    description: Host to container ports; only with V(bridge) or a user network, as in Mesos.
    type: list
    elements: dict
    suboptions:
      host_port:
        description: Port on the host.
        type: int
        required: true
      container_port:
        description: Port in the container.
        type: int
        required: true
      protocol:
        description: Protocol.
        type: str
        choices: [tcp, udp, sctp]
        default: tcp
  hostname:
    description: Container hostname; not with host networking.
    type: str
  privileged:
    description: Run privileged (Mesos C(DockerInfo.privileged)).
    type: bool
    default: false
  labels:
    description: Extra labels. The C(org.apache.mesos.*) identity labels are reserved.
    type: dict
  state:
    description: See the description.
    type: str
    choices: [started, stopped, absent]
    default: started
  stop_timeout:
    description: Seconds of SIGTERM grace before SIGKILL when stopping (the agent's C(--docker_stop_timeout), default 0).
    type: int
    default: 0
  wait:
    description: With O(state=started), wait until the container exits and return RV(exit_code).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait with O(wait); no limit when omitted. On timeout the module fails, the container keeps running.
    type: int
  log_follow:
    description: Leave a detached follower writing the sandbox's C(stdout) and C(stderr) while the container runs.
    type: bool
    default: true
  containers:
    description:
      - Several containers in one call, launched (stopped, removed) in parallel. Each entry takes the per-container
        options (O(container_id), O(agent_id), O(framework_id), O(executor_id), O(task_id), O(naming), O(executor),
        O(image), O(sandbox), O(sandbox_directory), O(uris), O(command), O(shell), O(arguments), O(env), O(cpus),
        O(mem), O(role), O(volumes), O(network), O(port_mappings), O(hostname), O(privileged), O(labels), O(state),
        O(stop_timeout), O(wait)); the top-level value of an option is the default for every entry.
      - Each entry needs O(container_id) or O(task_id).
    type: list
    elements: dict
  max_workers:
    description: How many containers of O(containers) are handled at the same time.
    type: int
    default: 8
"""

EXAMPLES = r"""
- name: Smoke-test the agent's Docker set-up with a shell task, the way Mesos runs it
  mesos.docker.container:
    task_id: smoke-test
    image: busybox:latest
    sandbox: /var/lib/mesos/smoke/sandbox
    command: echo "hello from $MESOS_SANDBOX"
    cpus: 0.1
    mem: 32
    wait: true
  register: smoke

- name: Run the image's entrypoint with arguments and fetch its configuration first
  mesos.docker.container:
    container_id: 2b1c6f3e-5b1a-4a38-9d1c-0f8e7b3c9a11
    agent_id: 7447f438-a19c-4f12-b4f0-a5b33561eb16-S0
    framework_id: marathon
    task_id: web.1
    image: registry.example.com:5000/web:1.2
    docker_config: file:///etc/mesos-slave/docker.json
    sandbox: /var/lib/mesos/slaves/7447f438-a19c-4f12-b4f0-a5b33561eb16-S0/frameworks/marathon/executors/web.1/runs/2b1c6f3e-5b1a-4a38-9d1c-0f8e7b3c9a11
    uris:
      - value: https://artifacts.example.com/web/config.tar.gz
      - value: https://artifacts.example.com/web/start.sh
        executable: true
    shell: false
    command: --config=config/web.yml
    network: bridge
    port_mappings:
      - host_port: 31000
        container_port: 8080

- name: Launch fifty tasks in one call
  mesos.docker.container:
    image: busybox:latest
    command: sleep 3600
    framework_id: load-test
    containers: "{{ range(50) | map('string') | map('regex_replace', '^', 'task-') | map('community.general.dict_kv', 'task_id') | list }}"
    sandbox: /tmp/unused   # each entry should have its own sandbox in real use

- name: Stop a task with 10 seconds of grace and remove it
  mesos.docker.container:
    task_id: web.1
    framework_id: marathon
    agent_id: 7447f438-a19c-4f12-b4f0-a5b33561eb16-S0
    state: absent
    stop_timeout: 10
"""

RETURN = r"""
container_id:
  description: The container ID (generated when it was omitted and no labelled container was found). Single form only.
  returned: always, unless O(containers) is used or nothing matched O(task_id) with O(state=stopped)/V(absent)
  type: str
  sample: 2b1c6f3e-5b1a-4a38-9d1c-0f8e7b3c9a11
name:
  description: The Docker container name. Single form only.
  returned: when RV(container_id) is returned
  type: str
  sample: mesos-2b1c6f3e-5b1a-4a38-9d1c-0f8e7b3c9a11
id:
  description: The Docker ID of the container (null when it does not exist, or in check mode before creation).
  returned: when RV(container_id) is returned
  type: str
  sample: 4f0c5d1e9a7b0d3c...
status:
  description: Docker's state of the container afterwards (V(running), V(exited), V(created)), or V(absent).
  returned: when RV(container_id) is returned
  type: str
  sample: running
exit_code:
  description: The container's exit code, when it has exited (always with O(wait)).
  returned: when the container has exited
  type: int
  sample: 0
actions:
  description: What was done (or would be, in check mode).
  returned: always (per container in RV(containers))
  type: list
  elements: str
  sample: [created sandbox, fetched https://artifacts.example.com/web/start.sh, pulled busybox:latest, created, started]
image:
  description: The shared pull result (C(name), C(id), C(pulled), C(changed)...) for the container's image.
  returned: with O(state=started)
  type: dict
  sample: {name: "docker.io/library/busybox:latest", id: "sha256:...", pulled: false, changed: false}
fetched:
  description: One entry per URI, with C(uri), C(path), C(changed) and C(extracted) (top-level names unpacked).
  returned: with O(state=started)
  type: list
  elements: dict
  sample: [{uri: "http://127.0.0.1:8000/app.tar.gz", path: "/sandbox/app.tar.gz", changed: true, extracted: [app]}]
sandbox:
  description: The sandbox directory, with C(stdout) and C(stderr) in it.
  returned: when O(sandbox) is known
  type: str
  sample: /var/lib/mesos/smoke/sandbox
containers:
  description: One result per entry of O(containers), in order, each with the keys above.
  returned: when O(containers) is used
  type: list
  elements: dict
  sample: [{name: mesos-2b1c..., container_id: 2b1c..., status: running, changed: true, actions: [created, started]}]
"""

import json
import os
import signal
import sys
import tempfile
import threading
import time

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.mesos.docker.plugins.module_utils._common import (
    APIError,
    DockerException,
    DockerModule,
    NotFound,
    RequestsConnectionError,
    RequestsTimeout,
    parallel_map,
)
from ansible_collections.mesos.docker.plugins.module_utils._fetcher import Fetcher, FetchError, validate as validate_uri
from ansible_collections.mesos.docker.plugins.module_utils._mesos_names import (
    LABEL_AGENT_ID,
    LABEL_CONTAINER_ID,
    LABEL_EXECUTOR,
    LABEL_EXECUTOR_ID,
    LABEL_FRAMEWORK_ID,
    LABEL_LAUNCHER,
    LABEL_TASK_ID,
    LAUNCHER,
    format_name,
    is_uuid,
    new_container_id,
)
from ansible_collections.mesos.docker.plugins.module_utils._task_container import (
    TaskSpecError,
    actual_view,
    build,
    desired_view,
)

try:
    from ansible_collections.mesos.docker.plugins.module_utils._pull import ImageError, ImagePuller
    from ansible_collections.mesos.docker.plugins.module_utils._docker_config import DockerConfigError, load as load_docker_config
except ImportError:  # pragma: no cover - only while the shared pull code is being written
    ImagePuller = None

    class ImageError(Exception):
        pass

    class DockerConfigError(ValueError):
        pass

    def load_docker_config(value):
        return value


LOGGER_PID_FILE = ".mesos-docker-logger.pid"
LOGGER_MARKER = "mesos-docker-log-follower"

# The detached log follower: ``docker logs --follow`` of each stream into the sandbox files.
# It runs from this source with the module's interpreter, so it needs nothing but the Docker SDK.
FOLLOWER_SOURCE = r'''
import json, sys, threading
args = json.loads(sys.argv[2])
import docker
tls = None
if args.get("tls"):
    from docker.tls import TLSConfig
    t = args["tls"]
    tls = TLSConfig(client_cert=tuple(t["client_cert"]) if t.get("client_cert") else None,
                    ca_cert=t.get("ca_cert"), verify=t.get("verify"))
client = docker.APIClient(base_url=args["base_url"], version=args.get("version"), timeout=None, tls=tls)
def follow(cid, path, out):
    try:
        with open(path, "wb", buffering=0) as handle:
            for chunk in client.logs(cid, stdout=out, stderr=not out, stream=True, follow=True):
                handle.write(chunk)
    except Exception:
        pass
threads = []
for item in args["containers"]:
    for out, name in ((True, "stdout"), (False, "stderr")):
        t = threading.Thread(target=follow, args=(item["id"], item["sandbox"] + "/" + name, out))
        t.start()
        threads.append(t)
for t in threads:
    t.join()
'''

PER_CONTAINER = (
    "container_id", "agent_id", "framework_id", "executor_id", "task_id", "naming", "executor", "image",
    "sandbox", "sandbox_directory", "uris", "command", "shell", "arguments", "env", "cpus", "mem", "role",
    "volumes", "network", "port_mappings", "hostname", "privileged", "labels", "state", "stop_timeout", "wait",
)


class ContainerError(Exception):
    pass


def _pid_alive(pid, container_id):
    """True when ``pid`` is a live log follower for ``container_id`` (checked in /proc, not just the number)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            cmdline = handle.read()
        with open("/proc/%d/stat" % pid, "rb") as handle:
            state = handle.read().rsplit(b")", 1)[1].split()[0]
    except (IOError, OSError, IndexError, ValueError):
        return False
    return state != b"Z" and to_bytes(LOGGER_MARKER) in cmdline and to_bytes(container_id) in cmdline


def spawn_detached(argv):
    """Start ``argv`` in its own session with stdio on /dev/null; returns its PID (it outlives the module)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setsid()
            os.chdir("/")
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.closerange(3, 65536)
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    return pid


def reap(pid, timeout):
    """Wait up to ``timeout`` seconds for our child ``pid``, then kill it; never raises."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            done, _status = os.waitpid(pid, os.WNOHANG)
            if done:
                return
            time.sleep(0.05)
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
    except OSError:
        pass


def _write_if_changed(path, data):
    try:
        with open(path, "rb") as handle:
            if handle.read() == data:
                return False
    except (IOError, OSError):
        pass
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)
    return True


class Task:
    """One container: its options, identity, built configuration and result."""

    def __init__(self, params):
        self.p = params
        self.container_id = params.get("container_id")
        self.name = None
        self.built = None
        self.inspect = None
        self.result = dict(changed=False, actions=[])
        self.warnings = []
        self.launched = False

    @property
    def state(self):
        return self.p["state"]

    def validate(self):
        """Everything that can be checked without Docker. Raises ContainerError."""
        p = self.p
        if self.container_id is not None and not is_uuid(self.container_id):
            raise ContainerError("container_id must be a UUID, got %r" % (self.container_id,))
        if not self.container_id and not p.get("task_id"):
            raise ContainerError("container_id or task_id is required to identify the container")
        if p.get("naming") == "legacy" and not p.get("agent_id"):
            raise ContainerError("naming=legacy needs agent_id")
        for key in ("cpus", "mem"):
            if p.get(key) is not None and p[key] <= 0:
                raise ContainerError("%s must be greater than 0, got %s" % (key, p[key]))
        if p.get("stop_timeout") is not None and p["stop_timeout"] < 0:
            raise ContainerError("stop_timeout must not be negative, got %s" % p["stop_timeout"])
        if p.get("sandbox") and not os.path.isabs(p["sandbox"]):
            raise ContainerError("sandbox must be an absolute host path, got %s" % p["sandbox"])
        if self.state == "started":
            if not p.get("image"):
                raise ContainerError("image is required with state=started")
            if not p.get("sandbox"):
                raise ContainerError("sandbox is required with state=started")
            for uri in p.get("uris") or []:
                try:
                    validate_uri(uri)
                except FetchError as exc:
                    raise ContainerError(str(exc))
            # A throw-away identity proves the spec translates; the real one may be found later.
            self._build(self.container_id or "00000000-0000-4000-8000-000000000000")

    def _build(self, container_id):
        name = self._name(container_id)
        spec = dict(self.p, name=name, container_id=container_id)
        try:
            self.built = build(spec)
        except (TaskSpecError, ValueError) as exc:
            raise ContainerError(str(exc))
        return self.built

    def _name(self, container_id):
        try:
            return format_name(container_id, agent_id=self.p.get("agent_id"), naming=self.p.get("naming") or "modern",
                               executor=bool(self.p.get("executor")))
        except ValueError as exc:
            raise ContainerError(str(exc))

    def identity_labels(self):
        """The labels that identify this task when container_id is omitted."""
        p = self.p
        labels = {LABEL_LAUNCHER: LAUNCHER}
        for key, value in ((LABEL_AGENT_ID, p.get("agent_id")), (LABEL_FRAMEWORK_ID, p.get("framework_id")),
                           (LABEL_EXECUTOR_ID, p.get("executor_id")), (LABEL_TASK_ID, p.get("task_id"))):
            labels[key] = value or None
        labels[LABEL_EXECUTOR] = "true" if p.get("executor") else None
        return labels

    def set_identity(self, container_id):
        self.container_id = container_id
        self.name = self._name(container_id)
        self.result.update(container_id=container_id, name=self.name)
        if self.state == "started":
            self._build(container_id)


class ContainerManager:
    def __init__(self, dm):
        self.dm = dm
        self.p = dm.params
        self.client = None
        self.puller = None
        self.tasks = []
        self._followers = {}
        self._lock = threading.Lock()

    # ---- set-up ----------------------------------------------------------------------------

    def make_tasks(self):
        top = dict((k, self.p.get(k)) for k in PER_CONTAINER)
        entries = self.p["containers"]
        if entries is None:
            self.tasks = [Task(top)]
            return
        validator = ArgumentSpecValidator(container_options(defaults=False))
        for index, entry in enumerate(entries):
            checked = validator.validate(entry)
            if checked.error_messages:
                self.dm.fail("containers[%d]: %s" % (index, "; ".join(checked.error_messages)))
            entry = checked.validated_parameters
            merged = dict(top)
            merged["container_id"] = None
            merged.update((k, v) for k, v in entry.items() if v is not None)
            self.tasks.append(Task(merged))

    def validate(self):
        errors = []
        for index, task in enumerate(self.tasks):
            try:
                task.validate()
            except ContainerError as exc:
                errors.append(str(exc) if len(self.tasks) == 1 else "containers[%d]: %s" % (index, exc))
        if errors:
            self.dm.fail("; ".join(errors))
        ids = [t.container_id for t in self.tasks if t.container_id]
        dupes = sorted(set(i for i in ids if ids.count(i) > 1))
        if dupes:
            self.dm.fail("container_id given more than once: %s" % ", ".join(dupes))
        try:
            self.docker_config = load_docker_config(self.p["docker_config"])
        except DockerConfigError as exc:
            self.dm.fail("docker_config: %s" % exc)
        if self.docker_config is not None and hasattr(self.docker_config, "secrets"):
            self.dm.module.no_log_values.update(s for s in self.docker_config.secrets() if len(s) >= 3)

    # ---- identity ----------------------------------------------------------------------------

    def resolve_identities(self):
        unresolved = [t for t in self.tasks if not t.container_id]
        if unresolved:
            listed = self.client.containers(all=True, filters={"label": "%s=%s" % (LABEL_LAUNCHER, LAUNCHER)})
        for task in unresolved:
            wanted = task.identity_labels()
            matches = []
            for item in listed:
                labels = item.get("Labels") or {}
                if all(labels.get(k) == v for k, v in wanted.items()) and is_uuid(labels.get(LABEL_CONTAINER_ID)):
                    matches.append(labels[LABEL_CONTAINER_ID])
            matches = sorted(set(matches))
            if len(matches) > 1:
                raise ContainerError("task %s matches several containers (%s); give container_id"
                                     % (task.p.get("task_id"), ", ".join(matches)))
            if matches:
                task.set_identity(matches[0])
            elif task.state == "started":
                task.set_identity(new_container_id())
                task.result["actions"].append("generated container_id")
            else:
                task.result.update(status="absent", container_id=None)
        for task in self.tasks:
            if task.container_id and not task.name:
                task.set_identity(task.container_id)

    # ---- docker helpers ----------------------------------------------------------------------

    def _inspect(self, name):
        try:
            return self.client.inspect_container(name)
        except NotFound:
            return None

    def _follower_pid(self, task, sandbox):
        path = os.path.join(sandbox, LOGGER_PID_FILE)
        try:
            with open(path) as handle:
                pid, cid = handle.read().split()[:2]
            pid = int(pid)
        except (IOError, OSError, ValueError):
            return None
        return pid if cid == task.inspect["Id"] and _pid_alive(pid, cid) else None

    def _sandbox_of(self, task):
        if task.p.get("sandbox"):
            return task.p["sandbox"]
        if task.inspect:
            target = task.p.get("sandbox_directory") or "/mnt/mesos/sandbox"
            for mount in task.inspect.get("Mounts") or []:
                if mount.get("Destination") == target and mount.get("Type") == "bind":
                    return mount.get("Source")
        return None

    def sync_logs(self, task, wait_follower=5.0):
        """Rewrite <sandbox>/stdout and stderr from ``docker logs`` once no follower writes them."""
        sandbox = self._sandbox_of(task)
        if not sandbox or not os.path.isdir(sandbox) or not task.inspect or self.dm.check_mode:
            return
        pid = self._follower_pid(task, sandbox)
        if pid is not None:
            running = (task.inspect.get("State") or {}).get("Running")
            if running:
                return  # the follower keeps the files current
            deadline = time.monotonic() + wait_follower
            while time.monotonic() < deadline and _pid_alive(pid, task.inspect["Id"]):
                time.sleep(0.05)
            if _pid_alive(pid, task.inspect["Id"]):
                try:
                    os.kill(pid, signal.SIGTERM)
                except OSError:
                    pass
        child = self._followers.get(task.inspect["Id"])
        if child is not None:
            reap(child, wait_follower)
        ident = task.inspect["Id"]
        out = self.client.logs(ident, stdout=True, stderr=False)
        err = self.client.logs(ident, stdout=False, stderr=True)
        _write_if_changed(os.path.join(sandbox, "stdout"), out or b"")
        _write_if_changed(os.path.join(sandbox, "stderr"), err or b"")

    def start_followers(self, tasks):
        """One detached follower process for all the given (running) containers."""
        if not tasks or self.dm.check_mode or not self.p["log_follow"]:
            return
        p = self.p
        args = dict(
            base_url=p["docker_host"],
            version=self.client.api_version,
            containers=[dict(id=t.inspect["Id"], sandbox=self._sandbox_of(t)) for t in tasks],
        )
        if p["tls"] or p["validate_certs"] or p["client_cert"]:
            args["tls"] = dict(client_cert=[p["client_cert"], p["client_key"]] if p["client_cert"] else None,
                               ca_cert=p["ca_path"], verify=p["validate_certs"])
        marker_ids = " ".join(t.inspect["Id"] for t in tasks)
        try:
            pid = spawn_detached([sys.executable, "-c", FOLLOWER_SOURCE, LOGGER_MARKER + " " + marker_ids, json.dumps(args)])
        except OSError as exc:
            self.dm.warn("Could not start the log follower: %s; stdout/stderr are written by later runs" % exc)
            return
        for t in tasks:
            self._followers[t.inspect["Id"]] = pid
            _write_if_changed(os.path.join(self._sandbox_of(t), LOGGER_PID_FILE),
                              to_bytes("%d %s\n" % (pid, t.inspect["Id"])))

    def _stop(self, task):
        timeout = task.p.get("stop_timeout") or 0
        self.client.stop(task.inspect["Id"], timeout=timeout)

    # ---- per-state work ----------------------------------------------------------------------

    def _image_config(self, image):
        try:
            return (self.client.inspect_image(image) or {}).get("Config") or {}
        except NotFound:
            return {}

    def _diff_views(self, task):
        desired = desired_view(task.built)
        if task.inspect is None:
            return None, desired
        actual = actual_view(task.inspect, desired, self._image_config((task.inspect.get("Config") or {}).get("Image")))
        return actual, desired

    def do_started(self, task):
        r = task.result
        task.inspect = self._inspect(task.name)
        before, after = self._diff_views(task)
        r["diff"] = dict(before=before, after=after)
        recreate = task.inspect is not None and before != after
        sandbox = task.p["sandbox"]
        if recreate:
            r["actions"].append("recreated: configuration differs")
            r["changed"] = True
            if not self.dm.check_mode:
                self.sync_logs(task)
                if (task.inspect.get("State") or {}).get("Running"):
                    self._stop(task)
                self.client.remove_container(task.inspect["Id"], v=True, force=True)
            task.inspect = None
        if task.inspect is None:
            r["changed"] = True
            if not os.path.isdir(sandbox):
                r["actions"].append("created sandbox")
                if not self.dm.check_mode:
                    os.makedirs(sandbox, 0o755, exist_ok=True)
            if task.p.get("uris"):
                fetcher = Fetcher(sandbox, timeout=self.p["timeout"], check_mode=self.dm.check_mode or not os.path.isdir(sandbox))
                try:
                    r["fetched"] = fetcher.fetch_all(task.p["uris"])
                except FetchError as exc:
                    raise ContainerError("fetching into %s failed: %s" % (sandbox, exc))
                r["actions"].extend("fetched %s" % f["uri"] for f in r["fetched"] if f["changed"])
            image = r.get("image") or {}
            if image.get("changed"):
                r["actions"].append(("would pull " if self.dm.check_mode else "pulled ") + task.p["image"])
            r["actions"].append("created")
            if self.dm.check_mode:
                r["actions"].append("started")
                r.update(status="absent", id=None)
                return
            create = dict(task.built["create"])
            create["host_config"] = self.client.create_host_config(**task.built["host_config"])
            created = self.client.create_container(**create)
            try:
                self.client.start(created["Id"])
            except (APIError, DockerException):
                try:
                    self.client.remove_container(created["Id"], v=True, force=True)
                finally:
                    raise
            r["actions"].append("started")
            task.inspect = self._inspect(created["Id"])
            task.launched = True
        else:
            if task.p.get("uris") and os.path.isdir(sandbox):
                # Re-check the files (refetched when the sandbox copy vanished or changed).
                try:
                    fetched = Fetcher(sandbox, timeout=self.p["timeout"], check_mode=self.dm.check_mode).fetch_all(task.p["uris"])
                except FetchError as exc:
                    raise ContainerError("fetching into %s failed: %s" % (sandbox, exc))
                r["fetched"] = fetched
                if any(f["changed"] for f in fetched):
                    r["changed"] = True
                    r["actions"].extend("fetched %s" % f["uri"] for f in fetched if f["changed"])
            status = (task.inspect.get("State") or {}).get("Status")
            if status == "created":
                r["changed"] = True
                r["actions"].append("started")
                if not self.dm.check_mode:
                    self.client.start(task.inspect["Id"])
                    task.inspect = self._inspect(task.inspect["Id"])

    def finish_started(self, task):
        """After launch: wait, logs, result fields."""
        if task.inspect is None:
            return
        if task.p.get("wait") and not self.dm.check_mode:
            state = task.inspect.get("State") or {}
            if state.get("Running") or state.get("Status") == "created":
                try:
                    self.client.wait(task.inspect["Id"], timeout=self.p["wait_timeout"])
                except (RequestsConnectionError, RequestsTimeout):
                    raise ContainerError("did not exit within %s seconds (still running)" % self.p["wait_timeout"])
                task.inspect = self._inspect(task.inspect["Id"])
        elif task.launched and (task.inspect.get("State") or {}).get("Running"):
            return  # the follower started after this batch writes the files
        self.sync_logs(task)

    def do_stopped(self, task, remove):
        r = task.result
        task.inspect = self._inspect(task.name) if task.name else None
        if task.inspect is None:
            r["status"] = "absent"
            r["diff"] = dict(before=None, after=None)
            return
        state = task.inspect.get("State") or {}
        before = dict(status=state.get("Status"))
        running = state.get("Running") or state.get("Paused") or state.get("Restarting")
        if running:
            r["changed"] = True
            r["actions"].append("stopped (grace %ss)" % (task.p.get("stop_timeout") or 0))
            if not self.dm.check_mode:
                self._stop(task)
                task.inspect = self._inspect(task.inspect["Id"]) or task.inspect
        if not self.dm.check_mode:
            self.sync_logs(task)
        if remove:
            r["changed"] = True
            r["actions"].append("removed")
            if not self.dm.check_mode:
                try:
                    self.client.remove_container(task.inspect["Id"], v=True, force=True)
                except NotFound:
                    pass
            r["diff"] = dict(before=before, after=dict(status="absent"))
        else:
            r["diff"] = dict(before=before, after=dict(status="exited"))

    def report(self, task):
        r = task.result
        if task.p.get("sandbox") or task.inspect:
            r["sandbox"] = self._sandbox_of(task)
        if "status" in r:
            return
        if task.inspect is None or (task.state == "absent" and not self.dm.check_mode):
            r.update(status="absent", id=None)
            return
        state = task.inspect.get("State") or {}
        r.update(id=task.inspect["Id"], status=state.get("Status"))
        if state.get("Status") in ("exited", "dead"):
            r["exit_code"] = state.get("ExitCode")

    # ---- orchestration -----------------------------------------------------------------------

    def ensure_images(self):
        started = [t for t in self.tasks if t.state == "started"]
        if not started:
            return
        if ImagePuller is None:
            self.dm.fail("The shared pull code (module_utils/_pull.py) is missing")
        self.puller = ImagePuller(self.client, docker_config=self.docker_config, check_mode=self.dm.check_mode)
        # Only tasks that will be launched need their image; existing containers keep theirs,
        # unless force_pull asks for a pull on every launch.
        images = sorted(set(t.p["image"] for t in started))
        try:
            results = self.puller.ensure_many(images, force_pull=bool(self.p["force_pull"]),
                                              max_workers=min(4, self.p["max_workers"]))
        except ImageError as exc:
            raise ContainerError(str(exc))
        by_image = dict(zip(images, results))
        for task in started:
            task.result["image"] = by_image[task.p["image"]]

    def run_one(self, task):
        try:
            if task.state == "started":
                self.do_started(task)
                self.finish_started(task)
            elif task.container_id:
                self.do_stopped(task, remove=task.state == "absent")
            self.report(task)
        except ContainerError as exc:
            task.result.update(failed=True, msg="%s: %s" % (task.name or task.p.get("task_id"), exc))
        except (APIError, DockerException, OSError) as exc:
            text = to_text(getattr(exc, "explanation", None) or exc)
            task.result.update(failed=True, msg="%s (%s) failed on %s: %s" % (task.name, task.state, self.p["docker_host"], text))
        return task

    def run(self):
        self.make_tasks()
        self.validate()
        self.client = self.dm.client
        try:
            self.resolve_identities()
            self.ensure_images()
        except ContainerError as exc:
            self.dm.fail(str(exc))
        except (APIError, DockerException) as exc:
            self.dm.fail("Talking to the Docker daemon at %s failed: %s" % (self.p["docker_host"], exc))
        parallel_map(self.run_one, self.tasks, self.p["max_workers"])
        follow = [t for t in self.tasks if getattr(t, "launched", False) and t.inspect
                  and (t.inspect.get("State") or {}).get("Running") and not t.p.get("wait")]
        # Restart followers of running containers whose follower is gone (reboot, crash).
        for t in self.tasks:
            if t not in follow and t.state == "started" and t.inspect and not self.dm.check_mode \
                    and not t.result.get("failed") and (t.inspect.get("State") or {}).get("Running") \
                    and self._sandbox_of(t) and self._follower_pid(t, self._sandbox_of(t)) is None:
                follow.append(t)
        try:
            self.start_followers(follow)
        except (IOError, OSError) as exc:
            self.dm.warn("Could not start the log follower: %s" % exc)
        return self.results()

    def results(self):
        single = self.p["containers"] is None
        failed = [t for t in self.tasks if t.result.get("failed")]
        changed = any(t.result["changed"] for t in self.tasks)
        outs = []
        for t in self.tasks:
            r = dict(t.result)
            r.pop("diff", None)
            outs.append(r)
        results = dict(changed=changed)
        if single:
            results.update(outs[0])
            results.pop("failed", None)
            results.pop("msg", None)
        else:
            results["containers"] = outs
        if self.dm.diff_mode:
            if single:
                results["diff"] = self.tasks[0].result.get("diff") or dict(before=None, after=None)
            else:
                results["diff"] = dict(
                    before=dict((t.name or str(i), (t.result.get("diff") or {}).get("before")) for i, t in enumerate(self.tasks)),
                    after=dict((t.name or str(i), (t.result.get("diff") or {}).get("after")) for i, t in enumerate(self.tasks)),
                )
        if failed:
            msg = "; ".join(t.result["msg"] for t in failed)
            if not single:
                msg = "%d of %d containers failed: %s" % (len(failed), len(self.tasks), msg)
            self.dm.fail(msg, **results)
        return results


def _uri_spec():
    return dict(
        value=dict(type="str", required=True),
        extract=dict(type="bool", default=True),
        executable=dict(type="bool", default=False),
        output_file=dict(type="str"),
    )


def _volume_spec():
    return dict(
        container_path=dict(type="str", required=True),
        host_path=dict(type="str"),
        source=dict(type="str"),
        mode=dict(type="str", choices=["rw", "ro"], default="rw"),
    )


def _port_spec():
    return dict(
        host_port=dict(type="int", required=True),
        container_port=dict(type="int", required=True),
        protocol=dict(type="str", choices=["tcp", "udp", "sctp"], default="tcp"),
    )


def container_options(defaults=True):
    """Per-container options; without defaults for the entries of ``containers``."""
    def d(value):
        return value if defaults else None

    spec = dict(
        container_id=dict(type="str"),
        agent_id=dict(type="str"),
        framework_id=dict(type="str"),
        executor_id=dict(type="str"),
        task_id=dict(type="str"),
        naming=dict(type="str", choices=["modern", "legacy"], default=d("modern")),
        executor=dict(type="bool", default=d(False)),
        image=dict(type="str"),
        sandbox=dict(type="path"),
        sandbox_directory=dict(type="str", default=d("/mnt/mesos/sandbox")),
        uris=dict(type="list", elements="dict", options=_uri_spec()),
        command=dict(type="str"),
        shell=dict(type="bool", default=d(True)),
        arguments=dict(type="list", elements="str"),
        env=dict(type="dict"),
        cpus=dict(type="float"),
        mem=dict(type="float"),
        role=dict(type="str", default=d("*")),
        volumes=dict(type="list", elements="dict", options=_volume_spec(),
                     mutually_exclusive=[("host_path", "source")], required_one_of=[("host_path", "source")]),
        network=dict(type="str", default=d("host")),
        port_mappings=dict(type="list", elements="dict", options=_port_spec()),
        hostname=dict(type="str"),
        privileged=dict(type="bool", default=d(False)),
        labels=dict(type="dict"),
        state=dict(type="str", choices=["started", "stopped", "absent"], default=d("started")),
        stop_timeout=dict(type="int", default=d(0)),
        wait=dict(type="bool", default=d(False)),
    )
    return spec


def main():
    argument_spec = container_options()
    argument_spec.update(
        force_pull=dict(type="bool", default=False, aliases=["force_pull_image"]),
        docker_config=dict(type="raw", no_log=True),
        wait_timeout=dict(type="int"),
        log_follow=dict(type="bool", default=True),
        containers=dict(type="list", elements="dict"),
        max_workers=dict(type="int", default=8),
    )
    dm = DockerModule(
        argument_spec,
        supports_check_mode=True,
        required_one_of=[("container_id", "task_id", "containers")],
        mutually_exclusive=[("container_id", "containers"), ("task_id", "containers")],
    )
    if dm.params["max_workers"] < 1:
        dm.fail("max_workers must be at least 1")
    results = ContainerManager(dm).run()
    dm.exit(**results)


if __name__ == "__main__":
    main()
