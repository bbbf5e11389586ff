"""mesos_agent_dind's libprocess TLS variables in its preflight (no Docker needed, as test_mesos_agent_dind.py):
bad input and container mode are refused before any change, naming the variables; the key never shows."""
import subprocess

import pytest

from test_mesos_agent_dind import preflight


@pytest.fixture
def pem(tmp_path):
    """A self-signed certificate and its key (PEM), as a CA, certificate and key."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=dind-test", "-days", "1",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True)
    return {"mesos_agent_dind_tls_enabled": True, "mesos_agent_dind_tls_cert_file": str(tmp_path / "cert.pem"),
            "mesos_agent_dind_tls_key_file": str(tmp_path / "key.pem"),
            "mesos_agent_dind_tls_ca_file": str(tmp_path / "cert.pem")}


@pytest.mark.parametrize("change, message", [
    ({"mesos_agent_dind_mode": "container"}, "mesos_agent_dind_tls_enabled=true needs mesos_agent_dind_mode=dind"),
    ({"mesos_agent_dind_agents": [{"name": "a", "flags": {"executor_environment_variables": {"PATH": "/bin"}}}]},
     "the agents' flags must not set it too"),
    ({"mesos_agent_dind_tls_ca_file": ""}, "mesos_agent_dind_tls_verify_cert=true needs mesos_agent_dind_tls_ca_file"),
    ({"mesos_agent_dind_tls_key_file": "/nonexistent/key.pem"},
     'mesos_agent_dind_tls_key_file=\\"/nonexistent/key.pem\\" is not a file on the controller'),
])
def test_tls_preflight_refuses(tmp_path, pem, change, message):
    proc, dummy = preflight(tmp_path, **dict(pem, **change))
    assert proc.returncode != 0
    assert message in proc.stdout, proc.stdout[-3000:]
    with open(pem["mesos_agent_dind_tls_key_file"]) as handle:
        assert handle.read().splitlines()[1] not in proc.stdout


def test_tls_preflight_passes_in_dind_mode(tmp_path, pem):
    proc, specs = preflight(tmp_path, **pem)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert specs
