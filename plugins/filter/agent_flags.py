# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Filters that check and render Apache Mesos agent flags (documented in the ``*.yml`` files)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.docker.plugins.module_utils import _agent_flags


def agent_flag_errors(flags, version):
    """The errors the Mesos agent of ``version`` would give for ``flags`` (empty when fine)."""
    try:
        return _agent_flags.validate_flags(flags, version)
    except ValueError as error:
        raise AnsibleFilterError("agent_flag_errors: %s" % error)


def _render_or_fail(render, filter_name, value):
    try:
        return render(value)
    except ValueError as error:
        raise AnsibleFilterError("%s: %s" % (filter_name, error))


def agent_resources(resources):
    return _render_or_fail(_agent_flags.render_resources, "agent_resources", resources)


def agent_attributes(attributes):
    return _render_or_fail(_agent_flags.render_attributes, "agent_attributes", attributes)


def agent_cmdline(flags):
    return _agent_flags.cmdline(flags)


def agent_env(flags):
    return _agent_flags.environment(flags)


class FilterModule(object):
    def filters(self):
        return {
            "agent_flag_errors": agent_flag_errors,
            "agent_resources": agent_resources,
            "agent_attributes": agent_attributes,
            "agent_cmdline": agent_cmdline,
            "agent_env": agent_env,
        }
