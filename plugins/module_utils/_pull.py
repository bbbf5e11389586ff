# Private to the mesos.docker collection: no API stability promise.
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Pull images the way the Mesos Docker containerizer does. Shared by the ``image`` and ``container`` modules.

Policy (Mesos ``force_pull_image``):

* ``force_pull`` false: pull only when the image is absent locally (one inspect, or one
  ``images`` list call for many names);
* ``force_pull`` true: always pull; ``changed`` only when the local image ID changed;
* check mode: report what would be pulled (``changed`` when absent; with ``force_pull``,
  the registry's digest is compared with the local repo digests), never pull.

Credentials come from a docker config (see ``_docker_config``), matched by registry host.
Without a docker config the SDK's default lookup applies (``DOCKER_CONFIG`` or
``~/.docker/config.json`` of the user running the module), like ``docker pull``, unless
``home_credentials=False``: then the pull is anonymous, as on a Mesos agent, which points ``HOME``
at the sandbox. With a docker config, only its credentials are used (as Mesos does when it sets ``HOME``).

Transient registry errors (connection refused/reset, timeouts, 5xx, TLS handshake timeout)
are retried with exponential backoff; authentication errors and missing images are not.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import threading
import time

from ansible_collections.mesos.docker.plugins.module_utils._common import (
    APIError,
    DockerException,
    NotFound,
    RequestsConnectionError,
    RequestsTimeout,
    error_text,
    parallel_map,
)
from ansible_collections.mesos.docker.plugins.module_utils._docker_config import DockerConfigError, load as load_docker_config
from ansible_collections.mesos.docker.plugins.module_utils._image_reference import parse as parse_reference


DEFAULT_MAX_WORKERS = 4
MASK = "********"

# Order matters: the first pattern that matches names the reason.
# (pattern, short reason, transient)
_REASONS = [
    (r"no basic auth credentials", "no basic auth credentials", False),
    (r"incorrect username or password", "incorrect username or password", False),
    (r"unauthorized: authentication required", "unauthorized: authentication required", False),
    (r"unauthorized", "unauthorized", False),
    (r"pull access denied|requested access to the resource is denied|\bdenied\b", "access denied", False),
    (r"manifest unknown|manifest for .* not found|not found|does not exist", "image not found", False),
    (r"server gave http response to https client", "registry speaks HTTP, daemon expects HTTPS", False),
    (r"x509|certificate", "TLS certificate problem", False),
    (r"no such host", "registry host not found", False),
    (r"tls handshake timeout", "TLS handshake timeout", True),
    (r"connection refused", "connection refused", True),
    (r"connection reset", "connection reset", True),
    (r"broken pipe", "connection reset", True),
    (r"i/o timeout|timed out|timeout|deadline exceeded", "timeout", True),
    (r"temporary failure in name resolution", "temporary DNS failure", True),
    (r"too many requests|toomanyrequests|\b429\b", "rate limited (429)", True),
    (r"\b50[0-9]\b|internal server error|bad gateway|service unavailable|gateway timeout", "registry server error (5xx)", True),
    (r"unexpected eof|\beof\b", "connection closed early (EOF)", True),
]
_REASONS = [(re.compile(pattern, re.IGNORECASE), short, transient) for pattern, short, transient in _REASONS]


def classify(message):
    """``(short reason, transient)`` for a daemon or registry error message."""
    for pattern, short, transient in _REASONS:
        if pattern.search(message or ""):
            return short, transient
    return None, False


class ImageError(Exception):
    """An image operation failed. The message names the image and never contains a secret."""

    def __init__(self, message, image=None, registry=None, reason=None, detail=None, attempts=0, results=None):
        super(ImageError, self).__init__(message)
        self.message = message
        self.image = image
        self.registry = registry
        self.reason = reason
        self.detail = detail
        self.attempts = attempts
        self.results = results


class PullError(ImageError):
    """Pulling failed: ``Pulling <image> from <registry> failed[ after N attempts]: <reason> (<daemon message>)``."""


class RemoveError(ImageError):
    """Removing a local image failed."""


class _AttemptFailed(Exception):
    def __init__(self, detail, transient):
        super(_AttemptFailed, self).__init__(detail)
        self.detail = detail
        self.transient = transient


_UNKNOWN = object()


