# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""What a highly available Mesos cluster is made of, in one place: the ZooKeeper URL of the masters and
agents, the replicated log's quorum, and the plan of a rolling restart or upgrade (its batches and their
limits, the drain deadline)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

DEFAULT_ZOOKEEPER_PORT = 2181
# Mesos's duration syntax (stout's Duration::parse): a number and a unit.
DURATION_RE = re.compile(r"^\d+(\.\d+)?(ns|us|ms|secs|mins|hrs|days|weeks)$")
SERIAL_RE = re.compile(r"^(\d+)(%?)$")


def zookeeper_url(endpoints, path="/mesos", user="", password=""):
    """``zk://[user:password@]host:port,.../path`` for ``endpoints`` (``host`` or ``host:port`` strings);
    empty for no endpoints. Raises ValueError on a path that does not start with ``/`` or half a credential."""
    endpoints = [str(endpoint) for endpoint in endpoints or []]
    if not endpoints:
        return ""
    if not str(path).startswith("/") or str(path) == "/":
        raise ValueError("path %r is not a znode path such as /mesos" % (path,))
    if bool(user) != bool(password):
        raise ValueError("a ZooKeeper digest credential needs both a user and a password")
    for endpoint in endpoints:
        if not re.match(r"^[A-Za-z0-9_.-]+(:\d{1,5})?$", endpoint):
            raise ValueError("ZooKeeper endpoint %r is not host or host:port" % (endpoint,))
    servers = ",".join(endpoint if ":" in endpoint else "%s:%d" % (endpoint, DEFAULT_ZOOKEEPER_PORT)
                       for endpoint in endpoints)
    credential = "%s:%s@" % (user, password) if user else ""
    return "zk://%s%s%s" % (credential, servers, path)


def majority(count):
    """The smallest majority of ``count`` masters: what ``--quorum`` must be for a replicated log."""
    return count // 2 + 1


def quorum_errors(masters, quorum, registry, zk):
    """Why ``masters`` masters with ``--quorum=quorum``, ``--registry=registry`` and ``--zk=zk`` cannot form a
    working cluster (an empty list when they can)."""
    errors = []
    if masters > 1 and not zk:
        errors.append("%d masters need --zk (mesos_master_zk or a zookeepers group) to elect a leader" % masters)
    if registry != "replicated_log":
        if masters > 1:
            errors.append("%d masters with --registry=%s share no state: use replicated_log" % (masters, registry))
        return errors
    if masters > 1 and masters % 2 == 0:
        errors.append("%d masters: an even count tolerates no more failures than %d and can split evenly; "
                      "use 1, 3 or 5" % (masters, masters - 1))
    if quorum < 1 or quorum > masters:
        errors.append("quorum %d cannot be met by %d master(s)" % (quorum, masters))
    elif quorum < majority(masters):
        errors.append("quorum %d of %d masters is not a majority (at least %d): two halves could each "
                      "accept writes" % (quorum, masters, majority(masters)))
    return errors


def serial_errors(serial):
    """Why ``serial`` (an Ansible batch size: a count or a percentage) is not a usable batch size."""
    match = SERIAL_RE.match(str(serial).strip())
    serial = str(serial)
    if not match:
        return ["serial %r is neither a count (e.g. 2) nor a percentage (e.g. 10%%)" % (serial,)]
    value, percent = int(match.group(1)), match.group(2)
    if value == 0:
        return ["serial %r would put no agent in a batch: use a count >= 1 or a percentage in 1%%..100%%" % (serial,)]
    if percent and value > 100:
        return ["serial %r is over 100%%" % (serial,)]
    return []


def batch_size(serial, hosts):
    """The hosts per batch Ansible makes of ``serial`` over ``hosts`` hosts (a percentage rounds down, at least 1)."""
    match = SERIAL_RE.match(str(serial).strip())
    value, percent = int(match.group(1)), match.group(2)
    size = int(math.floor(hosts * value / 100.0)) if percent else value
    return max(1, min(size, hosts)) if hosts else 0


def batches(hosts, serial):
    """``hosts`` in the batches a play with ``serial`` runs them in."""
    hosts = list(hosts)
    size = batch_size(serial, len(hosts))
    return [hosts[start:start + size] for start in range(0, len(hosts), size)] if size else []


def duration_errors(value):
    """Why ``value`` is not a Mesos duration (``10mins``, ``30secs``, ``1hrs``)."""
    if DURATION_RE.match(str(value)):
        return []
    return ["%r is not a Mesos duration: a number and one of ns, us, ms, secs, mins, hrs, days, weeks "
            "(e.g. 10mins)" % (value,)]


def duration_seconds(value):
    """A Mesos duration in seconds."""
    match = DURATION_RE.match(str(value))
    if not match:
        raise ValueError(duration_errors(value)[0])
    number = float(str(value)[:-len(match.group(2))])
    unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "secs": 1, "mins": 60, "hrs": 3600, "days": 86400,
            "weeks": 604800}[match.group(2)]
    return number * unit
