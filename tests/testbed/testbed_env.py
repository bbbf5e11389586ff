"""Read what ``tests/testbed/testbed.sh up`` wrote to ``.testbed/env``: registry, credentials, image tags."""
import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Every container, network and volume the tests and benches make carries this label (testbed.sh's
# TEST_LABEL): `testbed.sh down` and the tests' clean-up remove what carries it.
TEST_LABEL = "mesos-docker-test"
ENV_FILE = os.environ.get("TESTBED_ENV", os.path.join(REPO, ".testbed", "env"))


class TestbedNotUp(RuntimeError):
    """The test bed's env file is missing."""


class SecretsHidden(dict):
    """A dict whose repr hides the values of keys that name a secret (pytest prints a failed test's
    arguments, such as the test bed's facts, into the CI log)."""

    SECRET_KEY = re.compile(r"password|secret|auth", re.IGNORECASE)

    def __repr__(self):
        return "{%s}" % ", ".join("%r: %s" % (key, "'<hidden>'" if self.SECRET_KEY.search(str(key)) else repr(value))
                                  for key, value in self.items())


def load(path=ENV_FILE):
    """The test bed's facts as a dict (keys such as TESTBED_REGISTRY, TESTBED_IMAGE_BUSYBOX)."""
    if not os.path.exists(path):
        raise TestbedNotUp("the test bed is not up (%s missing): run `tests/testbed/testbed.sh up`" % path)
    facts = SecretsHidden()
    with open(path) as handle:
        for line in handle:
            key, sep, value = line.rstrip("\n").partition("=")
            if sep:
                facts[key] = value
    return facts
