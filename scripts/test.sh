#!/usr/bin/env bash
# Runs every test of mesos.docker: lint and sanity, unit tests, the stand-in agent,
# integration tests on the real Docker engine and registry, real Mesos, molecule scenarios.
# Installs what it needs, starts the test bed, and tears down what it started.
# Extra arguments go to pytest (e.g. `scripts/test.sh tests/unit -k image`).
source "$(dirname "$0")/lib.sh"
cd "$REPO" || exit 1
# A MESOS_PACKAGE that is no file stops here, before anything is installed.
find_mesos_package || [ $? = 1 ] || exit 1
ensure_venv
# The session lists what this run's `up` starts; its `down` stops only that, so a lab that
# scripts/lab.sh left running (its dockerd, registry and hosts) is still running afterwards.
TESTBED_SESSION=$(mktemp "${TMPDIR:-/tmp}/mesos-docker-testbed-session.XXXXXX")
export TESTBED_SESSION
# An interrupted run stops its background lane before the test bed goes down.
trap 'stop_test_lanes; testbed_down' EXIT
testbed_up
ensure_mesos_package
if [ $# -gt 0 ]; then
  pytest -p no:cacheprovider "$@"
  exit
fi
# Without arguments: everything under tests/, in two lanes at once, each in the order of
# tests/conftest.py's RUN_ORDER. Most of the time goes to waiting (apt, pulls, agents starting
# and registering), so two lanes fit 2 cores: the tests that run real Mesos masters and agents
# (marker real_mesos: molecule scenarios, agents in containers, the real cluster) in one, the
# rest (unit, roles, lint, the modules on the real engine and registry) in the other.
pytest_in_two_lanes
