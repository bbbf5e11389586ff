"""The agent's and the master's flag tables against the REAL Mesos binaries of the package.

In a Debian 12 container with the package installed (``mesos_package_image``; its version is what
``mesos-agent --version`` prints, 1.12.0 for the shared package, 1.11.0 for a package of the final
release): the flag names and deprecated aliases ``mesos-master --help`` / ``mesos-agent --help`` list are
the tables' names and aliases of that version, except whole groups of build-conditional flags
(``CONDITIONAL_FLAGS``) whose configure option the package was built without; and ``/flags`` of a running
master / agent prints exactly the tables' defaults (prefix-dependent ones under the package's prefix) plus
the flags given.  And for flag sets the binary refuses (unknown name, bad value, a validator of flags.cpp,
a start-up check of master/main.cpp, a required flag), it exits non-zero printing the very message that
``master_flag_errors`` / ``agent_flag_errors`` give.  The commands and the expectations are those of
``flag_tables.py``, shared with the recorded output of ``test_flag_tables_recorded.py``.

Every container is ``docker run --rm``, named from ``name_prefix`` and labelled ``mesos-docker-test``.
"""
import re
import shlex
import subprocess
import uuid

import pytest

import flag_tables
from ansible_collections.mesos.docker.plugins.module_utils import _agent_flags as agent_flags
from ansible_collections.mesos.docker.plugins.module_utils import _master_flags as master_flags
from testbed_env import TEST_LABEL

PROGRAMS = flag_tables.PROGRAMS
FETCH = flag_tables.FETCH


