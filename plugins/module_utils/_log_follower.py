# Private to the mesos.docker collection: no API stability promise.
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Append a task container's output to ``<sandbox>/stdout`` and ``<sandbox>/stderr``, as Mesos's logger does.

Mesos's Docker executor pipes ``docker run``'s output into the sandbox files for the container's
whole life: the files only ever grow. Here the same files are written by a *follower*: the module
starts it as a detached process (``python -c <this file's source>``) that follows
``docker logs --follow --timestamps`` of both streams and ends when the container stops; every
later module run *catches up* the same way without following. Rules:

* Append only. Nothing ever truncates or rewrites ``stdout``/``stderr``; the engine's log rotation
  (``max-size``/``max-file``) can drop what nobody read in time, never what is already in the sandbox.
* One writer per sandbox: the writer holds ``flock`` on ``<sandbox>/.mesos-docker-logs.lock``. A
  follower holds it for its whole life, so "the lock is free" means "no follower is running".
* Continue where the file ends. ``<sandbox>/.mesos-docker-logs.json`` records, per stream, the Docker
  timestamp (ns) of the last entry written, how many entries carried exactly that timestamp, and the
  file size at that point. A new writer asks Docker for the entries from that second on, skips the
  ones already recorded, then skips as many bytes as the file grew after the record (written, but not
  recorded before a crash) and appends the rest. The record is saved at most every
  :data:`SAVE_INTERVAL` seconds and at the end, so a crash never loses a line and never duplicates one.
* Entries come in time order; one older than the last written, or the very entry just written, is a
  repeat (``docker logs --follow`` of the json-file driver delivers the entry at the rotation point
  again, observed with Docker 20.10) and is skipped.
* Nothing the engine rotates away unread. Mesos's executor runs ``docker run`` attached, and an attached
  client that does not read holds the container's writes back. The detached follower does the same: it
  attaches to the container *before* the module starts it and reads (and drops) the attached output
  only while the sandbox files lag at most :data:`WINDOW` bytes behind it, so however slow the writer
  is, the engine never holds more unread output than that, far below what its rotation keeps
  (``max-file`` - 1 files of ``max-size``). A follower started for a running container (its
  predecessor died) holds back from then on; what was written while no follower ran is appended when
  the engine still has it. When the follower stops appending (the container stopped, the sandbox is
  not writable), it lets go: a task is never blocked by a follower that does not write.
* Each entry is written as it arrives (unbuffered): the sandbox shows a line as soon as the engine has it.
* Bounded memory: one log entry (at most 16 KiB from the json-file driver) at a time.

This file imports only the standard library, the Docker SDK and ``_docker_client`` (which imports no
more), because the detached follower runs it from its source, outside Ansible's module payload
(:func:`follower_source`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import errno
import fcntl
import json
import os
import struct
import sys
import threading
import time

from ansible_collections.mesos.docker.plugins.module_utils._docker_client import api_client, pool_size

STREAMS = ("stdout", "stderr")
LOCK_FILE = ".mesos-docker-logs.lock"
STATE_FILE = ".mesos-docker-logs.json"
MARKER = "mesos-docker-log-follower"
SAVE_INTERVAL = 1.0
WINDOW = 4 * 1024 * 1024
START_TIMEOUT = 300.0


_SECONDS_CACHE = {}


def parse_timestamp(text):
    """Nanoseconds since the epoch of Docker's RFC 3339 (nano) UTC timestamp, e.g. ``2026-11-28T16:15:01.12Z``."""
    if isinstance(text, bytes):
        text = text.decode("ascii")
    if not text.endswith("Z") or len(text) < 20:
        raise ValueError("not a Docker log timestamp: %r" % text[:40])
    seconds = _SECONDS_CACHE.get(text[:19])
    if seconds is None:
        if len(_SECONDS_CACHE) > 1024:
            _SECONDS_CACHE.clear()
        seconds = _SECONDS_CACHE[text[:19]] = calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))
    fraction = text[19:-1]
    nanos = 0
    if fraction:
        if fraction[0] != "." or not fraction[1:].isdigit():
            raise ValueError("not a Docker log timestamp: %r" % text[:40])
        nanos = int((fraction[1:] + "000000000")[:9])
    return seconds * 1000000000 + nanos


