# Private to the mesos.docker collection: no API stability promise.
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Read a Mesos agent's checkpoint the way the agent recovers it.

Reference: ``src/slave/state.cpp`` (``state::recover``, ``ExecutorState::recover``,
``RunState::recover``) and ``DockerContainerizerProcess::_recover`` in
``src/slave/containerizer/docker.cpp`` of Apache Mesos at c1b42f7. Layout under
``<work_dir>/meta``::

    boot_id                                   the boot ID the agent last ran under
    slaves/latest -> slaves/<agentID>
    slaves/<agentID>/frameworks/<fw>/executors/<ex>/executor.info
    slaves/<agentID>/frameworks/<fw>/executors/<ex>/runs/latest -> runs/<containerID>
    .../runs/<containerID>/pids/forked.pid, pids/libprocess.pid, executor.sentinel

The Docker containerizer recovers the container of an executor only when all of these hold
(anything else is an orphan to the agent and is killed with ``--docker_kill_orphans``):

* ``executor.info`` exists and is not empty;
* ``runs/latest`` resolves (only the latest run of an executor is recovered);
* the host has not rebooted since the checkpoint: a ``meta/boot_id`` that differs from the
  current boot ID means the checkpointed pids are obsolete, and the run is not recovered;
* ``pids/forked.pid`` exists and is not empty, and parses as a number (an unparseable
  ``forked.pid`` makes the agent's whole recovery fail: :class:`CheckpointError` here);
* ``pids/libprocess.pid`` exists and is not empty (the Docker executor is a libprocess
  executor: ``http.marker`` alone does not make a docker container recoverable);
* ``executor.sentinel`` does not exist (the run completed).

The agent also removes ``forked.pid`` after a reboot; this reader never writes anything.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.mesos.docker.plugins.module_utils._mesos_names import is_uuid

BOOT_ID_FILE = "boot_id"
EXECUTOR_INFO_FILE = "executor.info"
SENTINEL_FILE = "executor.sentinel"
FORKED_PID_FILE = "forked.pid"
LIBPROCESS_PID_FILE = "libprocess.pid"
LATEST = "latest"
CURRENT_BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id"
_MAX_LINKS = 40  # MAXSYMLINKS: the kernel follows no more links in one path


class CheckpointError(Exception):
    """The checkpoint cannot be read the way the agent would (the agent itself would not start)."""


class Checkpoint:
    """What recovery takes from a checkpoint.

    ``agent_id``: the agent ``slaves/latest`` points at (None without one); ``known``: the
    container IDs the agent recovers; ``skipped``: ``{container_id: reason}`` for the latest runs
    it does not recover; ``rebooted``: the boot ID changed since the checkpoint.
    """

    def __init__(self, agent_id=None, known=None, skipped=None, rebooted=False):
        self.agent_id = agent_id
        self.known = set(known or ())
        self.skipped = dict(skipped or {})
        self.rebooted = rebooted


def current_boot_id(path=CURRENT_BOOT_ID_PATH):
    """The running kernel's boot ID (as ``os::bootId()``), or None where there is none."""
    return _read_text(path)


def _read_text(path):
    """The stripped content of ``path``; None when missing or unreadable."""
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace").strip()
    except (IOError, OSError):
        return None


def _listdir(path):
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def rebooted_since(meta, boot_id):
    """True when ``<meta>/boot_id`` exists and differs from ``boot_id`` (Mesos: "Agent host rebooted")."""
    recorded = _read_text(os.path.join(meta, BOOT_ID_FILE))
    return recorded is not None and boot_id is not None and recorded != boot_id


def run_skip_reason(executor_dir, run, rebooted):
    """Why the Docker containerizer would not recover ``run`` (a run directory), or None when it would.

    Checked in the agent's order: the pids of every run are read first (an unparseable
    ``forked.pid`` fails the whole recovery), then ``executor.info``, the pids, the sentinel.
    """
    pids = os.path.join(run, "pids")
    forked = libprocess = None
    if not rebooted:
        forked = _read_text(os.path.join(pids, FORKED_PID_FILE))
        if forked:
            try:
                int(forked)
            except ValueError:
                raise CheckpointError(
                    "Failed to parse forked pid %r from %s (the agent itself would refuse to recover)"
                    % (forked[:32], os.path.join(os.path.realpath(run), "pids", FORKED_PID_FILE))
                )
            libprocess = _read_text(os.path.join(pids, LIBPROCESS_PID_FILE))
    if not _read_text(os.path.join(executor_dir, EXECUTOR_INFO_FILE)):
        return "no executor.info"
    if rebooted:
        return "host rebooted since the checkpoint (boot_id changed): its pids are obsolete"
    if not forked:
        return "no forked.pid"
    if not libprocess:
        return "no libprocess.pid"
    if os.path.exists(os.path.join(run, SENTINEL_FILE)):
        return "run completed (executor.sentinel)"
    return None


def _follow_last(path):
    """``path`` with the symlinks of its last component followed: a path to the same entry whose last
    component is no symlink, so its basename is that of ``os.path.realpath(path)``.

    One ``readlink`` per link instead of ``realpath``'s ``lstat`` of every component of the path and of
    each link's target again (a checkpoint's ``runs/latest`` holds the absolute path of the run: ~30
    ``lstat`` calls per executor). Targets whose last component is not a plain name (``..``, ``.``, a
    trailing ``/``), and chains longer than the kernel follows, go to ``os.path.realpath``.
    """
    current = path
    for dummy in range(_MAX_LINKS):
        try:
            target = os.readlink(current)
        except OSError:  # not a symlink (or gone meanwhile): its own name is the resolved one
            return current
        last = target.rsplit("/", 1)[-1]
        if last in ("", ".", ".."):
            return os.path.realpath(path)
        current = os.path.join(os.path.dirname(current), target)
    return os.path.realpath(path)


def read_checkpoint(work_dir, boot_id=None):
    """The :class:`Checkpoint` of the agent whose ``--work_dir`` is ``work_dir``.

    ``boot_id`` defaults to the running kernel's. Raises :class:`CheckpointError` where the
    agent's own recovery would fail.
    """
    meta = os.path.join(work_dir, "meta")
    latest = os.path.join(meta, "slaves", LATEST)
    if not os.path.exists(latest):
        return Checkpoint()
    if boot_id is None:
        boot_id = current_boot_id()
    rebooted = rebooted_since(meta, boot_id)
    checkpoint = Checkpoint(agent_id=os.path.basename(os.path.realpath(latest)), rebooted=rebooted)
    frameworks = os.path.join(latest, "frameworks")
    for framework in _listdir(frameworks):
        executors = os.path.join(frameworks, framework, "executors")
        for executor in _listdir(executors):
            executor_dir = os.path.join(executors, executor)
            link = os.path.join(executor_dir, "runs", LATEST)
            if not os.path.exists(link):
                continue  # no or dangling "latest": Mesos skips the executor
            run = _follow_last(link)  # the run directory itself, named by its container ID
            container_id = os.path.basename(run)
            if not is_uuid(container_id):
                continue  # no Docker container can carry it
            reason = run_skip_reason(executor_dir, run, rebooted)
            if reason is None:
                checkpoint.known.add(container_id)
            else:
                checkpoint.skipped[container_id] = reason
    return checkpoint
