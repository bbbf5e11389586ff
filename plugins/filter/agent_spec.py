# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The agent_spec filter: an agent's flags, authentication, log settings, secret files and agent info
from a role's inputs (documented in ``agent_spec.yml``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.docker.plugins.module_utils import _agent_spec


def agent_spec(inputs):
    try:
        return _agent_spec.agent_spec(inputs)
    except KeyError as error:
        raise AnsibleFilterError("agent_spec: the input %s is missing" % error)
    except (TypeError, ValueError) as error:
        raise AnsibleFilterError("agent_spec: %s" % error)


class FilterModule(object):
    def filters(self):
        return {"agent_spec": agent_spec}
