#!/usr/bin/env bash
# Builds a Mesos .deb inside the build container of one Debian release.
#
#   build.sh STOP_AFTER      (patch | bootstrap | configure | make | package)
#
# /build is the build's work directory (a bind mount): src/ holds the extracted source; this script
# writes obj/ (the out-of-tree build), root/ (the package's files), out/ (the .deb) and, for the
# progress display on the Docker host, stage (the current stage), make.total (how many files `make`
# compiles), make.log, build.log (this script's output) and exit-status. /recipe (read-only) holds
# this script and the patches.
# Each finished stage leaves a stamp in /build/stamps, so a re-run resumes where the last one stopped.
#
# Settings come from the environment (set by the role): MESOS_PACKAGE_PATCHES (space-separated
# file names under /recipe/patches), MESOS_PACKAGE_PREFIX, MESOS_PACKAGE_CONFIGURE_OPTIONS,
# MESOS_PACKAGE_CFLAGS, MESOS_PACKAGE_CXXFLAGS, MESOS_PACKAGE_JOBS (0: one per core),
# MESOS_PACKAGE_VERSION, MESOS_PACKAGE_CODENAME, MESOS_PACKAGE_MAINTAINER, MESOS_PACKAGE_FLAVOUR
# (empty, or "tls" for a build with libprocess TLS: Version <version>~<codename>+tls).
set -euo pipefail

STOP_AFTER=${1:-package}
STAGES=(patch bootstrap configure make package)
BUILD=/build
SRC=$BUILD/src
OBJ=$BUILD/obj
ROOT=$BUILD/root
OUT=$BUILD/out
STAMPS=$BUILD/stamps
PREFIX=${MESOS_PACKAGE_PREFIX:?}
JOBS=${MESOS_PACKAGE_JOBS:-0}
[ "$JOBS" -gt 0 ] || JOBS=$(nproc)

# What an agent and a master need, and libmesos under them.
SBIN_PROGRAMS=(mesos-master mesos-agent)
BIN_PROGRAMS=(mesos-execute)
LIBEXEC_PROGRAMS=(mesos-docker-executor mesos-executor mesos-containerizer mesos-fetcher
  mesos-logrotate-logger mesos-io-switchboard mesos-default-executor mesos-tcp-connect)

fail() {
  echo "mesos_package: $*" >&2
  exit 1
}

# Runs a make step with silent rules, so that each compiled file is one "  CXX  <file>" line
# in make.log, which the progress display counts.
run_make() {
  make V=0 -j"$JOBS" "$@" >>"$BUILD/make.log" 2>&1 || {
    tail -n 60 "$BUILD/make.log" >&2
    fail "make $* failed (log: make.log in the build directory)"
  }
}

# How many files `make ARGS...` compiles: the distinct objects of the compile lines of a dry run
# (recursive makes run under -n too; -k lists what it can where a prerequisite does not exist yet).
count_compiles() {
  { make -n -k V=0 "$@" 2>/dev/null || true; } | sed -n 's/^echo "  \(CXX\|CC\) *" \([^;]*\);.*/\2/p' | sort -u | wc -l
}

# Files compiled so far: the "  CXX  <file>" lines of make.log.
compiled_so_far() {
  grep -cE '^  (CXX|CC) ' "$BUILD/make.log" || true
}

# The generated protobuf/gRPC sources of src/ (its BUILT_SOURCES), which only `make all` builds.
built_sources() {
  printf 'print-built-sources:\n\t@echo $(BUILT_SOURCES)\n' |
    make -s -C "$OBJ/src" -f Makefile -f - print-built-sources
}

stage_patch() {
  local patch
  for patch in ${MESOS_PACKAGE_PATCHES:-}; do
    echo "applying $patch"
    patch -d "$SRC" -p1 --forward --batch <"/recipe/patches/$patch" ||
      fail "the patch $patch does not apply to this source (see its header for what it changes)"
  done
}

stage_bootstrap() {
  (cd "$SRC" && ./bootstrap)
}

