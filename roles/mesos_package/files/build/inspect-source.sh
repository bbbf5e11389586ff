#!/bin/sh
# Says whether SOURCE (a tarball or a directory on this host) is an Apache Mesos source tree, and
# prints one JSON line: {"kind": "tarball"|"directory", "version": "<AC_INIT version>", "hash": "<sha256>"}.
# The hash covers the tarball's bytes, or every file's path and content in a directory.
# Exits 1 with a message on stderr when SOURCE is not a Mesos tree.
#
#   inspect-source.sh SOURCE
set -eu
source=$1

not_mesos() {
  echo "mesos_package_source=$source is not an Apache Mesos source tree: $*" >&2
  exit 1
}

if [ -d "$source" ]; then
  kind=directory
  [ -f "$source/configure.ac" ] || not_mesos "it has no configure.ac"
  [ -f "$source/src/slave/main.cpp" ] || not_mesos "it has no src/slave/main.cpp"
  configure_ac=$(cat "$source/configure.ac")
  hash=$(cd "$source" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
elif [ -f "$source" ]; then
  kind=tarball
  listing=$(tar -tf "$source" 2>/dev/null) || not_mesos "tar cannot read it as a (compressed) tar archive"
  top=$(printf '%s\n' "$listing" | sed -n 's#^\([^/]*\)/configure\.ac$#\1#p' | head -n 1)
  [ -n "$top" ] || not_mesos "it has no <top directory>/configure.ac"
  printf '%s\n' "$listing" | grep -qx "$top/src/slave/main.cpp" || not_mesos "it has no $top/src/slave/main.cpp"
  configure_ac=$(tar -xOf "$source" "$top/configure.ac")
  hash=$(sha256sum "$source" | cut -d' ' -f1)
else
  echo "mesos_package_source=$source: no such file or directory on $(hostname)" >&2
  exit 1
fi

version=$(printf '%s\n' "$configure_ac" | sed -n 's/^AC_INIT(\[mesos\], *\[\([^]]*\)\]).*/\1/p' | head -n 1)
[ -n "$version" ] || not_mesos "its configure.ac has no AC_INIT([mesos], [<version>])"
printf '{"kind": "%s", "version": "%s", "hash": "%s"}\n' "$kind" "$version" "$hash"
