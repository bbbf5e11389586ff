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
* Bounded memory: one log entry (at most 16 KiB from the json-file driver) at a time.

This file imports only the standard library and the Docker SDK, because the detached follower runs
it from its source, outside Ansible's module payload.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import errno
import fcntl
import json
import os
import sys
import threading
import time

STREAMS = ("stdout", "stderr")
LOCK_FILE = ".mesos-docker-logs.lock"
STATE_FILE = ".mesos-docker-logs.json"
MARKER = "mesos-docker-log-follower"
SAVE_INTERVAL = 1.0


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
                state[stream] = dict(ts=0, count=0, size=0 if legacy else size, unrecorded=size if legacy else 0)
        for stream in STREAMS:
            record = state.setdefault(stream, dict(ts=0, count=0, size=0))
            record.setdefault("unrecorded", 0)
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

    def append(self, stream, entries):
        """Append the new entries of ``entries`` (``--timestamps`` chunks, oldest first). Returns bytes written."""
        record = self.state[stream]
        skip_bytes = max(0, self._size(stream) - record["size"]) if record["ts"] else record.pop("unrecorded", 0)
        record["unrecorded"] = 0
        resume_ts, resume_count = record["ts"], record["count"]
        seen_at_ts = 0
        written = 0
        last = None  # (ts, data) of the last entry taken in this call
        with open(self._path(stream), "ab") as out:
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


def catch_up(client, sandbox, container, follow=False, lock_timeout=0.0):
    """Append what is new in both streams; ``follow`` keeps going until the container stops.

    Returns the bytes written per stream, or None when another writer holds the sandbox.
    """
    log = SandboxLog(sandbox, container)
    if not log.acquire(timeout=lock_timeout):
        return None
    written = {}
    errors = []
    try:
        def run(stream):
            try:
                entries = docker_entries(client, container, stream, log.since(stream), follow)
                written[stream] = log.append(stream, entries)
            except Exception as exc:  # pylint: disable=broad-except  # reported to the caller
                errors.append("%s: %s" % (stream, exc))

        threads = [threading.Thread(target=run, args=(stream,)) for stream in STREAMS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        log.release()
    if errors:
        raise IOError("appending the logs of %s to %s failed: %s" % (container, sandbox, "; ".join(errors)))
    return written


def docker_api_client(docker, pool_size, **kwargs):
    """``docker.APIClient(**kwargs)`` with a connection pool of ``pool_size`` where the SDK has one
    (``max_pool_size``, SDK >= 4.3); older SDKs (Debian 11's 4.1.0) keep their default pool of 10."""
    try:
        return docker.APIClient(max_pool_size=pool_size, **kwargs)
    except TypeError as exc:
        if "max_pool_size" not in str(exc):
            raise
        return docker.APIClient(**kwargs)


def _client(args):
    import docker

    tls = None
    if args.get("tls"):
        from docker.tls import TLSConfig

        opts = args["tls"]
        tls = TLSConfig(client_cert=tuple(opts["client_cert"]) if opts.get("client_cert") else None,
                        ca_cert=opts.get("ca_cert"), verify=opts.get("verify"))
    return docker_api_client(docker, max(10, 2 * len(args["containers"])),
                             base_url=args["base_url"], version=args.get("version"), timeout=None, tls=tls)


def follower_main(argv):
    """Entry point of the detached follower: ``<marker + ids> <json args>``; follows every container given."""
    args = json.loads(argv[2])
    client = _client(args)

    def follow(item):
        try:
            catch_up(client, item["sandbox"], item["id"], follow=True, lock_timeout=0.0)
        except Exception:  # pylint: disable=broad-except  # detached: nobody to tell; the next module run catches up
            pass

    threads = [threading.Thread(target=follow, args=(item,)) for item in args["containers"]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def follower_source():
    """This file's source, which the detached follower runs with ``python -c``."""
    loader = globals().get("__loader__")
    if loader is not None and hasattr(loader, "get_source"):
        try:
            source = loader.get_source(__name__)
            if source:
                return source
        except ImportError:
            pass
    with open(__file__.rstrip("c")) as handle:
        return handle.read()


if __name__ == "__main__":
    follower_main(sys.argv)
