#!/usr/bin/python
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dind_network
short_description: Allocate non-overlapping parent-network slices for docker-in-docker Mesos agents
version_added: 0.1.0
description:
  - Computes, for a whole fleet of docker-in-docker Mesos agents in bridged mode, one slice of the parent
    docker network per agent, i.e. the C(DOCKER_NETWORK_OFFSET) and C(DOCKER_NETWORK_SIZE) of the
    mesos-slave-dind image and the C(--fixed-cidr) of the inner Docker daemon.
  - Slices are the aligned C(/size) blocks of the parent network. They never overlap, always lie inside the
    parent network, avoid every O(reserved) range, and always avoid the first block, which holds the parent's
    network address and default gateway (the first usable address) and is where a parent daemon without
    C(fixed-cidr) hands out its own container addresses first. The last block, holding the parent broadcast
    address, is usable because the inner daemon's address pool is the whole parent subnet.
  - Offsets that the original shell arithmetic would wrap silently (such as V(0.0.256.0), or V(0.1.0.0) in a
    V(/16)) are refused, as are misaligned offsets, duplicate agents and fleets larger than the free blocks.
  - With O(state_file) allocations are stable. An agent keeps its slice as long as it is listed, so adding or
    removing agents never moves another agent. New agents get the lowest free blocks, in sorted name order.
    Without O(state_file) the allocation is computed fresh on each run. It is still deterministic.
  - If a recorded allocation no longer fits (O(network) or O(size) changed, or its range became reserved) the
    module refuses rather than moving running agents. Clear or migrate the state file first.
  - "Keep O(state_file) where every run sees it: on the Docker host whose parent network is sliced
    (the role C(mesos.docker.mesos_agent_dind) uses
    C(/var/lib/mesos-docker/dind_network.json) there), not on one controller, so that an AWX job or a second
    controller sees the same slices. For a parent network that spans several hosts, run it once
    (C(run_once: true)) on the one host that keeps the state, for the whole fleet."
  - IPv4 only. IPv6 parent networks are refused.
author:
  - mesos.docker developers (@mesos-docker)
extends_documentation_fragment:
  - mesos.docker.docker
options:
  network:
    description:
      - The parent docker network in CIDR form with no host bits set, for example V(172.17.0.0/16).
      - When omitted, the module reads the IPv4 IPAM subnet of the C(bridge) network from the Docker daemon
        given by O(docker_host). The daemon bridge's gateway and its C(IPRange) (the parent daemon's
        C(fixed-cidr)), if it has one, are then added to O(reserved).
      - The daemon is only contacted when this option is omitted.
    type: str
  size:
    description:
      - Prefix length of each agent's slice (C(DOCKER_NETWORK_SIZE)).
      - Must be larger than the prefix of O(network) and at most V(30), the smallest IPv4 block that still
        has usable host addresses.
    type: int
    default: 24
  agents:
    description:
      - The agents to allocate for. Each element is either an agent name (a string) or a dictionary with
        C(name) and an optional C(offset).
      - C(offset) pins the agent's slice, as a dotted quad such as V(0.0.5.0). It must be aligned to O(size),
        lie inside O(network), not be reserved and not be taken by another agent. A pin that differs from the
        agent's recorded allocation moves that agent, and only that one.
      - Agent names must be unique.
    type: list
    elements: raw
    default: []
  reserved:
    description:
      - CIDRs or single addresses that no slice may overlap. Any overlap disqualifies a whole block.
      - List here whatever the parent daemon or other tools use on the parent network, for example the
        parent daemon's C(fixed-cidr).
      - Entries outside O(network) are ignored.
    type: list
    elements: str
    default: []
  state_file:
    description:
      - Path of a JSON file, on the host the module runs on, that records the network, the size and each
        agent's offset. It keeps allocations stable across runs.
      - The file is written atomically and only when its content changes. A sibling lock file
        C(<state_file>.lock) is locked exclusively for the whole read-modify-write, so concurrent runs
        cannot hand out the same block twice. The lock file is left in place.
      - The directory must exist (in check mode a missing directory counts as an empty state).
      - "A new state file and its lock file are created with mode C(0600), beside the agents' other host state,
        for example C(/var/lib/mesos-docker/dind_network.json) on the Docker host."
    type: path
  prune:
    description:
      - When V(true), agents recorded in O(state_file) but missing from O(agents) are dropped from the state
        and their blocks become free for new agents. Only prune agents whose containers are gone.
      - When V(false), their allocations stay recorded and their blocks stay taken. They are returned in
        RV(retained), not in RV(allocations).
    type: bool
    default: true
  prune_scope:
    description:
      - With O(prune=true), only recorded agents whose names start with this prefix are pruned; the others
        are kept as if O(prune=false). Use it when several runs share one O(state_file), each pruning only
        its own agents, for example V(<inventory_hostname>/) when agents are named C(<host>/<agent>), so that
        a run limited to some hosts never frees the slices of the others.
      - When omitted, O(prune=true) prunes every recorded agent missing from O(agents).
    type: str
  release:
    description:
      - Agents whose recorded allocations are dropped in any case, freeing their blocks, whatever O(prune)
        says. For agents being removed (their containers are gone or about to be).
      - An agent cannot be both in O(agents) and in O(release).
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    description: Computes the allocation and the change but does not write O(state_file) or its lock file.
    support: full
  diff_mode:
    description: Shows the recorded state (network, size and allocations) before and after.
    support: full
  idempotent:
    description: A second run with the same arguments leaves O(state_file) untouched and reports no change.
    support: full
