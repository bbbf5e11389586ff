"""What the real ``mesos-master`` / ``mesos-agent`` say about their flags, and what the flag tables expect.

Shared by ``test_flag_tables_real.py`` (the binaries of the package under test, run now),
``test_flag_tables_recorded.py`` (their output recorded in ``fixtures/mesos-flags/<version>/``) and
``record_mesos_flags.py`` (which records it): the same commands, the same parsing, the same expectations.
"""
import json
import re
import shlex

from ansible_collections.mesos.docker.plugins.module_utils import _agent_flags as agent_flags
from ansible_collections.mesos.docker.plugins.module_utils import _master_flags as master_flags

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
# Separators of the output of probe_script().
HELP_MARK = "\n==HELP==\n"
FLAGS_MARK = "\n==FLAGS==\n"


def probe_script(program):
    """Shell script for a container with the package: the program's real path, ``--help``, then the
    ``/flags`` of the program started with RUNS (its log when it does not answer)."""
    port, given = RUNS[program]
    args = " ".join(shlex.quote(arg) for arg in agent_flags.cmdline(given))
    return (
        "set -e; readlink -f /usr/sbin/%(program)s; echo ==HELP==; %(program)s --help; echo ==FLAGS==; "
        "%(program)s %(args)s >/tmp/run.log 2>&1 & "
        "python3 -c %(fetch)s http://127.0.0.1:%(port)d/flags || { cat /tmp/run.log; exit 1; }"
    ) % dict(program=program, args=args, port=port, fetch=shlex.quote(FETCH))


def parse_probe(output):
    """probe_script() output -> (install prefix, ``--help`` text, ``/flags`` JSON text)."""
    binary, rest = output.split(HELP_MARK, 1)
    help_text, flags_json = rest.split(FLAGS_MARK, 1)
    # /opt/mesos/sbin/mesos-master -> /opt/mesos
    return binary.strip().rsplit("/", 2)[0], help_text, flags_json


def help_entries(text):
    """``--help`` text -> {flag: [aliases]}."""
    entries = {}
    for match in HELP_ENTRY.finditer(text):
        names = HELP_NAME.findall(match.group(1))
        entries[names[0]] = names[1:]
    return entries


def shown_flags(flags_json):
    """``/flags`` JSON text -> {flag: value}."""
    return json.loads(flags_json)["flags"]


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


def built_flags(program, help_names, version):
    """The table's flags of ``version``, without the build-conditional groups the binary lacks whole."""
    flags_for_version, _aliases, conditional, _prefixed, _prefix = PROGRAMS[program]
    table = flags_for_version(version)
    absent = _absent_groups(set(table), help_names, conditional)
    return dict((name, spec) for name, spec in table.items() if conditional.get(name) not in absent)


def expected_aliases(program, help_names, version):
    """alias -> flag, as the table has them for the flags the binary was built with."""
    aliases = PROGRAMS[program][1](version)
    built = built_flags(program, help_names, version)
    return dict((alias, flag) for alias, flag in aliases.items() if flag in built)


def listed_aliases(entries):
    return dict((alias, flag) for flag, aliases in entries.items() for alias in aliases)


def expected_flags_endpoint(program, help_names, prefix, version):
    """What ``/flags`` of the program started with RUNS prints by the tables: the defaults (those under
    the prefix moved to the package's prefix) plus the flags given, as loaded."""
    _flags, _aliases, _conditional, prefixed, default_prefix = PROGRAMS[program]
    expected = {}
    for name, spec in built_flags(program, help_names, version).items():
        if spec.default is None:
            continue
        default = spec.default
        if name in prefixed:
            assert default.startswith(default_prefix + "/"), name
            default = prefix + default[len(default_prefix):]
        expected[name] = default
    table = PROGRAMS[program][0](version)
    for name, value in RUNS[program][1].items():
        expected[name] = agent_flags.load_value(table[name].type, agent_flags.render_value(value))[1]
    return expected


def package_version(text):
    """``mesos 1.11.0`` (what ``--version`` prints) -> ``1.11.0``."""
    match = re.match(r"^mesos (\d+\.\d+\.\d+)\s*$", text)
    assert match, "not the output of mesos-agent --version: %r" % text
    return match.group(1)