stage_configure() {
  mkdir -p "$OBJ"
  local -a options
  read -r -a options <<<"${MESOS_PACKAGE_CONFIGURE_OPTIONS:-}"
  (cd "$OBJ" && "$SRC/configure" --prefix="$PREFIX" "${options[@]}" \
    CFLAGS="${MESOS_PACKAGE_CFLAGS:-}" CXXFLAGS="${MESOS_PACKAGE_CXXFLAGS:-}") || {
    [ -f "$OBJ/config.log" ] && grep -B2 -A10 -m1 'configure: error' "$OBJ/config.log" >&2 || true
    fail "configure failed (log: obj/config.log in the build directory)"
  }
}

stage_make() {
  ALL_PROGRAMS=("${SBIN_PROGRAMS[@]}" "${BIN_PROGRAMS[@]}" "${LIBEXEC_PROGRAMS[@]}")
  local sources
  sources=$(built_sources) || fail "cannot list the generated sources (BUILT_SOURCES) of obj/src/Makefile"
  read -r -a BUILT_SOURCES <<<"$sources"
  : >"$BUILD/make.log"
  # A first estimate: the sources generated from protobuf files are not there yet to be counted.
  echo $(($(count_compiles -C "$OBJ/3rdparty") + $(count_compiles -C "$OBJ/src" "${ALL_PROGRAMS[@]}"))) >"$BUILD/make.total"
  run_make -C "$OBJ/3rdparty"
  run_make -C "$OBJ/src" "${BUILT_SOURCES[@]}"
  # Exact from here on.
  echo $(($(compiled_so_far) + $(count_compiles -C "$OBJ/src" "${ALL_PROGRAMS[@]}"))) >"$BUILD/make.total"
  run_make -C "$OBJ/src" "${ALL_PROGRAMS[@]}"
}

# The files an ELF program loads from the build tree: the program itself under src/, or
# libtool's real binary under src/.libs/ when the build made wrapper scripts.
built_program() {
  local name=$1
  if [ -f "$OBJ/src/.libs/$name" ]; then
    echo "$OBJ/src/.libs/$name"
  else
    echo "$OBJ/src/$name"
  fi
}