def split_entry(chunk):
    """``(timestamp ns, data)`` of one ``--timestamps`` log entry (one frame of the multiplexed stream)."""
    stamp, _sep, data = chunk.partition(b" ")
    return parse_timestamp(stamp), data


class SandboxLog:
    """The append-only writer of one sandbox's ``stdout`` and ``stderr`` for one container."""

    def __init__(self, sandbox, container):
        self.sandbox = sandbox
        self.container = container
        self._lock_fd = None
        self._state_lock = threading.Lock()
        self._outputs = {}
        self.state = None

    # ---- the writer lock ------------------------------------------------------------------

    def acquire(self, timeout=0.0, poll=0.05):
        """Take the sandbox's writer lock, waiting up to ``timeout`` seconds; False when another writer holds it."""
        fd = os.open(os.path.join(self.sandbox, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._lock_fd = fd
                self._load()
                return True
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
            if time.monotonic() >= deadline:
                os.close(fd)
                return False
            time.sleep(poll)

    def release(self):
        if self._lock_fd is not None:
            self.save()
            os.close(self._lock_fd)  # closing the descriptor drops the flock
            self._lock_fd = None

    # ---- the position record --------------------------------------------------------------

    def _path(self, name):
        return os.path.join(self.sandbox, name)

    def _size(self, stream):
        try:
            return os.path.getsize(self._path(stream))
        except OSError:
            return 0

    def _load(self):
        try:
            with open(self._path(STATE_FILE)) as handle:
                state = json.load(handle)
        except (IOError, OSError, ValueError):
            state = None
        if not isinstance(state, dict) or state.get("container") != self.container:
            # First writer for this container: its output starts at the files' current ends. Files of a
            # sandbox written before this record existed hold the start of this container's output.
            legacy = state is None
            state = dict(container=self.container)
            for stream in STREAMS:
                size = self._size(stream)
                state[stream] = dict(ts=0, count=0, size=0 if legacy else size)
        for stream in STREAMS:
            state.setdefault(stream, dict(ts=0, count=0, size=0))
        self.state = state
        self._dirty = False
        self._saved = time.monotonic()

    def save(self):
        """Record the position; what it records is on disk first (a crash may repeat nothing, lose nothing)."""
        with self._state_lock:
            if self.state is None:
                return
            for out in list(self._outputs.values()):
                out.flush()
            tmp = self._path(STATE_FILE + ".tmp")
            with open(tmp, "w") as handle:
                json.dump(self.state, handle)
            os.rename(tmp, self._path(STATE_FILE))
            self._dirty = False
            self._saved = time.monotonic()

    # ---- appending ------------------------------------------------------------------------

    def since(self, stream):
        """The ``since`` (whole seconds) to ask Docker for, or None for "from the start"."""
        ts = self.state[stream]["ts"]
        return ts // 1000000000 if ts else None

    def append(self, stream, entries, on_entry=None):
        """Append the new entries of ``entries`` (``--timestamps`` chunks, oldest first). Returns bytes written.

        ``on_entry(size)`` is called after each new entry is on its way to the file."""
        record = self.state[stream]
        skip_bytes = max(0, self._size(stream) - record["size"])  # written after the record, before a crash
        resume_ts, resume_count = record["ts"], record["count"]
        seen_at_ts = 0
        written = 0
        last = None  # (ts, data) of the last entry taken in this call
        with open(self._path(stream), "ab", buffering=0) as out:
            self._outputs[stream] = out
            for chunk in entries:
                ts, data = split_entry(chunk)
                if ts < record["ts"] or (ts, data) == last:
                    continue  # already written: Docker's json-file follower delivers entries again on rotation
                last = (ts, data)
                if ts == resume_ts and seen_at_ts < resume_count:
                    seen_at_ts += 1
                    continue
                if skip_bytes:
                    if len(data) <= skip_bytes:
                        skip_bytes -= len(data)
                        data = b""
                    else:
                        data, skip_bytes = data[skip_bytes:], 0
                if data:
                    out.write(data)
                    written += len(data)
                if on_entry is not None:
                    on_entry(len(last[1]))
                with self._state_lock:
                    if ts == record["ts"]:
                        record["count"] += 1
                    else:
                        record["ts"], record["count"] = ts, 1
                    record["size"] = out.tell()
                    self._dirty = True
                if time.monotonic() - self._saved >= SAVE_INTERVAL:
                    self.save()
            out.flush()
            self._outputs.pop(stream, None)
        return written


def docker_entries(client, container, stream, since=None, follow=False):
    """The container's ``stream`` as ``--timestamps`` entries, one per multiplexed frame."""
    kwargs = dict(stdout=stream == "stdout", stderr=stream == "stderr", stream=True, follow=follow, timestamps=True)
    if since:
        kwargs["since"] = since
    return client.logs(container, **kwargs)


def append_streams(client, log, follow=False, on_entry=None):
    """Append what is new in both streams of ``log``'s container (held by the caller); bytes written per stream."""
    written = {}
    errors = []

    def run(stream):
        try:
            entries = docker_entries(client, log.container, stream, log.since(stream), follow)
            written[stream] = log.append(stream, entries, on_entry)
        except Exception as exc:  # pylint: disable=broad-except  # reported to the caller
            errors.append("%s: %s" % (stream, exc))

    threads = [threading.Thread(target=run, args=(stream,)) for stream in STREAMS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise IOError("appending the logs of %s to %s failed: %s" % (log.container, log.sandbox, "; ".join(errors)))
    return written


def catch_up(client, sandbox, container, follow=False, lock_timeout=0.0):
    """Append what is new in both streams; ``follow`` keeps going until the container stops.

    Returns the bytes written per stream, or None when another writer holds the sandbox.
    """
    log = SandboxLog(sandbox, container)
    if not log.acquire(timeout=lock_timeout):
        return None
    try:
        return append_streams(client, log, follow)
    finally:
        log.release()


class OutputGate:
    """Holds a container's output back while the sandbox files lag behind it, as an attached ``docker run`` does.

    :meth:`run` reads the container's attached (multiplexed) output and drops it, but reads a frame
    only while fewer than ``window`` bytes were read beyond what :meth:`appended` was told; an unread
    attach stream blocks the container's writes in the engine. :meth:`open` stops holding back.
    """

    def __init__(self, window=WINDOW):
        self.window = window
        self.read = 0
        self.appended_total = 0
        self._open = False
        self._cond = threading.Condition()

    def appended(self, size):
        with self._cond:
            self.appended_total += size
            self._cond.notify_all()

    def open(self):
        with self._cond:
            self._open = True
            self._cond.notify_all()

    def _wait_for_room(self):
        with self._cond:
            while not self._open and self.read - self.appended_total >= self.window:
                self._cond.wait(1.0)

    def run(self, sock):
        """Until the attach stream ends: 8-byte frame headers (stream, 0, 0, 0, big-endian size), then data."""
        try:
            while True:
                header = _recv_exactly(sock, 8)
                if len(header) < 8:
                    return
                left = struct.unpack(">I", header[4:8])[0]
                self._wait_for_room()
                while left:
                    chunk = sock.recv(min(left, 65536))
                    if not chunk:
                        return
                    left -= len(chunk)
                    with self._cond:
                        self.read += len(chunk)
        except (IOError, OSError, ValueError):
            return  # the stream was closed: nothing is held back any more


def _recv_exactly(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


class Follower:
    """The detached follower of one container: takes the sandbox, attaches, then appends until the container stops."""

    def __init__(self, client, sandbox, container):
        self.client = client
        self.log = SandboxLog(sandbox, container)
        self.gate = OutputGate()
        self.sock = None
        self.status = "busy"

    def attach(self):
        """Take the sandbox's writer lock and attach to the container; ``status``: attached, unattached or busy."""
        if not self.log.acquire():
            return self.status
        try:
            sock = self.client.attach_socket(self.log.container, params=dict(stdout=1, stderr=1, stream=1))
            self.sock = getattr(sock, "_sock", sock)
            self.status = "attached"
        except Exception:  # pylint: disable=broad-except  # follows without holding back
            self.status = "unattached"
        return self.status

    def _wait_until_started(self):
        """False when the container was removed or is still not started after :data:`START_TIMEOUT` seconds."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                status = (self.client.inspect_container(self.log.container).get("State") or {}).get("Status")
            except Exception:  # pylint: disable=broad-except  # removed (a start that failed)
                return False
            if status != "created":
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)

    def run(self):
        if self.status == "busy":
            return
        if self.sock is not None:
            reader = threading.Thread(target=self.gate.run, args=(self.sock,))
            reader.daemon = True
            reader.start()
        try:
            if self._wait_until_started():
                append_streams(self.client, self.log, follow=True, on_entry=self.gate.appended)
        finally:
            self.gate.open()
            self.log.release()
            if self.sock is not None:
                try:
                    self.sock.shutdown(2)  # detach: never hold back a container nobody appends for
                except (IOError, OSError):
                    pass
                self.sock.close()


def _client(args):
    """The module's connection (``_docker_client.connection_args``), a pool for both streams of every container."""
    return api_client(args["docker"], pool_size(2 * len(args["containers"])))


def follower_main(argv):
    """Entry point of the detached follower: ``<marker + ids> <json args>``; follows every container given.

    Once every container is attached, it reports ``<status> <id>`` per container on its standard output
    (the module starts the containers after reading it) and closes that output."""
    args = json.loads(argv[2])
    client = _client(args)
    followers = [Follower(client, item["sandbox"], item["id"]) for item in args["containers"]]
    report = "".join("%s %s\n" % (follower.attach(), follower.log.container) for follower in followers)
    try:
        os.write(1, report.encode("ascii"))
    except OSError:
        pass  # the module is gone: follow anyway
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)

    def follow(follower):
        try:
            follower.run()
        except Exception:  # pylint: disable=broad-except  # detached: nobody to tell; the next module run catches up
            pass

    threads = [threading.Thread(target=follow, args=(follower,)) for follower in followers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# What ``python -c`` runs: the Docker connection unit under its import name, then this file as ``__main__``.
_PROGRAM = """import sys, types
name, unit_source, follower_source = %r, %r, %r
unit = sys.modules[name] = types.ModuleType(name)
exec(compile(unit_source, name, "exec"), unit.__dict__)
exec(compile(follower_source, "%s", "exec"), dict(__name__="__main__"))
"""


def _source(module):
    loader = getattr(module, "__loader__", None)
    if loader is not None and hasattr(loader, "get_source"):
        try:
            source = loader.get_source(module.__name__)
            if source:
                return source
        except ImportError:
            pass
    with open(module.__file__.rstrip("c")) as handle:
        return handle.read()


def follower_source():
    """The program the detached follower runs with ``python -c``: this file's source and that of the one unit it
    imports (``_docker_client``), which need nothing of Ansible's module payload (gone once the module exits)."""
    unit = sys.modules[api_client.__module__]
    return _PROGRAM % (unit.__name__, _source(unit), _source(sys.modules[__name__]), MARKER)


if __name__ == "__main__":
    follower_main(sys.argv)
