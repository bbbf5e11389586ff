"""The append-only sandbox log writer: never shrinks a file, continues exactly where it ends, one writer at a time."""
import json
import subprocess
import sys
import threading
import time

import pytest

from ansible_collections.mesos.docker.plugins.module_utils import _log_follower as lf

BASE = 1764346501  # 2025-11-28T16:15:01Z


def stamp(ns):
    seconds, nanos = divmod(ns, 1000000000)
    text = "%s.%09d" % (lf.time.strftime("%Y-%m-%dT%H:%M:%S", lf.time.gmtime(seconds)), nanos)
    return text.rstrip("0").rstrip(".") + "Z"  # RFC3339Nano trims trailing zeros


class FakeDocker:
    """``docker logs --timestamps`` of one container: entries (ns, stream, data)."""

    def __init__(self, entries):
        self.entries = list(entries)
        self.calls = []

    def logs(self, container, stdout=True, stderr=True, stream=False, follow=False, timestamps=False, since=None):
        assert stream and timestamps and stdout != stderr
        self.calls.append(dict(container=container, stdout=stdout, since=since, follow=follow))
        wanted = "stdout" if stdout else "stderr"
        return iter([(stamp(ns) + " ").encode() + data for ns, name, data in self.entries
                     if name == wanted and (not since or ns >= since * 1000000000)])


def lines(n, start=0, stream="stdout", step=250000000, first=BASE * 1000000000):
    return [(first + (start + i) * step, stream, b"line %d\n" % (start + i)) for i in range(n)]


@pytest.mark.parametrize("text, ns", [
    ("2025-11-28T16:15:01Z", BASE * 10 ** 9),
    ("2025-11-28T16:15:01.5Z", BASE * 10 ** 9 + 500000000),
    ("2025-11-28T16:15:01.123456789Z", BASE * 10 ** 9 + 123456789),
])
def test_parse_timestamp(text, ns):
    assert lf.parse_timestamp(text) == ns
    assert lf.parse_timestamp(stamp(ns)) == ns


@pytest.mark.parametrize("text", ["2025-11-28 16:15:01Z", "2025-11-28T16:15:01", "2025-11-28T16:15:01,5Z", "x"])
def test_parse_timestamp_refuses_other_text(text):
    with pytest.raises(ValueError):
        lf.parse_timestamp(text)


def test_both_streams_are_appended_and_a_second_run_adds_nothing(tmp_path):
    docker = FakeDocker(lines(4) + lines(2, stream="stderr"))
    assert lf.catch_up(docker, str(tmp_path), "c1") == {"stdout": 28, "stderr": 14}
    assert (tmp_path / "stdout").read_bytes() == b"line 0\nline 1\nline 2\nline 3\n"
    assert (tmp_path / "stderr").read_bytes() == b"line 0\nline 1\n"
    assert lf.catch_up(docker, str(tmp_path), "c1") == {"stdout": 0, "stderr": 0}
    assert docker.calls[-1]["since"] == (BASE * 10 ** 9 + 3 * 250000000) // 10 ** 9  # from the last entry's second on
    docker.entries += lines(2, start=4)
    lf.catch_up(docker, str(tmp_path), "c1")
    assert (tmp_path / "stdout").read_bytes() == b"".join(b"line %d\n" % i for i in range(6))


def test_a_crash_after_writing_but_before_recording_repeats_nothing(tmp_path):
    docker = FakeDocker(lines(3))
    lf.catch_up(docker, str(tmp_path), "c1")
    state = json.loads((tmp_path / lf.STATE_FILE).read_text())
    docker.entries += lines(3, start=3)
    # a writer appended "line 3\nli" (and part of nothing else), then died before it could record the position
    with open(str(tmp_path / "stdout"), "ab") as handle:
        handle.write(b"line 3\nli")
    (tmp_path / lf.STATE_FILE).write_text(json.dumps(state))
    lf.catch_up(docker, str(tmp_path), "c1")
    assert (tmp_path / "stdout").read_bytes() == b"".join(b"line %d\n" % i for i in range(6))


def test_a_crash_before_the_first_record_repeats_nothing(tmp_path):
    """The module catches up a container it has only created (nothing to record yet); its follower then writes
    the first lines and dies before recording them."""
    lf.catch_up(FakeDocker([(BASE * 10 ** 9, "stdout", b"an earlier container\n")]), str(tmp_path), "c0")
    lf.catch_up(FakeDocker([]), str(tmp_path), "c1")
    with open(str(tmp_path / "stdout"), "ab") as handle:
        handle.write(b"line 0\nline 1\nli")
    lf.catch_up(FakeDocker(lines(4)), str(tmp_path), "c1")
    assert (tmp_path / "stdout").read_bytes() == b"an earlier container\n" + b"".join(b"line %d\n" % i for i in range(4))


def test_entries_sharing_one_timestamp_are_counted(tmp_path):
    same = BASE * 10 ** 9 + 7
    docker = FakeDocker([(same, "stdout", b"a\n"), (same, "stdout", b"b\n")])
    lf.catch_up(docker, str(tmp_path), "c1")
    docker.entries.append((same, "stdout", b"c\n"))
    lf.catch_up(docker, str(tmp_path), "c1")
    assert (tmp_path / "stdout").read_bytes() == b"a\nb\nc\n"


