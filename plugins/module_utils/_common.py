# Private to the mesos.docker collection: no API stability promise.
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The one place where mesos.docker modules get an AnsibleModule and a Docker client.

Modules never build a Docker client themselves: they create a :class:`DockerModule`,
validate their own input, and only then touch :attr:`DockerModule.client`, which
connects lazily. That way bad input fails before any API call.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.mesos.docker.plugins.module_utils._docker_client import api_client, connection_args, pool_size

try:
    from docker.errors import APIError, DockerException, ImageNotFound, NotFound, TLSParameterError

    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None
except ImportError:
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = traceback.format_exc()

    class DockerException(Exception):  # noqa: D101 - placeholder so modules import without the SDK
        pass

    class APIError(DockerException):
        pass

    class NotFound(APIError):
        pass

    class ImageNotFound(NotFound):
        pass

    class TLSParameterError(DockerException):
        pass


try:
    from requests.exceptions import ConnectionError as RequestsConnectionError
    from requests.exceptions import Timeout as RequestsTimeout
except ImportError:  # requests comes with the Docker SDK; placeholders keep modules importable

    class RequestsConnectionError(Exception):
        pass

    class RequestsTimeout(Exception):
        pass


# The SDK's exceptions, re-exported so modules catch them without importing docker themselves.
__all__ = [
    "APIError", "DockerException", "ImageNotFound", "NotFound", "RequestsConnectionError", "RequestsTimeout",
    "DockerModule", "DOCKER_COMMON_ARGS", "HAS_DOCKER", "error_text", "parallel_map",
]

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"

DOCKER_COMMON_ARGS = dict(
    docker_host=dict(type="str", default=DEFAULT_DOCKER_HOST, fallback=(env_fallback, ["DOCKER_HOST"]), aliases=["docker_url"]),
    timeout=dict(type="int", default=60),
    api_version=dict(type="str", default="auto", fallback=(env_fallback, ["DOCKER_API_VERSION"])),
    tls=dict(type="bool", default=False, fallback=(env_fallback, ["DOCKER_TLS"])),
    validate_certs=dict(type="bool", default=False, fallback=(env_fallback, ["DOCKER_TLS_VERIFY"]), aliases=["tls_verify"]),
    ca_path=dict(type="path", aliases=["ca_cert", "tls_ca_cert"]),
    client_cert=dict(type="path", aliases=["tls_client_cert", "cert_path"]),
    client_key=dict(type="path", aliases=["tls_client_key", "key_path"]),
)


class DockerModule:
    """An AnsibleModule with the shared Docker connection options and a lazy client."""

    def __init__(self, argument_spec, **kwargs):
        spec = dict(DOCKER_COMMON_ARGS)
        spec.update(argument_spec)
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.module.params
        self._client = None
        if not HAS_DOCKER:
            self.fail(missing_required_lib("docker"), exception=DOCKER_IMPORT_ERROR)

    @property
    def check_mode(self):
        return self.module.check_mode

    @property
    def diff_mode(self):
        return self.module._diff

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    def warn(self, msg):
        self.module.warn(msg)

    def require_at_least(self, name, minimum):
        """Fail, before any Docker call, when the integer option ``name`` is below ``minimum``: the one check and
        wording for it (an argument spec has no minimum)."""
        value = self.params[name]
        if value is not None and value < minimum:
            self.fail("%s must be an integer of at least %d, got %d" % (name, minimum, value))

    def register_secrets(self, values):
        """The one place where secrets found at run time join ``no_log``: never shown in any output."""
        self.module.no_log_values.update(v for v in values if v and len(v) >= 3)

    def exit(self, **results):
        self.module.exit_json(**results)

    @property
    def client(self):
        """The low-level ``docker.APIClient``, connected on first use."""
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self):
        p = self.params
        # One connection per worker thread (``max_workers``).
        try:
            return api_client(connection_args(p), pool_size(p.get("max_workers")))
        except TLSParameterError as exc:
            self.fail("Invalid TLS settings for the Docker daemon at %s: %s" % (p["docker_host"], exc))
        except DockerException as exc:
            self.fail("Cannot connect to the Docker daemon at %s: %s" % (p["docker_host"], exc))


def parallel_map(func, items, max_workers):
    """``[func(item) for item in items]``, in order, on up to ``max_workers`` threads.

    Docker API calls spend their time waiting on the daemon, so threads give real
    parallelism for pulls, launches and stops of many containers in one module call.
    """
    items = list(items)
    workers = max(1, min(int(max_workers or 1), len(items)))
    if workers == 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items))


def error_text(exc):
    """The daemon's (or library's) own words for ``exc``, as text: the SDK's ``explanation`` when it has one.

    The one place where an exception from the Docker SDK, requests or the OS becomes a message.
    """
    explanation = getattr(exc, "explanation", None)
    if explanation:
        if isinstance(explanation, bytes):
            explanation = explanation.decode("utf-8", "replace")
        return str(explanation)
    text = str(exc)
    if isinstance(exc, (RequestsConnectionError, RequestsTimeout)):
        return "%s (%s)" % (exc.__class__.__name__, text) if text else exc.__class__.__name__
    return text or exc.__class__.__name__
