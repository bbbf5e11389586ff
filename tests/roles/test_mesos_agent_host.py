"""mesos_agent on a real Debian 12 systemd host, installed from a package file (install method `deb`).

The package is built here like a third-party Mesos package that ships its OWN services: it enables
and starts ``mesos-master`` and ``mesos-slave`` units in its postinst (as the Mesosphere packages
did), and its mesos-slave takes port 5051. The agent binary in it is the collection's stand-in
(``tests/standin/mesos-agent``, which loads flags like mesos-agent and serves /health and /flags):
what is under test is what the role does around the binary.

Shown: the package's units are stopped and masked so only the role's agent holds 5051;
resources/attributes given as dicts in mesos_agent_flags reach the agent in Mesos's text form;
the recorded agent info covers port and domain; a changed port is announced (what changed, how many
task containers run there) before the agent ID is reset; an agent info record from before port and
domain were recorded does not count as a change.
"""
import json
import os
import subprocess

import pytest

from role_hosts import REPO

STANDIN_DIR = "/opt/mesos-standin"
PACKAGE = "wt12-mesos-with-units"
UNIT = """[Unit]
Description=%(what)s shipped by the package
[Service]
ExecStart=%(command)s
[Install]
WantedBy=multi-user.target
"""


def _build_package(tmp_path):
    root = tmp_path / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        "Package: %s\nVersion: 1.12.0-wt12\nArchitecture: all\nMaintainer: wt12 <wt12@example.invalid>\n"
        "Depends: python3\nDescription: test package with its own mesos-master and mesos-slave services\n" % PACKAGE)
    postinst = root / "DEBIAN" / "postinst"
    postinst.write_text("#!/bin/sh\nset -e\nsystemctl daemon-reload\n"
                        "systemctl enable --now mesos-master.service mesos-slave.service\n")
    postinst.chmod(0o755)
    units = root / "lib" / "systemd" / "system"
    units.mkdir(parents=True)
    (units / "mesos-master.service").write_text(UNIT % {"what": "mesos-master", "command": "/bin/sleep infinity"})
    # The package's agent: something on 5051 that is not the role's agent.
    (units / "mesos-slave.service").write_text(
        UNIT % {"what": "mesos-slave", "command": "/usr/bin/python3 -m http.server 5051 --directory /var/empty"})
    for rel, mode in (("tests/standin/mesos-agent", 0o755), ("plugins/module_utils/_agent_flags.py", 0o644)):
        dest = root / STANDIN_DIR.lstrip("/") / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(open(os.path.join(REPO, rel), "rb").read())
        dest.chmod(mode)
    (root / "usr" / "sbin").mkdir(parents=True)
    os.symlink("%s/tests/standin/mesos-agent" % STANDIN_DIR, str(root / "usr" / "sbin" / "mesos-agent"))
    (root / "var" / "empty").mkdir(parents=True)
    deb = tmp_path / ("%s.deb" % PACKAGE)
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(root), str(deb)], check=True, capture_output=True)
    return str(deb)


@pytest.fixture(scope="module")
def agent(systemd_host, tmp_path_factory):
    host = systemd_host()
    deb = _build_package(tmp_path_factory.mktemp("deb"))
    variables = {
        "mesos_agent_install_method": "deb",
        "mesos_agent_deb_file": deb,
        "mesos_agent_master": "127.0.0.1:5050",
        "mesos_agent_containerizers": ["mesos"],
        "mesos_agent_flags": {"resources": {"cpus": 2, "mem": 512, "ports": ["31000-31099"]},
                              "attributes": {"rack": "r1", "zone": "a"}},
        "mesos_agent_health_timeout": 30,
        # No master here (the stand-in agent registers nowhere): the cluster credentials key is given.
        "mesos_agent_credentials_key": "role-test-key",
        "mesos_agent_registration_timeout": 0,
        # The stand-in's /flags is read below without credentials (no docker_config here).
        "mesos_agent_http_authentication": "auto",
    }
    first = host.roles(["mesos_agent"], variables)
    return host, variables, first


