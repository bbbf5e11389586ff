"""libprocess TLS variables of mesos_master and mesos_agent: bad input fails in the preflight (check mode,
``always`` tasks only, see test_preflight.py), before any change, naming the variable; the key never shows.

The certificates are made by the lab CA (playbooks/tls_lab_ca.yml, openssl on the controller). That the
roles refuse TLS on a Mesos built without it is shown on the real package in
tests/integration/test_mesos_real.py.
"""
import json
import os
import subprocess
import sys

import pytest

from test_preflight import GOOD_AGENT, GOOD_MASTER, REPO, run_preflight

BIN = os.path.dirname(sys.executable)


@pytest.fixture(scope="module")
def lab_ca(tmp_path_factory):
    """A lab CA and a certificate for host h1, as playbooks/tls_lab_ca.yml makes them."""
    directory = tmp_path_factory.mktemp("tls") / "ca"
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"), ANSIBLE_NOCOLOR="1")
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    proc = subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), "-i", "h1,", "-c", "local", os.path.join(REPO, "playbooks", "tls_lab_ca.yml"),
         "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", "tls_lab_ca_hosts=all",
         "-e", "tls_lab_ca_gather_facts=false", "-e", "tls_lab_ca_dir=%s" % directory,
         "-e", json.dumps({"tls_lab_ca_ips": ["10.0.0.7"]})],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return directory


def tls(role, ca, **overrides):
    variables = {role + "_tls_enabled": True, role + "_tls_cert_file": str(ca / "h1.pem"),
                 role + "_tls_key_file": str(ca / "h1.key"), role + "_tls_ca_file": str(ca / "ca.pem")}
    variables.update((role + "_tls_" + key, value) for key, value in overrides.items())
    return variables


def test_the_lab_ca_makes_root_only_keys_and_certificates_naming_the_host(lab_ca):
    assert oct(os.stat(lab_ca).st_mode & 0o777) == "0o700"
    for key in ("ca.key", "h1.key"):
        assert oct(os.stat(lab_ca / key).st_mode & 0o777) == "0o600", key
    text = subprocess.run(["openssl", "x509", "-in", str(lab_ca / "h1.pem"), "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert "DNS:h1" in text and "IP Address:10.0.0.7" in text and "IP Address:127.0.0.1" in text, text
    assert "TLS Web Server Authentication, TLS Web Client Authentication" in text, text
    subprocess.run(["openssl", "verify", "-CAfile", str(lab_ca / "ca.pem"), str(lab_ca / "h1.pem")], check=True,
                   capture_output=True)


@pytest.mark.parametrize("role, case, overrides, expected", [
    ("mesos_master", "no-certificate", {"cert_file": ""}, ["_tls_cert_file is empty", "certificate and its key"]),
    ("mesos_agent", "missing-key", {"key_file": "/nonexistent/h1.key"},
     ["_tls_key_file=\"/nonexistent/h1.key\" is not a file on the controller"]),
    ("mesos_agent", "certificate-as-key", {"key_file": "@cert"}, ["_tls_key_file=", "is not a PEM private key"]),
    ("mesos_master", "verify-without-ca", {"ca_file": ""}, ["_tls_verify_cert=true needs", "_tls_ca_file"]),
    ("mesos_agent", "require-with-downgrade", {"require_cert": True, "support_downgrade": True},
     ["_tls_require_cert=true with", "_tls_support_downgrade=true"]),
    ("mesos_master", "relative-dir", {"dir": "tls"}, ["_tls_dir=\"tls\" must be an absolute path"]),
])
def test_bad_tls_input_fails_in_preflight(tmp_path, lab_ca, role, case, overrides, expected):
    good = GOOD_MASTER if role == "mesos_master" else GOOD_AGENT
    overrides = dict((key, str(lab_ca / "h1.pem") if value == "@cert" else value) for key, value in overrides.items())
    rc, output = run_preflight(tmp_path, role, dict(good, **tls(role, lab_ca, **overrides)))
    assert rc != 0, output
    assert "%s: TLS (libprocess SSL) is refused" % role in output, output
    for text in expected:
        assert (role + text if text.startswith("_") else text) in output, output
    key = (lab_ca / "h1.key").read_text()
    assert key.splitlines()[1] not in output


@pytest.mark.parametrize("role, good", [("mesos_master", GOOD_MASTER), ("mesos_agent", GOOD_AGENT)])
def test_good_tls_input_passes_the_preflight(tmp_path, lab_ca, role, good):
    rc, output = run_preflight(tmp_path, role, dict(good, **tls(role, lab_ca)))
    assert "TLS (libprocess SSL) is refused" not in output, output
    key = (lab_ca / "h1.key").read_text()
    assert key.splitlines()[1] not in output


def test_the_agent_refuses_its_own_executor_environment_with_tls(tmp_path, lab_ca):
    variables = dict(GOOD_AGENT, **tls("mesos_agent", lab_ca))
    variables["mesos_agent_flags"] = {"executor_environment_variables": {"PATH": "/bin"}}
    rc, output = run_preflight(tmp_path, "mesos_agent", variables)
    assert rc != 0, output
    assert "mesos_agent_flags.executor_environment_variables would replace" in output, output
    assert "mesos_agent_tls_executor_environment" in output, output
