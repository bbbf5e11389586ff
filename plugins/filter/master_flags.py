# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Filters that check Apache Mesos master flags (documented in the ``*.yml`` files).

The master loads flags exactly like the agent (``--name=value`` or ``MESOS_<NAME>``), so
``mesos.docker.agent_cmdline`` and ``mesos.docker.agent_env`` render master flags too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.docker.plugins.module_utils import _master_flags


def master_flag_errors(flags, version):
    """The errors the Mesos master of ``version`` would give for ``flags`` (empty when fine)."""
    try:
        return _master_flags.validate_flags(flags, version)
    except ValueError as error:
        raise AnsibleFilterError("master_flag_errors: %s" % error)


class FilterModule(object):
    def filters(self):
        return {"master_flag_errors": master_flag_errors}
