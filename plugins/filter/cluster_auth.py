# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Filters for the credentials and ACLs of a secure Mesos cluster (documented in the ``*.yml`` files)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.docker.plugins.module_utils import _cluster_auth

_POLICY_FIELDS = ("operators", "monitoring", "frameworks", "agents")


def _or_fail(filter_name, call, *args):
    try:
        return call(*args)
    except ValueError as error:
        raise AnsibleFilterError("%s: %s" % (filter_name, error))


def derived_secret(principal, key):
    """The secret of ``principal`` derived from the cluster ``key``."""
    return _or_fail("derived_secret", _cluster_auth.derived_secret, key, principal)


def default_acls(principals):
    """The default ``--acls`` policy for ``{operators, monitoring, frameworks, agents}``."""
    if not isinstance(principals, dict):
        raise AnsibleFilterError("default_acls: expects a dict {%s}, got %r" % (", ".join(_POLICY_FIELDS), principals))
    unknown = sorted(set(principals) - set(_POLICY_FIELDS))
    if unknown:
        raise AnsibleFilterError("default_acls: unknown field(s) %s (expected %s)"
                                 % (", ".join(unknown), ", ".join(_POLICY_FIELDS)))
    return _or_fail("default_acls", _cluster_auth.default_acls, *(principals.get(name) for name in _POLICY_FIELDS))


def merge_acls(base, extra):
    """``base`` with the entries of ``extra`` first (they win) and its ``permissive``."""
    return _or_fail("merge_acls", _cluster_auth.merge_acls, base, extra)


def acl_errors(acls, known_principals=None):
    """The problems of ``acls`` (empty when fine)."""
    return _or_fail("acl_errors", _cluster_auth.acl_errors, acls, known_principals)


class FilterModule(object):
    def filters(self):
        return {
            "derived_secret": derived_secret,
            "default_acls": default_acls,
            "merge_acls": merge_acls,
            "acl_errors": acl_errors,
        }