class ImagePuller:
    """Ensure images are present (or absent) on one Docker daemon.

    ``client`` is a ``docker.APIClient``; ``docker_config`` a :class:`DockerConfig`, or anything
    ``_docker_config.load`` accepts; ``retries`` is the number of extra attempts after a
    transient failure, waiting ``backoff``, ``2*backoff``, ``4*backoff``... seconds in between.
    """

    def __init__(self, client, docker_config=None, retries=3, backoff=1.0, check_mode=False,
                 sleep=time.sleep, clock=time.monotonic, home_credentials=True):
        self.client = client
        self.docker_config = load_docker_config(docker_config)
        self.home_credentials = home_credentials
        self.retries = max(0, int(retries))
        self.backoff = max(0.0, float(backoff))
        self.check_mode = check_mode
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self.api_calls = 0

    # ---- helpers -----------------------------------------------------------------------

    def _count(self):
        with self._lock:
            self.api_calls += 1

    def scrub(self, text):
        """``text`` with every secret of the docker config masked."""
        text = "" if text is None else str(text)
        secrets = sorted(self.docker_config.secrets(), key=len, reverse=True) if self.docker_config else []
        for secret in secrets:
            if secret and len(secret) >= 3:
                text = text.replace(secret, MASK)
        return text

    def auth_config_for(self, ref):
        """SDK ``auth_config`` for ``ref``'s registry: None means the SDK's own lookup, {} anonymous."""
        if self.docker_config is None:
            return None if self.home_credentials else {}
        # With a docker config, only its credentials count; {} pulls anonymously.
        try:
            return self.docker_config.credentials_for(ref.registry) or {}
        except DockerConfigError as exc:
            raise PullError("Pulling %s from %s failed: %s" % (ref.name, ref.registry, exc), image=ref.name,
                            registry=ref.registry, reason=str(exc))

    def inspect(self, reference):
        """Local image attributes of ``reference`` or None when absent."""
        ref = parse_reference(reference)
        self._count()
        try:
            return self.client.inspect_image(ref.local_lookup)
        except NotFound:
            return None

    def _result(self, ref, image, **extra):
        result = dict(
            name=ref.name,
            id=image.get("Id") if image else None,
            repo_digests=list((image or {}).get("RepoDigests") or []),
            registry=ref.registry,
            pulled=False,
            changed=False,
            pull_seconds=0.0,
            attempts=0,
        )
        result.update(extra)
        return result

    # ---- local listing -----------------------------------------------------------------

    def list_local(self, references):
        """Map each parsed reference to its local image summary (or None), with ONE ``images`` call.

        A reference is matched against ``RepoTags`` / ``RepoDigests`` in the familiar form
        the daemon reports (``busybox:latest``) and in the fully qualified form.
        """
        self._count()
        by_tag = {}
        for summary in self.client.images() or []:
            for key in (summary.get("RepoTags") or []) + (summary.get("RepoDigests") or []):
                if key and not key.startswith("<none>"):
                    by_tag.setdefault(key, summary)
        found = {}
        for ref in references:
            keys = [ref.local_lookup]
            if ref.digest:
                keys.append("%s@%s" % (ref.repository, ref.digest))
            else:
                keys.append("%s:%s" % (ref.repository, ref.tag))
            found[ref] = next((by_tag[k] for k in keys if k in by_tag), None)
        return found

    # ---- pulling -----------------------------------------------------------------------

    def _pull_once(self, ref, auth_config):
        self._count()
        try:
            stream = self.client.pull(ref.repository, tag=ref.pull_tag, stream=True, decode=True,
                                      auth_config=auth_config)
            for chunk in stream:
                if isinstance(chunk, dict) and chunk.get("error"):
                    detail = (chunk.get("errorDetail") or {}).get("message") or chunk["error"]
                    raise _AttemptFailed(str(detail), classify(str(detail))[1])
        except _AttemptFailed:
            raise
        except NotFound as exc:
            raise _AttemptFailed(error_text(exc), False)
        except APIError as exc:
            text = error_text(exc)
            # The daemon answers 500 for most pull failures, so the status code says little:
            # only a recognised transient message is retried.
            raise _AttemptFailed(text, classify(text)[1])
        except (RequestsConnectionError, RequestsTimeout) as exc:
            raise _AttemptFailed("cannot talk to the Docker daemon: %s" % exc.__class__.__name__, True)
        except DockerException as exc:
            raise _AttemptFailed(error_text(exc), False)

    def pull(self, reference):
        """Pull ``reference`` with retries; return ``(attempts, seconds)`` or raise :class:`PullError`."""
        ref = parse_reference(reference)
        auth_config = self.auth_config_for(ref)
        start = self._clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                self._pull_once(ref, auth_config)
                return attempt, self._clock() - start
            except _AttemptFailed as failure:
                if failure.transient and attempt <= self.retries:
                    self._sleep(self.backoff * (2 ** (attempt - 1)))
                    continue
                raise self._pull_error(ref, failure.detail, attempt)

    def _pull_error(self, ref, detail, attempts):
        detail = self.scrub(detail).strip()
        short, _transient = classify(detail)
        reason = short or detail or "unknown error"
        after = " after %d attempts" % attempts if attempts > 1 else ""
        message = "Pulling %s from %s failed%s: %s" % (ref.name, ref.registry, after, reason)
        if detail and detail != reason:
            message += " (%s)" % detail
        if short in ("no basic auth credentials", "unauthorized: authentication required", "unauthorized",
                     "access denied", "incorrect username or password"):
            if self.docker_config is None:
                message += "; no docker_config was given" + ("" if self.home_credentials else " (and none was fetched into the sandbox)")
            elif self.docker_config.credentials_for(ref.registry) is None:
                message += "; docker_config (%s) has no entry for %s" % (self.docker_config.source, ref.registry)
            else:
                message += "; check the credentials docker_config (%s) has for %s" % (
                    self.docker_config.source, ref.registry)
        return PullError(message, image=ref.name, registry=ref.registry, reason=reason, detail=detail,
                         attempts=attempts)

    def _remote_digest(self, ref):
        self._count()
        lookup = "%s@%s" % (ref.repository, ref.digest) if ref.digest else "%s:%s" % (ref.repository, ref.tag)
        data = self.client.inspect_distribution(lookup, auth_config=self.auth_config_for(ref))
        return (data.get("Descriptor") or {}).get("digest")

    def _ensure(self, ref, force_pull, local=_UNKNOWN):
        before = self.inspect(ref) if local is _UNKNOWN else local
        if before is not None and not force_pull:
            return self._result(ref, before, action="present")
        if self.check_mode:
            if before is None:
                return self._result(ref, None, changed=True, action="would pull")
            try:
                digest = self._remote_digest(ref)
            except (APIError, DockerException, RequestsConnectionError, RequestsTimeout) as exc:
                return self._result(
                    ref, before, changed=True, action="would pull",
                    check_note="cannot compare with the registry: %s" % self.scrub(error_text(exc)),
                )
            local_digests = [d.split("@", 1)[1] for d in before.get("RepoDigests") or [] if "@" in d]
            if digest and digest in local_digests:
                return self._result(ref, before, action="up to date")
            return self._result(ref, before, changed=True, action="would pull")
        attempts, seconds = self.pull(ref)
        after = self.inspect(ref)
        if after is None:
            raise PullError(
                "Pulling %s from %s reported success but the image is not there afterwards" % (ref.name, ref.registry),
                image=ref.name, registry=ref.registry, reason="image missing after pull", attempts=attempts,
            )
        changed = before is None or before.get("Id") != after.get("Id")
        return self._result(
            ref, after, pulled=True, changed=changed, pull_seconds=round(seconds, 3), attempts=attempts,
            action="pulled" if changed else "up to date",
            previous_id=before.get("Id") if before else None,
        )

    def ensure(self, reference, force_pull=False):
        """Ensure one image is present; see the module docstring for the policy."""
        return self._ensure(parse_reference(reference), force_pull)

    def ensure_many(self, references, force_pull=False, max_workers=DEFAULT_MAX_WORKERS):
        """Ensure several images; results in input order, pulls in parallel threads.

        Present images cost one ``images`` list call for all of them. When some pulls fail the
        others still finish, then :class:`PullError` is raised with ``results`` set to the list
        (failed entries carry ``failed: true`` and ``msg``).
        """
        refs = [parse_reference(r) for r in references]
        unique = []
        for ref in refs:
            if ref not in unique:
                unique.append(ref)
        if not unique:
            return []
        local = self.list_local(unique)
        # Not found in the list: inspect to be sure (the list may spell a name differently).
        outcome = {}
        work = []
        for ref in unique:
            if local[ref] is not None and not force_pull:
                outcome[ref] = self._result(ref, local[ref], action="present")
            else:
                work.append(ref)

        def run(ref):
            try:
                summary = local[ref]
                if summary is None:
                    summary = self.inspect(ref)
                return self._ensure(ref, force_pull, local=summary)
            except ImageError as exc:
                return exc
            except (APIError, DockerException, RequestsConnectionError, RequestsTimeout) as exc:
                return PullError(
                    "Ensuring %s failed: %s" % (ref.name, self.scrub(error_text(exc))),
                    image=ref.name, registry=ref.registry, reason=self.scrub(error_text(exc)),
                )

        outcome.update(zip(work, parallel_map(run, work, max_workers)))

        results = []
        errors = []
        for ref in refs:
            res = outcome[ref]
            if isinstance(res, ImageError):
                if res not in errors:
                    errors.append(res)
                results.append(dict(name=ref.name, registry=ref.registry, failed=True, msg=res.message,
                                    attempts=res.attempts, changed=False, pulled=False))
            else:
                results.append(dict(res))
        if errors:
            if len(errors) == 1:
                message = errors[0].message
            else:
                message = "%d of %d images failed: %s" % (
                    len(errors), len(unique), "; ".join(e.message for e in errors))
            raise PullError(message, image=errors[0].image, registry=errors[0].registry, reason=errors[0].reason,
                            detail=errors[0].detail, attempts=max(e.attempts for e in errors), results=results)
        return results

    # ---- removal -----------------------------------------------------------------------

    def remove(self, reference):
        """Ensure ``reference`` is not present locally (``docker rmi`` semantics: untag, then delete)."""
        ref = parse_reference(reference)
        before = self.inspect(ref)
        if before is None:
            return self._result(ref, None, action="absent")
        if self.check_mode:
            return self._result(ref, before, changed=True, action="would remove")
        self._count()
        try:
            self.client.remove_image(ref.local_lookup)
        except NotFound:
            return self._result(ref, None, action="absent")
        except (APIError, DockerException) as exc:
            detail = self.scrub(error_text(exc))
            raise RemoveError("Removing %s failed: %s" % (ref.name, detail), image=ref.name, registry=ref.registry,
                              reason=detail, detail=detail)
        return self._result(ref, before, changed=True, action="removed")
