# Private to the mesos.docker collection: no API stability promise.
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The options of ``mesos.docker.container``, per container, and how a batch entry inherits the top-level ones."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

PER_CONTAINER = (
    "container_id", "agent_id", "framework_id", "executor_id", "task_id", "naming", "executor", "image",
    "sandbox", "sandbox_directory", "work_dir", "docker_socket", "uris", "command", "shell", "arguments", "env",
    "cpus", "mem", "ports", "log_options", "role", "volumes", "network", "port_mappings", "hostname", "privileged",
    "labels", "state", "stop_timeout", "wait",
)


def container_options(defaults=True):
    """Per-container options; without defaults for the entries of ``containers``."""
    def d(value):
        return value if defaults else None

    return dict(
        container_id=dict(type="str"),
        agent_id=dict(type="str"),
        framework_id=dict(type="str"),
        executor_id=dict(type="str"),
        task_id=dict(type="str"),
        naming=dict(type="str", choices=["modern", "legacy"], default=d("modern")),
        executor=dict(type="bool", default=d(False)),
        image=dict(type="str"),
        sandbox=dict(type="path"),
        sandbox_directory=dict(type="str", default=d("/mnt/mesos/sandbox")),
        work_dir=dict(type="path"),
        docker_socket=dict(type="path", default=d("/var/run/docker.sock")),
        uris=dict(type="list", elements="dict", options=dict(
            value=dict(type="str", required=True),
            extract=dict(type="bool", default=True),
            executable=dict(type="bool", default=False),
            output_file=dict(type="str"),
        )),
        command=dict(type="str"),
        shell=dict(type="bool"),
        arguments=dict(type="list", elements="str"),
        env=dict(type="dict"),
        cpus=dict(type="float"),
        mem=dict(type="float"),
        ports=dict(type="list", elements="str"),
        log_options=dict(type="dict"),
        role=dict(type="str", default=d("*")),
        volumes=dict(type="list", elements="dict", options=dict(
            container_path=dict(type="str", required=True),
            host_path=dict(type="str"),
            source=dict(type="str"),
            mode=dict(type="str", choices=["rw", "ro"], default="rw"),
        ), mutually_exclusive=[("host_path", "source")], required_one_of=[("host_path", "source")]),
        network=dict(type="str", default=d("host")),
        port_mappings=dict(type="list", elements="dict", options=dict(
            host_port=dict(type="int", required=True),
            container_port=dict(type="int", required=True),
            protocol=dict(type="str", choices=["tcp", "udp", "sctp"], default="tcp"),
        )),
        hostname=dict(type="str"),
        privileged=dict(type="bool", default=d(False)),
        labels=dict(type="dict"),
        state=dict(type="str", choices=["started", "stopped", "absent"], default=d("started")),
        stop_timeout=dict(type="int", default=d(0)),
        wait=dict(type="bool", default=d(False)),
    )


def task_specs(dm):
    """``[(label, spec)]``: the single container, or each entry of ``containers`` over the top-level defaults."""
    top = dict((k, dm.params.get(k)) for k in PER_CONTAINER)
    entries = dm.params["containers"]
    if entries is None:
        return [("the container", top)]
    validator = ArgumentSpecValidator(container_options(defaults=False))
    specs = []
    for index, entry in enumerate(entries):
        checked = validator.validate(entry)
        if checked.error_messages:
            dm.fail("containers[%d]: %s" % (index, "; ".join(checked.error_messages)))
        merged = dict(top, container_id=None)
        merged.update((k, v) for k, v in checked.validated_parameters.items() if v is not None)
        specs.append(("containers[%d]" % index, merged))
    return specs
