#!/usr/bin/env bash
# The main job: provision a local lab of docker-enabled Mesos agents with playbooks/site.yml.
# Installs what it needs (venv, Docker engine, images, registry) and leaves the lab running.
# Extra arguments go to ansible-playbook (e.g. `scripts/lab.sh --check --diff`).
source "$(dirname "$0")/lib.sh"
cd "$REPO" || exit 1
# A MESOS_PACKAGE that is no file stops here, before anything is installed.
find_mesos_package || [ $? = 1 ] || exit 1
ensure_venv
testbed_up
ensure_mesos_package
# lab.yml makes three systemd hosts as containers, runs site.yml on them, prints each
# agent's effective flags and runs a smoke task on each host's Docker.
ansible-playbook -i lab/inventory.yml playbooks/lab.yml "$@"
