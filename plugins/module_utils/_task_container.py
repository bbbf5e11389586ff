# Private to the mesos.docker collection: no API stability promise.
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Translate a Mesos task spec into Docker API arguments, exactly as Mesos does.

Reference: ``Docker::RunOptions::create`` and ``Docker::run`` in Apache Mesos's
``src/docker/docker.cpp`` and the constants of ``src/slave/containerizer/mesos/isolators/
cgroups/constants.hpp``. Pure functions, no Docker client: the unit tests pin them.

What Mesos does and we do the same:

* cpus → ``--cpu-shares max(uint64(1024 * cpus), 2)``; mem (MB) → ``--memory max(uint64(mem) MiB, 32 MiB)``
  (``Resources::mem()`` truncates to whole megabytes).
* env: the user's variables, then ``MESOS_SANDBOX=<sandbox_directory>`` and
  ``MESOS_CONTAINER_NAME=<name>`` (these two always win), and ``MESOS_ALLOCATION_ROLE=<role>``
  when resources (cpus or mem) are given. Mesos keeps them in a ``std::map``: sorted by name.
* volumes: a relative ``container_path`` is joined to the *container-side* sandbox
  (``sandbox_directory``); a relative ``host_path`` is joined to the *host* sandbox; both relative is
  an error; a named Docker volume (``source``) instead of a host path is allowed. Every volume gets
  ``:rw`` or ``:ro``. The sandbox bind ``<sandbox>:<sandbox_directory>`` comes last.
* network: ``host`` (the default), ``bridge``, ``none`` or a user network name; port mappings
  only with bridge or a user network; ``hostname`` not with host networking.
* ports: host ports of ``port_mappings`` must lie in the task's ``ports`` resources when those are
  given (Mesos: ``Port [N] not included in resources``). Unlike Mesos, which refuses port mappings
  without port resources, mappings without ``ports`` are taken as given.