def _docker_run(image, name, script):
    proc = subprocess.run(
        ["docker", "run", "--rm", "--name", name, "--label", "%s=%s" % (TEST_LABEL, name), image,
         "sh", "-c", script],
        capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, "%s failed (%d):\n%s\n%s" % (script, proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout


@pytest.fixture(scope="module")
def version(mesos_package_image):
    """The Mesos version of the package's binaries (``mesos-agent --version``)."""
    output = _docker_run(mesos_package_image, "mdt%s-version" % uuid.uuid4().hex[:8], "mesos-agent --version")
    return flag_tables.package_version(output)


@pytest.fixture(scope="module")
def real(mesos_package_image):
    """Per program: its ``--help`` entries, its ``/flags`` when started with RUNS, and the install prefix."""
    name = "mdt%s" % uuid.uuid4().hex[:8]
    found = {}
    for program in PROGRAMS:
        output = _docker_run(mesos_package_image, "%s-%s" % (name, program), flag_tables.probe_script(program))
        prefix, help_text, flags_json = flag_tables.parse_probe(output)
        found[program] = (flag_tables.help_entries(help_text), flag_tables.shown_flags(flags_json), prefix)
    return found


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_help_lists_exactly_the_tables_flags(real, version, program):
    entries = real[program][0]
    assert len(entries) > 50, "too few flags parsed from --help: %s" % sorted(entries)
    assert sorted(entries) == sorted(flag_tables.built_flags(program, set(entries), version))


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_help_lists_exactly_the_tables_aliases(real, version, program):
    entries = real[program][0]
    assert flag_tables.listed_aliases(entries) == flag_tables.expected_aliases(program, set(entries), version)


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_flags_endpoint_prints_the_tables_defaults(real, version, program):
    entries, shown, prefix = real[program]
    assert shown == flag_tables.expected_flags_endpoint(program, set(entries), prefix, version)


# Flags each refused by the real binary for one reason; the filters' message must be the binary's.
REFUSED = {
    "mesos-master": [
        {},
        {"work_dir": "/tmp/m", "registry": "etcd"},
        {"work_dir": "/tmp/m", "zk": "zk://127.0.0.1:2181/mesos"},
        {"registry": "in_memory", "ip": "127.0.0.1", "ip_discovery_command": "echo 127.0.0.1"},
        {"registry": "in_memory", "master_contender": "org_apache_mesos_Contender"},
        {"registry": "in_memory", "zk": "zk://127.0.0.1:2181/mesos", "master_detector": "org_apache_mesos_Detector"},
        {"registry": "in_memory", "modules": {"libraries": []}, "modules_dir": "/tmp"},
        {"registry": "in_memory", "agent_ping_timeout": "20mins"},
        {"registry": "in_memory", "slave_ping_timeout": "500ms"},
        {"registry": "in_memory", "max_agent_ping_timeouts": 0},
        {"registry": "in_memory", "registry_strict": True},
        {"registry": "in_memory", "domain": {}},
        {"registry": "in_memory", "wrok_dir": "/tmp/m"},
        {"registry": "in_memory", "quorum": "two"},
        {"registry": "in_memory", "no-quorum": None},
        {"registry": "in_memory", "fair_sharing_excluded_resource_names": "gpus,gpus"},
        {"registry": "in_memory", "offer_constraints_re2_max_mem": "1.5KB"},
    ],
    "mesos-agent": [
        {"master": "127.0.0.1:5050"},
        {"master": "127.0.0.1:5050", "work_dir": "/tmp/a", "docker_remove_delay": "soon"},
        {"master": "127.0.0.1:5050", "work_dir": "/tmp/a", "docker_kil_orphans": False},
    ],
}
ERRORS = {"mesos-master": master_flags.validate_flags, "mesos-agent": agent_flags.validate_flags}


@pytest.mark.parametrize("program", sorted(REFUSED))
def test_binary_refuses_with_the_filters_message(mesos_package_image, version, program):
    cases = REFUSED[program]
    expected = [ERRORS[program](flags, version) for flags in cases]
    assert [len(errors) for errors in expected] == [1] * len(cases), expected
    script = "".join(
        "timeout 60 %s %s >/tmp/out 2>&1; echo \"==CASE %d rc=$?\"; cat /tmp/out\n" % (
            program, " ".join(shlex.quote(arg) for arg in _arguments(flags)), index)
        for index, flags in enumerate(cases))
    output = _docker_run(mesos_package_image, "mdt%s-refused" % uuid.uuid4().hex[:8], script)
    results = dict((int(index), (int(rc), text)) for index, rc, text in
                   re.findall(r"^==CASE (\d+) rc=(\d+)\n(.*?)(?=^==CASE |\Z)", output, re.S | re.M))
    wrong = []
    for index, flags in enumerate(cases):
        rc, text = results[index]
        if rc in (0, 124) or expected[index][0] not in text:
            wrong.append((flags, expected[index][0], rc, text[:400]))
    assert wrong == []


def _arguments(flags):
    """``--name=value``, ``--name`` for a None value (as the filters read None)."""
    return ["--%s" % name if value is None else "--%s=%s" % (name, agent_flags.render_value(value))
            for name, value in sorted(flags.items())]


def test_empty_work_dir_passes_the_filter_and_the_real_master_keeps_its_log_in_the_root(mesos_package_image, version):
    """Why callers (the mesos_master role) must refuse an empty work_dir themselves."""
    flags = {"ip": "127.0.0.1", "work_dir": ""}
    assert master_flags.validate_flags(flags, version) == []
    script = (
        "cd /tmp; mesos-master %s >/tmp/run.log 2>&1 & "
        "python3 -c %s http://127.0.0.1:5050/health >/dev/null || { cat /tmp/run.log; exit 1; }; "
        "for i in $(seq 1 40); do [ -d /replicated_log ] && break; sleep 0.5; done; ls -d /replicated_log"
    ) % (" ".join(shlex.quote(arg) for arg in _arguments(flags)), shlex.quote(FETCH))
    output = _docker_run(mesos_package_image, "mdt%s-emptywd" % uuid.uuid4().hex[:8], script)
    assert output.splitlines()[-1] == "/replicated_log"
