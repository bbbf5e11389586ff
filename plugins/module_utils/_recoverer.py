# Private to the mesos.docker collection: no API stability promise.
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Classify the Mesos-named containers of one Docker daemon for one agent, and kill its orphans.

Mesos (``DockerContainerizerProcess::__recover``) kills every container whose name parses and
whose container ID it does not know. Here a container is only killed when its ID is unknown
*and* it provably belongs to this agent; a container whose ID is known is kept whatever its
suffix (task or ``.executor`` container), like Mesos keeps every container whose ID it knows.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.mesos.docker.plugins.module_utils._common import NotFound, error_text, parallel_map
from ansible_collections.mesos.docker.plugins.module_utils._mesos_names import (
    LABEL_AGENT_ID,
    PREFIX,
    is_uuid,
    parse_name,
    primary_name,
)

CLASSES = ("known", "orphans", "foreign")


class AgentError(Exception):
    """The agent's HTTP endpoints could not be read. The message never holds a credential."""


class Recoverer:
    """Classify the Mesos-named containers of one daemon for one agent, and kill its orphans."""

    def __init__(self, client, agent_id, known, work_dir=None):
        self.client = client
        self.agent_id = agent_id
        self.known = set(known)
        self._sandbox_res = []
        if work_dir:
            roots = set([os.path.normpath(work_dir), os.path.realpath(work_dir)])
            for root in sorted(roots):
                self._sandbox_res.append(re.compile("^" + re.escape(root.rstrip("/")) + "/slaves/([^/]+)(/|$)"))

    def list(self):
        """ONE list call; Docker's name filter is a substring match, parsing is done here."""
        return self.client.containers(all=True, filters={"name": PREFIX})

    def _mount_agents(self, container):
        agents = set()
        for mount in container.get("Mounts") or []:
            if mount.get("Type", "bind") != "bind":
                continue
            source = mount.get("Source") or ""
            for regex in self._sandbox_res:
                match = regex.match(source)
                if match:
                    agents.add(match.group(1))
        return agents

    def _evidence(self, container, name_agent):
        evidence = []
        if name_agent:
            evidence.append(("agent ID in the name", name_agent))
        label_agent = (container.get("Labels") or {}).get(LABEL_AGENT_ID)
        if label_agent:
            evidence.append(("labelled", label_agent))
        for agent in sorted(self._mount_agents(container)):
            evidence.append(("mounts a sandbox", agent))
        return evidence

    def classify_one(self, container):
        """``(class, entry)``; class is one of :data:`CLASSES`."""
        name = primary_name(container) or ""
        entry = dict(name=name, id=container.get("Id"), container_id=None, agent_id=None, executor=False,
                     state=container.get("State"), reason=None)
        parsed = parse_name(name)
        if parsed is None:
            entry["reason"] = "name does not parse as a Mesos container" if name.startswith(PREFIX) else "not Mesos-named"
            return "foreign", entry
        name_agent, container_id, executor = parsed
        entry.update(container_id=container_id, agent_id=name_agent, executor=executor)

        evidence = self._evidence(container, name_agent)
        others = sorted(set(a for _w, a in evidence if a != self.agent_id))
        if others:
            entry["reason"] = "belongs to agent %s" % ", ".join(others)
            if any(a == self.agent_id for _w, a in evidence):
                entry["reason"] = "conflicting ownership evidence (this agent and %s)" % ", ".join(others)
            return "foreign", entry
        if not evidence:
            entry["reason"] = "no proof of ownership by this agent"
            return "foreign", entry
        proof = ", ".join(sorted(set(w for w, _a in evidence)))
        if container_id in self.known:
            entry["reason"] = "known (%s)" % proof
            return "known", entry
        entry["reason"] = "not known (%s)" % proof
        return "orphans", entry

    def classify(self, containers=None):
        if containers is None:
            containers = self.list()
        result = dict((cls, []) for cls in CLASSES)
        for container in containers:
            cls, entry = self.classify_one(container)
            result[cls].append(entry)
        for entries in result.values():
            entries.sort(key=lambda e: e["name"])
        return result

    def kill(self, entry, stop_timeout):
        """Mesos's ``docker stop -t N`` then ``docker rm -v`` (forced).

        Returns None when the container is gone, else an error text naming it. Never raises:
        one worker's failure (API error, connection reset, timeout) must not hide what the others did.
        """
        ident = entry["id"]
        try:
            if entry.get("state") in ("running", "restarting", "paused"):
                self.client.stop(ident, timeout=stop_timeout)
            self.client.remove_container(ident, v=True, force=True)
        except NotFound:
            return None
        except Exception as exc:  # pylint: disable=broad-except  # reported per container, never a traceback
            return "%s: %s" % (entry["name"], error_text(exc))
        return None

    def kill_all(self, entries, stop_timeout, max_workers=8):
        """``(killed names, errors)`` after killing ``entries`` on up to ``max_workers`` threads."""
        outcomes = parallel_map(lambda e: self.kill(e, stop_timeout), entries, max_workers) if entries else []
        killed = [e["name"] for e, error in zip(entries, outcomes) if error is None]
        return killed, [error for error in outcomes if error]


def get_json(url, username=None, password=None, validate_certs=True, timeout=30):
    """GET ``url`` from the agent and decode its JSON; :class:`AgentError` with a clear message otherwise."""
    from ansible.module_utils.urls import open_url

    kwargs = dict(timeout=timeout, validate_certs=validate_certs, headers={"Accept": "application/json"})
    if username is not None:
        kwargs.update(url_username=username, url_password=password or "", force_basic_auth=True)
    try:
        response = open_url(url, **kwargs)
        return json.loads(to_text(response.read()))
    except ValueError as exc:
        raise AgentError("The agent at %s did not answer JSON: %s" % (url, exc))
    except Exception as exc:  # pylint: disable=broad-except  # urllib, ssl and socket errors alike
        code = getattr(exc, "code", None)
        if code == 401:
            raise AgentError("The agent at %s answered 401 Unauthorized: agent_url_username/agent_url_password "
                             "are missing or wrong" % url)
        if code is not None:
            raise AgentError("The agent at %s answered HTTP %s" % (url, code))
        raise AgentError("Cannot reach the agent at %s: %s" % (url, getattr(exc, "reason", None) or exc))


def agent_containers(base_url, want_agent_id=True, **auth):
    """``(agent ID or None, set of container IDs)`` from the agent's ``/containers`` (and ``/state``
    when ``want_agent_id``)."""
    get = get_json
    base = base_url.rstrip("/")
    agent_id = None
    if want_agent_id:
        state = get(base + "/state", **auth)
        agent_id = state.get("id") if isinstance(state, dict) else None
    containers = get(base + "/containers", **auth)
    if not isinstance(containers, list):
        raise AgentError("The agent at %s/containers did not answer a list" % base)
    known = set()
    for item in containers:
        cid = item.get("container_id") if isinstance(item, dict) else None
        if isinstance(cid, dict):  # some versions: {"value": ...}
            cid = cid.get("value")
        if cid and is_uuid(cid):
            known.add(cid)
    return agent_id, known
