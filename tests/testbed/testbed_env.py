"""Read what ``tests/testbed/testbed.sh up`` wrote to ``.testbed/env``: registry, credentials, image tags."""
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV_FILE = os.environ.get("TESTBED_ENV", os.path.join(REPO, ".testbed", "env"))


class TestbedNotUp(RuntimeError):
    """The test bed's env file is missing."""


def load(path=ENV_FILE):
    """The test bed's facts as a dict (keys such as TESTBED_REGISTRY, TESTBED_IMAGE_BUSYBOX)."""
    if not os.path.exists(path):
        raise TestbedNotUp("the test bed is not up (%s missing): run `tests/testbed/testbed.sh up`" % path)
    facts = {}
    with open(path) as handle:
        for line in handle:
            key, sep, value = line.rstrip("\n").partition("=")
            if sep:
                facts[key] = value
    return facts
