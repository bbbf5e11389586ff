# Private to the mesos.docker collection: no API stability promise.
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The subset of the Mesos fetcher (``src/launcher/fetcher.cpp``) that task containers need.

Like Mesos (fetching directly into the sandbox, no cache):

* the file name is ``output_file`` when given (relative, inside the sandbox; parent directories
  are created), else the URI's last ``/`` component (Mesos's ``Fetcher::basename``: a query string
  stays part of the name, and a URI with no path after the host is refused);
* ``file://`` URIs and plain absolute paths are copied, ``http://`` and ``https://`` are
  downloaded (anything but HTTP 200 is an error); other schemes (ftp, hdfs, s3 ...) are refused;
* ``executable: true`` → ``chmod 0755`` and no extraction (executable wins, as in Mesos);
* else ``extract: true`` (the Mesos default) → files ending in ``.tar .tgz .tar.gz .tbz2 .tar.bz2
  .txz .tar.xz .zip`` are unpacked into the sandbox root, a bare ``.gz`` is gunzipped next to it
  without the ``.gz``; anything else is just kept. The fetched file itself stays.

Unlike Mesos, which fetches into a fresh sandbox on every launch, a module can run many times over
one sandbox. So each fetch is recorded in ``<sandbox>/.mesos-docker-fetcher.json`` (URI, options,
size and sha256 of the file) and a URI is **not fetched again** while its file is still there with
the recorded size and sha256 and was fetched with the same options. For local sources the source's
sha256 must also still match; remote sources are not re-checked (use ``force`` to fetch again).
Archive members that would land outside the sandbox are refused.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import hashlib
import json
import os
import posixpath
import shutil
import tarfile
import tempfile
import zipfile

RECORD_FILE = ".mesos-docker-fetcher.json"
ARCHIVE_EXTENSIONS = (".tar", ".tgz", ".tar.gz", ".tbz2", ".tar.bz2", ".txz", ".tar.xz", ".zip")
NET_SCHEMES = ("http://", "https://")
CHUNK = 1024 * 1024


class FetchError(Exception):
    """A URI could not be fetched; the message names the URI."""


def basename(uri):
    """Mesos's ``Fetcher::basename``: the last ``/`` component of the URI (query string included)."""
    if any(c in uri for c in ("\\", "'", "\0")):
        raise FetchError("Illegal characters in URI %r" % uri)
    index = uri.find("://")
    if index > 1:
        path = uri[index + 3:]
        if "/" not in path or len(path) <= path.find("/") + 1:
            raise FetchError("Malformed URI (missing path): %s" % uri)
        return path[path.rfind("/") + 1:]
    return posixpath.basename(uri)


def local_path(uri):
    """The local path of a ``file://`` URI or an absolute path; ``None`` for other schemes."""
    if uri.startswith("file://"):
        # Mesos: path::from_uri strips "file://", then a leading "localhost" is removed.
        path = uri[len("file://"):]
        if path.startswith("localhost"):
            path = path[len("localhost"):]
        if not posixpath.isabs(path):
            raise FetchError("File URI only supports absolute paths: %s" % uri)
        return path
    if "://" in uri:
        return None
    if not posixpath.isabs(uri):
        raise FetchError(
            "A relative path was passed for the resource (%s); use an absolute path or a file:// URI" % uri
        )
    return uri


def output_name(spec):
    """The sandbox-relative file name for a URI spec (``output_file`` or the URI's basename)."""
    uri = spec["value"].lstrip()
    name = spec.get("output_file")
    if name is not None:
        if name == "":
            raise FetchError("URI output file path is empty for %s" % uri)
        if name.startswith("/"):
            raise FetchError("URI output file must be within the sandbox directory: %s (for %s)" % (name, uri))
    else:
        name = basename(uri)
    norm = posixpath.normpath(name)
    if norm in ("", ".") or norm == ".." or norm.startswith("../"):
        raise FetchError("Cannot derive a file name inside the sandbox for %s; give output_file" % uri)
    return norm


def validate(spec):
    """Check a URI spec without touching the network or the disk; returns the output name."""
    uri = (spec.get("value") or "").lstrip()
    if not uri:
        raise FetchError("A URI needs a value")
    if local_path(uri) is None and not uri.startswith(NET_SCHEMES):
        raise FetchError("Unsupported URI scheme (only http, https, file and absolute paths): %s" % uri)
    return output_name(spec)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def is_archive(path):
    return path.endswith(ARCHIVE_EXTENSIONS)


def _inside(root, target):
    root = os.path.realpath(root)
    target = os.path.realpath(target)
    return target == root or target.startswith(root + os.sep)


