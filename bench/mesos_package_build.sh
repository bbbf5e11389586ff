#!/usr/bin/env bash
# Benchmark: the full build of a Mesos package with playbooks/mesos_package.yml, then the package
# installed in a fresh Debian container of the same release, where its master and agent start and the
# agent registers (Mesos containerizer, POSIX isolation), and a master and an agent from that
# package (fresh systemd containers of the same Debian release, provisioned by playbooks/site.yml)
# that register and run docker tasks: tests/integration/test_mesos_real.py
# with MESOS_PACKAGE set to the package just built (BENCH_SKIP_CLUSTER=1 leaves that out).
#
# Not a test: it prints the build time and the package size and asserts nothing about time.
# It takes about an hour on 2 cores at -O0 (longer at -O2) and keeps both cores busy: run it on
# a machine nobody else is using. Uses this machine's Docker and the test bed's Debian images
# (tests/testbed/testbed.sh up).
#
# Usage: bench/mesos_package_build.sh [SOURCE] [RELEASE]
#   SOURCE   tarball URL or path (default: ../shared/mesos/src/mesos-c1b42f7.tar.xz)
#   RELEASE  a codename of roles/mesos_package/files/debian_releases.yml (default: bookworm)
# Environment: BENCH_CFLAGS (default "-O0 -g0"), BENCH_WORK_DIR (default: a fresh temporary directory,
# so the build is never a cache hit; removed afterwards unless BENCH_KEEP=1), BENCH_TLS=1 (build with
# mesos_package_tls: libprocess TLS; the package is mesos_<version>~<codename>+tls_<arch>.deb, and the
# cluster step is bench/mesos_tls_cluster.py on it: a master and an agent with TLS required),
# BENCH_CPU_SHARES (the build container's CPU weight, mesos_package_build_cpu_shares; e.g. 64 to let
# tests running beside the bench have the CPU first; default: the engine's).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SOURCE=${1:-$REPO/../shared/mesos/src/mesos-c1b42f7.tar.xz}
RELEASE=${2:-bookworm}
CFLAGS=${BENCH_CFLAGS:--O0 -g0}
TLS=false FLAVOUR=""
[ "${BENCH_TLS:-0}" != 1 ] || { TLS=true FLAVOUR=+tls; }
export ANSIBLE_COLLECTIONS_PATH=$REPO/.build/collections PATH=$REPO/.venv/bin:$PATH
# shellcheck source=scripts/lib.sh
source "$REPO/scripts/lib.sh"
link_collection
NUMBER=$(debian_release_number "$RELEASE") || { echo "unknown Debian release $RELEASE ($(debian_releases))" >&2; exit 2; }
BASE_IMAGE=mesos-docker-testbed/debian$NUMBER:latest
WORK_DIR=${BENCH_WORK_DIR:-$(mktemp -d /var/tmp/mesos-package-bench.XXXXXX)}

cleanup() {
  docker rm -f "bench-mesos-package-install-$$" >/dev/null 2>&1 || true
  [ "${BENCH_KEEP:-0}" = 1 ] || [ -n "${BENCH_WORK_DIR:-}" ] || rm -rf "$WORK_DIR"
}
trap cleanup EXIT

echo "source:   $SOURCE"
echo "release:  $RELEASE ($BASE_IMAGE), CFLAGS $CFLAGS, $(nproc) cores, TLS $TLS"
echo "work dir: $WORK_DIR"
start=$(date +%s)
ansible-playbook -i localhost, -c local "$REPO/playbooks/mesos_package.yml" \
  -e "ansible_python_interpreter=$REPO/.venv/bin/python" \
  -e "mesos_package_source=$SOURCE" -e "mesos_package_debian_release=$RELEASE" \
  -e "mesos_package_base_image=$BASE_IMAGE" -e "mesos_package_work_dir=$WORK_DIR" \
  -e "{\"mesos_package_tls\": $TLS, \"mesos_package_build_cpu_shares\": ${BENCH_CPU_SHARES:-0}}" \
  -e "mesos_package_cflags='$CFLAGS'" -e "mesos_package_cxxflags='$CFLAGS -Wno-deprecated-declarations'"
