# Private to the mesos.docker collection: no API stability promise.
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""An agent's specification from a role's inputs: its flags, authentication, log settings, secret
files and agent info, for ``mesos_agent`` (one agent on a host) and ``mesos_agent_dind`` (agents in
containers), behind the ``agent_spec`` filter.

Both roles decide the same things with the same rules (the helpers below); they differ in what
their inputs are and in which layer wins:

``mesos_agent`` (:func:`host_agent`)
    the first-class variables as flags (empty ones left out, ``reconfiguration_policy`` only from
    Mesos 1.5), then HTTP authentication, the agent's credential and the root-only log, then
    ``mesos_agent_flags`` over all of it. ``http_credentials`` is a path.
``mesos_agent_dind`` (:func:`dind_agents`)
    the role's flags (``mesos_agent_dind_flags`` among them) with the agent's resources and
    attributes and, in container mode, a work directory and port per agent; then HTTP
    authentication, the root-only log (when the role-level or the agent's own flags carry ``docker_config``) and
    the agent's credential; then the agent's own ``flags``; agents sharing the host's Docker daemon
    get ``docker_kill_orphans=false`` last. The secret files are ``file://`` URLs (bind-mounted at
    the same path).

Stdlib only, apart from the flag rendering of ``_agent_flags``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.mesos.docker.plugins.module_utils import _agent_flags

# Flags that can carry secrets a real agent shows on /flags and /state (and logs at start).
SECRET_FLAGS = ("docker_config",)
# Flags whose value is itself a secret when it is given inline rather than as a file.
FILE_FLAGS = ("docker_config", "credential", "http_credentials")
FILE_PREFIX = "file://"
# Mesos's default port, when no --port is given.
DEFAULT_PORT = 5051
# Flags of every agent in a container: no systemd to delegate executors to, and the POSIX launcher
# (the Linux launcher wants a cgroup v1 freezer hierarchy of its own, which an agent container
# does not have; docker tasks do not use it). The role's flags may override them.
IN_CONTAINER_FLAGS = (("systemd_enable_support", False), ("launcher", "posix"))
# From this version on the agent has --reconfiguration_policy.
RECONFIGURATION_POLICY_SINCE = "1.5.0"

_ZK_CREDENTIALS = re.compile(r"^zk://[^/@]+@")
_A_FILE = re.compile(r"^(file://)?/")


def has_secret_flags(*flag_sets):
    """Whether any of these flag dicts names a flag that carries secrets."""
    return any(name in flags for flags in flag_sets for name in SECRET_FLAGS)


def http_auth_on(mode, secret):
    """``enabled``, or ``auto`` and the agent gets a secret-bearing flag."""
    return mode == "enabled" or (mode == "auto" and secret)


def http_auth_flags(http_credentials):
    """The flags that close the agent's HTTP endpoints to anyone without ``http_credentials``."""
    return {"authenticate_http_readonly": True, "authenticate_http_readwrite": True,
            "http_credentials": http_credentials}


def credential_flag(path):
    """The agent's own credential for the masters, read by Mesos from the file at ``path``."""
    return {"credential": FILE_PREFIX + path}


def log_flags(log_dir):
    """Mesos logs every flag at start ("Flags at startup"), the docker_config JSON included: with a
    secret-bearing flag the log goes to root-only files in ``log_dir``, not to stderr."""
    return {"log_dir": log_dir, "quiet": True}


def _rendered(value, render):
    """A dict in Mesos's text form (``cpus:4;mem:1024``); anything else as it is."""
    return render(value) if isinstance(value, dict) else value


def cmdline_secrets(flags):
    """Flags whose value is itself a secret (named, never shown): credentials in a zk:// master
    URL, and docker_config, credential or http_credentials given inline instead of as a file."""
    found = []
    if _ZK_CREDENTIALS.search(str(flags.get("master", ""))):
        found.append("master (credentials in the zk:// URL)")
    for name in FILE_FLAGS:
        if name in flags and not _A_FILE.match(str(flags[name])):
            found.append("%s (inline, not a file)" % name)
    return found


def agent_info(flags, nodename):
    """What Mesos compares on recovery ("agent info", src/slave/compatibility.cpp): hostname, port,
    domain, resources, attributes; a change the reconfiguration policy refuses needs a new agent ID."""
    return {
        "hostname": flags.get("hostname", nodename),
        "port": str(flags.get("port", DEFAULT_PORT)),
        "domain": str(flags.get("domain", "")),
        "resources": str(flags.get("resources", "")),
        "attributes": str(flags.get("attributes", "")),
    }


