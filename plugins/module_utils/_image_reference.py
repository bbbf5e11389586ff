# Private to the mesos.docker collection: no API stability promise.
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Parse and normalise Docker image references, the way the Docker engine does.

Pure Python, no Docker SDK: it runs before any API call, so a malformed reference
fails fast with a message that names the value and the expected form.

The grammar is Docker's (``github.com/distribution/reference``)::

    reference        := name [ ":" tag ] [ "@" digest ]
    name             := [domain "/"] path-component ["/" path-component]*
    domain           := host [":" port]
    path-component   := [a-z0-9]+ (separator [a-z0-9]+)*
    separator        := [_.] | "__" | [-]+
    tag              := [\\w][\\w.-]{0,127}
    digest           := algorithm ":" hex

The first component is a registry host when it contains ``.`` or ``:``, is
``localhost``, or has an upper-case letter (Docker's ``splitDockerDomain``); otherwise
the image is on Docker Hub (``docker.io``) and a single-component path gets ``library/``.
Without tag and digest the tag is ``latest``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

DEFAULT_REGISTRY = "docker.io"
LEGACY_DEFAULT_REGISTRY = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255

# Hosts the Docker CLI treats as Docker Hub.
DOCKER_HUB_ALIASES = frozenset(
    [
        "docker.io",
        "index.docker.io",
        "registry-1.docker.io",
        "registry.hub.docker.com",
        "hub.docker.com",
    ]
)

EXPECTED_FORM = "[REGISTRY_HOST[:PORT]/]PATH[:TAG][@sha256:<64 hex digits>]"

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT_RE = re.compile(r"^%s(?:%s%s)*$" % (_ALNUM, _SEPARATOR, _ALNUM))
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = r"%s(?:\.%s)*" % (_DOMAIN_COMPONENT, _DOMAIN_COMPONENT)
_IPV6 = r"\[[a-fA-F0-9:]+\]"
_DOMAIN_RE = re.compile(r"^(?:%s|%s)(?::[0-9]+)?$" % (_DOMAIN_NAME, _IPV6))
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$", re.ASCII)
_DIGEST_RE = re.compile(r"^(?P<algorithm>[a-z0-9]+(?:[.+_-][a-z0-9]+)*):(?P<hex>[a-zA-Z0-9=_-]+)$")
# Lengths of the hex part for the algorithms Docker knows.
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}


class ImageReferenceError(ValueError):
    """A string that is not a valid Docker image reference."""


class ImageReference:
    """A parsed, normalised image reference.

    Attributes: ``registry`` (``docker.io`` for Docker Hub), ``path`` (``library/busybox``),
    ``tag`` (``latest`` when neither tag nor digest was given; ``None`` for a digest-only
    reference) and ``digest`` (``sha256:...`` or ``None``).
    """

    __slots__ = ("original", "registry", "path", "tag", "digest")

    def __init__(self, original, registry, path, tag, digest):
        self.original = original
        self.registry = registry
        self.path = path
        self.tag = tag
        self.digest = digest

    @property
    def repository(self):
        """Fully qualified repository, ``docker.io/library/busybox``."""
        return "%s/%s" % (self.registry, self.path)

    @property
    def familiar_repository(self):
        """Repository the way ``docker images`` shows it: ``busybox``, ``user/app``, ``host:5000/x``."""
        if self.registry == DEFAULT_REGISTRY:
            if self.path.startswith(OFFICIAL_REPO_PREFIX) and self.path.count("/") == 1:
                return self.path[len(OFFICIAL_REPO_PREFIX):]
            return self.path
        return self.repository

    @property
    def name(self):
        """Normalised full reference: ``docker.io/library/busybox:latest``."""
        return self._format(self.repository)

    @property
    def familiar_name(self):
        """Short form as in ``docker images``: ``busybox:latest``."""
        return self._format(self.familiar_repository)

    @property
    def pull_tag(self):
        """What to pass as the ``tag`` of a pull: the digest when there is one, else the tag."""
        return self.digest or self.tag

    @property
    def local_lookup(self):
        """Reference to inspect locally: by digest when pinned (the tag is not checked then, as Docker does)."""
        if self.digest:
            return "%s@%s" % (self.familiar_repository, self.digest)
        return "%s:%s" % (self.familiar_repository, self.tag)

    @property
    def is_docker_hub(self):
        return self.registry == DEFAULT_REGISTRY

    def _format(self, repository):
        text = repository
        if self.tag:
            text += ":" + self.tag
        if self.digest:
            text += "@" + self.digest
        return text

    def __str__(self):
        return self.name

    def __repr__(self):
        return "ImageReference(%r)" % self.name

    def __eq__(self, other):
        return isinstance(other, ImageReference) and self.name == other.name

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self.name)