def test_files_never_shrink_a_new_container_appends(tmp_path):
    (tmp_path / "stdout").write_bytes(b"from an earlier writer of this container\n")
    docker = FakeDocker([(BASE * 10 ** 9, "stdout", b"from an earlier writer of this container\n")] + lines(1, start=1))
    lf.catch_up(docker, str(tmp_path), "c1")  # no record yet: the file holds the start of c1's output
    assert (tmp_path / "stdout").read_bytes() == b"from an earlier writer of this container\nline 1\n"
    lf.catch_up(FakeDocker(lines(1, start=7)), str(tmp_path), "c2")  # a relaunched container: appended after
    assert (tmp_path / "stdout").read_bytes() == b"from an earlier writer of this container\nline 1\nline 7\n"


def test_engine_rotation_never_shrinks_the_sandbox_file(tmp_path):
    docker = FakeDocker(lines(10))
    lf.catch_up(docker, str(tmp_path), "c1")
    docker.entries = lines(3, start=10)  # the engine rotated everything older away
    lf.catch_up(docker, str(tmp_path), "c1")
    assert (tmp_path / "stdout").read_bytes() == b"".join(b"line %d\n" % i for i in range(13))


def test_one_writer_per_sandbox(tmp_path):
    holder = lf.SandboxLog(str(tmp_path), "c1")
    assert holder.acquire()
    assert lf.catch_up(FakeDocker(lines(2)), str(tmp_path), "c1", lock_timeout=0.1) is None
    assert not (tmp_path / "stdout").exists()
    holder.release()
    assert lf.catch_up(FakeDocker(lines(2)), str(tmp_path), "c1")["stdout"] == 14


def test_a_stream_error_is_reported_and_what_was_written_is_recorded(tmp_path):
    class Broken(FakeDocker):
        def logs(self, container, **kw):
            if kw["stderr"]:
                raise IOError("connection reset")
            return FakeDocker.logs(self, container, **kw)

    with pytest.raises(IOError, match="stderr: connection reset"):
        lf.catch_up(Broken(lines(2)), str(tmp_path), "c1")
    assert (tmp_path / "stdout").read_bytes() == b"line 0\nline 1\n"
    assert json.loads((tmp_path / lf.STATE_FILE).read_text())["stdout"]["size"] == 14


def test_the_follower_runs_from_its_source_alone(tmp_path):
    """The detached follower outlives the module's payload: its program carries ``_docker_client`` in it."""
    program = lf.follower_source()
    assert len(program) < 128 * 1024  # Linux's limit for one argument (MAX_ARG_STRLEN)
    unit = "ansible_collections.mesos.docker.plugins.module_utils._docker_client"
    isolated = [sys.executable, "-I", "-c"]
    assert subprocess.run(isolated + ["import " + unit], capture_output=True, cwd=str(tmp_path), check=False).returncode
    args = dict(docker=dict(base_url="unix://%s/none.sock" % tmp_path, version="1.41", timeout=None, tls=None),
                containers=[])
    proc = subprocess.run(isolated + [program, lf.MARKER, json.dumps(args)], capture_output=True, text=True,
                          cwd=str(tmp_path), timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    broken = dict(args, docker=dict(args["docker"], tls=dict(client_cert=["/nonexistent.pem", "/nonexistent.key"])))
    proc = subprocess.run(isolated + [program, lf.MARKER, json.dumps(broken)], capture_output=True, text=True,
                          cwd=str(tmp_path), timeout=60, check=False)
    assert proc.returncode != 0 and "TLSParameterError" in proc.stderr and unit in proc.stderr


def test_an_entry_delivered_again_at_a_rotation_is_written_once(tmp_path):
    """docker logs --follow (json-file, Docker 20.10) repeats the entry at the rotation point."""
    entries = lines(4)
    docker = FakeDocker(entries[:3] + [entries[2]] + entries[3:] + [entries[1]])
    lf.catch_up(docker, str(tmp_path), "c1")
    assert (tmp_path / "stdout").read_bytes() == b"line 0\nline 1\nline 2\nline 3\n"


class FramedSocket:
    """A socket whose peer sent ``frames`` of the multiplexed attach stream, then closed."""

    def __init__(self, frames):
        self.data = b"".join(lf.struct.pack(">BxxxI", stream, len(payload)) + payload for stream, payload in frames)

    def recv(self, size):
        chunk, self.data = self.data[:size], self.data[size:]
        return chunk


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.01)
    return predicate()


def test_the_gate_reads_at_most_a_window_beyond_what_was_appended():
    gate = lf.OutputGate(window=3000)
    reader = threading.Thread(target=gate.run, args=(FramedSocket([(1, b"o" * 1000), (2, b"e" * 1000)] * 5),))
    reader.daemon = True
    reader.start()
    assert wait_for(lambda: gate.read == 3000)
    time.sleep(0.2)
    assert gate.read == 3000  # the engine holds the container's next writes back
    gate.appended(1500)  # both streams count
    assert wait_for(lambda: gate.read == 5000)
    time.sleep(0.2)
    assert gate.read == 5000
    gate.open()  # the follower stopped appending: nothing is held back any more
    reader.join(10)
    assert not reader.is_alive() and gate.read == 10000


def test_the_gate_ends_with_its_stream():
    gate = lf.OutputGate(window=1 << 20)
    gate.run(FramedSocket([(1, b"x" * 10)]))  # returns: the attach stream closed
    assert gate.read == 10