requirements:
  - netaddr
notes:
  - C(changed) is V(true) only when the content of O(state_file) changes. Without O(state_file) the
    module never reports a change.
  - One allocation is made per parent network. If agents run on several Docker hosts, each with its own
    bridge, run the module once per host with a separate O(state_file). Or run it once for the whole fleet,
    which gives globally unique ranges and keeps routes between hosts unambiguous.
seealso:
  - name: mesos-slave-dind
    description: The Mesos agent Docker-in-Docker image whose bridged networking mode this module feeds.
    link: https://github.com/mesosphere/mesos-slave-dind
"""

EXAMPLES = r"""
- name: Allocate a /24 of a parent network shared by the fleet (once, state on one host)
  mesos.docker.dind_network:
    network: 172.17.0.0/16
    size: 24
    agents: "{{ groups['mesos_agents'] }}"
    reserved:
      - 172.17.0.0/20        # the parent daemon's --fixed-cidr
    state_file: /var/lib/mesos-docker/dind_network.json
  run_once: true
  register: dind_net

- name: Start each agent with its own slice
  ansible.builtin.debug:
    msg: >-
      DOCKER_NETWORK_OFFSET={{ dind_net.allocations[inventory_hostname].offset }}
      DOCKER_NETWORK_SIZE={{ dind_net.size }}
      --fixed-cidr={{ dind_net.allocations[inventory_hostname].fixed_cidr }}

- name: Read the parent network from the local daemon's bridge, pin one agent
  mesos.docker.dind_network:
    agents:
      - agent-a
      - agent-b
      - name: agent-legacy
        offset: 0.0.9.0
    state_file: /var/lib/mesos-dind/network.json
  run_once: true
  delegate_to: localhost

- name: Keep the blocks of agents that are temporarily out of the inventory
  mesos.docker.dind_network:
    network: 10.200.0.0/16
    size: 26
    agents: "{{ groups['mesos_agents'] }}"
    state_file: /var/lib/mesos-dind/network.json
    prune: false
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
allocations:
  description:
    - One entry per agent in O(agents), keyed by agent name.
    - C(offset) is the C(DOCKER_NETWORK_OFFSET), C(size) the C(DOCKER_NETWORK_SIZE) and C(fixed_cidr)
      the inner daemon's C(--fixed-cidr). C(index) is the block number inside the parent network.
      C(first_ip) and C(last_ip) bound the slice.
  returned: success
  type: dict
  sample:
    agent-a:
      offset: 0.0.1.0
      fixed_cidr: 172.17.1.0/24
      size: 24
      index: 1
      first_ip: 172.17.1.0
      last_ip: 172.17.1.255
retained:
  description:
    - Allocations recorded in O(state_file) for agents not in O(agents) that were kept because
      O(prune=false). Same form as RV(allocations).
  returned: success
  type: dict
  sample: {}
network:
  description: The parent network the slices were cut from, in normalized CIDR form.
  returned: success
  type: str
  sample: 172.17.0.0/16
size:
  description: Prefix length of every slice.
  returned: success
  type: int
  sample: 24
gateway:
  description:
    - The parent network's gateway. This is the daemon bridge's gateway when O(network) was read from the
      daemon, else the first usable address of O(network). Its block is never allocated.
  returned: success
  type: str
  sample: 172.17.0.1
reserved:
  description: The reserved ranges that were applied, including those read from the daemon.
  returned: success
  type: list
  elements: str
  sample: [172.17.0.1/32, 172.17.0.0/20]
free_blocks:
  description: Number of C(/size) blocks of the parent network still free after this allocation.
  returned: success
  type: int
  sample: 254
state_file:
  description: The state file used, if any.
  returned: when O(state_file) is set
  type: str
  sample: /var/lib/mesos-dind/network.json
