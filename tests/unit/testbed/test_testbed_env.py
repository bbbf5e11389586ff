"""The test bed's facts never print their secrets, not even in a failed test's arguments."""
import _pytest._io.saferepr

import testbed_env


def test_the_facts_hide_passwords_and_secrets_but_show_the_rest(tmp_path):
    env = tmp_path / "env"
    env.write_text("TESTBED_REGISTRY=127.0.0.1:5000\nTESTBED_REGISTRY_USER=mesos-test\nTESTBED_REGISTRY_PASSWORD=s3cr3t-pw\n")
    facts = testbed_env.load(str(env))
    assert facts["TESTBED_REGISTRY_PASSWORD"] == "s3cr3t-pw"
    for shown in (repr(facts), _pytest._io.saferepr.saferepr(facts, maxsize=10000)):
        assert "s3cr3t-pw" not in shown
        assert "'TESTBED_REGISTRY': '127.0.0.1:5000'" in shown and "mesos-test" in shown


def test_nested_credentials_are_hidden():
    cluster = testbed_env.SecretsHidden(master="http://10.0.0.2:5050", agent_auth={"principal": "p", "secret": "zz-top"})
    assert "zz-top" not in repr(cluster) and "http://10.0.0.2:5050" in repr(cluster)
