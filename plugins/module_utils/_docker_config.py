# Private to the mesos.docker collection: no API stability promise.
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Docker client configuration (registry credentials), as the Mesos ``--docker_config`` flag takes it.

The value is either a path (``file:///etc/mesos/docker.json`` or a plain path; a directory
means its ``config.json``, else its ``.dockercfg``) or the JSON itself (a dict or a JSON string).
Two layouts are understood:

* ``config.json``: ``{"auths": {"<registry>": {"auth": "<base64 user:pass>"}}}``, or with
  ``username`` / ``password`` instead of ``auth``;
* the old ``.dockercfg``: ``{"<registry>": {"auth": "...", "email": "..."}}``.

Registry keys may be ``host``, ``host:port`` or a URL such as ``https://host/v1/``; they are
matched by registry host the way the Docker CLI does, and every Docker Hub alias
(``https://index.docker.io/v1/``, ``docker.io``, ``index.docker.io``, ``registry-1.docker.io``)
means Docker Hub.

Credential helpers are honoured as the Docker CLI does (``cli/config/configfile``): a registry listed
in ``credHelpers`` gets its credentials from ``docker-credential-<helper> get``, else a ``credsStore``
answers for every registry; only without either are the inline entries used. A helper that knows no
credentials for the registry means an anonymous pull, as with the CLI.

No error message produced here contains a secret: no repr of the config, no ``auth`` value,
no password, no file content.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import json
import os
import subprocess

from ansible_collections.mesos.docker.plugins.module_utils._image_reference import registry_hostname

CONFIG_JSON = "config.json"
DOCKERCFG = ".dockercfg"

# Keys of config.json that are not registry entries.
_NON_AUTH_KEYS = frozenset(
    ["auths", "credsStore", "credHelpers", "HttpHeaders", "psFormat", "imagesFormat", "detachKeys",
     "experimental", "currentContext", "proxies", "plugins", "aliases", "features", "stackOrchestrator"]
)


class DockerConfigError(ValueError):
    """The docker config could not be read or has an invalid entry. Never carries a secret."""


class DockerConfig:
    """Registry credentials parsed from a docker config.

    ``entries`` maps the registry key as written to ``{"username", "password", ...}``;
    ``layout`` is ``auths`` or ``dockercfg``; ``source`` says where it came from
    (a path, or ``inline JSON``) and is safe to print.
    """

    def __init__(self, entries, layout, source, warnings=None, creds_store=None, cred_helpers=None):
        self.entries = entries
        self.layout = layout
        self.source = source
        self.warnings = list(warnings or [])
        self.creds_store = creds_store
        self.cred_helpers = dict(cred_helpers or {})
        self.helper_secrets = set()

    @property
    def registries(self):
        """Registry keys as written (not secret)."""
        return sorted(self.entries)

    def secrets(self):
        """Every secret string this config holds (passwords, auth strings, tokens), for masking.

        Secrets a credential helper answered are included once they were asked for."""
        found = set(self.helper_secrets)
        for entry in self.entries.values():
            for key in ("password", "identitytoken", "registrytoken", "_auth"):
                if entry.get(key):
                    found.add(entry[key])
            if entry.get("password"):
                # The base64 form of username/password entries, as `docker login` would store it.
                pair = "%s:%s" % (entry.get("username", ""), entry["password"])
                found.add(base64.b64encode(pair.encode("utf-8")).decode("ascii"))
        return found

    def credentials_for(self, registry):
        """SDK ``auth_config`` dict for ``registry`` (host, host:port or URL), or None.

        A credential helper for the registry (``credHelpers``, else ``credsStore``) wins; an
        empty dict then means "the helper has none" (anonymous). Otherwise an exact key match
        wins; keys are reduced to their host the way the Docker CLI's ``ConvertToHostname``
        does and compared with the host asked for.
        """
        helper = self.helper_for(registry)
        if helper:
            return self._from_helper(helper, registry)
        if registry in self.entries:
            return self._auth_config(registry)
        wanted = registry_hostname(registry)
        matches = [key for key in self.entries if registry_hostname(key) == wanted]
        if not matches:
            return None
        # Prefer the form the Docker CLI writes itself: bare host, then URL forms.
        matches.sort(key=lambda key: (key != wanted, len(key), key))
        return self._auth_config(matches[0])

    def helper_for(self, registry):
        """The credential helper name the Docker CLI would use for ``registry``, or None."""
        wanted = registry_hostname(registry)
        for key, helper in self.cred_helpers.items():
            if registry_hostname(key) == wanted and helper:
                return helper
        return self.creds_store or None

    def _from_helper(self, helper, registry):
        """``docker-credential-<helper> get`` for ``registry``, as an SDK ``auth_config`` ({} when it has none)."""
        program = "docker-credential-" + helper
        server = "https://index.docker.io/v1/" if registry_hostname(registry) == "docker.io" else registry_hostname(registry)
        try:
            proc = subprocess.run([program, "get"], input=server.encode("utf-8"), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, timeout=60, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            raise DockerConfigError("docker_config from %s: credential helper %s for %s cannot run: %s"
                                    % (self.source, program, registry, getattr(exc, "strerror", None) or exc.__class__.__name__))
        if proc.returncode != 0:
            if b"credentials not found" in (proc.stdout + proc.stderr).lower():
                return {}
            raise DockerConfigError("docker_config from %s: credential helper %s failed for %s (exit %d)"
                                    % (self.source, program, registry, proc.returncode))
        try:
            answer = json.loads(proc.stdout.decode("utf-8"))
            username, secret = answer.get("Username") or "", answer.get("Secret") or ""
        except (ValueError, UnicodeError, AttributeError):
            raise DockerConfigError("docker_config from %s: credential helper %s answered something other than "
                                    "its JSON for %s" % (self.source, program, registry))
        if not secret:
            return {}
        self.helper_secrets.add(secret)
        if username == "<token>":
            return dict(identitytoken=secret, serveraddress=server)
        self.helper_secrets.add(base64.b64encode(("%s:%s" % (username, secret)).encode("utf-8")).decode("ascii"))
        return dict(username=username, password=secret, serveraddress=server)

    def _auth_config(self, key):
        entry = self.entries[key]
        result = {}
        for name in ("username", "password", "email", "identitytoken", "registrytoken"):
            if entry.get(name):
                result[name] = entry[name]
        result["serveraddress"] = key
        return result

    def mesos_relative_path(self):
        """Where Mesos writes this config under the sandbox: ``.docker/config.json`` or ``.dockercfg``."""
        return mesos_relative_path(self.layout == "auths")

    def __repr__(self):
        # Never the credentials.
        return "DockerConfig(source=%r, layout=%r, registries=%r)" % (self.source, self.layout, self.registries)


def mesos_relative_path(has_auths_key):
    """Mesos's rule: a config with an ``auths`` key is written as ``.docker/config.json``, else ``.dockercfg``."""
    return os.path.join(".docker", CONFIG_JSON) if has_auths_key else DOCKERCFG


def _decode_auth(registry, value):
    if not isinstance(value, str):
        raise DockerConfigError("docker_config entry for registry %s: 'auth' must be a string" % registry)
    try:
        decoded = base64.b64decode(value.strip().encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeError):
        raise DockerConfigError(
            "docker_config entry for registry %s: 'auth' is not valid base64 of USER:PASSWORD" % registry
        )
    username, sep, password = decoded.partition(":")
    if not sep or not username:
        raise DockerConfigError(
            "docker_config entry for registry %s: 'auth' does not decode to USER:PASSWORD" % registry
        )
    return username, password


def _parse_entry(registry, raw):
    if not isinstance(raw, dict):
        raise DockerConfigError(
            "docker_config entry for registry %s must be an object with 'auth' or 'username'/'password'" % registry
        )
    entry = {}
    if raw.get("auth"):
        entry["username"], entry["password"] = _decode_auth(registry, raw["auth"])
        entry["_auth"] = raw["auth"]
    if raw.get("username") is not None or raw.get("password") is not None:
        # An explicit username/password wins over 'auth', as in the Docker CLI's config loader.
        for name in ("username", "password"):
            if raw.get(name) is not None:
                if not isinstance(raw[name], str):
                    raise DockerConfigError("docker_config entry for registry %s: '%s' must be a string" % (registry, name))
                entry[name] = raw[name]
    for name in ("email", "identitytoken", "registrytoken"):
        if isinstance(raw.get(name), str) and raw.get(name):
            entry[name] = raw[name]
    if not entry.get("username") and not entry.get("identitytoken") and not entry.get("registrytoken"):
        raise DockerConfigError(
            "docker_config entry for registry %s has no credentials (expected 'auth' or 'username'/'password')"
            % registry
        )
    return entry


def from_dict(data, source="inline JSON"):
    """Parse an already decoded docker config."""
    if not isinstance(data, dict):
        raise DockerConfigError("docker_config from %s must be a JSON object, not %s" % (source, type(data).__name__))
    warnings = []
    entries = {}
    if "auths" in data:
        layout = "auths"
        auths = data["auths"]
        if auths is None:
            auths = {}
        if not isinstance(auths, dict):
            raise DockerConfigError("docker_config from %s: 'auths' must be an object" % source)
        for registry, raw in auths.items():
            if isinstance(raw, dict) and not raw:
                # `docker login` with a credential store leaves an empty entry behind.
                continue
            entries[registry] = _parse_entry(registry, raw)
    else:
        layout = "dockercfg"
        for registry, raw in data.items():
            if registry in _NON_AUTH_KEYS:
                continue
            entries[registry] = _parse_entry(registry, raw)
    creds_store = data.get("credsStore")
    cred_helpers = data.get("credHelpers") or {}
    if creds_store is not None and not isinstance(creds_store, str):
        raise DockerConfigError("docker_config from %s: 'credsStore' must be a helper name" % source)
    if not isinstance(cred_helpers, dict) or not all(isinstance(v, str) for v in cred_helpers.values()):
        raise DockerConfigError("docker_config from %s: 'credHelpers' must map registries to helper names" % source)
    return DockerConfig(entries, layout, source, warnings, creds_store=creds_store, cred_helpers=cred_helpers)


def _read_file(path):
    if os.path.isdir(path):
        for candidate in (CONFIG_JSON, DOCKERCFG, os.path.join(".docker", CONFIG_JSON)):
            full = os.path.join(path, candidate)
            if os.path.isfile(full):
                path = full
                break
        else:
            raise DockerConfigError(
                "docker_config directory %s has neither %s nor %s" % (path, CONFIG_JSON, DOCKERCFG)
            )
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except (IOError, OSError) as exc:
        raise DockerConfigError("Cannot read docker_config file %s: %s" % (path, exc.strerror or exc.__class__.__name__))
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeError:
        raise DockerConfigError("docker_config file %s is not UTF-8 text" % path)
    except ValueError as exc:
        raise DockerConfigError("docker_config file %s is not valid JSON (%s)" % (path, _json_position(exc)))
    return from_dict(data, source=path)


def _json_position(exc):
    # json.JSONDecodeError carries the position; its message never quotes the document.
    lineno = getattr(exc, "lineno", None)
    colno = getattr(exc, "colno", None)
    msg = getattr(exc, "msg", "invalid JSON")
    if lineno is not None:
        return "%s at line %s column %s" % (msg, lineno, colno)
    return msg


def load(value):
    """Load a docker config from a dict, a JSON string, a ``file://`` URL or a path.

    Returns a :class:`DockerConfig`, or None for None / empty input.
    """
    if value is None:
        return None
    if isinstance(value, DockerConfig):
        return value
    if isinstance(value, dict):
        return from_dict(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if not isinstance(value, str):
        raise DockerConfigError(
            "docker_config must be a path, a file:// URL or a JSON object, not %s" % type(value).__name__
        )
    text = value.strip()
    if not text:
        return None
    if text.startswith("{") or text.startswith("["):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise DockerConfigError("docker_config looks like inline JSON but does not parse (%s)" % _json_position(exc))
        return from_dict(data)
    if text.startswith("file://"):
        path = text[len("file://"):]
        if not path.startswith("/"):
            raise DockerConfigError("docker_config URL %s must be an absolute file:///path" % text)
        return _read_file(path)
    if "://" in text:
        raise DockerConfigError(
            "docker_config %s://...: only file:// URLs, plain paths or inline JSON are supported"
            % text.split("://", 1)[0]
        )
    if any(c in text for c in '"{}\n') or len(text) > 4096:
        # Not a path and not JSON: do not echo it, it may hold a secret.
        raise DockerConfigError("docker_config is neither a path, a file:// URL nor a JSON object")
    return _read_file(os.path.expanduser(text))
