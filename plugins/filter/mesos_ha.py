# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Filters for highly available Mesos clusters and their rolling restarts (documented in the ``*.yml`` files)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.docker.plugins.module_utils import _mesos_ha


def zookeeper_url(hosts, hostvars=None, path="/mesos", user="", password=""):
    """The ``zk://`` URL of the ZooKeeper hosts ``hosts``: inventory names, whose address and port come from
    their ``zookeeper_client_address``/``zookeeper_client_port`` (the zookeeper role's) when ``hostvars``
    is given, else ``host`` or ``host:port`` strings."""
    endpoints = []
    for host in hosts or []:
        variables = hostvars[host] if hostvars is not None and host in hostvars else {}
        facts = variables.get("ansible_facts") or {}
        address = (variables.get("zookeeper_client_address") or (facts.get("default_ipv4") or {}).get("address")
                   or variables.get("ansible_host") or host)
        port = variables.get("zookeeper_client_port")
        endpoints.append("%s:%s" % (address, port) if port else str(address))
    try:
        return _mesos_ha.zookeeper_url(endpoints, path, user, password)
    except ValueError as error:
        raise AnsibleFilterError("zookeeper_url: %s" % error)


def quorum_errors(cluster):
    """Why ``{masters, quorum, registry, zk}`` cannot form a working cluster (empty when it can)."""
    try:
        return _mesos_ha.quorum_errors(int(cluster["masters"]), int(cluster["quorum"]), cluster["registry"],
                                       cluster.get("zk") or "")
    except (KeyError, TypeError, ValueError) as error:
        raise AnsibleFilterError("quorum_errors: expects {masters, quorum, registry, zk} with integer masters "
                                 "and quorum, got %r (%s)" % (cluster, error))


def rolling_errors(settings):
    """Why ``{serial, drain, drain_deadline}`` of a rolling restart cannot be used (empty when it can)."""
    errors = list(_mesos_ha.serial_errors(settings.get("serial")))
    if settings.get("drain"):
        errors.extend(_mesos_ha.duration_errors(settings.get("drain_deadline")))
    return errors


def rolling_batches(hosts, serial):
    """``hosts`` in the batches of a play with ``serial``."""
    errors = _mesos_ha.serial_errors(serial)
    if errors:
        raise AnsibleFilterError("rolling_batches: %s" % errors[0])
    return _mesos_ha.batches(hosts, serial)


def duration_seconds(duration):
    """A Mesos duration (``10mins``) in seconds."""
    try:
        return _mesos_ha.duration_seconds(duration)
    except ValueError as error:
        raise AnsibleFilterError("duration_seconds: %s" % error)


class FilterModule(object):
    def filters(self):
        return {
            "zookeeper_url": zookeeper_url,
            "quorum_errors": quorum_errors,
            "rolling_errors": rolling_errors,
            "rolling_batches": rolling_batches,
            "duration_seconds": duration_seconds,
        }
