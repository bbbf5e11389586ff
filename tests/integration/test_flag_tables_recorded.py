"""The flag tables against what the real Mesos binaries of a release printed, recorded in the repository.

``fixtures/mesos-flags/<version>/`` holds ``mesos-master --help``, ``mesos-agent --help`` and the
``/flags`` of each started as ``flag_tables.RUNS`` says, recorded from the binaries of a package of that
release by ``record_mesos_flags.py`` (``recorded.json`` names the package, its sha256 and the command).
The checks are those of ``test_flag_tables_real.py`` (shared in ``flag_tables.py``): every flag and alias
``--help`` lists is in the tables of that version and the tables have nothing more (but whole
build-conditional groups the package was built without), and ``/flags`` prints the tables' defaults.
Nothing here needs Docker or the package: the README test command checks the tables of every recorded release.
Recorded: 1.12.0 (the shared package, apache/mesos c1b42f7). Not yet 1.11.0: no package of it was built in the
session that wrote this (its build was starved of CPU); record it with
``.venv/bin/python tests/integration/record_mesos_flags.py mesos_1.11.0~bookworm_amd64.deb`` and add it to RECORDED.
"""
import json
import os

import pytest

import flag_tables

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "mesos-flags")
# Releases whose binaries were recorded; a directory without its test, or the reverse, fails below.
RECORDED = ("1.12.0",)


def _read(version, name):
    with open(os.path.join(FIXTURES, version, name)) as handle:
        return handle.read()


def _recorded(version):
    return json.loads(_read(version, "recorded.json"))


def test_every_recorded_release_is_checked():
    assert sorted(os.listdir(FIXTURES)) == sorted(RECORDED)


@pytest.mark.parametrize("version", RECORDED)
def test_recording_is_of_that_release(version):
    recorded = _recorded(version)
    assert recorded["version"] == version
    assert recorded["package"].startswith("mesos_%s~" % version), recorded["package"]
    # The recorded commands are today's: a change to flag_tables.probe_script() means recording again.
    assert recorded["probe"] == dict((program, flag_tables.probe_script(program)) for program in flag_tables.PROGRAMS)


@pytest.mark.parametrize("program", sorted(flag_tables.PROGRAMS))
@pytest.mark.parametrize("version", RECORDED)
def test_help_lists_exactly_the_tables_flags(version, program):
    entries = flag_tables.help_entries(_read(version, program + ".help"))
    assert len(entries) > 50, "too few flags parsed from --help: %s" % sorted(entries)
    assert sorted(entries) == sorted(flag_tables.built_flags(program, set(entries), version))


@pytest.mark.parametrize("program", sorted(flag_tables.PROGRAMS))
@pytest.mark.parametrize("version", RECORDED)
def test_help_lists_exactly_the_tables_aliases(version, program):
    entries = flag_tables.help_entries(_read(version, program + ".help"))
    assert flag_tables.listed_aliases(entries) == flag_tables.expected_aliases(program, set(entries), version)


@pytest.mark.parametrize("program", sorted(flag_tables.PROGRAMS))
@pytest.mark.parametrize("version", RECORDED)
def test_flags_endpoint_prints_the_tables_defaults(version, program):
    entries = flag_tables.help_entries(_read(version, program + ".help"))
    shown = flag_tables.shown_flags(_read(version, program + ".flags.json"))
    prefix = _recorded(version)["prefix"]
    assert shown == flag_tables.expected_flags_endpoint(program, set(entries), prefix, version)
