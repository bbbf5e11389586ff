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
  - "Executor containers (C(.executor)) share the container ID of their task: the executor container of a known
    task is kept (as Mesos keeps every container whose ID it knows), an orphan's executor container is an orphan
    with it."
  - "B(Where this module differs from Mesos, on purpose.) Mesos kills every C(mesos-) container whose ID it does
    not know; this module keeps (reports as I(foreign)) every container that is not provably this agent's - other
    agents' on a shared daemon, modern C(mesos-<uuid>) names without a label or sandbox mount, conflicting
    evidence. Mesos's name parser never parses the modern executor form C(mesos-<uuid>.executor), so Mesos never
    kills such a container; this module kills it when it is provably this agent's orphan (its task container is
    killed with it). Known IDs may also come from O(known_containers) and O(agent_url), which Mesos does not read.
    Mesos also unmounts the persistent volumes of orphans; this module does not."
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
        container IDs the way the Docker containerizer recovers them (C(src/slave/state.cpp)): only the latest run
        of each executor, only when the executor's C(executor.info) is there, its C(pids/forked.pid) and
        C(pids/libprocess.pid) are there and not empty (C(http.marker) alone does not count: the Docker executor
        is a libprocess executor), no C(executor.sentinel) marks the run completed, and the host has not
        rebooted since (C(<work_dir>/meta/boot_id) equals the current boot ID; after a reboot the checkpointed
        pids are obsolete and no run is recovered)."
      - An unparseable C(forked.pid) fails the module (the agent's own recovery would fail on it); nothing is killed.
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
      - Deprecated and without effect. It used to decide whether the C(.executor) containers of known tasks were kept;
        every container whose container ID is known is now kept, as Mesos does, whatever the agent's mode. Accepted
        so that playbooks written for earlier releases keep working; drop it.
    type: bool
  max_workers:
    description:
      - How many orphans are stopped and removed in parallel. When some fail (API error, connection reset,
        timeout) the others still finish; the module then fails naming each failed container, with RV(killed)
        and RV(kill_failed) saying what happened.
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

- name: Explicit list of known containers
  mesos.docker.recover:
    agent_id: 7447f438-a19c-4f12-b4f0-a5b33561eb16-S0
    known_containers:
      - 2b1c6f3e-5b1a-4a38-9d1c-0f8e7b3c9a11
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
kill_failed:
  description: Names of the orphans whose stop or removal failed (the failure message says why).
  returned: always
  type: list
  elements: str
  sample: []
checkpoint_skipped:
  description:
    - Latest runs in the checkpoint that the agent would not recover, by container ID, with the reason
      (such as C(no libprocess.pid) or C(host rebooted since the checkpoint)). Their containers are not known.
  returned: always
  type: dict
  sample: {9e1d2c3b-aaaa-4bbb-8ccc-0123456789ab: no libprocess.pid}
"""

import os

from ansible_collections.mesos.docker.plugins.module_utils._checkpoint import CheckpointError, read_checkpoint
from ansible_collections.mesos.docker.plugins.module_utils._common import DockerModule, error_text
from ansible_collections.mesos.docker.plugins.module_utils._mesos_names import is_uuid
from ansible_collections.mesos.docker.plugins.module_utils._recoverer import AgentError, Recoverer, agent_containers


class RecoverManager:
    def __init__(self, dm):
        self.dm = dm
        self.p = dm.params
        self.results = dict(changed=False, killed=[], kill_failed=[], checkpoint_skipped={})

    def validate(self):
        p = self.p
        if p["stop_timeout"] < 0:
            self.dm.fail("stop_timeout must not be negative, got %d" % p["stop_timeout"])
        bad = [c for c in (p["known_containers"] or []) if not is_uuid(c)]
        if bad:
            self.dm.fail("known_containers must be container IDs (UUIDs); not UUIDs: %s" % ", ".join(bad))
        if p["work_dir"] and not os.path.isabs(p["work_dir"]):
            self.dm.fail("work_dir must be an absolute path, got %s" % p["work_dir"])
        self.dm.require_at_least("max_workers", 1)

    def known(self):
        """``(agent ID, known container IDs)`` from every source given."""
        p = self.p
        known = set(p["known_containers"] or [])
        agent_id = p["agent_id"]
        checkpoint_agent = None
        if p["work_dir"]:
            try:
                checkpoint = read_checkpoint(p["work_dir"])
            except CheckpointError as exc:
                self.dm.fail("Reading the agent checkpoint under %s failed: %s" % (p["work_dir"], exc))
            checkpoint_agent = checkpoint.agent_id
            if checkpoint_agent is None and p["known_containers"] is None and not p["agent_url"]:
                self.dm.fail("No agent checkpoint at %s (meta/slaves/latest): without it, known_containers or "
                             "agent_url is needed to tell known containers from orphans" % p["work_dir"])
            known.update(checkpoint.known)
            self.results["checkpoint_skipped"] = checkpoint.skipped
        if p["agent_url"]:
            auth = dict(username=p["agent_url_username"], password=p["agent_url_password"],
                        validate_certs=p["agent_validate_certs"], timeout=p["timeout"])
            try:
                url_agent, url_known = agent_containers(p["agent_url"], want_agent_id=not agent_id, **auth)
            except AgentError as exc:
                self.dm.fail(str(exc))
            agent_id = agent_id or url_agent
            known.update(url_known)
        agent_id = agent_id or checkpoint_agent
        if not agent_id:
            self.dm.fail("Cannot tell which agent this is: give agent_id, agent_url or a work_dir with a checkpoint")
        if p["agent_id"] and checkpoint_agent and checkpoint_agent != p["agent_id"]:
            self.dm.warn("agent_id %s differs from the checkpoint's latest agent %s; the checkpoint's known "
                         "containers are still counted as known" % (p["agent_id"], checkpoint_agent))
        return agent_id, known

    def run(self):
        p = self.p
        self.validate()
        agent_id, known = self.known()
        recoverer = Recoverer(self.dm.client, agent_id, known, work_dir=p["work_dir"])
        self.results.update(agent_id=agent_id, known_container_ids=sorted(known))
        try:
            classes = recoverer.classify()
        except Exception as exc:  # pylint: disable=broad-except  # any SDK, requests or socket error
            self.dm.fail("Listing the Mesos containers of %s failed: %s" % (p["docker_host"], error_text(exc)),
                         **self.results)
        self.results.update(classes)
        orphans = classes["orphans"]
        if not (p["kill_orphans"] and orphans):
            return self.results
        self.results["changed"] = True
        if self.dm.diff_mode:
            names = "".join(e["name"] + "\n" for e in orphans)
            header = "orphans of %s" % agent_id
            self.results["diff"] = dict(before=names, after="", before_header=header, after_header=header)
        if self.dm.check_mode:
            self.results["killed"] = [e["name"] for e in orphans]
            return self.results
        killed, errors = recoverer.kill_all(orphans, p["stop_timeout"], p["max_workers"])
        self.results["killed"] = killed
        self.results["kill_failed"] = [e["name"] for e in orphans if e["name"] not in killed]
        self.results["changed"] = bool(killed)
        if errors:
            self.dm.fail("Killing %d of %d orphans failed (%d killed): %s"
                         % (len(errors), len(orphans), len(killed), "; ".join(errors)), **self.results)
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
        max_workers=dict(type="int", default=8),
        docker_mesos_image=dict(type="bool", removed_in_version="1.0.0", removed_from_collection="mesos.docker"),
    )
    dm = DockerModule(
        argument_spec,
        supports_check_mode=True,
        required_one_of=[("known_containers", "work_dir", "agent_url")],
        required_together=[("agent_url_username", "agent_url_password")],
        required_by={"agent_url_username": "agent_url"},
    )
    dm.exit(**RecoverManager(dm).run())


if __name__ == "__main__":
    main()
