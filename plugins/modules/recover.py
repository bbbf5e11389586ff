#!/usr/bin/python
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: recover
short_description: Reconcile Mesos task containers after an agent restart, killing only this agent's orphans
version_added: 0.1.0
description:
  - Does what the Mesos Docker containerizer does when an agent restarts (C(--docker_kill_orphans)) -
    lists the containers whose names parse as Mesos containers, keeps those the agent still knows
    and stops and removes the orphans. Unlike Mesos (which kills B(every) C(mesos-) container it
    does not know, so agents sharing a Docker daemon kill each other's tasks), it never touches a
    container that is not provably an orphan of I(this) agent.
  - "Listing costs one Docker API call (C(containers(all=True, filters={name: mesos-}))): names, labels
    and mounts come with the list, no container is inspected. Docker's name filter is a substring
    match, so every result is parsed strictly."
  - "Names: C(mesos-<containerID>) (Mesos <= 0.22 and >= 1.4), C(mesos-<agentID>.<containerID>)
    (Mesos 0.23 to 1.3), either with a C(.executor) suffix (the executor's own container under
    C(--docker_mesos_image)). The container ID must be a UUID; C(mesos-agent-1) does not parse."
  - "B(Ownership rule.) A parsed container belongs to this agent when at least one piece of evidence
    names this agent and none names another: the agent ID in a legacy name; the
    C(org.apache.mesos.agent_id) label that M(mesos.docker.container) sets; a bind mount whose host
    source lies under C(<work_dir>/slaves/<agentID>/) (every Mesos sandbox does; needs O(work_dir)).
    A container with evidence for another agent, with conflicting evidence, or with no evidence at all
    (a modern C(mesos-<uuid>) name carries no agent ID) is I(foreign) and never touched."
  - "B(Classes.) I(known): ours, and its container ID is known (O(known_containers), the checkpoint,
    the agent's C(/containers)). I(orphan): ours and not known. I(foreign): everything else the list
    returned (another agent's, unproven, unparseable such as C(mesos-agent-x))."
  - "Executor containers (C(.executor)) share the container ID of their task, so an orphan's executor
    container is an orphan with it. With O(docker_mesos_image=true) the executor containers of known
    tasks are kept; without it the agent runs executors as host processes, so an executor container
    is a leftover of an earlier container-mode run and is an orphan even when its task is known."
author:
  - mesos.docker developers (@mesos-docker)
extends_documentation_fragment:
  - mesos.docker.docker
  - mesos.docker.docker.attributes
options:
  agent_id:
    description:
      - The ID of this agent, such as C(7447f438-a19c-4f12-b4f0-a5b33561eb16-S0).
      - When omitted, taken from the agent's C(/state) (O(agent_url)), else from the checkpoint's
        C(<work_dir>/meta/slaves/latest) link. One of them must give it.
    type: str
  known_containers:
    description:
      - Container IDs (UUIDs) the agent knows. Added to those of O(work_dir) and O(agent_url).
      - An empty list is valid and means "the agent knows none".
    type: list
    elements: str
  work_dir:
    description:
      - The agent's C(--work_dir) on this host.
      - "The checkpoint C(<work_dir>/meta/slaves/latest/frameworks/*/executors/*/runs/latest) gives known
        container IDs the way Mesos recovers them: only the latest run of each executor, only when its
        C(pids/forked.pid) and C(pids/libprocess.pid) (or C(http.marker)) exist and no C(executor.sentinel)
        marks the run completed."
      - Sandboxes under C(<work_dir>/slaves/<agentID>/) prove ownership of containers that mount them.
      - When O(work_dir) is the only source of known containers, its checkpoint must exist.
    type: path
  agent_url:
    description:
      - URL of the running agent, such as V(http://127.0.0.1:5051). Its C(/containers) endpoint lists
        known containers; its C(/state) gives O(agent_id) when that is omitted.
    type: str
  agent_url_username:
    description: Principal for the agent's HTTP basic authentication (C(--authenticate_http_readonly)).
    type: str
  agent_url_password:
    description: Secret for O(agent_url_username).
    type: str
  agent_validate_certs:
    description: Verify the agent's TLS certificate when O(agent_url) is C(https).
    type: bool
    default: true
  kill_orphans:
    description:
      - Stop (with O(stop_timeout) seconds of SIGTERM grace) and remove this agent's orphans.
      - V(false) only reports. Unlike the agent flag C(--docker_kill_orphans), the default is V(false).
    type: bool
    default: false
  stop_timeout:
    description:
      - Seconds between SIGTERM and SIGKILL when stopping an orphan (Mesos's C(--docker_stop_timeout), default 0).
    type: int
    default: 0
  docker_mesos_image:
    description:
      - The agent runs in a container (C(--docker_mesos_image)) and each executor runs in its own
        C(.executor) container. Keeps the executor containers of known tasks.
    type: bool
    default: false
  max_workers:
    description: How many orphans are stopped and removed in parallel.
    type: int
    default: 8
notes:
  - Unlike the agent, the module does not unmount persistent volumes of orphans.
"""

EXAMPLES = r"""
- name: Report what an agent restart would kill (nothing is touched)
  mesos.docker.recover:
    work_dir: /var/lib/mesos
  register: recovery

- name: Kill this agent's orphans, keeping the checkpointed tasks and the agent's running containers
  mesos.docker.recover:
    work_dir: /var/lib/mesos
    agent_url: http://127.0.0.1:5051
    agent_url_username: ops
    agent_url_password: "{{ vault_mesos_http_secret }}"
    kill_orphans: true
    stop_timeout: 10

- name: Explicit list of known containers, agent in a container
  mesos.docker.recover:
    agent_id: 7447f438-a19c-4f12-b4f0-a5b33561eb16-S0
    known_containers:
      - 2b1c6f3e-5b1a-4a38-9d1c-0f8e7b3c9a11
    docker_mesos_image: true
    kill_orphans: true
"""

RETURN = r"""
agent_id:
  description: The agent the classification was made for.
  returned: always
  type: str
  sample: 7447f438-a19c-4f12-b4f0-a5b33561eb16-S0
known_container_ids:
  description: Every container ID the agent is taken to know (all sources merged).
  returned: always
  type: list
  elements: str
  sample: [2b1c6f3e-5b1a-4a38-9d1c-0f8e7b3c9a11]
known:
  description:
    - This agent's containers whose container ID is known; kept.
    - Each entry has C(name), C(id) (Docker ID), C(container_id), C(agent_id) (from a legacy name, else null),
      C(executor), C(state) (Docker's) and C(reason).
  returned: always
  type: list
  elements: dict
  sample:
    - name: mesos-2b1c6f3e-5b1a-4a38-9d1c-0f8e7b3c9a11
      id: 4f0c5d1e9a7b...
      container_id: 2b1c6f3e-5b1a-4a38-9d1c-0f8e7b3c9a11
      agent_id: null
      executor: false
      state: running
      reason: labelled for this agent
orphans:
  description: This agent's containers whose container ID is not known (same entries as RV(known)).
  returned: always
  type: list
  elements: dict
  sample:
    - name: mesos-7447f438-a19c-4f12-b4f0-a5b33561eb16-S0.9e1d2c3b-aaaa-4bbb-8ccc-0123456789ab
      id: 9d8e...
      container_id: 9e1d2c3b-aaaa-4bbb-8ccc-0123456789ab
      agent_id: 7447f438-a19c-4f12-b4f0-a5b33561eb16-S0
      executor: false
      state: exited
      reason: agent ID in the name
foreign:
  description:
    - Containers the list returned that are not provably this agent's; never touched.
      C(reason) says why (another agent's, no proof of ownership, name does not parse).
  returned: always
  type: list
  elements: dict
  sample:
    - name: mesos-agent-1
      id: 1a2b...
      container_id: null
      agent_id: null
      executor: false
      state: running
      reason: name does not parse as a Mesos container
killed:
  description: Names of the orphans stopped and removed (in check mode, that would be).
  returned: always
  type: list
  elements: str
  sample: [mesos-9e1d2c3b-aaaa-4bbb-8ccc-0123456789ab, mesos-9e1d2c3b-aaaa-4bbb-8ccc-0123456789ab.executor]
"""

import json
import os
import re

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.mesos.docker.plugins.module_utils._common import (
    APIError,
    DockerException,
    DockerModule,
    NotFound,
    parallel_map,
)
from ansible_collections.mesos.docker.plugins.module_utils._mesos_names import (
    LABEL_AGENT_ID,
    PREFIX,
    is_uuid,
    parse_name,
    primary_name,
)


class RecoverError(Exception):
    pass


def read_checkpoint(work_dir):
    """``(agent_id, set of container IDs)`` recovered from the checkpoint, as Mesos recovers them.

    ``(None, set())`` when there is no ``meta/slaves/latest``.
    """
    latest = os.path.join(work_dir, "meta", "slaves", "latest")
    if not os.path.exists(latest):
        return None, set()
    agent_id = os.path.basename(os.path.realpath(latest))
    known = set()
    frameworks = os.path.join(latest, "frameworks")
    for framework in sorted(_listdir(frameworks)):
        executors = os.path.join(frameworks, framework, "executors")
        for executor in sorted(_listdir(executors)):
            runs = os.path.join(executors, executor, "runs")
            link = os.path.join(runs, "latest")
            if not os.path.exists(link):
                continue  # Mesos: "its latest run could not be recovered"
            container_id = os.path.basename(os.path.realpath(link))
            run = os.path.join(runs, container_id)
            pids = os.path.join(run, "pids")
            if not os.path.isfile(os.path.join(pids, "forked.pid")):
                continue
            if not (os.path.isfile(os.path.join(pids, "libprocess.pid")) or os.path.exists(os.path.join(run, "http.marker"))):
                continue
            if os.path.exists(os.path.join(run, "executor.sentinel")):
                continue  # completed run
            if is_uuid(container_id):
                known.add(container_id)
    return agent_id, known


def _listdir(path):
    try:
        return os.listdir(path)
    except OSError:
        return []


class Recoverer:
    """Classify the Mesos-named containers of one daemon for one agent, and kill its orphans."""

    def __init__(self, client, agent_id, known, work_dir=None, docker_mesos_image=False):
        self.client = client
        self.agent_id = agent_id
        self.known = set(known)
        self.docker_mesos_image = docker_mesos_image
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

    def classify_one(self, container):
        name = primary_name(container) or ""
        entry = dict(
            name=name,
            id=container.get("Id"),
            container_id=None,
            agent_id=None,
            executor=False,
            state=container.get("State"),
            reason=None,
        )
        parsed = parse_name(name)
        if parsed is None:
            entry["reason"] = "name does not parse as a Mesos container" if name.startswith(PREFIX) else "not Mesos-named"
            return "foreign", entry
        name_agent, container_id, executor = parsed
        entry.update(container_id=container_id, agent_id=name_agent, executor=executor)

        evidence = []
        if name_agent:
            evidence.append(("agent ID in the name", name_agent))
        label_agent = (container.get("Labels") or {}).get(LABEL_AGENT_ID)
        if label_agent:
            evidence.append(("labelled", label_agent))
        for agent in sorted(self._mount_agents(container)):
            evidence.append(("mounts a sandbox", agent))

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
            if executor and not self.docker_mesos_image:
                entry["reason"] = "executor container of a known task without docker_mesos_image (%s)" % proof
                return "orphans", entry
            entry["reason"] = "known (%s)" % proof
            return "known", entry
        entry["reason"] = "not known (%s)" % proof
        return "orphans", entry

    def classify(self, containers=None):
        if containers is None:
            containers = self.list()
        result = dict(known=[], orphans=[], foreign=[])
        for container in containers:
            cls, entry = self.classify_one(container)
            result[cls].append(entry)
        for entries in result.values():
            entries.sort(key=lambda e: e["name"])
        return result

    def kill(self, entry, stop_timeout):
        """Mesos's ``docker stop -t N`` then ``docker rm -v`` (forced). Returns an error text or None."""
        ident = entry["id"]
        try:
            if entry.get("state") in ("running", "restarting", "paused"):
                self.client.stop(ident, timeout=stop_timeout)
            self.client.remove_container(ident, v=True, force=True)
        except NotFound:
            return None
        except (APIError, DockerException) as exc:
            return "%s: %s" % (entry["name"], to_text(getattr(exc, "explanation", None) or exc))
        return None

    def kill_all(self, entries, stop_timeout, max_workers=8):
        if not entries:
            return []
        return [e for e in parallel_map(lambda x: self.kill(x, stop_timeout), entries, max_workers) if e]


def _get_json(url, username=None, password=None, validate_certs=True, timeout=30):
    from ansible.module_utils.urls import open_url

    kwargs = dict(timeout=timeout, validate_certs=validate_certs, headers={"Accept": "application/json"})
    if username is not None:
        kwargs.update(url_username=username, url_password=password or "", force_basic_auth=True)
    try:
        response = open_url(url, **kwargs)
        return json.loads(to_text(response.read()))
    except ValueError as exc:
        raise RecoverError("The agent at %s did not answer JSON: %s" % (url, exc))
    except Exception as exc:
        code = getattr(exc, "code", None)
        if code == 401:
            raise RecoverError("The agent at %s answered 401 Unauthorized: agent_url_username/agent_url_password are missing or wrong" % url)
        if code is not None:
            raise RecoverError("The agent at %s answered HTTP %s" % (url, code))
        raise RecoverError("Cannot reach the agent at %s: %s" % (url, getattr(exc, "reason", None) or exc))


class RecoverManager:
    def __init__(self, dm):
        self.dm = dm
        self.p = dm.params
        self.results = dict(changed=False)

    def _known(self):
        p = self.p
        known = set()
        agent_id = p["agent_id"]
        bad = [c for c in (p["known_containers"] or []) if not is_uuid(c)]
        if bad:
            self.dm.fail("known_containers must be container IDs (UUIDs); not UUIDs: %s" % ", ".join(bad))
        known.update(p["known_containers"] or [])
        ckpt_agent = None
        if p["work_dir"]:
            if not os.path.isabs(p["work_dir"]):
                self.dm.fail("work_dir must be an absolute path, got %s" % p["work_dir"])
            ckpt_agent, ckpt_known = read_checkpoint(p["work_dir"])
            if ckpt_agent is None and p["known_containers"] is None and not p["agent_url"]:
                self.dm.fail(
                    "No agent checkpoint at %s (meta/slaves/latest): without it, known_containers or agent_url "
                    "is needed to tell known containers from orphans" % p["work_dir"]
                )
            known.update(ckpt_known)
        if p["agent_url"]:
            base = p["agent_url"].rstrip("/")
            auth = dict(username=p["agent_url_username"], password=p["agent_url_password"],
                        validate_certs=p["agent_validate_certs"], timeout=p["timeout"])
            try:
                if not agent_id:
                    state = _get_json(base + "/state", **auth)
                    agent_id = state.get("id") if isinstance(state, dict) else None
                containers = _get_json(base + "/containers", **auth)
            except RecoverError as exc:
                self.dm.fail(str(exc))
            if not isinstance(containers, list):
                self.dm.fail("The agent at %s/containers did not answer a list" % base)
            for item in containers:
                cid = item.get("container_id") if isinstance(item, dict) else None
                if isinstance(cid, dict):  # some versions: {"value": ...}
                    cid = cid.get("value")
                if cid and is_uuid(cid):
                    known.add(cid)
        agent_id = agent_id or ckpt_agent
        if not agent_id:
            self.dm.fail("Cannot tell which agent this is: give agent_id, agent_url or a work_dir with a checkpoint")
        if p["agent_id"] and ckpt_agent and ckpt_agent != p["agent_id"]:
            self.dm.warn(
                "agent_id %s differs from the checkpoint's latest agent %s; the checkpoint's known containers "
                "are still counted as known" % (p["agent_id"], ckpt_agent)
            )
        return agent_id, known

    def run(self):
        p = self.p
        if p["stop_timeout"] < 0:
            self.dm.fail("stop_timeout must not be negative, got %d" % p["stop_timeout"])
        agent_id, known = self._known()
        recoverer = Recoverer(self.dm.client, agent_id, known, work_dir=p["work_dir"],
                              docker_mesos_image=p["docker_mesos_image"])
        try:
            classes = recoverer.classify()
        except (APIError, DockerException) as exc:
            self.dm.fail("Listing the Mesos containers of %s failed: %s" % (p["docker_host"], exc))
        self.results.update(classes)
        self.results.update(agent_id=agent_id, known_container_ids=sorted(known), killed=[])
        if p["kill_orphans"] and classes["orphans"]:
            self.results["changed"] = True
            self.results["killed"] = [e["name"] for e in classes["orphans"]]
            if not self.dm.check_mode:
                errors = recoverer.kill_all(classes["orphans"], p["stop_timeout"], p["max_workers"])
                if errors:
                    self.dm.fail("Killing orphans failed: %s" % "; ".join(errors), **self.results)
            if self.dm.diff_mode:
                self.results["diff"] = dict(
                    before="\n".join(self.results["killed"]) + "\n", after="",
                    before_header="orphans of %s" % agent_id, after_header="orphans of %s" % agent_id,
                )
        return self.results


def main():
    argument_spec = dict(
        agent_id=dict(type="str"),
        known_containers=dict(type="list", elements="str"),
        work_dir=dict(type="path"),
        agent_url=dict(type="str"),
        agent_url_username=dict(type="str"),
        agent_url_password=dict(type="str", no_log=True),
        agent_validate_certs=dict(type="bool", default=True),
        kill_orphans=dict(type="bool", default=False),
        stop_timeout=dict(type="int", default=0),
        docker_mesos_image=dict(type="bool", default=False),
        max_workers=dict(type="int", default=8),
    )
    dm = DockerModule(
        argument_spec,
        supports_check_mode=True,
        required_one_of=[("known_containers", "work_dir", "agent_url")],
        required_together=[("agent_url_username", "agent_url_password")],
        required_by={"agent_url_username": "agent_url"},
    )
    results = RecoverManager(dm).run()
    dm.exit(**results)


if __name__ == "__main__":
    main()