def test_package_services_masked_and_agent_owns_the_port(agent):
    host, first = agent[0], agent[2]
    assert first.rc == 0, first.output
    for unit in ("mesos-master", "mesos-slave"):
        assert host.sh("systemctl is-enabled %s.service || true" % unit).strip() == "masked", unit
        assert host.sh("systemctl is-active %s.service || true" % unit).strip() == "inactive", unit
    assert host.sh("systemctl is-active mesos-agent.service").strip() == "active"
    flags = json.loads(host.sh("python3 -c \"import urllib.request;print(urllib.request.urlopen("
                               "'http://127.0.0.1:5051/flags').read().decode())\""))["flags"]
    # The role's agent answers on 5051, with the dicts in Mesos's text form.
    assert flags["resources"] == "cpus:2;mem:512;ports:[31000-31099]", flags
    assert flags["attributes"] == "rack:r1;zone:a", flags


def test_second_run_changes_nothing(agent):
    host, variables = agent[:2]
    again = host.roles(["mesos_agent"], variables)
    assert again.rc == 0, again.output
    assert again.recap["changed"] == 0, "changed on the second run: %s\n%s" % (again.changed, again.output)


def test_agent_info_records_port_and_domain(agent):
    host = agent[0]
    record = json.loads(host.sh("cat /etc/mesos-agent/agent_info.json"))
    assert record["port"] == "5051" and record["domain"] == "", record
    assert record["resources"] == "cpus:2;mem:512;ports:[31000-31099]"


def test_record_from_before_port_and_domain_is_no_change(agent):
    host, variables = agent[:2]
    record = json.loads(host.sh("cat /etc/mesos-agent/agent_info.json"))
    older = {key: record[key] for key in ("hostname", "resources", "attributes")}
    host.sh("mkdir -p /var/lib/mesos/agent/meta/slaves && ln -sfn S-wt12-old /var/lib/mesos/agent/meta/slaves/latest")
    host.sh("echo '%s' > /etc/mesos-agent/agent_info.json" % json.dumps(older))
    run = host.roles(["mesos_agent"], variables)
    assert run.rc == 0, run.output
    assert "Announce an incompatible agent info change" not in " ".join(run.changed), run.output
    assert host.sh("readlink /var/lib/mesos/agent/meta/slaves/latest").strip() == "S-wt12-old"


def test_growth_keeps_the_agent_id_under_additive(agent):
    host, variables = agent[:2]
    # Whatever ID the agent runs with now (earlier tests may have pointed `latest` elsewhere): restart it cleanly.
    host.sh("rm -f /var/lib/mesos/agent/meta/slaves/latest && systemctl restart mesos-agent && sleep 3")
    before = host.sh("readlink /var/lib/mesos/agent/meta/slaves/latest").strip()
    assert before
    grown_flags = dict(variables["mesos_agent_flags"], resources={"cpus": 2, "mem": 1024, "ports": ["31000-31099"]})
    grown = dict(variables, mesos_agent_flags=grown_flags)
    run = host.roles(["mesos_agent"], grown)
    assert run.rc == 0, run.output
    assert "--reconfiguration_policy=additive accepts it" in run.output, run.output
    assert "Announce an incompatible agent info change" not in " ".join(run.changed), run.output
    assert host.sh("readlink /var/lib/mesos/agent/meta/slaves/latest").strip() == before
    assert host.sh("systemctl is-active mesos-agent").strip() == "active"


def test_port_change_is_announced_before_the_reset(agent):
    host, variables = agent[:2]
    host.sh("mkdir -p /var/lib/mesos/agent/meta/slaves && ln -sfn S-wt12-old /var/lib/mesos/agent/meta/slaves/latest")
    moved = dict(variables, mesos_agent_port=5052)
    run = host.roles(["mesos_agent"], moved)
    assert run.rc == 0, run.output
    out = run.output
    assert 'port: \\"5051\\" -> \\"5052\\"' in out or 'port: "5051" -> "5052"' in out, out
    assert "task container(s) running there" in out, out
    # Announced in the configure phase, before the handler that forgets the agent ID.
    forget = "RUNNING HANDLER [mesos.docker.mesos_agent : Forget the agent ID]"
    assert out.index("Announce an incompatible agent info change") < out.index(forget)
    # The old agent ID is gone (the restarted agent may have checkpointed a new one).
    assert host.sh("readlink /var/lib/mesos/agent/meta/slaves/latest || true").strip() != "S-wt12-old"
    record = json.loads(host.sh("cat /etc/mesos-agent/agent_info.json"))
    assert record["port"] == "5052"
