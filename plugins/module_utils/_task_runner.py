# Private to the mesos.docker collection: no API stability promise.
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The task state machine of ``mesos.docker.container``: started, stopped, absent, for one or many containers.

Launch order as in ``DockerContainerizerProcess::launch``: the sandbox is created (and, when its path
holds ``:``, linked under ``<work_dir>/slaves/<agentID>/docker/links/``), the URIs are fetched into it,
then the image is pulled - with the ``.docker/config.json`` or ``.dockercfg`` the fetcher put into the
sandbox when there is one (Mesos points ``HOME`` at the sandbox for ``docker pull``), else with
``docker_config``, else anonymously (never with the credentials of the user running the module) - and
only then the container is created and started. ``force_pull`` pulls only on such a launch.

A container that exists is compared with the spec against the image it was created from, so a moved
tag never stops a running task. Nothing here raises out of a worker: every failure becomes the
task's own clean failure naming its container.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import posixpath
import select
import sys
import threading
import time

from ansible_collections.mesos.docker.plugins.module_utils._common import (
    NotFound,
    RequestsConnectionError,
    RequestsTimeout,
    error_text,
    parallel_map,
)
from ansible_collections.mesos.docker.plugins.module_utils._container_identity import (
    IdentityError,
    container_name,
    resolve,
)
from ansible_collections.mesos.docker.plugins.module_utils._docker_client import connection_args
from ansible_collections.mesos.docker.plugins.module_utils._docker_config import DockerConfigError
from ansible_collections.mesos.docker.plugins.module_utils._docker_config import load as load_docker_config
from ansible_collections.mesos.docker.plugins.module_utils._fetcher import Fetcher, FetchError
from ansible_collections.mesos.docker.plugins.module_utils._log_follower import MARKER, catch_up, follower_source
from ansible_collections.mesos.docker.plugins.module_utils._pull import ImageError, ImagePuller
from ansible_collections.mesos.docker.plugins.module_utils._task_container import (
    DEFAULT_SANDBOX_DIRECTORY,
    TaskSpecError,
    actual_view,
    build,
    desired_view,
    sandbox_link,
    validate_spec,
)

SANDBOX_DOCKER_CONFIGS = (posixpath.join(".docker", "config.json"), ".dockercfg")


class TaskError(Exception):
    """One task failed; the message is said after the container's name."""


def sandbox_docker_config(sandbox):
    """The docker config the fetcher put into the sandbox (``.docker/config.json`` first, as the CLI reads
    ``$HOME``), or None."""
    for relative in SANDBOX_DOCKER_CONFIGS:
        path = os.path.join(sandbox, relative)
        if os.path.isfile(path):
            return path
    return None


def fetch_into(sandbox, uris, timeout, check_mode):
    """Fetch ``uris`` into ``sandbox``; the one place a fetch error becomes a task error."""
    try:
        return Fetcher(sandbox, timeout=timeout, check_mode=check_mode).fetch_all(uris)
    except FetchError as exc:
        raise TaskError("fetching into %s failed: %s" % (sandbox, exc))


