# Private to the mesos.docker collection: no API stability promise.
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The one builder of Docker connections: the shared connection options become a ``docker.APIClient``.

``_common.DockerModule`` connects with it, and so does the detached log follower (``_log_follower``),
which gets the same :func:`connection_args` from the module as JSON. This file imports only the
standard library, and the Docker SDK when a client is built, because the follower runs it from its
source, outside Ansible's module payload.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The Docker SDK's default connection pool.
DEFAULT_POOL_SIZE = 10


def connection_args(params):
    """``docker.APIClient`` arguments from the module options of ``_common.DOCKER_COMMON_ARGS``, as JSON-able data.

    ``tls`` is None, or what :func:`api_client` makes a ``docker.tls.TLSConfig`` of: TLS is on when ``tls``,
    ``validate_certs`` or ``client_cert`` is set.
    """
    tls = None
    if params["tls"] or params["validate_certs"] or params["client_cert"]:
        tls = dict(client_cert=[params["client_cert"], params["client_key"]] if params["client_cert"] else None,
                   ca_cert=params["ca_path"], verify=params["validate_certs"])
    return dict(base_url=params["docker_host"], version=params["api_version"], timeout=params["timeout"], tls=tls)


def pool_size(concurrent_calls):
    """One connection per concurrent call: the SDK's default pool of 10 would make the eleventh wait for, or
    discard, a connection."""
    return max(DEFAULT_POOL_SIZE, int(concurrent_calls or 0))


def api_client(args, pool):
    """``docker.APIClient`` of :func:`connection_args` ``args`` with a connection pool of ``pool`` where the SDK
    has one (``max_pool_size``, SDK >= 4.3); older SDKs (Debian 11's 4.1.0) keep their default pool of 10.

    Raises the SDK's ``TLSParameterError`` for unusable TLS files, its ``DockerException`` for the rest.
    """
    import docker

    kwargs = dict(args)
    tls = kwargs.pop("tls", None)
    if tls:
        from docker.tls import TLSConfig

        tls = TLSConfig(client_cert=tuple(tls["client_cert"]) if tls.get("client_cert") else None,
                        ca_cert=tls.get("ca_cert"), verify=tls.get("verify"))
    try:
        return docker.APIClient(max_pool_size=pool, tls=tls, **kwargs)
    except TypeError as exc:
        if "max_pool_size" not in str(exc):
            raise
        return docker.APIClient(tls=tls, **kwargs)
