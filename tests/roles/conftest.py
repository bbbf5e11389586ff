"""Fixtures of the role tests: real systemd hosts (see role_hosts.py)."""
import pytest

from role_hosts import Host
from testbed_env import TEST_LABEL


@pytest.fixture(scope="module")
def systemd_host(testbed, tmp_path_factory):
    """A factory of started systemd hosts (Debian 12 unless an image key of .testbed/env is given);
    they live until the end of the test module."""
    made = []
    tmp_path = tmp_path_factory.mktemp("hosts")

    def make(image_key="TESTBED_IMAGE_SYSTEMD12"):
        image = testbed.get(image_key)
        assert image, "the test bed has no %s" % image_key
        host = Host(image, tmp_path, testbed.get("TESTBED_TEST_LABEL") or TEST_LABEL)
        made.append(host)
        return host.start()

    yield make
    for host in made:
        host.remove()