def extract(path, directory, uri=None):
    """Unpack ``path`` into ``directory`` when its name says it is an archive (or a bare ``.gz``).

    Returns the list of top-level names written, or ``None`` when it is not an archive.
    """
    what = uri or path
    try:
        if path.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                for member in names:
                    if not _inside(directory, os.path.join(directory, member)):
                        raise FetchError("Archive member %r of %s would land outside the sandbox" % (member, what))
                archive.extractall(directory)
                for info in archive.infolist():
                    mode = (info.external_attr >> 16) & 0o777
                    if mode:
                        os.chmod(os.path.join(directory, info.filename), mode)
            return sorted(set(n.split("/", 1)[0] for n in names))
        if is_archive(path):
            with tarfile.open(path, "r:*") as archive:
                members = archive.getmembers()
                for member in members:
                    target = os.path.join(directory, member.name)
                    if member.name.startswith("/") or not _inside(directory, target):
                        raise FetchError("Archive member %r of %s would land outside the sandbox" % (member.name, what))
                    if (member.issym() or member.islnk()) and (
                        posixpath.isabs(member.linkname)
                        or not _inside(directory, os.path.join(os.path.dirname(target), member.linkname))
                    ):
                        raise FetchError("Archive link %r of %s points outside the sandbox" % (member.name, what))
                    if member.isdev():
                        raise FetchError("Archive member %r of %s is a device" % (member.name, what))
                if hasattr(tarfile, "data_filter"):
                    archive.extractall(directory, filter="tar")
                else:  # pragma: no cover - Python < 3.8.17 / 3.11.4
                    archive.extractall(directory)
            return sorted(set(m.name.lstrip("./").split("/", 1)[0] for m in members if m.name.lstrip("./")))
        if path.endswith(".gz"):
            target = os.path.join(directory, os.path.basename(path[:-3]))
            with gzip.open(path, "rb") as source, open(target, "wb") as dest:
                shutil.copyfileobj(source, dest, CHUNK)
            return [os.path.basename(target)]
    except FetchError:
        raise
    except (OSError, EOFError, tarfile.TarError, zipfile.BadZipfile) as exc:
        raise FetchError("Failed to extract archive '%s' (from %s) to '%s': %s" % (path, what, directory, exc))
    return None


class Fetcher:
    """Fetch URIs into one sandbox. ``open_url`` is injectable for tests."""

    def __init__(self, sandbox, timeout=60, validate_certs=True, open_url=None, check_mode=False):
        self.sandbox = sandbox
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.check_mode = check_mode
        self._open_url = open_url
        self.record_path = os.path.join(sandbox, RECORD_FILE)

    def _load_record(self):
        try:
            with open(self.record_path) as handle:
                data = json.load(handle)
            return data if isinstance(data, dict) else {}
        except (IOError, OSError, ValueError):
            return {}

    def _save_record(self, record):
        fd, tmp = tempfile.mkstemp(dir=self.sandbox, prefix=".fetcher-")
        with os.fdopen(fd, "w") as handle:
            json.dump(record, handle, indent=1, sort_keys=True)
        os.rename(tmp, self.record_path)

    @staticmethod
    def _options(spec):
        return {
            "uri": spec["value"].lstrip(),
            "extract": bool(spec.get("extract", True)),
            "executable": bool(spec.get("executable", False)),
        }

    def _up_to_date(self, entry, spec, dest):
        if not entry or any(entry.get(k) != v for k, v in self._options(spec).items()):
            return False
        try:
            if os.path.getsize(dest) != entry.get("size") or _sha256(dest) != entry.get("sha256"):
                return False
            source = local_path(entry["uri"])
            if source is not None and _sha256(source) != entry.get("source_sha256"):
                return False
        except (OSError, IOError):
            return False
        return True

    def fetch_all(self, specs, force=False):
        """Fetch every URI spec; returns a list of per-URI results (``changed`` tells what was fetched)."""
        names = [validate(spec) for spec in specs]
        record = self._load_record()
        results, dirty = [], False
        for spec, name in zip(specs, names):
            dest = os.path.join(self.sandbox, name)
            result = dict(uri=spec["value"].lstrip(), path=dest, changed=False, extracted=None)
            if not force and self._up_to_date(record.get(name), spec, dest):
                results.append(result)
                continue
            result["changed"] = True
            if not self.check_mode:
                record[name] = self._fetch_one(spec, dest, result)
                dirty = True
            results.append(result)
        if dirty:
            self._save_record(record)
        return results

    def _fetch_one(self, spec, dest, result):
        uri = spec["value"].lstrip()
        parent = os.path.dirname(dest)
        try:
            os.makedirs(parent, exist_ok=True)
        except OSError as exc:
            raise FetchError("Unable to create subdirectory %s in sandbox for %s: %s" % (parent, uri, exc))
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=".fetch-")
        source_sha = None
        try:
            with os.fdopen(fd, "wb") as out:
                source = local_path(uri)
                if source is not None:
                    try:
                        with open(source, "rb") as src:
                            shutil.copyfileobj(src, out, CHUNK)
                    except (IOError, OSError) as exc:
                        raise FetchError("Failed to copy '%s' into the sandbox: %s" % (uri, exc))
                else:
                    self._download(uri, out)
            if source is not None:
                source_sha = _sha256(source)
            os.chmod(tmp, 0o644)
            os.rename(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        if spec.get("executable"):
            os.chmod(dest, 0o755)
        elif spec.get("extract", True):
            result["extracted"] = extract(dest, self.sandbox, uri)
        return dict(
            self._options(spec),
            size=os.path.getsize(dest),
            sha256=_sha256(dest),
            source_sha256=source_sha,
        )

    def _download(self, uri, out):
        opener = self._open_url
        if opener is None:
            from ansible.module_utils.urls import open_url as opener
        try:
            response = opener(uri, timeout=self.timeout, validate_certs=self.validate_certs, follow_redirects="all")
        except Exception as exc:  # HTTPError, URLError, socket errors, SSL errors
            code = getattr(exc, "code", None)
            if code is not None:
                raise FetchError("Error downloading resource %s, received HTTP return code %s" % (uri, code))
            raise FetchError("Error downloading resource %s: %s" % (uri, getattr(exc, "reason", None) or exc))
        status = getattr(response, "status", None) or response.getcode()
        if status != 200:
            raise FetchError("Error downloading resource %s, received HTTP return code %s" % (uri, status))
        try:
            shutil.copyfileobj(response, out, CHUNK)
        except Exception as exc:
            raise FetchError("Error downloading resource %s: %s" % (uri, exc))
