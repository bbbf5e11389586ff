# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Filters that write iptables rule parts the way ``iptables -S`` prints them (documented in the ``*.yml`` files)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text


def iptables_network(value):
    """``172.17.0.1/16`` -> ``172.17.0.0/16``, ``10.0.0.5`` -> ``10.0.0.5/32``: host bits cleared, prefix always shown."""
    text = to_text(value).strip()
    try:
        return str(ipaddress.IPv4Network(text, strict=False))
    except ValueError as error:
        raise AnsibleFilterError("iptables_network: %r is not an IPv4 address or a.b.c.d/prefix (%s)" % (text, error))


class FilterModule(object):
    def filters(self):
        return {"iptables_network": iptables_network}