def host_agent(inputs):
    """The spec of ``mesos_agent``'s agent from the role's variables (``mesos_agent_<key>``) and the
    host's ``nodename``; see the filter's documentation for the keys."""
    version = inputs["version"]
    resources, attributes = inputs["resources"], inputs["attributes"]
    first_class = {
        "master": inputs["master"],
        "containerizers": ",".join(str(item) for item in inputs["containerizers"]),
        "work_dir": inputs["work_dir"],
        "executor_registration_timeout": inputs["executor_registration_timeout"],
        "resources": _agent_flags.render_resources(resources) if len(resources) > 0 else "",
        "attributes": _agent_flags.render_attributes(attributes) if len(attributes) > 0 else "",
        "docker_config": inputs["docker_config"],
        "docker_stop_timeout": inputs["docker_stop_timeout"],
        "docker_kill_orphans": inputs["docker_kill_orphans"],
        "docker_socket": inputs["docker_socket"],
        "sandbox_directory": inputs["sandbox_directory"],
        "ip": inputs["ip"],
        "hostname": inputs["hostname"],
        "port": inputs["port"],
        "reconfiguration_policy": (inputs["reconfiguration_policy"]
                                   if _agent_flags.version_tuple(version)
                                   >= _agent_flags.version_tuple(RECONFIGURATION_POLICY_SINCE) else ""),
    }
    # Empty first-class variables are left out: Mesos's default applies.
    flags = dict((name, value) for name, value in first_class.items() if value != "")
    user_flags = dict(inputs["flags"])
    for name, render in (("resources", _agent_flags.render_resources),
                         ("attributes", _agent_flags.render_attributes)):
        if name in user_flags:
            user_flags[name] = _rendered(user_flags[name], render)

    secret = has_secret_flags(flags, user_flags)
    http_auth = http_auth_on(inputs["http_authentication"], secret)
    credential = inputs["authentication"] == "enabled"
    logs = log_flags(inputs["log_dir"]) if secret and len(inputs["log_dir"]) > 0 else {}
    if http_auth:
        flags.update(http_auth_flags(inputs["http_credentials_path"]))
    if credential:
        flags.update(credential_flag(inputs["credential_path"]))
    flags.update(logs)
    flags.update(user_flags)

    ip = flags.get("ip", "0.0.0.0")
    return {
        "flags": flags,
        "http_auth": http_auth,
        "has_secret_flags": secret,
        "secret_flags": [name for name in flags if name in SECRET_FLAGS],
        "log_flags": logs,
        "credential_path": inputs["credential_path"] if credential else None,
        "principal": inputs["principal"] if credential else None,
        "info": agent_info(flags, inputs["nodename"]),
        "cmdline_secrets": cmdline_secrets(flags),
        "port": flags.get("port", DEFAULT_PORT),
        "health_host": "127.0.0.1" if ip in ("0.0.0.0", "") else ip,
    }


def _counts_as_present(agent):
    return "state" not in agent or agent["state"] == "present"


def dind_agents(inputs):
    """The specs of ``mesos_agent_dind``'s agents, one per entry of ``agents``, from the role's
    variables (``mesos_agent_dind_<key>``) and the ``inventory_hostname``."""
    container_mode = inputs["mode"] == "container"
    agents = inputs["agents"]
    # Container-mode agents share the host's Docker daemon: each would kill the others' tasks.
    shared = container_mode and len([agent for agent in agents if _counts_as_present(agent)]) > 1
    role_flags = inputs["flags"]
    secrets_dir = inputs["secrets_dir"].rstrip("/")
    docker_config_url = FILE_PREFIX + inputs["docker_config_path"]
    http_credentials_url = FILE_PREFIX + inputs["http_credentials_path"]
    host = inputs["inventory_hostname"]
    specs = []
    for index, agent in enumerate(agents):
        name = str(agent["name"])
        own_flags = agent.get("flags", {})
        flags = {"containerizers": inputs["containerizers"], "master": inputs["master"],
                 "work_dir": inputs["work_dir"], "port": inputs["port"]}
        flags.update(IN_CONTAINER_FLAGS)
        if inputs["docker_config"]:
            flags["docker_config"] = docker_config_url
        flags.update(role_flags)
        resources = agent.get("resources", inputs["resources"])
        if resources:
            flags["resources"] = _rendered(resources, _agent_flags.render_resources)
        attributes = agent.get("attributes", inputs["attributes"])
        if attributes:
            flags["attributes"] = _rendered(attributes, _agent_flags.render_attributes)
        if container_mode:
            flags.update({"work_dir": inputs["work_dir"] + "/" + name, "port": inputs["port"] + index})

        http_auth = http_auth_on(inputs["http_authentication"],
                                 has_secret_flags(role_flags, own_flags) or bool(inputs["docker_config"]))
        if http_auth:
            flags.update(http_auth_flags(http_credentials_url))
        # The agent's own flags count too: its docker_config is logged at start like the role's.
        if has_secret_flags(flags, own_flags):
            flags.update(log_flags(inputs["log_dir"]))
        credential_path = secrets_dir + "/" + name + ".credential.json"
        if inputs["authentication"] == "enabled":
            flags.update(credential_flag(credential_path))
        flags.update(own_flags)
        if shared:
            flags["docker_kill_orphans"] = False

        own_credential = flags.get("credential", "") == FILE_PREFIX + credential_path
        secret_files = []
        if flags.get("docker_config", "") == docker_config_url and inputs["docker_config"]:
            secret_files.append(inputs["docker_config_path"])
        if flags.get("http_credentials", "") in (http_credentials_url, inputs["http_credentials_path"]):
            secret_files.append(inputs["http_credentials_path"])
        if own_credential:
            secret_files.append(credential_path)
        specs.append({
            "name": name,
            "container": inputs["container_prefix"] + name,
            "key": host + "/" + name,
            "state": agent.get("state", "present"),
            "network_offset": agent.get("network_offset", ""),
            "flags": flags,
            "http_auth": http_auth,
            "principal": str(agent.get("principal", host + "/" + name)),
            "credential_path": credential_path if own_credential else None,
            "secret_files": secret_files,
            "kill_orphans_asked": own_flags.get("docker_kill_orphans", role_flags.get("docker_kill_orphans")),
        })
    return specs


def agent_spec(inputs):
    """:func:`dind_agents` when ``inputs`` has ``agents`` (mesos_agent_dind), else :func:`host_agent`."""
    if "agents" in inputs:
        return dind_agents(inputs)
    return host_agent(inputs)
