#!/usr/bin/python
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: container
short_description: Launch, stop and remove Mesos task or executor containers the way the Mesos Docker containerizer does
version_added: 0.1.0
description:
  - Runs a task container the way the Mesos Docker containerizer does (C(src/slave/containerizer/docker.cpp),
    C(src/docker/docker.cpp) of Apache Mesos at c1b42f7) - to smoke-test an agent's Docker set-up, or to run
    and clean up task containers by hand. Each place where it differs from Mesos is said below, with why.
  - "Launch order, as Mesos: the O(sandbox) is created, the O(uris) are fetched into it, the image is
    pulled (only when absent unless O(force_pull)), then the container is created and started with the
    sandbox bound at O(sandbox_directory), C(MESOS_SANDBOX) and C(MESOS_CONTAINER_NAME) set and host
    networking by default."
  - "B(Pull credentials), as Mesos (which runs C(docker pull) with C(HOME) set to the sandbox): a
    C(.docker/config.json) or C(.dockercfg) that the fetcher put into the sandbox wins over O(docker_config);
    without either the pull is anonymous - the credentials of the user running the module
    (C(~/.docker/config.json), E(DOCKER_CONFIG)) are never used, as on an agent. C(credsStore) and
    C(credHelpers) in a docker config are honoured as the Docker CLI does (the C(docker-credential-*) helper must
    be on the E(PATH) of the host the module runs on)."
  - "B(Sandbox paths with C(:)), which Docker cannot bind: as Mesos (MESOS-1833), a symlink
    C(<work_dir>/slaves/<agentID>/docker/links/<containerID>) to the sandbox is created and bound instead (the
    agent ID is the one in the sandbox path under O(work_dir), else O(agent_id)); without O(work_dir) such a
    sandbox is refused before anything is touched."
  - "B(Identity and idempotence.) The container is named C(mesos-<container_id>) (O(naming=modern),
    Mesos <= 0.22 and >= 1.4) or C(mesos-<agent_id>.<container_id>) (O(naming=legacy), Mesos 0.23 to 1.3),
    plus C(.executor) with O(executor=true). Labels C(org.apache.mesos.agent_id), C(.framework_id),
    C(.executor_id), C(.task_id), C(.container_id), C(.executor) and C(org.apache.mesos.launcher=mesos.docker)
    record the identity (real Mesos adds no labels; M(mesos.docker.recover) uses them as proof of ownership).
    Either O(container_id) or O(task_id) is required. Without O(container_id), the container labelled with the same
    agent, framework, executor and task IDs is reused; only when there is none a new UUID is generated
    (and returned). So a re-run never launches a second container."
  - "B(Commands) (Mesos's rules): O(shell) unset means V(true) when a O(command) is given and V(false) when none
    is, so an image with no command runs its default command; O(shell=true) - C(/bin/sh -c <command>), overriding
    the image's entrypoint (O(arguments) are ignored, as in Mesos; without a command it is an error);
    O(shell=false) - O(command) (when given, as one argument) followed by O(arguments) replace the image's CMD
    and are handed to its ENTRYPOINT. Mesos's protobuf default is C(shell=true); the unset case follows the
    Mesos Docker containerizer document instead (an image's default command needs no flag)."
  - "B(Resources.) O(cpus) - C(CpuShares = max(int(1024 * cpus), 2)); O(mem) (MB) - C(Memory = max(int(mem) MiB,
    32 MiB)) (whole megabytes, truncated, as Mesos's C(Resources::mem())); with either, C(MESOS_ALLOCATION_ROLE)
    is set to O(role). Host ports of O(port_mappings) must lie in O(ports) when O(ports) is given (Mesos refuses
    port mappings without port resources; this module then takes them as given)."
  - "B(Executor containers) (O(executor=true)) get what Mesos gives the executor container under
    C(--docker_mesos_image) - C(--pid=host), C(--cap-add SYS_ADMIN --cap-add SYS_PTRACE), the docker socket
    (O(docker_socket)) bound read-only at the same path and the sandbox bound read-write at the same path (besides
    O(sandbox_directory)) - and the C(.executor) name. Unlike Mesos, which replaces the executor's container info,
    O(volumes) are bound too."
  - "B(Logs are append-only), as Mesos's: the container's stdout and stderr are appended to C(<sandbox>/stdout) and
    C(<sandbox>/stderr), which only ever grow. Mesos's docker executor follows C(docker run)'s output for the
    container's whole life; a module exits, so it leaves a detached log follower (one process per call, a thread
    per stream, C(docker logs --follow --timestamps)) that appends to both files, each line as it comes, and ends
    when the container stops (O(log_follow)). Like an attached C(docker run), the follower attaches to the container
    before the module starts it and holds the container's writes back while the sandbox files lag more than 4 MiB
    behind (plus the engine's pipes, about 1 MiB), so the engine's log rotation never drops a line a follower has
    not written, however slow it is, as long as the rotation keeps more than that (C(max-size) times
    C(max-file) - 1 of at least 8 MiB; the C(docker_engine) role's 3 x 10 MB keep 20 MB). Every later run of the module, O(wait), V(stopped) and V(absent)
    append whatever the follower did not write, and start a new follower for a running container whose follower is
    gone; a new writer continues exactly where the files end (C(<sandbox>/.mesos-docker-logs.json) records the
    position, C(<sandbox>/.mesos-docker-logs.lock) is held by the one writer). Only output written while no follower
    ran (its process was killed) can be rotated away before it is read. Memory stays bounded: one log entry at a
    time, never a whole log."
  - "B(States.) V(started) - launched (a finished task is not restarted: Mesos never restarts a task; a container
    whose configuration differs from the requested one is stopped, removed and launched again). V(stopped) - SIGTERM,
    O(stop_timeout) seconds of grace, SIGKILL; the exited container is kept (as Mesos keeps it until
    C(--docker_remove_delay)). V(absent) - stopped the same way, then removed. The sandbox is never deleted."
  - "B(Batch.) O(containers) launches (stops, removes) many containers in one call, O(max_workers) at a time (the
    Docker client keeps that many connections); every top-level option is the default of each entry; each image is
    ensured once per credentials source; two entries with the same O(sandbox) or O(container_id) are refused. A
    failing entry (bad image reference, timeout, API error) fails the module naming its container; the other
    entries are still done and reported in RV(containers)."
  - "B(Image changes.) A container is compared with the spec against the image it was created from (its image
    ID, as community.docker's C(image_comparison: current-image)): a tag that moved to a new image never stops and
    relaunches a running task. O(force_pull) pulls only when a container is launched."
