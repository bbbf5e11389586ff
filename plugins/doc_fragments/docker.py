# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Documentation shared by the mesos.docker modules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    """Connection options of every module that talks to a Docker daemon."""

    DOCUMENTATION = r"""
options:
  docker_host:
    description:
      - The Docker daemon to talk to, as a URL such as V(unix:///var/run/docker.sock) or V(tcp://host:2376).
      - Falls back to the E(DOCKER_HOST) environment variable.
    type: str
    default: unix:///var/run/docker.sock
    aliases: [docker_url]
  timeout:
    description: Seconds to wait for one Docker API call before giving up.
    type: int
    default: 60
  api_version:
    description:
      - Docker API version to speak; V(auto) asks the daemon.
      - Falls back to the E(DOCKER_API_VERSION) environment variable.
    type: str
    default: auto
  tls:
    description: Talk to the daemon over TLS without verifying its certificate unless O(validate_certs) is set.
    type: bool
    default: false
  validate_certs:
    description: Talk TLS and verify the daemon's certificate against O(ca_path).
    type: bool
    default: false
    aliases: [tls_verify]
  ca_path:
    description: CA certificate that signed the daemon's certificate.
    type: path
    aliases: [ca_cert, tls_ca_cert]
  client_cert:
    description: Client certificate presented to the daemon.
    type: path
    aliases: [tls_client_cert, cert_path]
  client_key:
    description: Key of O(client_cert).
    type: path
    aliases: [tls_client_key, key_path]
requirements:
  - Docker SDK for Python (C(docker)) >= 4.1.0
notes:
  - The Docker SDK is needed on the host the module runs on, not only on the controller. The
    mesos.docker.docker_engine role installs the distribution's package (C(python3-docker)) on agent hosts;
    the modules are tested with what it installs there (4.1.0 on Debian 11, 5.0.3 on Debian 12, 7.1.0 on
    Debian 13) and with 7.2.0 on the controller. An SDK older than 7.1 needs C(requests) older than 2.32
    (the distribution's own C(python3-requests) is).
"""

    # Attributes shared by all mesos.docker modules. A module whose support is partial says so in its own
    # ``attributes:`` block (support: partial, with details), which overrides these entries.
    ATTRIBUTES = r"""
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in diff mode) when in diff mode.
    support: full
  idempotent:
    description: When run twice in a row with the same arguments, the second run reports no change.
    support: full
"""
