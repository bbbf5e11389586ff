# Private to the mesos.docker collection: no API stability promise.
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Which container a task spec means: its container ID, given or found by the identity labels.

A spec with ``container_id`` names its container directly. Without it, the container our launches
labelled with the same agent, framework, executor and task IDs (and executor flag) is reused; only
when there is none, and the task is to be started, a new UUID is generated. So a re-run never launches
a second container. One ``containers`` list call answers for every spec of a batch.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mesos.docker.plugins.module_utils._mesos_names import (
    IDENTITY_LABELS,
    LABEL_CONTAINER_ID,
    LABEL_EXECUTOR,
    LABEL_LAUNCHER,
    LAUNCHER,
    format_name,
    is_uuid,
    new_container_id,
)


class IdentityError(Exception):
    """A spec matches several containers, or its name cannot be formed."""


def identity_labels(spec):
    """The labels (None = must be absent) that identify the spec's container when container_id is omitted."""
    labels = {LABEL_LAUNCHER: LAUNCHER}
    for key, option in IDENTITY_LABELS:
        labels[key] = spec.get(option) or None
    labels[LABEL_EXECUTOR] = "true" if spec.get("executor") else None
    return labels


def container_name(spec, container_id):
    """The Docker name of the spec's container with ``container_id``."""
    try:
        return format_name(container_id, agent_id=spec.get("agent_id"), naming=spec.get("naming") or "modern",
                           executor=bool(spec.get("executor")))
    except ValueError as exc:
        raise IdentityError(str(exc))


def matching_container_ids(spec, listed):
    """The container IDs of the listed containers that carry the spec's identity labels."""
    wanted = identity_labels(spec)
    found = set()
    for item in listed:
        labels = item.get("Labels") or {}
        if all(labels.get(k) == v for k, v in wanted.items()) and is_uuid(labels.get(LABEL_CONTAINER_ID)):
            found.add(labels[LABEL_CONTAINER_ID])
    return sorted(found)


def resolve(client, specs):
    """``[(container_id or None, generated)]`` for ``specs`` (dicts of the module's per-container options).

    None means "no container and none to start" (state stopped/absent of an unknown task).
    Raises :class:`IdentityError` when a spec matches several containers.
    """
    listed = None
    answers = []
    for spec in specs:
        if spec.get("container_id"):
            answers.append((spec["container_id"], False))
            continue
        if listed is None:
            listed = client.containers(all=True, filters={"label": "%s=%s" % (LABEL_LAUNCHER, LAUNCHER)})
        matches = matching_container_ids(spec, listed)
        if len(matches) > 1:
            raise IdentityError("task %s matches several containers (%s); give container_id"
                                % (spec.get("task_id"), ", ".join(matches)))
        if matches:
            answers.append((matches[0], False))
        elif spec.get("state", "started") == "started":
            answers.append((new_container_id(), True))
        else:
            answers.append((None, False))
    return answers
