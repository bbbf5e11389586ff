#!/bin/sh
# Says whether a Mesos installation was built with libprocess TLS (configure --enable-ssl, the
# mesos_package role's mesos_package_tls): its libmesos (or, when the binary links none, the binary)
# holds the LIBPROCESS_SSL_* names of 3rdparty/libprocess/src/openssl.cpp only in a TLS build.
#
#   mesos_tls_support.sh BINARY     (a path, or a name on PATH)
#
# Prints one line "tls <count> <file>" (count 0: no TLS support) and exits 0; exits 2 when BINARY
# is missing.
set -u
binary=$1
# A bare name is looked up on PATH (the agent image names its binary so).
case $binary in */*) ;; *) binary=$(command -v "$binary" 2>/dev/null || echo "$binary") ;; esac
[ -e "$binary" ] || { echo "missing $binary"; exit 2; }
binary=$(readlink -f "$binary")
lib=$(ldd "$binary" 2>/dev/null | awk '$1 ~ /^libmesos/ && $3 ~ /^\// {print $3; exit}')
file=${lib:-$binary}
count=$(grep -c -a 'LIBPROCESS_SSL_' "$file" 2>/dev/null || true)
echo "tls ${count:-0} $file"
