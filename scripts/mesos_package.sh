# shellcheck shell=bash
# The last two steps of finding a Mesos package for the README's commands (scripts/lib.sh has the
# first two: MESOS_PACKAGE, then ../shared/mesos/mesos_*.deb): the cached build, else a new build.
# Sourced after scripts/lib.sh (uses REPO, log and the venv's ansible-playbook). Needs Docker and
# the test bed's Debian base images (tests/testbed/testbed.sh up makes them).

# Where scripts keep the packages they build (the role's work directory; build trees are removed
# after packaging, downloads and stamps stay).
MESOS_PACKAGE_WORK_DIR=${MESOS_PACKAGE_WORK_DIR:-$REPO/.build/mesos-package}

# mesos_package_built_or_build [RELEASE]: prints the path of a Mesos package for Debian RELEASE
# (default bookworm): one built earlier by playbooks/mesos_package.yml, else one it builds now from
# MESOS_PACKAGE_SOURCE (default: the Apache Mesos source in ../shared/mesos/src/ when present, else
# the role's default, the final Apache release). Build output and progress go to stderr.
mesos_package_built_or_build() {
  local release=${1:-bookworm} number package source
  number=$(debian_release_number "$release") || {
    log "mesos_package_built_or_build: unknown Debian release '$release' ($(debian_releases))"
    return 1
  }
  package=$(find "$MESOS_PACKAGE_WORK_DIR/packages" -maxdepth 1 -name "mesos_*~${release}_*.deb" 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$package" ]; then
    log "using the Mesos package built earlier: $package"
    echo "$package"
    return 0
  fi

  source=${MESOS_PACKAGE_SOURCE:-}
  if [ -z "$source" ]; then
    source=$(find "$REPO/../shared/mesos/src" -maxdepth 1 -name 'mesos-*.tar.*' 2>/dev/null | sort | tail -n 1)
  fi
  log "no Mesos package for Debian $release found: building one from ${source:-the final Apache Mesos release}"
  log "with playbooks/mesos_package.yml. This takes a long time (about an hour on 2 cores); progress follows."
  local -a extra=(
    -e "mesos_package_debian_release=$release"
    -e "mesos_package_base_image=mesos-docker-testbed/debian$number:latest"
    -e "mesos_package_work_dir=$MESOS_PACKAGE_WORK_DIR"
    # The lab and the tests need a working Mesos, not a fast one: -O0 halves the build time.
    -e "mesos_package_cflags='-O0 -g0'"
    -e "mesos_package_cxxflags='-O0 -g0 -Wno-deprecated-declarations'"
  )
  [ -z "$source" ] || extra+=(-e "mesos_package_source=$source")
  ansible-playbook -i localhost, -c local "$REPO/playbooks/mesos_package.yml" \
    -e "ansible_python_interpreter=$VENV/bin/python" "${extra[@]}" >&2 || {
    log "building the Mesos package failed (see above)"
    return 1
  }
  package=$(find "$MESOS_PACKAGE_WORK_DIR/packages" -maxdepth 1 -name "mesos_*~${release}_*.deb" | sort -V | tail -n 1)
  [ -n "$package" ] || {
    log "playbooks/mesos_package.yml succeeded but left no mesos_*~${release}_*.deb in $MESOS_PACKAGE_WORK_DIR/packages"
    return 1
  }
  echo "$package"
}
