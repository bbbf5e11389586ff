# Private to the mesos.docker collection: no API stability promise.
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Safe allocation of parent-network slices for docker-in-docker Mesos agents.

In the bridged mode of mesos-slave-dind every agent container gets a slice of the
parent docker network, given as ``DOCKER_NETWORK_OFFSET`` (for example ``0.0.1.0``)
and ``DOCKER_NETWORK_SIZE`` (prefix length of the slice, default 24). The inner
dockerd then runs with ``--fixed-cidr=<parent network + offset>/<size>``.

The original shell arithmetic wraps silently when an octet overflows and nothing
stops two agents from sharing a range. :func:`allocate` refuses instead.

Design (documented here because the module documentation points at it):

* IPv4 only. An IPv6 parent network is refused with a clear message.
* Candidate slices are the aligned ``/size`` blocks of the parent network, numbered
  0..N-1 by their integer index; all bookkeeping is done on those integers, reserved
  ranges are merged integer intervals of block indices, so allocating is O(n log n)
  in the number of agents (the sort of the names) and never O(n * blocks).
* ``size`` must be strictly larger than the parent prefix (a slice equal to the parent
  would swallow the parent's gateway) and at most :data:`MAX_SIZE` (30), the smallest
  IPv4 block that still has usable host addresses.
* Block 0 is always reserved: it holds the parent's network address and its default
  gateway (the first usable address, which docker gives its bridge), and it is where a
  parent daemon without ``fixed-cidr`` hands out its own container addresses first.
  The block that holds an explicitly given gateway is reserved as well. The last block
  (which holds the parent's broadcast address) stays usable: the inner daemon's pool is
  the whole parent subnet (``--bip``), so its IPAM never hands out that address.
* ``previous`` allocations are kept exactly as they were for agents still present;
  if one no longer fits (network or size changed, now reserved, duplicated) we refuse
  and tell the operator to clear or migrate the state file: we never move a running
  agent silently.
* New agents get the lowest free blocks, assigned in sorted agent-name order, so the
  result is a pure function of the input.
* An agent may pin its offset; a pin that differs from the agent's previous allocation
  moves that agent (and only that one) - it is an explicit operator request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import fcntl
import json
import os
import re
import socket
import struct
import tempfile
import traceback
from bisect import bisect_right

try:
    import netaddr

    HAS_NETADDR = True
    NETADDR_IMPORT_ERROR = None
except ImportError:
    HAS_NETADDR = False
    NETADDR_IMPORT_ERROR = traceback.format_exc()

MAX_SIZE = 30
"""Largest accepted slice prefix length: a /30 still has two usable host addresses."""

DEFAULT_SIZE = 24
STATE_VERSION = 1

_DOTTED_QUAD = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")


class DindNetworkError(ValueError):
    """Input that cannot be allocated safely. The message names the value and the expected form."""


class DindStateMismatch(DindNetworkError):
    """A recorded allocation no longer fits the requested network/size/reservations."""


_PACK = struct.Struct("!I").pack
_NTOA = socket.inet_ntoa
_UNPACK = struct.Struct("!I").unpack
_ATON = socket.inet_aton


def int_to_ip(value):
    """Dotted quad of a 32-bit integer (fast path, no netaddr object)."""
    return _NTOA(_PACK(value))


def _require_netaddr():
    if not HAS_NETADDR:
        raise DindNetworkError("the Python library 'netaddr' is required for network allocation")


def parse_network(network):
    """Return ``(base_int, prefixlen, normalized_cidr)`` of an IPv4 parent network.

    The network must be written as ``a.b.c.d/prefix`` with no host bits set.
    """
    _require_netaddr()
    if not isinstance(network, str) or "/" not in network:
        raise DindNetworkError(
            "network %r is not a CIDR: expected an IPv4 network such as '172.17.0.0/16'" % (network,)
        )
    text = network.strip()
    try:
        net = netaddr.IPNetwork(text)
    except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
        raise DindNetworkError(
            "network %r is not a valid CIDR (%s): expected an IPv4 network such as '172.17.0.0/16'" % (network, exc)
        )
    if net.version != 4:
        raise DindNetworkError(
            "network %r is IPv6: only IPv4 parent networks are supported, such as '172.17.0.0/16'" % (network,)
        )
    address, _sep, _prefix = text.partition("/")
    if not _DOTTED_QUAD.match(address):
        raise DindNetworkError(
            "network %r is not a CIDR with a full dotted-quad address: expected e.g. '172.17.0.0/16'" % (network,)
        )
    if net.ip != net.network:
        raise DindNetworkError(
            "network %r has host bits set: expected the network address, i.e. '%s'" % (network, net.cidr)
        )
    return int(net.first), int(net.prefixlen), str(net.cidr)


def check_size(size, prefixlen, network="the parent network"):
    """Validate the slice prefix length against the parent prefix; return it as int."""
    if isinstance(size, bool) or not isinstance(size, int):
        if isinstance(size, str) and size.strip().isdigit():
            size = int(size.strip())
        else:
            raise DindNetworkError("size %r is not an integer: expected a prefix length such as 24" % (size,))
    if size <= prefixlen:
        raise DindNetworkError(
            "size %d is not larger than the prefix of %s (/%d): expected a prefix length between %d and %d"
            % (size, network, prefixlen, prefixlen + 1, MAX_SIZE)
        )
    if size > MAX_SIZE:
        raise DindNetworkError(
            "size %d is too small a block to hold task addresses: expected a prefix length between %d and %d"
            % (size, prefixlen + 1, MAX_SIZE)
        )
    return size


def parse_offset(offset, prefixlen, size, network):
    """Turn a dotted-quad offset into a block index, refusing overflow and misalignment."""
    if not isinstance(offset, str):
        raise DindNetworkError("offset %r is not a string: expected a dotted quad such as '0.0.1.0'" % (offset,))
    text = offset.strip()
    match = _DOTTED_QUAD.match(text)
    if not match:
        raise DindNetworkError("offset %r is not a dotted quad: expected a form such as '0.0.1.0'" % (offset,))
    try:
        value = _UNPACK(_ATON(text))[0]
    except (OSError, ValueError):
        value = None
    if value is None or any(len(o) > 1 and o[0] == "0" for o in match.groups()):
        for octet in match.groups():
            if int(octet) > 255:
                raise DindNetworkError(
                    "offset %r has octet %s > 255 (the seed's shell arithmetic would silently wrap it): "
                    "expected a dotted quad with octets 0-255 such as '0.0.1.0'" % (offset, octet)
                )
        raise DindNetworkError(
            "offset %r has an octet with a leading zero: expected plain decimal octets such as '0.0.1.0'" % (offset,)
        )
    span = 1 << (32 - prefixlen)
    if value >= span:
        raise DindNetworkError(
            "offset %r overflows past the end of the parent network %s, which spans offsets 0.0.0.0 to %s"
            % (offset, network, int_to_ip(span - 1))
        )
    block = 1 << (32 - size)
    if value % block:
        raise DindNetworkError(
            "offset %r is not aligned to /%d blocks: expected a multiple of %s (e.g. %s or %s)"
            % (offset, size, int_to_ip(block), int_to_ip(value - value % block), int_to_ip(value - value % block + block))
        )
    return value // block


def parse_agents(agents):
    """Return a list of ``(name, offset_or_None)``; refuse malformed entries and duplicates."""
    if agents is None:
        return []
    if isinstance(agents, (str, dict)) or not hasattr(agents, "__iter__"):
        raise DindNetworkError("agents %r is not a list: expected a list of names or {name, offset} dicts" % (agents,))
    result = []
    seen = set()
    for entry in agents:
        offset = None
        if isinstance(entry, dict):
            unknown = sorted(set(entry) - {"name", "offset"})
            if unknown:
                raise DindNetworkError(
                    "agent entry %r has unknown key(s) %s: expected only 'name' and optional 'offset'"
                    % (entry, ", ".join(unknown))
                )
            if "name" not in entry:
                raise DindNetworkError("agent entry %r has no 'name': expected {name: ..., offset: ...}" % (entry,))
            name = entry["name"]
            offset = entry.get("offset")
        else:
            name = entry
        if not isinstance(name, str) or not name.strip():
            raise DindNetworkError("agent name %r is not a non-empty string: expected e.g. 'agent-a'" % (name,))
        if name in seen:
            raise DindNetworkError("agent name %r is listed more than once: agent names must be unique" % (name,))
        seen.add(name)
        result.append((name, offset))
    return result


class _Reserved:
    """Reserved block indices as merged, sorted integer intervals with a reason each."""

    def __init__(self, intervals):
        intervals = sorted(intervals)
        starts, ends, reasons = [], [], []
        for start, end, reason in intervals:
            if starts and start <= ends[-1] + 1:
                if end > ends[-1]:
                    ends[-1] = end
                continue
            starts.append(start)
            ends.append(end)
            reasons.append(reason)
        self.starts, self.ends, self.reasons = starts, ends, reasons
        self._all = intervals

    def count(self):
        return sum(e - s + 1 for s, e in zip(self.starts, self.ends))

    def reason(self, index):
        """Why ``index`` is reserved, or None."""
        pos = bisect_right(self.starts, index) - 1
        if pos >= 0 and index <= self.ends[pos]:
            for start, end, reason in self._all:
                if start <= index <= end:
                    return reason
        return None


def _reserved_intervals(base, prefixlen, size, network, reserved, gateway):
    nblocks = 1 << (size - prefixlen)
    shift = 32 - size
    last = base + (1 << (32 - prefixlen)) - 1
    intervals = [(0, 0, "it holds the parent network address and default gateway %s" % int_to_ip(base + 1))]
    if gateway:
        _require_netaddr()
        try:
            gw = netaddr.IPAddress(str(gateway).split("/", maxsplit=1)[0])
        except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
            raise DindNetworkError("gateway %r is not an IPv4 address (%s): expected e.g. '172.17.0.1'" % (gateway, exc))
        if gw.version != 4 or not base <= int(gw) <= last:
            raise DindNetworkError("gateway %r is not inside the parent network %s" % (gateway, network))
        idx = (int(gw) - base) >> shift
        intervals.append((idx, idx, "it holds the parent gateway %s" % gw))
    if isinstance(reserved, str):
        reserved = [reserved]
    for item in reserved or ():
        _require_netaddr()
        try:
            rnet = netaddr.IPNetwork(str(item).strip())
        except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
            raise DindNetworkError(
                "reserved entry %r is not a CIDR or address (%s): expected e.g. '172.17.0.0/24' or '172.17.0.1'"
                % (item, exc)
            )
        if rnet.version != 4:
            raise DindNetworkError("reserved entry %r is IPv6: only IPv4 is supported" % (item,))
        first, end = max(int(rnet.first), base), min(int(rnet.last), last)
        if first > end:
            continue  # entirely outside the parent network: cannot collide
        intervals.append(((first - base) >> shift, (end - base) >> shift, "it overlaps reserved range %s" % item))
    return nblocks, _Reserved(intervals)


def _normalize_previous(previous):
    if not previous:
        return {}
    if not isinstance(previous, dict):
        raise DindStateMismatch("previous allocations %r are not a mapping of agent name to allocation" % (previous,))
    out = {}
    for name, entry in previous.items():
        if isinstance(entry, str):
            entry = {"offset": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("offset"), str):
            raise DindStateMismatch(
                "previous allocation for agent %r is %r: expected a mapping with an 'offset' such as '0.0.1.0'"
                % (name, entry)
            )
        out[name] = entry
    return out


def _entry(index, base, size, shift):
    first = base + (index << shift)
    first_ip = _NTOA(_PACK(first))
    return {
        "offset": _NTOA(_PACK(index << shift)),
        "fixed_cidr": "%s/%d" % (first_ip, size),
        "size": size,
        "index": index,
        "first_ip": first_ip,
        "last_ip": _NTOA(_PACK(first + (1 << shift) - 1)),
    }


def _where(name, entry):
    return "previous allocation for agent %r (offset %s%s)" % (
        name,
        entry["offset"],
        ", %s" % entry["fixed_cidr"] if entry.get("fixed_cidr") else "",
    )


_MIGRATE = "refusing to move a running agent silently; clear or migrate the state file first"


def allocate(network, size, agents, reserved=(), previous=None, gateway=None, retain_absent=False,
             release=(), prune_scope=None):
    """Allocate one non-overlapping ``/size`` slice of ``network`` per agent.

    :arg network: parent IPv4 network, e.g. ``'172.17.0.0/16'``.
    :arg size: prefix length of each slice (``DOCKER_NETWORK_SIZE``).
    :arg agents: iterable of names or ``{'name': ..., 'offset': '0.0.5.0'}`` dicts.
    :arg reserved: CIDRs or addresses no slice may overlap.
    :arg previous: mapping agent -> previous allocation (``{'offset': ...}`` with optional
        ``fixed_cidr``/``size``, as returned by this function or stored in the state file).
    :arg gateway: the parent gateway; its block is reserved (block 0 always is).
    :arg retain_absent: keep previous allocations of agents not in ``agents`` (they stay
        taken and are returned with ``'retained': True``) instead of freeing their blocks.
    :arg release: names whose previous allocations are freed in any case (agents being removed).
    :arg prune_scope: when not retaining, only previous agents whose names start with this prefix
        are freed; the others are retained (their owners are not part of this run).
    :returns: dict agent -> ``{offset, fixed_cidr, size, index, first_ip, last_ip}``.
    :raises DindNetworkError: (or :class:`DindStateMismatch`) with a message naming the value.
    """
    base, prefixlen, network = parse_network(network)
    size = check_size(size, prefixlen, network)
    shift = 32 - size
    specs = parse_agents(agents)
    nblocks, res = _reserved_intervals(base, prefixlen, size, network, reserved, gateway)
    prev = _normalize_previous(previous)

    present = {}
    for name, offset in specs:
        present[name] = offset
    taken = {}  # block index -> agent name
    placed = {}  # agent name -> block index
    entries = {}  # agent name -> result entry already built
    retained = set()
    starts, ends = res.starts, res.ends

    # 1. previous allocations of present (unpinned) agents, or of all agents when retaining.
    for name in sorted(prev):
        if name in present:
            if present[name] is not None:
                continue  # pinned below; an explicit pin may move this one agent
        elif name in release:
            continue  # released: its agent is being removed, its block is free again
        elif not retain_absent and (prune_scope is None or name.startswith(prune_scope)):
            continue  # pruned: its block is free again
        entry = prev[name]
        if "size" in entry and entry["size"] != size:
            raise DindStateMismatch(
                "%s was made with size %r but size %d is requested: %s" % (_where(name, entry), entry["size"], size, _MIGRATE)
            )
        try:
            idx = parse_offset(entry["offset"], prefixlen, size, network)
        except DindNetworkError as exc:
            raise DindStateMismatch("%s no longer fits %s with size %d (%s): %s" % (_where(name, entry), network, size, exc, _MIGRATE))
        want = _entry(idx, base, size, shift)
        if entry.get("fixed_cidr") and entry["fixed_cidr"] != want["fixed_cidr"]:
            raise DindStateMismatch(
                "%s was made for a different parent network than %s (it would now be %s): %s"
                % (_where(name, entry), network, want["fixed_cidr"], _MIGRATE)
            )
        if res.reason(idx):
            raise DindStateMismatch("%s is no longer allowed because %s: %s" % (_where(name, entry), res.reason(idx), _MIGRATE))
        if idx in taken:
            raise DindStateMismatch("%s is also recorded for agent %r: %s" % (_where(name, entry), taken[idx], _MIGRATE))
        entries[name] = want
        taken[idx] = name
        placed[name] = idx
        if name not in present:
            retained.add(name)

    # 2. pinned offsets.
    for name, offset in specs:
        if offset is None:
            continue
        idx = _allowed_pin(name, offset, prefixlen, size, network, res)
        if idx in taken:
            raise DindNetworkError(
                "offset %r of agent %r is already taken by agent %r (%s/%d): pick a free offset"
                % (offset, name, taken[idx], int_to_ip(base + (idx << shift)), size)
            )
        taken[idx] = name
        placed[name] = idx

    # 3. new agents: lowest free blocks, in sorted name order.
    new = sorted(name for name in present if name not in placed)
    free = nblocks - res.count() - len(taken)
    if len(new) > free:
        raise DindNetworkError(
            "%d agent(s) need a new /%d slice of %s but only %d free block(s) remain "
            "(%d blocks in total, %d reserved, %d already allocated): use a larger parent network, "
            "a larger size (smaller slices) or fewer agents" % (len(new), size, network, free, nblocks, res.count(), len(taken))
        )
    idx = 0
    pos = 0  # pointer into the merged reserved intervals
    nres = len(starts)
    for name in new:
        while True:
            while pos < nres and ends[pos] < idx:
                pos += 1
            if pos < nres and starts[pos] <= idx:
                idx = ends[pos] + 1
                continue
            if idx in taken:
                idx += 1
                continue
            break
        taken[idx] = name
        placed[name] = idx
        idx += 1

    result = {}
    for name in sorted(placed):
        entry = entries.get(name) or _entry(placed[name], base, size, shift)
        if name in retained:
            entry["retained"] = True
        result[name] = entry
    return result


def _allowed_pin(name, offset, prefixlen, size, network, res):
    """The block index of an agent's pinned offset, refused when it is reserved."""
    idx = parse_offset(offset, prefixlen, size, network)
    why = res.reason(idx)
    if why:
        raise DindNetworkError(
            "offset %r of agent %r is reserved in %s because %s: pick another multiple of %s"
            % (offset, name, network, why, int_to_ip(1 << (32 - size)))
        )
    return idx


def validate_request(network, size, agents, reserved=(), gateway=None):
    """Check everything that does not depend on recorded state, cheaply, before any lock or write.

    Refuses malformed network/size/agents/reserved/gateway, and pinned offsets that are
    malformed, overflowing, misaligned, reserved or pinned twice. Returns the normalized network.
    """
    base, prefixlen, network = parse_network(network)
    size = check_size(size, prefixlen, network)
    specs = parse_agents(agents)
    _nblocks, res = _reserved_intervals(base, prefixlen, size, network, reserved, gateway)
    pinned = {}
    for name, offset in specs:
        if offset is None:
            continue
        idx = _allowed_pin(name, offset, prefixlen, size, network, res)
        if idx in pinned:
            raise DindNetworkError(
                "offset %r of agent %r is also pinned by agent %r: pick a free offset" % (offset, name, pinned[idx])
            )
        pinned[idx] = name
    return network


def free_blocks(network, size, allocations, reserved=(), gateway=None):
    """Number of blocks still free after ``allocations``."""
    base, prefixlen, network = parse_network(network)
    size = check_size(size, prefixlen, network)
    nblocks, res = _reserved_intervals(base, prefixlen, size, network, reserved, gateway)
    return nblocks - res.count() - len(allocations)


# ---------------------------------------------------------------- state file


def build_state(network, size, allocations):
    """The JSON-able state: network, size and per-agent offset/fixed_cidr."""
    return {
        "version": STATE_VERSION,
        "network": network,
        "size": size,
        "allocations": dict(
            (name, {"offset": a["offset"], "fixed_cidr": a["fixed_cidr"]}) for name, a in sorted(allocations.items())
        ),
    }


def previous_from_state(state, network, size, path="the state file"):
    """Previous allocations from ``state``; refuse when it was made for another network/size."""
    if not state:
        return {}
    _base, _prefix, network = parse_network(network)
    recorded = state.get("network")
    if recorded is not None and recorded != network:
        raise DindStateMismatch(
            "%s records allocations in network %s but network %s is requested: %s (%s)"
            % (path, recorded, network, _MIGRATE, path)
        )
    if state.get("size") is not None and state.get("size") != size:
        raise DindStateMismatch(
            "%s records allocations of size %r but size %r is requested: %s (%s)"
            % (path, state.get("size"), size, _MIGRATE, path)
        )
    allocations = state.get("allocations")
    if allocations is None:
        allocations = {}
    if not isinstance(allocations, dict):
        raise DindStateMismatch("%s has malformed 'allocations' %r: expected a mapping" % (path, allocations))
    return dict(
        (name, dict(entry, size=state["size"]) if isinstance(entry, dict) and state.get("size") is not None else entry)
        for name, entry in allocations.items()
    )


def load_state(path):
    """Read the JSON state file; ``None`` when it does not exist."""
    try:
        with open(path, "r") as handle:
            text = handle.read()
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise DindNetworkError("cannot read state file %s: %s" % (path, exc))
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DindNetworkError(
            "state file %s is not valid JSON (%s): fix it or clear/migrate it; it is not overwritten" % (path, exc)
        )
    if not isinstance(data, dict) or not isinstance(data.get("allocations", {}), dict):
        raise DindNetworkError(
            "state file %s is not a mesos.docker.dind_network state (expected an object with "
            "'network', 'size' and 'allocations'): fix or clear it" % path
        )
    return data


def dump_state(data):
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def save_state(path, data):
    """Write ``data`` atomically: temp file in the same directory, fsync, ``os.replace``."""
    directory = os.path.dirname(os.path.abspath(path))
    text = dump_state(data)
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        mode = 0o600  # root's, like the rest of the agents' host state
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def lock_path(path):
    return path + ".lock"


@contextlib.contextmanager
def locked_state(path):
    """Hold an exclusive ``flock`` on ``<path>.lock`` for a read-modify-write of ``path``.

    The lock file is never removed (removing it would let two runs lock different inodes).
    Yields the current state (or ``None``).
    """
    fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield load_state(path)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
