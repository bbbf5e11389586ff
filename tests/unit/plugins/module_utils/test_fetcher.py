"""The Mesos fetcher subset (src/launcher/fetcher.cpp)."""
import gzip
import io
import json
import os
import stat
import tarfile
import zipfile

import pytest

from ansible_collections.mesos.docker.plugins.module_utils import _fetcher as f
from ansible_collections.mesos.docker.plugins.module_utils._fetcher import FetchError, Fetcher


@pytest.mark.parametrize(
    "uri, name",
    [
        ("http://host/path/app.tar.gz", "app.tar.gz"),
        ("https://host:8443/a/b/c?x=1", "c?x=1"),  # Mesos keeps the query string
        ("file:///opt/x/run.sh", "run.sh"),
        ("/opt/x/run.sh", "run.sh"),
        ("hdfs://nn/x/y", "y"),
    ],
)
def test_basename(uri, name):
    assert f.basename(uri) == name


@pytest.mark.parametrize("uri", ["http://host", "http://host/", "http://a'b/c", "http://a\\b/c"])
def test_basename_malformed(uri):
    with pytest.raises(FetchError):
        f.basename(uri)


@pytest.mark.parametrize(
    "uri, path",
    [("file:///a/b", "/a/b"), ("file://localhost/a/b", "/a/b"), ("/a/b", "/a/b"), ("http://h/a", None)],
)
def test_local_path(uri, path):
    assert f.local_path(uri) == path


@pytest.mark.parametrize("uri", ["file://relative/x", "relative/x", "x"])
def test_local_path_relative_refused(uri):
    with pytest.raises(FetchError, match=uri.split("/")[-1]):
        f.local_path(uri)


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"value": "ftp://h/x"}, "Unsupported URI scheme"),
        ({"value": "s3://b/x"}, "Unsupported URI scheme"),
        ({"value": ""}, "needs a value"),
        ({"value": "http://h/x", "output_file": "/abs"}, "within the sandbox"),
        ({"value": "http://h/x", "output_file": ""}, "empty"),
        ({"value": "http://h/x", "output_file": "../up"}, "inside the sandbox"),
        ({"value": "http://h/x", "output_file": "a/../../up"}, "inside the sandbox"),
    ],
)
def test_validate_errors_name_the_uri(spec, message):
    with pytest.raises(FetchError, match=message) as info:
        f.validate(spec)
    if spec["value"]:
        assert spec["value"] in str(info.value)


def _tar(path, members, mode="w:gz"):
    with tarfile.open(path, mode) as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755 if name.endswith(".sh") else 0o644
            t.addfile(info, io.BytesIO(data))


@pytest.fixture
def src(tmp_path):
    d = tmp_path / "src"
    d.mkdir()
    return d


@pytest.fixture
def sandbox(tmp_path):
    d = tmp_path / "sandbox"
    d.mkdir()
    return d


@pytest.mark.parametrize("ext, mode", [(".tar", "w"), (".tgz", "w:gz"), (".tar.gz", "w:gz"), (".tbz2", "w:bz2"),
                                       (".tar.bz2", "w:bz2"), (".txz", "w:xz"), (".tar.xz", "w:xz")])
def test_extract_tar_variants(src, sandbox, ext, mode):
    archive = src / ("app" + ext)
    _tar(str(archive), {"app/run.sh": b"#!/bin/sh\necho hi\n", "README": b"r"}, mode)
    res = Fetcher(str(sandbox)).fetch_all([{"value": str(archive)}])
    assert res[0]["changed"] and sorted(res[0]["extracted"]) == ["README", "app"]
    assert (sandbox / "app" / "run.sh").read_bytes().startswith(b"#!/bin/sh")
    assert os.stat(sandbox / "app" / "run.sh").st_mode & stat.S_IXUSR
    assert (sandbox / archive.name).exists()  # the archive itself stays, as in Mesos


def test_extract_zip(src, sandbox):
    archive = src / "bundle.zip"
    with zipfile.ZipFile(str(archive), "w") as z:
        z.writestr("dir/file.txt", "zipped")
    Fetcher(str(sandbox)).fetch_all([{"value": "file://" + str(archive)}])
    assert (sandbox / "dir" / "file.txt").read_text() == "zipped"


def test_bare_gz_is_gunzipped(src, sandbox):
    p = src / "data.txt.gz"
    with gzip.open(str(p), "wb") as g:
        g.write(b"plain")
    Fetcher(str(sandbox)).fetch_all([{"value": str(p)}])
    assert (sandbox / "data.txt").read_bytes() == b"plain"


def test_extract_false_keeps_archive(src, sandbox):
    archive = src / "a.tar.gz"
    _tar(str(archive), {"inner": b"x"})
    Fetcher(str(sandbox)).fetch_all([{"value": str(archive), "extract": False}])
    assert not (sandbox / "inner").exists()
    assert (sandbox / "a.tar.gz").exists()