# Depends: from the libraries the binaries load, as dpkg-shlibdeps computes it (shlibs and
# symbols files of the Debian packages that own them). libmesos is in this package and has no such
# information, hence --ignore-missing-info; a library that no file provides still fails.
compute_depends() {
  local work=$BUILD/shlibdeps
  rm -rf "$work" && mkdir -p "$work/debian"
  printf 'Source: mesos\n\nPackage: mesos\nArchitecture: any\n' >"$work/debian/control"
  (cd "$work" && dpkg-shlibdeps -O --ignore-missing-info -l"$ROOT$PREFIX/lib" \
    "$ROOT$PREFIX"/sbin/* "$ROOT$PREFIX"/bin/* "$ROOT$PREFIX"/libexec/mesos/* "$ROOT$PREFIX"/lib/libmesos-*.so) |
    sed -n 's/^shlibs:Depends=//p'
}

stage_package() {
  local version=${MESOS_PACKAGE_VERSION:?} codename=${MESOS_PACKAGE_CODENAME:?} arch program lib
  local flavour=${MESOS_PACKAGE_FLAVOUR:+"+$MESOS_PACKAGE_FLAVOUR"} features=""
  [ "${MESOS_PACKAGE_FLAVOUR:-}" != tls ] ||
    features=" With libprocess TLS (--enable-ssl, libevent): LIBPROCESS_SSL_ENABLED=true turns it on."
  arch=$(dpkg --print-architecture)
  rm -rf "$ROOT" "$OUT"
  mkdir -p "$ROOT$PREFIX"/{sbin,bin,lib,libexec/mesos,share/mesos} "$ROOT/usr/sbin" "$ROOT/usr/bin" "$OUT"
  for program in "${SBIN_PROGRAMS[@]}"; do install -m 0755 "$(built_program "$program")" "$ROOT$PREFIX/sbin/"; done
  for program in "${BIN_PROGRAMS[@]}"; do install -m 0755 "$(built_program "$program")" "$ROOT$PREFIX/bin/"; done
  for program in "${LIBEXEC_PROGRAMS[@]}"; do install -m 0755 "$(built_program "$program")" "$ROOT$PREFIX/libexec/mesos/"; done
  lib=$(find "$OBJ/src/.libs" -maxdepth 1 -type f -name 'libmesos-*.so' | head -n 1)
  [ -n "$lib" ] || fail "no libmesos-*.so in obj/src/.libs: the make stage did not finish"
  install -m 0644 "$lib" "$ROOT$PREFIX/lib/"
  ln -s "$(basename "$lib")" "$ROOT$PREFIX/lib/libmesos.so"
  cp -r "$SRC/src/webui" "$ROOT$PREFIX/share/mesos/webui"
  # The compiled-in defaults of --launcher_dir and --webui_dir point under PREFIX; the binaries
  # find libmesos there instead of in the build tree.
  for program in "$ROOT$PREFIX"/sbin/* "$ROOT$PREFIX"/bin/* "$ROOT$PREFIX"/libexec/mesos/* "$ROOT$PREFIX"/lib/libmesos-*.so; do
    patchelf --set-rpath "$PREFIX/lib" "$program"
    strip --strip-unneeded "$program"
  done
  ln -s "$PREFIX/sbin/mesos-master" "$ROOT/usr/sbin/mesos-master"
  ln -s "$PREFIX/sbin/mesos-agent" "$ROOT/usr/sbin/mesos-agent"
  ln -s "$PREFIX/sbin/mesos-agent" "$ROOT/usr/sbin/mesos-slave"
  ln -s "$PREFIX/bin/mesos-execute" "$ROOT/usr/bin/mesos-execute"
  local depends size
  depends=$(compute_depends)
  [ -n "$depends" ] || fail "dpkg-shlibdeps found no dependencies: the binaries are not dynamically linked?"
  size=$(du -sk "$ROOT" | cut -f1)
  mkdir -p "$ROOT/DEBIAN"
  cat >"$ROOT/DEBIAN/control" <<EOF
Package: mesos
Version: $version~$codename$flavour
Architecture: $arch
Maintainer: ${MESOS_PACKAGE_MAINTAINER:-mesos.docker <root@localhost>}
Installed-Size: $size
Depends: $depends
Section: admin
Priority: optional
Homepage: https://mesos.apache.org/
Description: Apache Mesos cluster manager (master, agent, executors)
 Built from the Apache Mesos source for Debian $codename with Debian's own libraries
 by the mesos.docker.mesos_package role. Files under $PREFIX; mesos-master,
 mesos-agent (and mesos-slave) in /usr/sbin, mesos-execute in /usr/bin.
 No service units: the mesos.docker roles write those.$features
EOF
  dpkg-deb --root-owner-group -Zxz --build "$ROOT" "$OUT/mesos_${version}~${codename}${flavour}_${arch}.deb"
}

main() {
  local stage index=0
  mkdir -p "$STAMPS"
  for stage in "${STAGES[@]}"; do
    index=$((index + 1))
    if [ ! -f "$STAMPS/$stage" ]; then
      echo "$index/${#STAGES[@]} $stage" >"$BUILD/stage"
      echo "== stage $index/${#STAGES[@]}: $stage"
      "stage_$stage"
      touch "$STAMPS/$stage"
    fi
    [ "$stage" != "$STOP_AFTER" ] || break
  done
  echo "done $STOP_AFTER" >"$BUILD/stage"
}

# Everything this script says also goes to build.log, which outlives the container.
exec > >(tee -a "$BUILD/build.log") 2>&1
trap 'echo $? >"$BUILD/exit-status"' EXIT
rm -f "$BUILD/exit-status"
date +%s >"$BUILD/started"
main