author:
  - mesos.docker developers (@mesos-docker)
extends_documentation_fragment:
  - mesos.docker.docker
  - mesos.docker.docker.attributes
attributes:
  check_mode:
    support: partial
    details:
      - Predicts launches, stops and removals. A pull is predicted as V(would pull) without reaching the registry
        when the image is absent; URIs of a sandbox that does not exist yet are reported, not fetched.
  idempotent:
    support: partial
    details:
      - A second run changes nothing while the container exists with the same configuration. A task whose container
        was removed (by hand, or by M(mesos.docker.recover)) is launched again; a finished task is not restarted.
options:
  container_id:
    description: The Mesos container ID, a UUID. See the identity rules above.
    type: str
  agent_id:
    description: The agent ID; part of the name with O(naming=legacy) and recorded as a label.
    type: str
  framework_id:
    description: Framework ID, recorded as a label and used to find the container when O(container_id) is omitted.
    type: str
  executor_id:
    description: Executor ID, recorded as a label and used to find the container when O(container_id) is omitted.
    type: str
  task_id:
    description: Task ID, recorded as a label and used to find the container when O(container_id) is omitted.
    type: str
  naming:
    description: V(modern) gives C(mesos-<container_id>), V(legacy) C(mesos-<agent_id>.<container_id>) (needs O(agent_id)).
    type: str
    choices: [modern, legacy]
    default: modern
  executor:
    description:
      - The executor's own container (C(--docker_mesos_image)); the name gets C(.executor), and the container gets
        C(--pid=host), the docker socket and the sandbox at the same path (see the description).
    type: bool
    default: false
  image:
    description: The image to run; required with O(state=started). Pulled only when absent unless O(force_pull).
    type: str
  force_pull:
    description: Mesos's C(force_pull_image) - pull before launching even when the image is present. A re-run against
      an existing container pulls nothing.
    type: bool
    default: false
    aliases: [force_pull_image]
  docker_config:
    description:
      - Registry credentials, given like the agent's C(--docker_config) - a path, a C(file://) URL or the JSON
        object (see M(mesos.docker.image)). Never logged or returned.
      - A C(.docker/config.json) or C(.dockercfg) fetched into the sandbox wins over it, as in Mesos.
    type: raw
  work_dir:
    description:
      - The agent's C(--work_dir). Only needed for a O(sandbox) whose path holds C(:) - see the description.
    type: path
  docker_socket:
    description: The agent's C(--docker_socket), bound into executor containers (O(executor=true)).
    type: path
    default: /var/run/docker.sock
  sandbox:
    description:
      - Absolute host directory of the task's sandbox; created when missing (mode 0755). Required with O(state=started).
      - Mesos uses C(<work_dir>/slaves/<agentID>/frameworks/<frameworkID>/executors/<executorID>/runs/<containerID>);
        using that layout lets M(mesos.docker.recover) prove ownership by the mount.
    type: path
  sandbox_directory:
    description: Where the sandbox is mounted in the container (the agent's C(--sandbox_directory)); C(MESOS_SANDBOX) is set to it.
    type: str
    default: /mnt/mesos/sandbox
  uris:
    description:
      - Files fetched into the sandbox before the container starts, as the Mesos fetcher does (http, https,
        C(file://) URIs and absolute paths).
      - A URI already fetched into this sandbox with the same options, whose file still has the recorded size and
        sha256 (and, for a local source, whose source is unchanged) is not fetched again; the record is
        C(<sandbox>/.mesos-docker-fetcher.json).
    type: list
    elements: dict
    suboptions:
      value:
        description: The URI.
        type: str
        required: true
      extract:
        description: Unpack C(.tar .tgz .tar.gz .tbz2 .tar.bz2 .txz .tar.xz .zip) into the sandbox, gunzip a bare C(.gz).
        type: bool
        default: true
      executable:
        description: Make the file executable (0755); no extraction then.
        type: bool
        default: false
      output_file:
        description: File name inside the sandbox (directories created); default the URI's last path component.
        type: str
  command:
    description: The task's command (Mesos C(CommandInfo.value)).
    type: str
  shell:
    description:
      - Run O(command) with C(/bin/sh -c), overriding the entrypoint.
      - Unset - V(true) when O(command) is given, V(false) when it is not (the image's default command runs).
    type: bool
  arguments:
    description: Arguments handed to the image's entrypoint after O(command) when O(shell=false).
    type: list
    elements: str
  env:
    description: Environment variables. C(MESOS_SANDBOX) and C(MESOS_CONTAINER_NAME) are always set by Mesos and win.
    type: dict
  cpus:
    description: CPUs (fractions allowed), giving cpu shares. Must be positive.
    type: float
  mem:
    description: Memory in MB, giving the memory limit. Must be positive.
    type: float
  ports:
    description:
      - The task's C(ports) resources, as port numbers or ranges (V(31000-31099)). Every host port of
        O(port_mappings) must lie in them (Mesos - C(Port [N] not included in resources)).
    type: list
    elements: str
  log_options:
    description:
      - "Options of the container's Docker log driver (C(--log-opt), as Mesos's C(DockerInfo.parameters) pass them),
        such as C({max-size: 10m, max-file: 3}). Unset - the daemon's defaults."
      - The sandbox files are append-only whatever the rotation.
    type: dict
  role:
    description: The C(MESOS_ALLOCATION_ROLE) set when O(cpus) or O(mem) is given.
    type: str
    default: "*"
  volumes:
    description:
      - Extra volumes. A relative O(volumes[].container_path) is inside the container's sandbox
        (O(sandbox_directory)); a relative O(volumes[].host_path) is inside the host O(sandbox); both relative is an error.
    type: list
    elements: dict
    suboptions:
      container_path:
        description: Path in the container.
        type: str
        required: true
      host_path:
        description: Host path bound there.
        type: str
      source:
        description: Name of a Docker volume instead of O(volumes[].host_path).
        type: str
      mode:
        description: Read-write or read-only.
        type: str
        choices: [rw, ro]
        default: rw
  network:
    description: V(host) (the Mesos default), V(bridge), V(none) or the name of a user-defined network.
    type: str
    default: host
  port_mappings:
    description: Host to container ports; only with V(bridge) or a user network, as in Mesos.
    type: list
    elements: dict
    suboptions:
      host_port:
        description: Port on the host.
        type: int
        required: true
      container_port:
        description: Port in the container.
        type: int
        required: true
      protocol:
        description: Protocol.
        type: str
        choices: [tcp, udp, sctp]
        default: tcp
  hostname:
    description: Container hostname; not with host networking.
    type: str
  privileged:
    description: Run privileged (Mesos C(DockerInfo.privileged)).
    type: bool
    default: false
  labels:
    description: Extra labels. The C(org.apache.mesos.*) identity labels are reserved.
    type: dict
  state:
    description: See the description.
    type: str
    choices: [started, stopped, absent]
    default: started
  stop_timeout:
    description: Seconds of SIGTERM grace before SIGKILL when stopping (the agent's C(--docker_stop_timeout), default 0).
    type: int
    default: 0
  wait:
    description: With O(state=started), wait until the container exits and return RV(exit_code).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait with O(wait); no limit when omitted. On timeout the module fails, the container keeps running.
    type: int
  log_follow:
    description: Leave a detached follower writing the sandbox's C(stdout) and C(stderr) while the container runs.
    type: bool
    default: true
  containers:
    description:
      - Several containers in one call, launched (stopped, removed) in parallel. Each entry takes the per-container
        options (O(container_id), O(agent_id), O(framework_id), O(executor_id), O(task_id), O(naming), O(executor),
        O(image), O(sandbox), O(sandbox_directory), O(work_dir), O(docker_socket), O(uris), O(command), O(shell),
        O(arguments), O(env), O(cpus), O(mem), O(ports), O(log_options), O(role), O(volumes), O(network),
        O(port_mappings), O(hostname), O(privileged), O(labels), O(state), O(stop_timeout), O(wait)); the top-level
        value of an option is the default for every entry.
      - Each entry needs O(container_id) or O(task_id).
    type: list
    elements: dict
  max_workers:
    description: How many containers of O(containers) are handled at the same time.
    type: int
    default: 8
"""

EXAMPLES = r"""
- name: Smoke-test the agent's Docker set-up with a shell task, the way Mesos runs it
  mesos.docker.container:
    task_id: smoke-test
    image: busybox:latest
    sandbox: /var/lib/mesos/smoke/sandbox
    command: echo "hello from $MESOS_SANDBOX"
    cpus: 0.1
    mem: 32
    wait: true
  register: smoke

- name: Run the image's entrypoint with arguments and fetch its configuration first
  mesos.docker.container:
    container_id: 2b1c6f3e-5b1a-4a38-9d1c-0f8e7b3c9a11
    agent_id: 7447f438-a19c-4f12-b4f0-a5b33561eb16-S0
    framework_id: marathon
    task_id: web.1
    image: registry.example.com:5000/web:1.2
    docker_config: file:///etc/mesos-slave/docker.json
    sandbox: /var/lib/mesos/slaves/7447f438-a19c-4f12-b4f0-a5b33561eb16-S0/frameworks/marathon/executors/web.1/runs/2b1c6f3e-5b1a-4a38-9d1c-0f8e7b3c9a11
    uris:
      - value: https://artifacts.example.com/web/config.tar.gz
      - value: https://artifacts.example.com/web/start.sh
        executable: true
    shell: false
    command: --config=config/web.yml
    network: bridge
    port_mappings:
      - host_port: 31000
        container_port: 8080

- name: Launch fifty tasks in one call
  mesos.docker.container:
    image: busybox:latest
    command: sleep 3600
    framework_id: load-test
    containers: "{{ range(50) | map('string') | map('regex_replace', '^', 'task-') | map('community.general.dict_kv', 'task_id') | list }}"
    sandbox: /tmp/unused   # each entry should have its own sandbox in real use

- name: Stop a task with 10 seconds of grace and remove it
  mesos.docker.container:
    task_id: web.1
    framework_id: marathon
    agent_id: 7447f438-a19c-4f12-b4f0-a5b33561eb16-S0
    state: absent
    stop_timeout: 10
"""

RETURN = r"""
container_id:
  description: The container ID (generated when it was omitted and no labelled container was found). Single form only.
  returned: always, unless O(containers) is used or nothing matched O(task_id) with O(state=stopped)/V(absent)
  type: str
  sample: 2b1c6f3e-5b1a-4a38-9d1c-0f8e7b3c9a11
name:
  description: The Docker container name. Single form only.
  returned: when RV(container_id) is returned
  type: str
  sample: mesos-2b1c6f3e-5b1a-4a38-9d1c-0f8e7b3c9a11
id:
  description: The Docker ID of the container (null when it does not exist, or in check mode before creation).
  returned: when RV(container_id) is returned
  type: str
  sample: 4f0c5d1e9a7b0d3c...
status:
  description: Docker's state of the container afterwards (V(running), V(exited), V(created)), or V(absent).
  returned: when RV(container_id) is returned
  type: str
  sample: running
exit_code:
  description: The container's exit code, when it has exited (always with O(wait)).
  returned: when the container has exited
  type: int
  sample: 0
actions:
  description: What was done (or would be, in check mode).
  returned: always (per container in RV(containers))
  type: list
  elements: str
  sample: [created sandbox, fetched https://artifacts.example.com/web/start.sh, pulled busybox:latest, created, started]
image:
  description:
    - The pull result (C(name), C(id), C(pulled), C(changed)...) for the container's image, and C(credentials) - where
      the pull's credentials came from (the sandbox's docker config, C(docker_config) or C(none (anonymous))).
  returned: when a container is launched
  type: dict
  sample: {name: "docker.io/library/busybox:latest", id: "sha256:...", pulled: false, changed: false}
fetched:
  description: One entry per URI, with C(uri), C(path), C(changed) and C(extracted) (top-level names unpacked).
  returned: with O(state=started)
  type: list
  elements: dict
  sample: [{uri: "http://127.0.0.1:8000/app.tar.gz", path: "/sandbox/app.tar.gz", changed: true, extracted: [app]}]
sandbox:
  description: The sandbox directory, with C(stdout) and C(stderr) in it.
  returned: when O(sandbox) is known
  type: str
  sample: /var/lib/mesos/smoke/sandbox
containers:
  description: One result per entry of O(containers), in order, each with the keys above.
  returned: when O(containers) is used
  type: list
  elements: dict
  sample: [{name: mesos-2b1c..., container_id: 2b1c..., status: running, changed: true, actions: [created, started]}]
"""

from ansible_collections.mesos.docker.plugins.module_utils._common import DockerModule
from ansible_collections.mesos.docker.plugins.module_utils._container_options import container_options, task_specs
from ansible_collections.mesos.docker.plugins.module_utils._task_runner import TaskRunner


def main():
    argument_spec = container_options()
    argument_spec.update(
        force_pull=dict(type="bool", default=False, aliases=["force_pull_image"]),
        docker_config=dict(type="raw", no_log=True),
        wait_timeout=dict(type="int"),
        log_follow=dict(type="bool", default=True),
        containers=dict(type="list", elements="dict"),
        max_workers=dict(type="int", default=8),
    )
    dm = DockerModule(
        argument_spec,
        supports_check_mode=True,
        required_one_of=[("container_id", "task_id", "containers")],
        mutually_exclusive=[("container_id", "containers"), ("task_id", "containers")],
    )
    dm.require_at_least("max_workers", 1)
    runner = TaskRunner(dm, task_specs(dm))
    runner.run()
    dm.exit(**runner.results(single=dm.params["containers"] is None))


if __name__ == "__main__":
    main()