def test_not_an_archive_is_just_copied(src, sandbox):
    p = src / "conf.json"
    p.write_text("{}")
    res = Fetcher(str(sandbox)).fetch_all([{"value": str(p), "extract": True}])
    assert res[0]["extracted"] is None and (sandbox / "conf.json").read_text() == "{}"


def test_executable_wins_over_extract(src, sandbox):
    archive = src / "tool.tar.gz"
    _tar(str(archive), {"inner": b"x"})
    Fetcher(str(sandbox)).fetch_all([{"value": str(archive), "executable": True, "extract": True}])
    assert not (sandbox / "inner").exists()
    assert stat.S_IMODE(os.stat(sandbox / "tool.tar.gz").st_mode) == 0o755


def test_output_file_with_subdirectory(src, sandbox):
    p = src / "x.sh"
    p.write_text("echo")
    Fetcher(str(sandbox)).fetch_all([{"value": str(p), "output_file": "bin/tool", "executable": True}])
    assert stat.S_IMODE(os.stat(sandbox / "bin" / "tool").st_mode) == 0o755


def test_idempotent_and_refetch_on_change(src, sandbox):
    p = src / "x.txt"
    p.write_text("one")
    fetcher = Fetcher(str(sandbox))
    assert fetcher.fetch_all([{"value": str(p)}])[0]["changed"]
    assert not fetcher.fetch_all([{"value": str(p)}])[0]["changed"]
    # different options → fetch again
    assert fetcher.fetch_all([{"value": str(p), "executable": True}])[0]["changed"]
    assert not fetcher.fetch_all([{"value": str(p), "executable": True}])[0]["changed"]
    # the source changed → fetch again
    p.write_text("two")
    assert fetcher.fetch_all([{"value": str(p), "executable": True}])[0]["changed"]
    assert (sandbox / "x.txt").read_text() == "two"
    # the sandbox copy was modified → fetch again
    (sandbox / "x.txt").write_text("tampered")
    assert fetcher.fetch_all([{"value": str(p), "executable": True}])[0]["changed"]
    assert (sandbox / "x.txt").read_text() == "two"
    assert fetcher.fetch_all([{"value": str(p), "executable": True}], force=True)[0]["changed"]
    record = json.loads((sandbox / f.RECORD_FILE).read_text())
    assert record["x.txt"]["uri"] == str(p)


def test_check_mode_writes_nothing(src, sandbox):
    p = src / "x.txt"
    p.write_text("one")
    res = Fetcher(str(sandbox), check_mode=True).fetch_all([{"value": str(p)}])
    assert res[0]["changed"] and os.listdir(str(sandbox)) == []


def test_missing_local_file_names_uri(sandbox):
    with pytest.raises(FetchError, match="/nonexistent/file"):
        Fetcher(str(sandbox)).fetch_all([{"value": "file:///nonexistent/file"}])
    assert [n for n in os.listdir(str(sandbox)) if not n.startswith(".")] == []


def test_archive_escape_refused(src, sandbox):
    archive = src / "evil.tar"
    _tar(str(archive), {"../escape": b"x"}, "w")
    with pytest.raises(FetchError, match="outside the sandbox"):
        Fetcher(str(sandbox)).fetch_all([{"value": str(archive)}])
    assert not (sandbox.parent / "escape").exists()


def test_corrupt_archive(src, sandbox):
    p = src / "bad.tar.gz"
    p.write_bytes(b"not gzip")
    with pytest.raises(FetchError, match="bad.tar.gz"):
        Fetcher(str(sandbox)).fetch_all([{"value": str(p)}])


class _Resp(io.BytesIO):
    def __init__(self, data, status=200):
        super().__init__(data)
        self.status = status

    def getcode(self):
        return self.status


def test_http_download_with_injected_opener(sandbox):
    calls = []

    def opener(url, **kw):
        calls.append(url)
        return _Resp(b"payload")

    fetcher = Fetcher(str(sandbox), open_url=opener)
    fetcher.fetch_all([{"value": "http://h/dir/file.bin"}])
    assert (sandbox / "file.bin").read_bytes() == b"payload"
    fetcher.fetch_all([{"value": "http://h/dir/file.bin"}])
    assert calls == ["http://h/dir/file.bin"]  # not fetched again


def test_http_errors_name_the_uri(sandbox):
    class HTTPError(Exception):
        code = 404

    def opener(url, **kw):
        raise HTTPError("nope")

    with pytest.raises(FetchError, match=r"http://h/x.*404"):
        Fetcher(str(sandbox), open_url=opener).fetch_all([{"value": "http://h/x"}])

    def refused(url, **kw):
        raise OSError("Connection refused")

    with pytest.raises(FetchError, match=r"http://h/y.*refused"):
        Fetcher(str(sandbox), open_url=refused).fetch_all([{"value": "http://h/y"}])

    with pytest.raises(FetchError, match=r"http://h/z.*204"):
        Fetcher(str(sandbox), open_url=lambda u, **k: _Resp(b"", 204)).fetch_all([{"value": "http://h/z"}])