* command: ``shell`` unset means ``true`` when a command is given and ``false`` when none is (the image's
  default command runs, as the Mesos document describes); ``shell: true`` → entrypoint ``/bin/sh``
  and arguments ``-c <command>`` (the task's ``arguments`` are ignored, as in Mesos); ``shell: true``
  without a command is an error; ``shell: false`` → ``[command] + arguments`` (the command only when
  given) become the arguments of ``docker run IMAGE ...``, i.e. they replace the image's CMD and go to
  its ENTRYPOINT; nothing given → the image's default command.
* executor containers (``executor: true``), as ``DockerContainerizerProcess::Container::create`` makes
  them under ``--docker_mesos_image``: ``--pid=host``, ``--cap-add SYS_ADMIN --cap-add SYS_PTRACE``,
  the docker socket bound read-only at the same path, the sandbox bound read-write at the same path
  (besides the usual ``<sandbox>:<sandbox_directory>``). Unlike Mesos, which replaces the executor's
  container info, the task's own volumes are bound too.
* the sandbox is bound from ``sandbox_mount`` when given (Mesos binds a symlink under
  ``<work_dir>/slaves/<agentID>/docker/links/<containerID>`` when the sandbox path holds a ``:``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import re

from ansible_collections.mesos.docker.plugins.module_utils._fetcher import FetchError, validate as validate_uri
from ansible_collections.mesos.docker.plugins.module_utils._image_reference import ImageReferenceError, parse
from ansible_collections.mesos.docker.plugins.module_utils._mesos_names import (
    IDENTITY_LABELS,
    LABEL_CONTAINER_ID,
    LABEL_EXECUTOR,
    LABEL_LAUNCHER,
    LAUNCHER,
    RESERVED_LABELS,
    format_name,
    is_uuid,
)

CPU_SHARES_PER_CPU = 1024
MIN_CPU_SHARES = 2
MEGABYTE = 1024 * 1024
MIN_MEMORY = 32 * MEGABYTE
DEFAULT_SANDBOX_DIRECTORY = "/mnt/mesos/sandbox"
SHELL = "/bin/sh"
BUILTIN_NETWORKS = ("host", "bridge", "none")
MESOS_ENV = ("MESOS_SANDBOX", "MESOS_CONTAINER_NAME", "MESOS_ALLOCATION_ROLE")
DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock"
EXECUTOR_CAPABILITIES = ["SYS_ADMIN", "SYS_PTRACE"]
_PORT_RANGE_RE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


class TaskSpecError(ValueError):
    """The task spec cannot be run the way Mesos would run it."""


def cpu_shares(cpus):
    """``--cpu-shares`` for ``cpus``: ``max(uint64(1024 * cpus), MIN_CPU_SHARES)``."""
    if cpus is None:
        return None
    if cpus <= 0:
        raise TaskSpecError("cpus must be greater than 0, got %s" % cpus)
    return max(int(CPU_SHARES_PER_CPU * cpus), MIN_CPU_SHARES)


def memory_bytes(mem):
    """``--memory`` in bytes for ``mem`` megabytes: ``max(uint64(mem) MiB, MIN_MEMORY)`` (whole megabytes)."""
    if mem is None:
        return None
    if mem <= 0:
        raise TaskSpecError("mem must be greater than 0 (megabytes), got %s" % mem)
    return max(int(mem) * MEGABYTE, MIN_MEMORY)


def resolve_shell(shell, command):
    """``shell`` as Mesos's command rules read it: unset means true with a command, false without."""
    if shell is None:
        return command is not None and command != ""
    return bool(shell)


def command_and_entrypoint(command=None, shell=None, arguments=None):
    """``(entrypoint, cmd)`` for ``create_container``; ``None`` means "the image's"."""
    arguments = list(arguments or [])
    if resolve_shell(shell, command):
        if command is None or command == "":
            raise TaskSpecError(
                "shell is true but no command was given (Mesos: 'Shell specified but no command value provided'); "
                "set shell: false to run the image's default command"
            )
        return [SHELL], ["-c", command]
    cmd = []
    if command is not None and command != "":
        cmd.append(command)
    cmd.extend(arguments)
    return None, (cmd or None)


def _volume_bind(volume, sandbox, sandbox_directory):
    container_path = volume.get("container_path")
    if not container_path:
        raise TaskSpecError("every volume needs a container_path: %r" % (volume,))
    host_path = volume.get("host_path")
    source = volume.get("source")
    mode = volume.get("mode") or "rw"
    if mode not in ("rw", "ro"):
        raise TaskSpecError("volume mode must be rw or ro, got %r" % (mode,))
    target = container_path if posixpath.isabs(container_path) else posixpath.join(sandbox_directory, container_path)
    if host_path and source:
        raise TaskSpecError("a volume takes host_path or source, not both: %r" % (volume,))
    if host_path:
        if not posixpath.isabs(host_path) and not posixpath.isabs(container_path):
            raise TaskSpecError(
                "Both host_path '%s' and container_path '%s' of a volume are relative" % (host_path, container_path)
            )
        origin = host_path if posixpath.isabs(host_path) else posixpath.join(sandbox, host_path)
    elif source:
        origin = source
    else:
        raise TaskSpecError("Host path or volume source is required: %r" % (volume,))
    return "%s:%s:%s" % (origin, target, mode)


def port_ranges(ports):
    """``[(begin, end), ...]`` of the task's ``ports`` resources (``"31000-31099"``, ``"31000"`` or an int)."""
    ranges = []
    for item in ports or []:
        match = _PORT_RANGE_RE.match(str(item))
        begin = int(match.group(1)) if match else 0
        end = int(match.group(2) or match.group(1)) if match else 0
        if not match or not 0 < begin <= end < 65536:
            raise TaskSpecError("ports must be port numbers or ranges like 31000-31099 within 1-65535, got %r" % (item,))
        ranges.append((begin, end))
    return ranges


def _port_mappings(port_mappings, network, ports=None):
    ports_out, bindings = [], {}
    if not port_mappings:
        return ports_out, bindings
    if network in ("host", "none"):
        raise TaskSpecError("Port mappings are only supported for bridge and user-defined networks")
    ranges = port_ranges(ports) if ports is not None else None
    for mapping in port_mappings:
        host_port = mapping.get("host_port")
        container_port = mapping.get("container_port")
        protocol = (mapping.get("protocol") or "tcp").lower()
        for what, port in (("host_port", host_port), ("container_port", container_port)):
            if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
                raise TaskSpecError("port mapping %s must be a port number 1-65535: %r" % (what, mapping))
        if protocol not in ("tcp", "udp", "sctp"):
            raise TaskSpecError("port mapping protocol must be tcp, udp or sctp: %r" % (mapping,))
        if ranges is not None and not any(begin <= host_port <= end for begin, end in ranges):
            raise TaskSpecError("Port [%d] not included in resources (ports: %s)"
                                % (host_port, ", ".join("%d-%d" % r for r in ranges) or "none"))
        key = "%d/%s" % (container_port, protocol)
        if key not in bindings:
            ports_out.append((container_port, protocol))
            bindings[key] = []
        bindings[key].append(host_port)
    return ports_out, bindings


def mesos_labels(container_id, agent_id=None, framework_id=None, executor_id=None, task_id=None, executor=False):
    """The labels our launches carry (see ``_mesos_names``)."""
    labels = {LABEL_LAUNCHER: LAUNCHER, LABEL_CONTAINER_ID: container_id}
    given = dict(agent_id=agent_id, framework_id=framework_id, executor_id=executor_id, task_id=task_id)
    for key, option in IDENTITY_LABELS:
        value = given[option]
        if value:
            labels[key] = str(value)
    if executor:
        labels[LABEL_EXECUTOR] = "true"
    return labels


def build(spec):
    """Translate ``spec`` (a dict of the module's task options plus ``name``) into Docker arguments.

    Returns ``{"create": {...create_container kwargs without host_config...},
    "host_config": {...create_host_config kwargs...}, "warnings": [...]}``.
    Raises :class:`TaskSpecError` for anything Mesos would refuse.
    """
    warnings = []
    name = spec["name"]
    image = spec.get("image")
    if not image:
        raise TaskSpecError("image is required to launch %s" % name)
    sandbox = spec.get("sandbox")
    if not sandbox or not posixpath.isabs(sandbox):
        raise TaskSpecError("sandbox must be an absolute host path, got %r" % (sandbox,))
    sandbox = posixpath.normpath(spec.get("sandbox_mount") or sandbox)
    sandbox_directory = spec.get("sandbox_directory") or DEFAULT_SANDBOX_DIRECTORY
    if not posixpath.isabs(sandbox_directory):
        raise TaskSpecError("sandbox_directory must be an absolute container path, got %r" % (sandbox_directory,))

    shell = resolve_shell(spec.get("shell"), spec.get("command"))
    if shell and spec.get("arguments"):
        warnings.append("arguments are ignored with shell: true, as Mesos does")
    entrypoint, cmd = command_and_entrypoint(spec.get("command"), shell, spec.get("arguments"))

    shares = cpu_shares(spec.get("cpus"))
    memory = memory_bytes(spec.get("mem"))

    env = {}
    for key, value in (spec.get("env") or {}).items():
        if key in MESOS_ENV[:2]:
            warnings.append("env %s is set by Mesos and overrides the value given" % key)
        env[str(key)] = "" if value is None else str(value)
    env["MESOS_SANDBOX"] = sandbox_directory
    env["MESOS_CONTAINER_NAME"] = name
    if shares is not None or memory is not None:
        env["MESOS_ALLOCATION_ROLE"] = spec.get("role") or "*"

    binds = [_volume_bind(v, sandbox, sandbox_directory) for v in (spec.get("volumes") or [])]
    if spec.get("executor"):
        socket = spec.get("docker_socket") or DEFAULT_DOCKER_SOCKET
        binds = ["%s:%s:ro" % (socket, socket), "%s:%s:rw" % (sandbox, sandbox)] + binds
    binds.append("%s:%s" % (sandbox, sandbox_directory))

    network = spec.get("network") or "host"
    ports, port_bindings = _port_mappings(spec.get("port_mappings"), network, spec.get("ports"))
    hostname = spec.get("hostname")
    if hostname and network == "host":
        raise TaskSpecError("Unable to set hostname with host network mode")

    labels = dict((str(k), str(v)) for k, v in (spec.get("labels") or {}).items())
    ours = mesos_labels(
        spec["container_id"],
        agent_id=spec.get("agent_id"),
        framework_id=spec.get("framework_id"),
        executor_id=spec.get("executor_id"),
        task_id=spec.get("task_id"),
        executor=spec.get("executor", False),
    )
    clash = sorted(k for k in labels if k in RESERVED_LABELS)
    if clash:
        raise TaskSpecError("labels %s are reserved for the Mesos identity of the container" % ", ".join(clash))
    labels.update(ours)

    create = dict(
        image=image,
        name=name,
        command=cmd,
        entrypoint=entrypoint,
        environment=["%s=%s" % (k, env[k]) for k in sorted(env)],
        labels=labels,
        detach=True,
    )
    if ports:
        create["ports"] = ports
    if hostname:
        create["hostname"] = hostname
    host_config = dict(binds=binds, network_mode=network)
    if shares is not None:
        host_config["cpu_shares"] = shares
    if memory is not None:
        host_config["mem_limit"] = memory
    if port_bindings:
        host_config["port_bindings"] = port_bindings
    if spec.get("privileged"):
        host_config["privileged"] = True
    if spec.get("executor"):
        host_config["pid_mode"] = "host"
        host_config["cap_add"] = list(EXECUTOR_CAPABILITIES)
    if spec.get("log_options"):
        host_config["log_config"] = dict(type=None, config=dict((str(k), str(v)) for k, v in spec["log_options"].items()))
    return {"create": create, "host_config": host_config, "warnings": warnings}


def desired_view(built):
    """The comparable view of what :func:`build` asks for (used for idempotence and diff)."""
    create, hc = built["create"], built["host_config"]
    return {
        "image": create["image"],
        "entrypoint": create["entrypoint"],
        "command": create["command"],
        "env": sorted(create["environment"]),
        "labels": dict(create["labels"]),
        "binds": sorted(hc["binds"]),
        "network_mode": hc["network_mode"],
        "cpu_shares": hc.get("cpu_shares") or 0,
        "memory": hc.get("mem_limit") or 0,
        "port_bindings": dict((k, sorted(v)) for k, v in (hc.get("port_bindings") or {}).items()),
        "privileged": bool(hc.get("privileged")),
        "hostname": create.get("hostname"),
        "pid_mode": hc.get("pid_mode"),
        "cap_add": sorted(hc.get("cap_add") or []) or None,
        "log_options": dict((hc.get("log_config") or {}).get("config") or {}) or None,
    }


def actual_view(inspect, desired, image_config=None):
    """The same view of an inspected container, restricted to what ``desired`` controls.

    ``image_config`` is the ``Config`` of the image the container was created from (its ``Image`` ID,
    not whatever the tag points at now, as community.docker's ``image_comparison: current-image``):
    where we leave entrypoint/command to the image (``None``), the container's value is compared
    against that image's, so neither a default command nor a moved tag is a difference.
    """
    config = inspect.get("Config") or {}
    hc = inspect.get("HostConfig") or {}
    image_config = image_config or {}
    log_config = (hc.get("LogConfig") or {}).get("Config") or {}
    wanted_env_keys = set(e.split("=", 1)[0] for e in desired["env"])
    env = sorted(e for e in (config.get("Env") or []) if e.split("=", 1)[0] in wanted_env_keys)
    labels = config.get("Labels") or {}
    entrypoint = config.get("Entrypoint")
    if desired["entrypoint"] is None and entrypoint == image_config.get("Entrypoint"):
        entrypoint = None
    command = config.get("Cmd")
    if desired["command"] is None and (desired["entrypoint"] is None and command == image_config.get("Cmd")):
        command = None
    bindings = {}
    for key, values in (hc.get("PortBindings") or {}).items():
        bindings[key] = sorted(int(v.get("HostPort") or 0) for v in values or [])
    return {
        "image": config.get("Image"),
        "entrypoint": entrypoint or None,
        "command": command or None,
        "env": env,
        "labels": dict((k, labels[k]) for k in desired["labels"] if k in labels),
        "binds": sorted(hc.get("Binds") or []),
        "network_mode": hc.get("NetworkMode"),
        "cpu_shares": hc.get("CpuShares") or 0,
        "memory": hc.get("Memory") or 0,
        "port_bindings": bindings,
        "privileged": bool(hc.get("Privileged")),
        "hostname": desired["hostname"] and config.get("Hostname"),
        "pid_mode": hc.get("PidMode") or None,
        "cap_add": sorted(hc.get("CapAdd") or []) or None,
        "log_options": dict((k, log_config.get(k)) for k in desired["log_options"]) if desired.get("log_options") else None,
    }


PLACEHOLDER_CONTAINER_ID = "00000000-0000-4000-8000-000000000000"
LINKS_DIRECTORY = posixpath.join("docker", "links")


def sandbox_link(sandbox, container_id, work_dir=None, agent_id=None):
    """Where Mesos binds a sandbox that Docker cannot bind (its path holds ``:``), or None when it binds it as is.

    Mesos (MESOS-1833) symlinks ``<work_dir>/slaves/<agentID>/docker/links/<containerID>`` to the
    sandbox and binds the link; the agent ID is the one in the sandbox path under ``work_dir``, else
    ``agent_id``. Raises :class:`TaskSpecError` when there is no work dir or agent to put the link under.
    """
    if ":" not in sandbox:
        return None
    what = "sandbox %s contains ':', which Docker cannot bind" % sandbox
    if not work_dir:
        raise TaskSpecError(what + "; give work_dir (the agent's --work_dir) to bind it through a symlink under "
                            "<work_dir>/slaves/<agentID>/docker/links/, as Mesos does")
    root = posixpath.normpath(work_dir)
    slaves = posixpath.join(root, "slaves") + "/"
    if sandbox.startswith(slaves):
        agent_id = sandbox[len(slaves):].split("/", 1)[0]
    if not agent_id:
        raise TaskSpecError(what + "; the sandbox is not under %s<agentID>/ and no agent_id is given" % slaves)
    link = posixpath.join(slaves, agent_id, LINKS_DIRECTORY, container_id)
    if ":" in link:
        raise TaskSpecError(what + ", and the symlink %s would contain one too" % link)
    return link


def validate_spec(spec):
    """Everything about one task spec that can be checked without Docker; the one place for it.

    ``spec`` holds the module's per-container options. Raises :class:`TaskSpecError` naming the option.
    """
    container_id = spec.get("container_id")
    if container_id is not None and not is_uuid(container_id):
        raise TaskSpecError("container_id must be a UUID, got %r" % (container_id,))
    if not container_id and not spec.get("task_id"):
        raise TaskSpecError("container_id or task_id is required to identify the container")
    if spec.get("naming") == "legacy" and not spec.get("agent_id"):
        raise TaskSpecError("naming=legacy needs agent_id")
    for key in ("cpus", "mem"):
        if spec.get(key) is not None and spec[key] <= 0:
            raise TaskSpecError("%s must be greater than 0, got %s" % (key, spec[key]))
    if spec.get("stop_timeout") is not None and spec["stop_timeout"] < 0:
        raise TaskSpecError("stop_timeout must not be negative, got %s" % spec["stop_timeout"])
    for key in ("sandbox", "work_dir"):
        if spec.get(key) and not posixpath.isabs(spec[key]):
            raise TaskSpecError("%s must be an absolute host path, got %s" % (key, spec[key]))
    if spec.get("state", "started") != "started":
        return
    if not spec.get("image"):
        raise TaskSpecError("image is required with state=started")
    try:
        parse(spec["image"])
    except ImageReferenceError as exc:
        raise TaskSpecError("image: %s" % exc)
    if not spec.get("sandbox"):
        raise TaskSpecError("sandbox is required with state=started")
    sandbox_link(posixpath.normpath(spec["sandbox"]), container_id or PLACEHOLDER_CONTAINER_ID, spec.get("work_dir"),
                 spec.get("agent_id"))
    for uri in spec.get("uris") or []:
        try:
            validate_uri(uri)
        except FetchError as exc:
            raise TaskSpecError(str(exc))
    # A throw-away identity proves the spec translates; the real one may be found later.
    trial_id = container_id or PLACEHOLDER_CONTAINER_ID
    try:
        name = format_name(trial_id, agent_id=spec.get("agent_id"), naming=spec.get("naming") or "modern",
                           executor=bool(spec.get("executor")))
    except ValueError as exc:
        raise TaskSpecError(str(exc))
    build(dict(spec, name=name, container_id=trial_id))
