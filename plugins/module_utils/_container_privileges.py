# Private to the mesos.docker collection: no API stability promise.
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The privileges of a container that runs a Docker daemon (or systemd) of its own: the dind agents of
``mesos_agent_dind``, and the lab's and the tests' systemd hosts (``playbooks/tasks/lab_host.yml``).

``privileged: true`` is what such a container normally gets. runc refuses it ("unable to apply caps") on
hosts whose capability bounding set lacks a capability (CAP_SYS_RESOURCE on some); :data:`FALLBACK` gives
the same effect without it: every capability but SYS_RESOURCE, seccomp and AppArmor unconfined, and a
device cgroup rule that allows every device. Keys are ``community.docker.docker_container``'s options.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

FALLBACK = {
    "capabilities": ("ALL",),
    "cap_drop": ("SYS_RESOURCE",),
    "security_opts": ("seccomp=unconfined", "apparmor=unconfined"),
    "device_cgroup_rules": ("a *:* rwm",),
}


def container_privileges(privileged):
    """The privilege options of ``community.docker.docker_container``: ``privileged: true`` alone when
    ``privileged``, else ``privileged: false`` with the :data:`FALLBACK` set."""
    if privileged:
        return {"privileged": True}
    options = dict((key, list(values)) for key, values in FALLBACK.items())
    options["privileged"] = False
    return options
