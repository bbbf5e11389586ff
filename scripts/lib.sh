# shellcheck shell=bash
# Shared by scripts/lab.sh and scripts/test.sh: make this machine ready, idempotently.
# Sourced, not run. Needs root on Debian (apt-get).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=$REPO/.venv
export ANSIBLE_COLLECTIONS_PATH=$REPO/.build/collections
export PATH=$VENV/bin:$PATH

log() { printf '[mesos.docker] %s\n' "$*" >&2; }

# The Debian releases (codename: version number) the collection builds Mesos packages for: the one table.
DEBIAN_RELEASES_FILE=$REPO/roles/mesos_package/files/debian_releases.yml
# debian_release_number CODENAME: prints its version number (12 for bookworm); fails for a codename not in the table.
debian_release_number() {
  awk -F': *' -v codename="$1" '$1 == codename { print $2; found = 1 } END { exit !found }' "$DEBIAN_RELEASES_FILE"
}
# debian_releases: the codenames of the table, for messages ("bullseye, bookworm, trixie").
debian_releases() {
  awk -F: '/^[a-z]/ { printf "%s%s", sep, $1; sep = ", " } END { print "" }' "$DEBIAN_RELEASES_FILE"
}

# The collection as Ansible finds it: .build/collections/ansible_collections/mesos/docker -> the repo.
link_collection() {
  local link=$REPO/.build/collections/ansible_collections/mesos/docker
  mkdir -p "$(dirname "$link")"
  [ -L "$link" ] || ln -sfn "$REPO" "$link"
}

# A venv with the pinned requirements; reinstalled only when the requirements change.
ensure_venv() {
  if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    log "installing python3-venv from Debian"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  local want have=""
  want=$(cat "$REPO/requirements.txt" "$REPO/requirements-test.txt" | sha256sum | cut -c1-16)
  [ -f "$VENV/.requirements" ] && have=$(cat "$VENV/.requirements")
  if [ "$want" != "$have" ] || [ ! -x "$VENV/bin/python" ]; then
    log "creating the venv $VENV"
    python3 -m venv "$VENV"
    mkdir -p "$REPO/.build"
    if ! "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REPO/requirements-test.txt" \
        >"$REPO/.build/pip-install.log" 2>&1; then
      tail -n 40 "$REPO/.build/pip-install.log" >&2
      log "pip install failed (full log: .build/pip-install.log)"
      return 1
    fi
    echo "$want" >"$VENV/.requirements"
  fi
  link_collection
}

# The Mesos package the lab and the tests install, in this order: MESOS_PACKAGE (a path),
# the newest ../shared/mesos/mesos_*.deb beside the repository, the package
# playbooks/mesos_package.yml built earlier, a package it builds now (long; needs the test
# bed's Docker and images). find_mesos_package does the first two: 0 and MESOS_PACKAGE
# exported (absolute) when found, 1 when there is none, 2 when MESOS_PACKAGE is set but no file.
find_mesos_package() {
  local shared newest=""
  shared=$(cd "$REPO/.." && pwd)/shared/mesos
  if [ -n "${MESOS_PACKAGE:-}" ]; then
    [ -f "$MESOS_PACKAGE" ] || { log "MESOS_PACKAGE=$MESOS_PACKAGE is not a file (expected a Mesos .deb)"; return 2; }
  else
    newest=$(ls -1 "$shared"/mesos_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$newest" ]; then
      log "no Mesos package in MESOS_PACKAGE or at $shared/mesos_<version>_amd64.deb"
      return 1
    fi
    MESOS_PACKAGE=$newest
  fi
  MESOS_PACKAGE=$(cd "$(dirname "$MESOS_PACKAGE")" && pwd)/$(basename "$MESOS_PACKAGE")
  export MESOS_PACKAGE
  log "Mesos package: $MESOS_PACKAGE"
}

# ensure_mesos_package: all four steps; after testbed_up.
ensure_mesos_package() {
  local found=0
  find_mesos_package || found=$?
  [ "$found" = 0 ] && return 0
  [ "$found" = 1 ] || return 1
  # shellcheck source=scripts/mesos_package.sh
  source "$REPO/scripts/mesos_package.sh"
  MESOS_PACKAGE=$(mesos_package_built_or_build bookworm) || {
    log "no Mesos package: set MESOS_PACKAGE to a Mesos .deb for Debian 12"
    return 1
  }
  export MESOS_PACKAGE
  log "Mesos package: $MESOS_PACKAGE"
}

testbed_up() { "$REPO/tests/testbed/testbed.sh" up; }
testbed_down() { "$REPO/tests/testbed/testbed.sh" down || true; }

# scripts/test.sh without arguments: pytest in two lanes at once, the tests marked real_mesos in
# the background (their output to .build/test-real-mesos.log, printed when both lanes have ended)
# and the others in the foreground. Returns 0 when both lanes pass.
REAL_MESOS_LANE_PID=""
pytest_in_two_lanes() {
  local log_file=$REPO/.build/test-real-mesos.log rest=0 real_mesos=0
  mkdir -p "$REPO/.build"
  log "tests with real Mesos run beside the others; their output: $log_file (printed at the end)"
  pytest -p no:cacheprovider --durations=10 -m real_mesos >"$log_file" 2>&1 &
  REAL_MESOS_LANE_PID=$!
  pytest -p no:cacheprovider --durations=10 -m "not real_mesos" || rest=$?
  wait "$REAL_MESOS_LANE_PID" || real_mesos=$?
  REAL_MESOS_LANE_PID=""
  log "the real-Mesos lane (pytest -m real_mesos):"
  cat "$log_file"
  log "exit status: real-Mesos lane $real_mesos, the other lane $rest"
  [ "$rest" = 0 ] && [ "$real_mesos" = 0 ]
}

# For an EXIT trap: stops the background lane of a run that was interrupted.
stop_test_lanes() {
  if [ -n "$REAL_MESOS_LANE_PID" ]; then
    kill "$REAL_MESOS_LANE_PID" 2>/dev/null || true
  fi
}