def _fail(value, reason):
    raise ImageReferenceError(
        "Invalid image reference %r: %s. Expected %s, for example "
        "busybox, busybox:1.36, registry.example.com:5000/team/app:v1 or "
        "app@sha256:<64 hex digits>." % (value, reason, EXPECTED_FORM)
    )


def _split_domain(name):
    """``(registry, path, host_as_written)``; ``host_as_written`` is None without an explicit host."""
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first.lower() != first):
        host, registry, path = first, first, rest
    else:
        host, registry, path = None, DEFAULT_REGISTRY, name
    if registry == LEGACY_DEFAULT_REGISTRY:
        registry = DEFAULT_REGISTRY
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = OFFICIAL_REPO_PREFIX + path
    return registry, path, host


def split_domain(name):
    """Split a name (no tag, no digest) into ``(registry, path)`` as Docker does."""
    registry, path, _host = _split_domain(name)
    return registry, path


def parse(value):
    """Parse ``value`` into an :class:`ImageReference`; raise :class:`ImageReferenceError`."""
    if isinstance(value, ImageReference):
        return value
    if not isinstance(value, str):
        _fail(value, "it must be a string, not %s" % type(value).__name__)
    if value == "":
        _fail(value, "it is empty")
    if value != value.strip() or any(c.isspace() for c in value):
        _fail(value, "it contains white space")
    if "://" in value:
        _fail(value, "an image reference has no URL scheme")

    remainder = value
    digest = None
    if "@" in remainder:
        remainder, digest = remainder.split("@", 1)
        match = _DIGEST_RE.match(digest)
        if not match:
            _fail(value, "digest %r is not of the form ALGORITHM:HEX" % digest)
        algorithm, hex_part = match.group("algorithm"), match.group("hex")
        expected = _DIGEST_HEX_LENGTH.get(algorithm)
        if expected is None:
            _fail(value, "unsupported digest algorithm %r (use sha256)" % algorithm)
        if len(hex_part) != expected or not re.match(r"^[a-f0-9]+$", hex_part):
            _fail(value, "a %s digest must be %d lower-case hex digits" % (algorithm, expected))

    tag = None
    last_slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    if colon > last_slash:
        remainder, tag = remainder[:colon], remainder[colon + 1:]
        if not _TAG_RE.match(tag):
            _fail(value, "tag %r is invalid (1-128 characters of letters, digits, '_', '.', '-', not starting with '.' or '-')" % tag)

    name = remainder
    if not name:
        _fail(value, "the repository name is empty")
    if len(name) > NAME_TOTAL_LENGTH_MAX:
        _fail(value, "the repository name is longer than %d characters" % NAME_TOTAL_LENGTH_MAX)

    registry, path, host = _split_domain(name)
    if host is not None and not _DOMAIN_RE.match(host):
        _fail(value, "registry host %r is invalid" % host)
    if not path:
        _fail(value, "the repository path is empty")
    for component in path.split("/"):
        if component == "":
            _fail(value, "the repository path has an empty component")
        if component.lower() != component and _PATH_COMPONENT_RE.match(component.lower()):
            _fail(value, "repository name must be lowercase (%r)" % component)
        if not _PATH_COMPONENT_RE.match(component):
            _fail(
                value,
                "repository path component %r is invalid (lower-case letters and digits, "
                "separated by '.', '_', '__' or '-')" % component,
            )

    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return ImageReference(value, registry, path, tag, digest)


def normalize(value):
    """Normalised full reference string of ``value``."""
    return parse(value).name


def is_docker_hub(host):
    """True when ``host`` (with or without scheme/path) names Docker Hub."""
    return registry_hostname(host) == DEFAULT_REGISTRY


def registry_hostname(value):
    """Host[:port] of a registry given as a host, ``host:port`` or URL (``https://host/v1/``).

    Docker Hub's aliases all become ``docker.io``.
    """
    text = (value or "").strip()
    for scheme in ("https://", "http://"):
        if text.lower().startswith(scheme):
            text = text[len(scheme):]
            break
    text = text.split("/", 1)[0].lower()
    if text in DOCKER_HUB_ALIASES:
        return DEFAULT_REGISTRY
    return text
