"""The agent's and the master's flag tables against the REAL Mesos 1.12 binaries of the package.

In a Debian 12 container with the package installed (``mesos_package_image``): the flag names and
deprecated aliases ``mesos-master --help`` / ``mesos-agent --help`` list are the tables' 1.12 names
and aliases, except whole groups of build-conditional flags (``CONDITIONAL_FLAGS``) whose configure
option the package was built without; and ``/flags`` of a running master / agent prints exactly the
tables' defaults (prefix-dependent ones under the package's prefix) plus the flags given.  And for
flag sets the binary refuses (unknown name, bad value, a validator of flags.cpp, a start-up check of
master/main.cpp, a required flag), it exits non-zero printing the very message that
``master_flag_errors`` / ``agent_flag_errors`` give.

Every container is ``docker run --rm``, named from ``name_prefix`` and labelled ``mesos-docker-test``.
"""
import json
import re
import shlex
import subprocess
import uuid

import pytest

from ansible_collections.mesos.docker.plugins.module_utils import _agent_flags as agent_flags
from ansible_collections.mesos.docker.plugins.module_utils import _master_flags as master_flags

VERSION = "1.12.0"
TEST_LABEL = "mesos-docker-test"
# One help entry: "  --[no-]name, --[no-]alias  text" or "  --name=VALUE, --alias=VALUE  text".
HELP_ENTRY = re.compile(r"^  (--[^\s,]+(?:, --[^\s,]+)*)\s", re.M)
HELP_NAME = re.compile(r"--(?:\[no-\])?([a-z0-9_]+)")
# Polls an endpoint from inside the container (the image has python3, no curl).
FETCH = ("import sys, time, urllib.request\n"
         "for attempt in range(120):\n"
         "    try:\n"
         "        sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()); break\n"
         "    except Exception:\n"
         "        time.sleep(0.5)\n"
         "else:\n"
         "    sys.exit('no answer from ' + sys.argv[1])\n")

PROGRAMS = {
    "mesos-master": (master_flags.flags_for_version, master_flags.aliases_for_version,
                     master_flags.CONDITIONAL_FLAGS, master_flags.PREFIX_DEPENDENT_DEFAULTS,
                     master_flags.DEFAULT_PREFIX),
    "mesos-agent": (agent_flags.flags_for_version, agent_flags.aliases_for_version,
                    agent_flags.CONDITIONAL_FLAGS, agent_flags.PREFIX_DEPENDENT_DEFAULTS,
                    agent_flags.DEFAULT_PREFIX),
}
# What each program is started with to answer /flags (its port and the flags given).
RUNS = {
    "mesos-master": (5050, {"ip": "127.0.0.1", "work_dir": "/tmp/m", "registry": "in_memory"}),
    # posix launcher, no systemd: a plain container has neither writable cgroups nor systemd.
    # No master runs: the agent answers /flags while it keeps trying to find one.
    "mesos-agent": (5051, {"master": "127.0.0.1:5050", "work_dir": "/tmp/a", "launcher": "posix",
                           "systemd_enable_support": False}),
}


