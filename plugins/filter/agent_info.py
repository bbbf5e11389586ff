# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""What a Mesos agent refuses on recovery when its agent info changed (documented in ``agent_info_refusals.yml``).

Mirrors ``src/slave/compatibility.cpp``: ``equal`` accepts no change; ``additive`` accepts only
growth: hostname and port unchanged, a domain once set unchanged, every earlier resource still
there with at least its amount (scalars), ranges and sets still covered, every earlier attribute
still there with the same type and value (ranges may grow).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError

_RANGES = re.compile(r"^\[(.*)\]$")
_SET = re.compile(r"^\{(.*)\}$")


def _ranges(text):
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        low, high = (part.split("-", 1) + [""])[:2]
        out.append((int(low), int(high or low)))
    return out


def _covered(inner, outer):
    return all(any(lo <= a and b <= hi for lo, hi in outer) for a, b in inner)


def _value(text):
    text = text.strip()
    match = _RANGES.match(text)
    if match:
        return "ranges", _ranges(match.group(1))
    match = _SET.match(text)
    if match:
        return "set", frozenset(filter(None, (p.strip() for p in match.group(1).split(","))))
    try:
        return "scalar", float(text)
    except ValueError:
        return "text", text


def _pairs(text, what):
    """``name:value;...`` as {name: (type, value)}; scalars of a repeated name add up (as Mesos does for resources)."""
    text = (text or "").strip()
    if text.startswith("["):
        raise ValueError("%s in JSON form cannot be compared" % what)
    out = {}
    for item in filter(None, (p.strip() for p in text.split(";"))):
        name, sep, value = item.partition(":")
        if not sep:
            raise ValueError("%s entry %r is not name:value" % (what, item))
        kind, parsed = _value(value)
        if what == "resources" and kind == "text":
            raise ValueError("resource %r has no scalar, range or set value: %r" % (name, value))
        if name in out and kind == "scalar" and out[name][0] == "scalar":
            parsed += out[name][1]
        out[name.strip()] = (kind, parsed)
    return out


def _additive(previous, current, what):
    before, after = _pairs(previous, what), _pairs(current, what)
    refusals = []
    for name, (kind, value) in sorted(before.items()):
        if name not in after:
            refusals.append("%s %s removed" % (what, name))
            continue
        new_kind, new_value = after[name]
        if new_kind != kind:
            refusals.append("%s %s changed type from %s to %s" % (what, name, kind, new_kind))
        elif kind == "scalar" and (new_value < value if what == "resources" else new_value != value):
            refusals.append("%s %s went from %g to %g" % (what, name, value, new_value))
        elif kind == "ranges" and not _covered(value, new_value):
            refusals.append("%s %s no longer covers its earlier ranges" % (what, name))
        elif kind == "set" and not value <= new_value:
            refusals.append("%s %s lost members" % (what, name))
        elif kind == "text" and new_value != value:
            refusals.append("%s %s changed" % (what, name))
    return refusals


def agent_info_refusals(current, previous, policy="equal"):
    """Reasons the agent refuses to recover with ``current`` after ``previous`` under ``policy`` ([] = it recovers).

    Both are dicts with hostname, port, domain, resources and attributes (strings); fields
    ``previous`` lacks count as unchanged.
    """
    if policy not in ("equal", "additive"):
        raise AnsibleFilterError("agent_info_refusals: policy %r is neither equal nor additive" % (policy,))
    previous = dict(current, **(previous or {}))
    changed = [key for key in sorted(current) if str(previous.get(key, "")) != str(current.get(key, ""))]
    if policy == "equal":
        return ["%s changed" % key for key in changed]
    refusals = ["%s changed" % key for key in ("hostname", "port") if key in changed]
    if "domain" in changed and str(previous.get("domain", "")):
        refusals.append("domain changed")
    for what in ("resources", "attributes"):
        if what in changed:
            try:
                refusals.extend(_additive(previous.get(what), current.get(what), what))
            except ValueError as error:
                refusals.append("%s changed (%s)" % (what, error))
    return refusals


class FilterModule(object):
    def filters(self):
        return {"agent_info_refusals": agent_info_refusals}
