# Private to the mesos.docker collection: no API stability promise.
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Translate a Mesos task spec into Docker API arguments, exactly as Mesos does.

Reference: ``Docker::RunOptions::create`` and ``Docker::run`` in Apache Mesos's
``src/docker/docker.cpp`` and the constants of ``src/slave/containerizer/mesos/isolators/
cgroups/constants.hpp``. Pure functions, no Docker client: the unit tests pin them.

What Mesos does and we do the same:

* cpus → ``--cpu-shares max(uint64(1024 * cpus), 2)``; mem (MB) → ``--memory max(mem MiB, 32 MiB)``.
* env: the user's variables, then ``MESOS_SANDBOX=<sandbox_directory>`` and
  ``MESOS_CONTAINER_NAME=<name>`` (these two always win), and ``MESOS_ALLOCATION_ROLE=<role>``
  when resources (cpus or mem) are given. Mesos keeps them in a ``std::map``: sorted by name.
* volumes: a relative ``container_path`` is joined to the *container-side* sandbox
  (``sandbox_directory``); a relative ``host_path`` is joined to the *host* sandbox; both relative is
  an error; a named Docker volume (``source``) instead of a host path is allowed. Every volume gets
  ``:rw`` or ``:ro``. The sandbox bind ``<sandbox>:<sandbox_directory>`` comes last.
* network: ``host`` (the default), ``bridge``, ``none`` or a user network name; port mappings
  only with bridge or a user network; ``hostname`` not with host networking.
* command: ``shell: true`` → entrypoint ``/bin/sh`` and arguments ``-c <command>`` (the task's
  ``arguments`` are ignored, as in Mesos); ``shell: true`` without a command is an error;
  ``shell: false`` → ``[command] + arguments`` (the command only when given) become the arguments of
  ``docker run IMAGE ...``, i.e. they replace the image's CMD and go to its ENTRYPOINT; nothing
  given → the image's default command.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

from ansible_collections.mesos.docker.plugins.module_utils._mesos_names import (
    LABEL_AGENT_ID,
    LABEL_CONTAINER_ID,
    LABEL_EXECUTOR,
    LABEL_EXECUTOR_ID,
    LABEL_FRAMEWORK_ID,
    LABEL_LAUNCHER,
    LABEL_TASK_ID,
    LAUNCHER,
    RESERVED_LABELS,
)

CPU_SHARES_PER_CPU = 1024
MIN_CPU_SHARES = 2
MEGABYTE = 1024 * 1024
MIN_MEMORY = 32 * MEGABYTE
DEFAULT_SANDBOX_DIRECTORY = "/mnt/mesos/sandbox"
SHELL = "/bin/sh"
BUILTIN_NETWORKS = ("host", "bridge", "none")
MESOS_ENV = ("MESOS_SANDBOX", "MESOS_CONTAINER_NAME", "MESOS_ALLOCATION_ROLE")


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
    """``--memory`` in bytes for ``mem`` megabytes: ``max(mem MiB, MIN_MEMORY)``."""
    if mem is None:
        return None
    if mem <= 0:
        raise TaskSpecError("mem must be greater than 0 (megabytes), got %s" % mem)
    return max(int(mem * MEGABYTE), MIN_MEMORY)


def command_and_entrypoint(command=None, shell=True, arguments=None):
    """``(entrypoint, cmd)`` for ``create_container``; ``None`` means "the image's"."""
    arguments = list(arguments or [])
    if shell:
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


def _port_mappings(port_mappings, network):
    ports, bindings = [], {}
    if not port_mappings:
        return ports, bindings
    if network in ("host", "none"):
        raise TaskSpecError("Port mappings are only supported for bridge and user-defined networks")
    for mapping in port_mappings:
        host_port = mapping.get("host_port")
        container_port = mapping.get("container_port")
        protocol = (mapping.get("protocol") or "tcp").lower()
        for what, port in (("host_port", host_port), ("container_port", container_port)):
            if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
                raise TaskSpecError("port mapping %s must be a port number 1-65535: %r" % (what, mapping))
        if protocol not in ("tcp", "udp", "sctp"):
            raise TaskSpecError("port mapping protocol must be tcp, udp or sctp: %r" % (mapping,))
        key = "%d/%s" % (container_port, protocol)
        if key not in bindings:
            ports.append((container_port, protocol))
            bindings[key] = []
        bindings[key].append(host_port)
    return ports, bindings


def mesos_labels(container_id, agent_id=None, framework_id=None, executor_id=None, task_id=None, executor=False):
    """The labels our launches carry (see ``_mesos_names``)."""
    labels = {LABEL_LAUNCHER: LAUNCHER, LABEL_CONTAINER_ID: container_id}
    for key, value in (
        (LABEL_AGENT_ID, agent_id),
        (LABEL_FRAMEWORK_ID, framework_id),
        (LABEL_EXECUTOR_ID, executor_id),
        (LABEL_TASK_ID, task_id),
    ):
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
    sandbox = posixpath.normpath(sandbox)
    sandbox_directory = spec.get("sandbox_directory") or DEFAULT_SANDBOX_DIRECTORY
    if not posixpath.isabs(sandbox_directory):
        raise TaskSpecError("sandbox_directory must be an absolute container path, got %r" % (sandbox_directory,))

    shell = spec.get("shell", True)
    shell = True if shell is None else shell
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
    binds.append("%s:%s" % (sandbox, sandbox_directory))

    network = spec.get("network") or "host"
    ports, port_bindings = _port_mappings(spec.get("port_mappings"), network)
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
    }


def actual_view(inspect, desired, image_config=None):
    """The same view of an inspected container, restricted to what ``desired`` controls.

    ``image_config`` is the inspected image's ``Config``: where we leave entrypoint/command to the
    image (``None``), the container's value is compared against the image's so a default command
    is not a difference.
    """
    config = inspect.get("Config") or {}
    hc = inspect.get("HostConfig") or {}
    image_config = image_config or {}
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
    }