def _docker_run(image, name, script):
    proc = subprocess.run(
        ["docker", "run", "--rm", "--name", name, "--label", "%s=%s" % (TEST_LABEL, name), image,
         "sh", "-c", script],
        capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, "%s failed (%d):\n%s\n%s" % (script, proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout


def _help_entries(text):
    """``--help`` text -> {flag: [aliases]}."""
    entries = {}
    for match in HELP_ENTRY.finditer(text):
        names = HELP_NAME.findall(match.group(1))
        entries[names[0]] = names[1:]
    return entries


@pytest.fixture(scope="module")
def real(mesos_package_image):
    """Per program: its ``--help`` entries, its ``/flags`` when started with RUNS, and the install prefix."""
    name = "mdt%s" % uuid.uuid4().hex[:8]
    found = {}
    for program in PROGRAMS:
        port, given = RUNS[program]
        args = " ".join(shlex.quote(arg) for arg in agent_flags.cmdline(given))
        script = (
            "set -e; readlink -f /usr/sbin/%(program)s; echo ==HELP==; %(program)s --help; echo ==FLAGS==; "
            "%(program)s %(args)s >/tmp/run.log 2>&1 & "
            "python3 -c %(fetch)s http://127.0.0.1:%(port)d/flags || { cat /tmp/run.log; exit 1; }"
        ) % dict(program=program, args=args, port=port,
                 fetch=shlex.quote(FETCH))
        output = _docker_run(mesos_package_image, "%s-%s" % (name, program), script)
        binary, rest = output.split("\n==HELP==\n", 1)
        help_text, flags_json = rest.split("\n==FLAGS==\n", 1)
        # /opt/mesos/sbin/mesos-master -> /opt/mesos
        prefix = binary.strip().rsplit("/", 2)[0]
        found[program] = (_help_entries(help_text), json.loads(flags_json)["flags"], prefix)
    return found


def _absent_groups(table_names, help_names, conditional):
    """Configure options whose flags are all missing from --help; fails on a group only half there."""
    groups = {}
    for flag, option in conditional.items():
        if flag in table_names:
            groups.setdefault(option, set()).add(flag)
    absent = set()
    for option, flags in groups.items():
        missing = flags - help_names
        assert missing in (set(), flags), "%s: only part of its flags listed, missing %s" % (option, sorted(missing))
        if missing:
            absent.add(option)
    return absent


def _built_flags(program, help_names):
    flags_for_version, _aliases, conditional, _prefixed, _prefix = PROGRAMS[program]
    table = flags_for_version(VERSION)
    absent = _absent_groups(set(table), help_names, conditional)
    return dict((name, spec) for name, spec in table.items() if conditional.get(name) not in absent)


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_help_lists_exactly_the_tables_flags(real, program):
    entries = real[program][0]
    assert len(entries) > 50, "too few flags parsed from --help: %s" % sorted(entries)
    assert sorted(entries) == sorted(_built_flags(program, set(entries)))


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_help_lists_exactly_the_tables_aliases(real, program):
    entries = real[program][0]
    listed = dict((alias, flag) for flag, aliases in entries.items() for alias in aliases)
    aliases = PROGRAMS[program][1](VERSION)
    built = _built_flags(program, set(entries))
    assert listed == dict((alias, flag) for alias, flag in aliases.items() if flag in built)


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_flags_endpoint_prints_the_tables_defaults(real, program):
    entries, shown, prefix = real[program]
    _flags, _aliases, _conditional, prefixed, default_prefix = PROGRAMS[program]
    expected = {}
    for name, spec in _built_flags(program, set(entries)).items():
        if spec.default is None:
            continue
        default = spec.default
        if name in prefixed:
            assert default.startswith(default_prefix + "/"), name
            default = prefix + default[len(default_prefix):]
        expected[name] = default
    table = PROGRAMS[program][0](VERSION)
    for name, value in RUNS[program][1].items():
        expected[name] = agent_flags.load_value(table[name].type, agent_flags.render_value(value))[1]
    assert shown == expected


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
def test_binary_refuses_with_the_filters_message(mesos_package_image, program):
    cases = REFUSED[program]
    expected = [ERRORS[program](flags, VERSION) for flags in cases]
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


def test_empty_work_dir_passes_the_filter_and_the_real_master_keeps_its_log_in_the_root(mesos_package_image):
    """Why callers (the mesos_master role) must refuse an empty work_dir themselves."""
    flags = {"ip": "127.0.0.1", "work_dir": ""}
    assert master_flags.validate_flags(flags, VERSION) == []
    script = (
        "cd /tmp; mesos-master %s >/tmp/run.log 2>&1 & "
        "python3 -c %s http://127.0.0.1:5050/health >/dev/null || { cat /tmp/run.log; exit 1; }; "
        "for i in $(seq 1 40); do [ -d /replicated_log ] && break; sleep 0.5; done; ls -d /replicated_log"
    ) % (" ".join(shlex.quote(arg) for arg in _arguments(flags)), shlex.quote(FETCH))
    output = _docker_run(mesos_package_image, "mdt%s-emptywd" % uuid.uuid4().hex[:8], script)
    assert output.splitlines()[-1] == "/replicated_log"
