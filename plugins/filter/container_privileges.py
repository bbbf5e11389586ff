# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The container_privileges filter: privileged, or the explicit capability set where a host refuses that
(documented in ``container_privileges.yml``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.mesos.docker.plugins.module_utils import _container_privileges


def container_privileges(privileged):
    try:
        return _container_privileges.container_privileges(boolean(privileged, strict=True))
    except TypeError as error:
        raise AnsibleFilterError("container_privileges: expects true or false, got %r (%s)" % (privileged, error))


class FilterModule(object):
    def filters(self):
        return {"container_privileges": container_privileges}