"""

import os

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.mesos.docker.plugins.module_utils._common import (
    APIError,
    DockerException,
    DockerModule,
)
from ansible_collections.mesos.docker.plugins.module_utils._dind_network import (
    HAS_NETADDR,
    NETADDR_IMPORT_ERROR,
    DindNetworkError,
    allocate,
    build_state,
    free_blocks,
    int_to_ip,
    load_state,
    locked_state,
    parse_agents,
    parse_network,
    previous_from_state,
    save_state,
    validate_request,
)


class DindNetworkManager:
    """Compute the fleet's allocation, then guard only the write."""

    def __init__(self, dm):
        self.dm = dm
        self.params = dm.params
        self.result = dict(changed=False)

    def _read_daemon_bridge(self):
        """Return (network, gateway, extra_reserved) read from the daemon's ``bridge`` network."""
        try:
            bridge = self.dm.client.inspect_network("bridge")
        except (APIError, DockerException) as exc:
            self.dm.fail(
                "Cannot read the 'bridge' network from the Docker daemon at %s to find the parent network: %s. "
                "Set the network option explicitly." % (self.params["docker_host"], exc)
            )
        configs = ((bridge or {}).get("IPAM") or {}).get("Config") or []
        for config in configs:
            subnet = (config or {}).get("Subnet")
            if subnet and ":" not in subnet:
                break
        else:
            self.dm.fail(
                "The Docker daemon's 'bridge' network reports no IPv4 subnet (IPAM config: %r). "
                "Set the network option explicitly." % (configs,)
            )
        gateway = config.get("Gateway") or None
        extra = []
        if gateway:
            extra.append(gateway.split("/")[0] + "/32")
        if config.get("IPRange"):
            extra.append(config["IPRange"])
        else:
            self.dm.warn(
                "The parent daemon's bridge has no fixed-cidr (IPAM IPRange), so it may hand out container "
                "addresses anywhere in %s, including inside agent slices. Give the parent daemon a fixed-cidr, "
                "or list the range it uses in 'reserved'." % subnet
            )
        return subnet, gateway, extra

    def _compute(self, state, network, size, reserved, gateway):
        path = self.params["state_file"]
        previous = previous_from_state(state, network, size, path=path or "the state file")
        allocations = allocate(
            network,
            size,
            self.params["agents"],
            reserved=reserved,
            previous=previous,
            gateway=gateway,
            retain_absent=not self.params["prune"],
            release=self.params["release"],
            prune_scope=self.params["prune_scope"],
        )
        return allocations, build_state(network, size, allocations)

    def run(self):
        p = self.params
        size = p["size"]
        reserved = list(p["reserved"] or [])
        gateway = None
        try:
            # Validate what needs no daemon first, so bad input fails before any API call or write.
            listed = set(name for name, dummy in parse_agents(p["agents"]))
            both = sorted(listed.intersection(p["release"]))
            if both:
                self.dm.fail(
                    "agents %s are listed in both agents and release: an agent that stays cannot give up its slice"
                    % ", ".join(repr(name) for name in both)
                )
            network = p["network"]
            if network is None:
                network, gateway, extra = self._read_daemon_bridge()
                reserved.extend(extra)
            network = parse_network(network)[2]
            if gateway is None:
                gateway = int_to_ip(parse_network(network)[0] + 1)
            validate_request(network, size, p["agents"], reserved=reserved, gateway=gateway)

            path = p["state_file"]
            if path:
                directory = os.path.dirname(os.path.abspath(path))
                if not os.path.isdir(directory) and not self.dm.check_mode:
                    self.dm.fail("The directory %s of state_file does not exist." % directory)
                if self.dm.check_mode:
                    # save_state replaces the file atomically, so an unlocked read sees a whole file.
                    before = load_state(path)
                    allocations, after = self._compute(before, network, size, reserved, gateway)
                    changed = before != after
                else:
                    with locked_state(path) as before:
                        allocations, after = self._compute(before, network, size, reserved, gateway)
                        changed = before != after
                        if changed:
                            save_state(path, after)
                self.result["state_file"] = path
                if self.dm.diff_mode:
                    self.result["diff"] = dict(before=before or {}, after=after)
            else:
                allocations, after = self._compute(None, network, size, reserved, gateway)
                changed = False
            left = free_blocks(network, size, allocations, reserved=reserved, gateway=gateway)
        except DindNetworkError as exc:
            self.dm.fail(str(exc))
        except (IOError, OSError) as exc:
            self.dm.fail("Cannot update state_file %s: %s" % (p["state_file"], exc))

        self.result.update(
            changed=changed,
            allocations=dict((n, a) for n, a in allocations.items() if not a.get("retained")),
            retained=dict(
                (n, dict((k, v) for k, v in a.items() if k != "retained"))
                for n, a in allocations.items()
                if a.get("retained")
            ),
            network=network,
            size=size,
            gateway=gateway.split("/")[0],
            reserved=reserved,
            free_blocks=left,
        )
        self.dm.exit(**self.result)


def main():
    argument_spec = dict(
        network=dict(type="str"),
        size=dict(type="int", default=24),
        agents=dict(type="list", elements="raw", default=[]),
        reserved=dict(type="list", elements="str", default=[]),
        state_file=dict(type="path"),
        prune=dict(type="bool", default=True),
        prune_scope=dict(type="str"),
        release=dict(type="list", elements="str", default=[]),
    )
    dm = DockerModule(argument_spec=argument_spec, supports_check_mode=True)
    if not HAS_NETADDR:
        dm.fail(missing_required_lib("netaddr"), exception=NETADDR_IMPORT_ERROR)
    DindNetworkManager(dm).run()


if __name__ == "__main__":
    main()