def spawn_detached(argv, stdout=None):
    """Start ``argv`` in its own session with stdio on /dev/null (stdout on the descriptor ``stdout`` when given);
    returns its PID (it outlives the module)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setsid()
            if os.fork() != 0:  # the grandchild is adopted by init: no zombie, nobody needs to reap it
                os._exit(0)
            os.chdir("/")
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(stdout if fd == 1 and stdout is not None else null, fd)
            os.closerange(3, 65536)
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    os.waitpid(pid, 0)
    return pid


def read_report(fd, lines, timeout):
    """Up to ``lines`` lines from the pipe ``fd`` within ``timeout`` seconds (fewer when it closes first)."""
    data = b""
    deadline = time.monotonic() + timeout
    while data.count(b"\n") < lines:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data.decode("ascii", "replace").splitlines()


def _report_status(report, task):
    for line in report:
        status, _sep, container = line.partition(" ")
        if container == task.inspect["Id"]:
            return {"busy": "another writer holds the sandbox", "unattached": "the engine refused"}.get(status, status)
    return "no report"


class Task:
    """One container: its options, identity, built configuration and result."""

    def __init__(self, params, label):
        self.p = params
        self.label = label  # how messages name the entry before it has a container name
        self.container_id = params.get("container_id")
        self.name = None
        self.built = None
        self.inspect = None
        self.result = dict(changed=False, actions=[])
        self.start_pending = False  # created; started once its log follower is attached
        self.sandbox_mount = None
        self.created_here = False

    @property
    def state(self):
        return self.p["state"]

    @property
    def running(self):
        return bool(self.inspect and (self.inspect.get("State") or {}).get("Running"))

    def set_identity(self, container_id):
        self.container_id = container_id
        self.name = container_name(self.p, container_id)
        self.result.update(container_id=container_id, name=self.name)
        if self.state == "started":
            sandbox = posixpath.normpath(self.p["sandbox"])
            self.sandbox_mount = sandbox_link(sandbox, container_id, self.p.get("work_dir"), self.p.get("agent_id"))
            self.built = build(dict(self.p, name=self.name, container_id=container_id, sandbox_mount=self.sandbox_mount))


class ImageCache:
    """Each image is ensured once per module run and credentials source, whatever the number of tasks."""

    def __init__(self, client, check_mode):
        self.client = client
        self.check_mode = check_mode
        self._results = {}
        self._lock = threading.Lock()
        self._locks = {}

    def ensure(self, image, docker_config, source, force_pull):
        key = (image, source, force_pull)
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._results:
                puller = ImagePuller(self.client, docker_config=docker_config, check_mode=self.check_mode,
                                     home_credentials=False)
                try:
                    self._results[key] = puller.ensure(image, force_pull=force_pull)
                except ImageError as exc:
                    self._results[key] = exc
            result = self._results[key]
        if isinstance(result, ImageError):
            raise TaskError(str(result))
        return result


class TaskRunner:
    """Runs the tasks of one module call: ``dm`` is the :class:`DockerModule`."""

    def __init__(self, dm, specs):
        self.dm = dm
        self.p = dm.params
        self.check_mode = dm.check_mode
        self.tasks = [Task(spec, label) for label, spec in specs]
        self.client = None
        self.docker_config = None
        self.images = None

    # ---- before any Docker call ---------------------------------------------------------------

    def validate(self):
        errors = []
        for task in self.tasks:
            try:
                validate_spec(task.p)
            except TaskSpecError as exc:
                errors.append(str(exc) if len(self.tasks) == 1 else "%s: %s" % (task.label, exc))
        if errors:
            self.dm.fail("; ".join(errors))
        self._refuse_shared("container_id", lambda t: t.container_id)
        self._refuse_shared("sandbox", lambda t: t.p.get("sandbox") and posixpath.normpath(t.p["sandbox"]))
        try:
            self.docker_config = load_docker_config(self.p["docker_config"])
        except DockerConfigError as exc:
            self.dm.fail("docker_config: %s" % exc)
        if self.docker_config is not None:
            self.dm.register_secrets(self.docker_config.secrets())

    def _refuse_shared(self, what, key):
        seen = {}
        for task in self.tasks:
            value = key(task)
            if value:
                seen.setdefault(value, []).append(task.label)
        shared = ["%s (%s)" % (value, ", ".join(labels)) for value, labels in sorted(seen.items()) if len(labels) > 1]
        if shared:
            self.dm.fail("%s given more than once: %s; every container needs its own" % (what, "; ".join(shared)))

    # ---- Docker helpers -------------------------------------------------------------------------

    def _inspect(self, name):
        try:
            return self.client.inspect_container(name)
        except NotFound:
            return None

    def _image_config(self, image_id):
        """The ``Config`` of the image a container was created from (by ID), {} when it is gone."""
        try:
            return (self.client.inspect_image(image_id) or {}).get("Config") or {}
        except NotFound:
            return {}

    def _sandbox_of(self, task):
        if task.p.get("sandbox"):
            return task.p["sandbox"]
        if task.inspect:
            target = task.p.get("sandbox_directory") or DEFAULT_SANDBOX_DIRECTORY
            for mount in task.inspect.get("Mounts") or []:
                if mount.get("Destination") == target and mount.get("Type") == "bind":
                    return mount.get("Source")
        return None

    def _stop(self, task):
        self.client.stop(task.inspect["Id"], timeout=task.p.get("stop_timeout") or 0)

    # ---- logs: append only ----------------------------------------------------------------------

    def append_logs(self, task, wait_for_follower=0.0):
        """Append what is new in the container's output to the sandbox files.

        Returns False when a follower holds the sandbox (it writes them), True when written here.
        """
        sandbox = self._sandbox_of(task)
        if self.check_mode or not task.inspect or not sandbox or not os.path.isdir(sandbox):
            return True
        try:
            return catch_up(self.client, sandbox, task.inspect["Id"], lock_timeout=wait_for_follower) is not None
        except (IOError, OSError) as exc:
            raise TaskError(str(exc))

    def settle_logs(self, task):
        """After the container stopped: let the follower finish (up to ``timeout``), then append the rest."""
        if not self.append_logs(task, wait_for_follower=float(self.p["timeout"])):
            self.dm.warn("%s: the log follower is still writing %s after %ss; it goes on in the background"
                         % (task.name, self._sandbox_of(task), self.p["timeout"]))

    def start_followers(self, tasks):
        """One detached follower process for all the given containers (running, or created and not yet started).

        Waits at most ``timeout`` seconds for its report that it attached to each: from then on it holds their
        output back while the sandbox files lag (see ``_log_follower``), so containers are started only after."""
        if not tasks or self.check_mode or not self.p["log_follow"]:
            return
        p = self.p
        # The module's connection at the API version it settled on; no timeout: the follower waits on the stream.
        args = dict(docker=dict(connection_args(p), version=self.client.api_version, timeout=None),
                    containers=[dict(id=t.inspect["Id"], sandbox=self._sandbox_of(t)) for t in tasks])
        marker = MARKER + " " + " ".join(t.inspect["Id"] for t in tasks)
        report_read, report_write = os.pipe()
        try:
            try:
                spawn_detached([sys.executable, "-c", follower_source(), marker, json.dumps(args)], stdout=report_write)
            finally:
                os.close(report_write)
            report = read_report(report_read, len(tasks), float(p["timeout"]))
        except OSError as exc:
            self.dm.warn("Could not start the log follower: %s; stdout/stderr are appended by later runs" % exc)
            return
        finally:
            os.close(report_read)
        attached = set(line.split(" ", 1)[1] for line in report if line.startswith("attached "))
        for task in tasks:
            if task.inspect["Id"] not in attached:
                self.dm.warn("%s: the log follower could not attach (%s): the output is appended, but not held "
                             "back while the sandbox files lag behind" % (task.name, _report_status(report, task)))

    def start_pending(self, task):
        """Start a container created (or found created) in the first phase; one launched here is removed if that fails."""
        if not task.start_pending:
            return
        try:
            self.client.start(task.inspect["Id"])
        except Exception:
            if task.created_here:
                self.client.remove_container(task.inspect["Id"], v=True, force=True)
            raise
        task.start_pending = False
        task.inspect = self._inspect(task.inspect["Id"])

    # ---- the states ----------------------------------------------------------------------------

    def _diff_views(self, task):
        desired = desired_view(task.built)
        if task.inspect is None:
            return None, desired
        return actual_view(task.inspect, desired, self._image_config(task.inspect.get("Image"))), desired

    def _docker_config_for(self, task):
        """``(docker config, source)`` for the pull: the sandbox's own wins over ``docker_config``."""
        path = sandbox_docker_config(task.p["sandbox"]) if os.path.isdir(task.p["sandbox"]) else None
        if path is None:
            return self.docker_config, "docker_config"
        try:
            config = load_docker_config(path)
        except DockerConfigError as exc:
            raise TaskError("the docker config fetched into the sandbox: %s" % exc)
        self.dm.register_secrets(config.secrets())
        return config, path

    def _prepare_sandbox(self, task):
        r = task.result
        sandbox = task.p["sandbox"]
        if not os.path.isdir(sandbox):
            r["actions"].append("created sandbox")
            if not self.check_mode:
                os.makedirs(sandbox, 0o755)
        if task.sandbox_mount:
            target = os.path.realpath(task.sandbox_mount) if os.path.lexists(task.sandbox_mount) else None
            if target != os.path.realpath(sandbox):
                r["actions"].append("linked sandbox at %s" % task.sandbox_mount)
                if not self.check_mode:
                    os.makedirs(os.path.dirname(task.sandbox_mount), 0o755, exist_ok=True)
                    if os.path.lexists(task.sandbox_mount):
                        os.unlink(task.sandbox_mount)
                    os.symlink(sandbox, task.sandbox_mount)
        if task.p.get("uris"):
            r["fetched"] = fetch_into(sandbox, task.p["uris"], self.p["timeout"],
                                      self.check_mode or not os.path.isdir(sandbox))
            r["actions"].extend("fetched %s" % f["uri"] for f in r["fetched"] if f["changed"])

    def _launch(self, task):
        r = task.result
        r["changed"] = True
        self._prepare_sandbox(task)
        config, source = self._docker_config_for(task)
        image = self.images.ensure(task.p["image"], config, source, bool(self.p["force_pull"]))
        r["image"] = dict(image, credentials=source if config is not None else "none (anonymous)")
        if image.get("changed"):
            r["actions"].append(("would pull " if self.check_mode else "pulled ") + task.p["image"])
        r["actions"].extend(["created", "started"])
        if self.check_mode:
            r.update(status="absent", id=None)
            return
        create = dict(task.built["create"])
        create["host_config"] = self.client.create_host_config(**task.built["host_config"])
        created = self.client.create_container(**create)
        task.inspect = self._inspect(created["Id"])
        task.start_pending = True
        task.created_here = True

    def do_started(self, task):
        r = task.result
        task.inspect = self._inspect(task.name)
        before, after = self._diff_views(task)
        r["diff"] = dict(before=before, after=after)
        if task.inspect is not None and before != after:
            r["actions"].append("recreated: configuration differs")
            r["changed"] = True
            if not self.check_mode:
                if task.running:
                    self._stop(task)
                    task.inspect = self._inspect(task.inspect["Id"]) or task.inspect
                self.settle_logs(task)
                self.client.remove_container(task.inspect["Id"], v=True, force=True)
            task.inspect = None
        if task.inspect is None:
            self._launch(task)
            return
        if task.p.get("uris") and os.path.isdir(task.p["sandbox"]):
            # Re-check the files (fetched again when the sandbox copy vanished or changed); no pull.
            r["fetched"] = fetch_into(task.p["sandbox"], task.p["uris"], self.p["timeout"], self.check_mode)
            if any(f["changed"] for f in r["fetched"]):
                r["changed"] = True
                r["actions"].extend("fetched %s" % f["uri"] for f in r["fetched"] if f["changed"])
        if (task.inspect.get("State") or {}).get("Status") == "created":
            r["changed"] = True
            r["actions"].append("started")
            if not self.check_mode:
                task.start_pending = True

    def finish_started(self, task):
        """After launch: wait for the exit when asked, then the logs."""
        if task.inspect is None or self.check_mode:
            return
        if not task.p.get("wait"):
            if not task.running:
                self.append_logs(task)
            return
        if task.running or (task.inspect.get("State") or {}).get("Status") == "created":
            try:
                self.client.wait(task.inspect["Id"], timeout=self.p["wait_timeout"])
            except (RequestsConnectionError, RequestsTimeout):
                raise TaskError("did not exit within %s seconds (still running)" % self.p["wait_timeout"])
            task.inspect = self._inspect(task.inspect["Id"])
        self.settle_logs(task)

    def do_stopped(self, task, remove):
        r = task.result
        task.inspect = self._inspect(task.name) if task.name else None
        if task.inspect is None:
            r["status"] = "absent"
            r["diff"] = dict(before=None, after=None)
            return
        state = task.inspect.get("State") or {}
        before = dict(status=state.get("Status"))
        if state.get("Running") or state.get("Paused") or state.get("Restarting"):
            r["changed"] = True
            r["actions"].append("stopped (grace %ss)" % (task.p.get("stop_timeout") or 0))
            if not self.check_mode:
                self._stop(task)
                task.inspect = self._inspect(task.inspect["Id"]) or task.inspect
        if not self.check_mode:
            self.settle_logs(task)
        if remove:
            r["changed"] = True
            r["actions"].append("removed")
            if not self.check_mode:
                try:
                    self.client.remove_container(task.inspect["Id"], v=True, force=True)
                except NotFound:
                    pass
        r["diff"] = dict(before=before, after=dict(status="absent" if remove else "exited"))

    def report(self, task):
        r = task.result
        if task.p.get("sandbox") or task.inspect:
            r["sandbox"] = self._sandbox_of(task)
        if "status" in r:
            return
        if task.inspect is None or (task.state == "absent" and not self.check_mode):
            r.update(status="absent", id=None)
            return
        state = task.inspect.get("State") or {}
        r.update(id=task.inspect["Id"], status=state.get("Status"))
        if state.get("Status") in ("exited", "dead"):
            r["exit_code"] = state.get("ExitCode")

    def _guarded(self, task, step):
        """Run ``step(task)`` unless the task already failed; never raises: a failure is the task's result."""
        if task.result.get("failed"):
            return task
        try:
            step(task)
        except TaskError as exc:
            task.result.update(failed=True, msg="%s: %s" % (task.name or task.label, exc))
        except Exception as exc:  # pylint: disable=broad-except  # SDK, requests, OS or our own bug: named, not a traceback
            task.result.update(failed=True, msg="%s (%s) failed on %s: %s" % (
                task.name or task.label, task.state, self.p["docker_host"], error_text(exc)))
        return task

    def act(self, task):
        """First phase: launch, stop or remove."""
        if task.state == "started":
            self.do_started(task)
        elif task.container_id:
            self.do_stopped(task, remove=task.state == "absent")

    def conclude(self, task):
        """Second phase, once the followers run: wait, logs, the result's fields."""
        if task.state == "started":
            self.finish_started(task)
        self.report(task)

    # ---- the whole call ------------------------------------------------------------------------

    def resolve_identities(self):
        for task, (container_id, generated) in zip(self.tasks, resolve(self.client, [t.p for t in self.tasks])):
            if container_id is None:
                task.result.update(status="absent", container_id=None)
                continue
            try:
                task.set_identity(container_id)
            except (IdentityError, TaskSpecError) as exc:
                raise TaskError("%s: %s" % (task.label, exc))
            if generated:
                task.result["actions"].append("generated container_id")

    def run(self):
        self.validate()
        self.client = self.dm.client
        self.images = ImageCache(self.client, self.check_mode)
        try:
            self.resolve_identities()
        except (TaskError, IdentityError) as exc:
            self.dm.fail(str(exc))
        except Exception as exc:  # pylint: disable=broad-except
            self.dm.fail("Listing the containers on %s failed: %s" % (self.p["docker_host"], error_text(exc)))
        workers = self.p["max_workers"]
        parallel_map(lambda task: self._guarded(task, self.act), self.tasks, workers)
        self.start_followers([t for t in self.tasks if self._needs_follower(t)])
        parallel_map(lambda task: self._guarded(task, self.start_pending), self.tasks, workers)
        parallel_map(lambda task: self._guarded(task, self.conclude), self.tasks, workers)
        for task in self.tasks:
            for warning in (task.built or {}).get("warnings") or []:
                self.dm.warn("%s: %s" % (task.name or task.label, warning))
        return self.tasks

    def results(self, single):
        """The module's result: the single container's fields, or ``containers``; fails when a task failed."""
        dm, tasks = self.dm, self.tasks
        outs = [dict((k, v) for k, v in t.result.items() if k != "diff") for t in tasks]
        out = dict(changed=any(t.result["changed"] for t in tasks))
        if single:
            out.update(outs[0])
            out.pop("failed", None)
            out.pop("msg", None)
        else:
            out["containers"] = outs
        if dm.diff_mode:
            diffs = [t.result.get("diff") or dict(before=None, after=None) for t in tasks]
            if single:
                out["diff"] = diffs[0]
            else:
                keys = [t.name or t.label for t in tasks]
                out["diff"] = dict(before=dict((k, d["before"]) for k, d in zip(keys, diffs)),
                                   after=dict((k, d["after"]) for k, d in zip(keys, diffs)))
        failed = [t.result["msg"] for t in tasks if t.result.get("failed")]
        if failed:
            msg = "; ".join(failed)
            dm.fail(msg if single else "%d of %d containers failed: %s" % (len(failed), len(tasks), msg), **out)
        return out

    def _needs_follower(self, task):
        """Running and no follower writes its sandbox (a launch, or one whose follower died)."""
        if self.check_mode or task.state != "started" or task.result.get("failed"):
            return False
        if not (task.running or task.start_pending) or not self._sandbox_of(task):
            return False
        try:
            return self.append_logs(task)  # False: a follower holds the sandbox
        except TaskError as exc:
            self.dm.warn("%s: %s" % (task.name, exc))
            return True