end=$(date +%s)

package=$(find "$WORK_DIR/packages" -maxdepth 1 -name "mesos_*~${RELEASE}${FLAVOUR}_*.deb" | head -n 1)
[ -n "$package" ] || { echo "no package in $WORK_DIR/packages" >&2; exit 1; }
elapsed=$((end - start))
printf 'build time: %dm%02ds (%d s)\n' $((elapsed / 60)) $((elapsed % 60)) "$elapsed"
printf 'package:    %s, %s bytes (%s)\n' "$(basename "$package")" "$(stat -c %s "$package")" "$(du -h "$package" | cut -f1)"
dpkg-deb -f "$package" Version Depends 2>/dev/null || true

# The package installs in a fresh container of its release (Debian's archive provides the Depends).
docker run -d --name "bench-mesos-package-install-$$" --label mesos-docker-test=true \
  -v "$package:/tmp/$(basename "$package"):ro" "$BASE_IMAGE" sleep infinity >/dev/null
install_start=$(date +%s)
docker exec "bench-mesos-package-install-$$" sh -c \
  "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /tmp/$(basename "$package") >/dev/null"
echo "install:    $(($(date +%s) - install_start)) s"
docker exec "bench-mesos-package-install-$$" mesos-agent --version
docker exec "bench-mesos-package-install-$$" mesos-master --version

# The package's master and agent start in that container and the agent registers (the Mesos
# containerizer with POSIX isolation: no Docker or systemd in a plain container).
docker exec -d "bench-mesos-package-install-$$" sh -c 'ip=$(hostname -i | cut -d" " -f1);
  exec mesos-master --ip=$ip --work_dir=/var/lib/mesos/master --registry=in_memory >/tmp/master.log 2>&1'
docker exec -d "bench-mesos-package-install-$$" sh -c 'ip=$(hostname -i | cut -d" " -f1);
  exec mesos-agent --master=$ip:5050 --ip=$ip --work_dir=/var/lib/mesos/agent --launcher=posix \
    --no-systemd_enable_support --containerizers=mesos --isolation=posix/cpu,posix/mem >/tmp/agent.log 2>&1'
address=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' "bench-mesos-package-install-$$")
registered=""
for _ in $(seq 1 60); do
  registered=$(curl -s "http://$address:5050/master/slaves" | python3 -c \
    'import json, sys; print(" ".join(a["id"] for a in json.load(sys.stdin)["slaves"] if a["active"]))' 2>/dev/null) || true
  [ -n "$registered" ] && break
  sleep 2
done
if [ -z "$registered" ]; then
  docker exec "bench-mesos-package-install-$$" tail -n 20 /tmp/master.log /tmp/agent.log >&2
  echo "the agent of the package did not register with its master" >&2
  exit 1
fi
echo "agent:      started and registered with a master of the same package ($registered)"

# A master and an agent from the package just built register and run docker tasks through the
# master (the real-Mesos integration tests, pointed at this package, on systemd hosts of the
# package's Debian release).
if [ "${BENCH_SKIP_CLUSTER:-0}" != 1 ] && [ "$TLS" = true ]; then
  # A TLS package: the cluster with TLS on (lab CA, client certificates required).
  "$REPO/.venv/bin/python" "$REPO/bench/mesos_tls_cluster.py" --package "$package"
elif [ "${BENCH_SKIP_CLUSTER:-0}" != 1 ]; then
  cluster_start=$(date +%s)
  (cd "$REPO" && MESOS_PACKAGE=$package pytest -p no:cacheprovider -q tests/integration/test_mesos_real.py)
  echo "cluster:    $(($(date +%s) - cluster_start)) s (master + agent from $(basename "$package"), docker tasks run)"
fi
