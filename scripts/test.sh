#!/usr/bin/env bash
# Runs every test of mesos.docker: lint and sanity, unit tests, the stand-in agent,
# integration tests on the real Docker engine and registry, molecule scenarios.
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
trap testbed_down EXIT
testbed_up
ensure_mesos_package
# Without arguments: everything under tests/, in the order of tests/conftest.py's RUN_ORDER.
pytest -p no:cacheprovider "$@"
