# Private to the mesos.docker collection: no API stability promise.
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Mesos Docker container names and the labels our launches carry.

Names follow ``src/slave/containerizer/docker.{hpp,cpp}`` in Apache Mesos:

* ``mesos-<containerID>``            Mesos <= 0.22 and >= 1.4 ("modern")
* ``mesos-<agentID>.<containerID>``  Mesos 0.23 - 1.3 ("legacy")
* either of them + ``.executor``     the container of the executor (``--docker_mesos_image``)

The container ID is a UUID. Mesos's own ``parse()`` splits on ``.`` and takes the
second part whenever there is a separator, so it never parses the modern executor form
``mesos-<uuid>.executor`` (the second part is ``executor``, not a UUID); :func:`parse_name`
does parse it, because the recover module must be able to clean up executor containers
together with their task containers.

Labels: real Mesos adds no labels. Containers launched by ``mesos.docker.container`` carry
the :data:`LABEL_*` keys below, which is how ``mesos.docker.recover`` proves that a
modern-named container (whose name holds no agent ID) belongs to a given agent.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import uuid

PREFIX = "mesos-"  # DOCKER_NAME_PREFIX
SEPARATOR = "."  # DOCKER_NAME_SEPERATOR (sic, in Mesos)
EXECUTOR_SUFFIX = SEPARATOR + "executor"

NAMINGS = ("modern", "legacy")

LABEL_NAMESPACE = "org.apache.mesos."
LABEL_AGENT_ID = LABEL_NAMESPACE + "agent_id"
LABEL_FRAMEWORK_ID = LABEL_NAMESPACE + "framework_id"
LABEL_EXECUTOR_ID = LABEL_NAMESPACE + "executor_id"
LABEL_TASK_ID = LABEL_NAMESPACE + "task_id"
LABEL_CONTAINER_ID = LABEL_NAMESPACE + "container_id"
LABEL_EXECUTOR = LABEL_NAMESPACE + "executor"  # "true" on executor containers
LABEL_LAUNCHER = LABEL_NAMESPACE + "launcher"  # who launched it
LAUNCHER = "mesos.docker"

# The identity a launch records, label by option name (agent, framework, executor and task IDs).
IDENTITY_LABELS = (
    (LABEL_AGENT_ID, "agent_id"),
    (LABEL_FRAMEWORK_ID, "framework_id"),
    (LABEL_EXECUTOR_ID, "executor_id"),
    (LABEL_TASK_ID, "task_id"),
)

RESERVED_LABELS = (
    LABEL_AGENT_ID,
    LABEL_FRAMEWORK_ID,
    LABEL_EXECUTOR_ID,
    LABEL_TASK_ID,
    LABEL_CONTAINER_ID,
    LABEL_EXECUTOR,
    LABEL_LAUNCHER,
)

# Mesos agent IDs look like "<uuid>-S<n>"; the name format only needs them to be
# non-empty and free of the separator and of characters Docker refuses in names.
_AGENT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_uuid(value):
    """True for the canonical 8-4-4-4-12 hex form that Mesos's ``UUID::fromString`` accepts."""
    if not isinstance(value, str) or not _UUID_RE.match(value):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def is_agent_id(value):
    """True when ``value`` can be the agent part of a legacy name."""
    return isinstance(value, str) and bool(_AGENT_ID_RE.match(value))


def new_container_id():
    """A fresh container ID, as Mesos makes them (a random UUID)."""
    return str(uuid.uuid4())


def format_name(container_id, agent_id=None, naming="modern", executor=False):
    """The Docker name Mesos gives the container.

    ``naming='modern'`` → ``mesos-<containerID>``; ``'legacy'`` → ``mesos-<agentID>.<containerID>``
    (needs ``agent_id``). ``executor=True`` appends ``.executor``. Raises ``ValueError`` on bad input.
    """
    if naming not in NAMINGS:
        raise ValueError("naming must be one of %s, got %r" % (", ".join(NAMINGS), naming))
    if not is_uuid(container_id):
        raise ValueError("container_id must be a UUID, got %r" % (container_id,))
    if naming == "legacy":
        if not agent_id:
            raise ValueError("naming=legacy needs an agent_id")
        if not is_agent_id(agent_id):
            raise ValueError("agent_id %r cannot be part of a container name" % (agent_id,))
        name = PREFIX + agent_id + SEPARATOR + container_id
    else:
        name = PREFIX + container_id
    if executor:
        name += EXECUTOR_SUFFIX
    return name


def parse_name(name):
    """Parse a Docker container name as Mesos would.

    Returns ``(agent_id or None, container_id, is_executor)`` or ``None`` when the name is
    not a Mesos container name. A leading ``/`` (as the Docker API reports names) is ignored.
    """
    if not isinstance(name, str):
        return None
    if name.startswith("/"):
        name = name[1:]
    if not name.startswith(PREFIX):
        return None
    rest = name[len(PREFIX):]
    parts = rest.split(SEPARATOR)
    executor = False
    if len(parts) >= 2 and parts[-1] == "executor":
        executor = True
        parts = parts[:-1]
    if len(parts) == 1:
        agent_id, container_id = None, parts[0]
    elif len(parts) == 2:
        agent_id, container_id = parts
        if not is_agent_id(agent_id):
            return None
    else:
        return None
    if not is_uuid(container_id):
        return None
    return agent_id, container_id, executor


def container_names(container):
    """All names of a container as the list API returns them (``Names``), without ``/``."""
    names = container.get("Names") or []
    if not names and container.get("Name"):
        names = [container["Name"]]
    return [n[1:] if n.startswith("/") else n for n in names]


def primary_name(container):
    """The container's own name (not a legacy ``--link`` alias, which contains a second ``/``)."""
    for name in container_names(container):
        if "/" not in name:
            return name
    names = container_names(container)
    return names[0] if names else None
