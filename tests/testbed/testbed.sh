#!/usr/bin/env bash
# The mesos.docker test bed: a real Docker engine, offline base images and a real
# private registry with htpasswd authentication, on this machine.
#
#   testbed.sh up     install what is missing, start what is not running, build what is
#                     not cached; writes .testbed/env for the tests (idempotent)
#   testbed.sh down   remove the containers the tests made, stop what `up` started
#                     (with TESTBED_SESSION: only what the `up` of that session started)
#   testbed.sh status print what is running
#
# `up` never starts a second dockerd: an engine that already answers is used as it is
# (and left running by `down`). With TESTBED_SESSION=FILE, `up` lists in FILE what it
# started itself and `down` stops only that: scripts/test.sh leaves the lab of scripts/lab.sh
# (its dockerd, registry and hosts) running. Images are tagged with a hash of their recipe, so a
# later run on the same machine finds them and builds nothing.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
STATE=${TESTBED_STATE:-$REPO/.testbed}
RECIPES=$REPO/tests/testbed/images
REGISTRY_ADDR=${TESTBED_REGISTRY:-127.0.0.1:5000}
# The same registry (storage, users) also serves TLS on the docker bridge's gateway, where
# the lab's and molecule's hosts (containers with their own Docker engines) reach it.
REGISTRY_TLS_PORT=${TESTBED_REGISTRY_TLS_PORT:-5443}
REGISTRY_USER=mesos-test
IMAGE_NS=mesos-docker-testbed
# Containers made by tests carry this label; `down` removes them.
TEST_LABEL=${TESTBED_TEST_LABEL:-mesos-docker-test}
SESSION=${TESTBED_SESSION:-}
DEBIAN_PACKAGES=(docker.io iptables docker-registry debootstrap apache2-utils curl ca-certificates openssl)

log() { printf '[testbed] %s\n' "$*" >&2; }
# started NAME: `up` started NAME (dockerd, registry); owned NAME: `down` may stop it.
started() { [ -z "$SESSION" ] || echo "$1" >>"$SESSION"; }
owned() { [ -z "$SESSION" ] || grep -qx "$1" "$SESSION" 2>/dev/null; }
die() { printf '[testbed] ERROR: %s\n' "$*" >&2; exit 1; }

install_packages() {
  local missing=() p
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing from Debian: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

docker_answers() { timeout 10 docker info >/dev/null 2>&1; }

start_dockerd() {
  if docker_answers; then
    log "using the Docker engine that already answers"
    return 0
  fi
  # dockerd records its pid here; dockerds inside containers (systemd or dind test hosts) don't count.
  local pid
  pid=$(cat /var/run/docker.pid 2>/dev/null || true)
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
    die "dockerd (pid $pid) is running but does not answer on /var/run/docker.sock; not starting a second one"
  fi
  log "starting dockerd"
  setsid dockerd >"$STATE/dockerd.log" 2>&1 < /dev/null &
  echo $! >"$STATE/dockerd.pid"
  started dockerd
  local _
  for _ in $(seq 1 60); do
    docker_answers && return 0
    sleep 1
  done
  tail -n 20 "$STATE/dockerd.log" >&2
  die "dockerd did not answer within 60 s"
}

# recipe_hash NAME KIND: hash of everything that defines image NAME: its recipe directory,
# the builder function, and for a Dockerfile recipe the tag of its base image.
recipe_hash() {
  {
    cat "$RECIPES/$1"/*
    declare -f "build_$2"
    [ "$2" != dockerfile ] || ensure_image "$(dockerfile_base "$1")"
  } | sha256sum | cut -c1-12
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

build_debootstrap() { # build_debootstrap NAME TAG
  local name=$1 tag=$2 suite includes rootfs
  suite=$(cat "$RECIPES/$name/suite")
  includes=$(tr '\n' ',' <"$RECIPES/$name/packages" | sed 's/,$//')
  rootfs=$(mktemp -d "$STATE/rootfs.$name.XXXX")
  log "debootstrap $suite for $name"
  if ! debootstrap --variant=minbase --include="$includes" "$suite" "$rootfs" >"$STATE/debootstrap-$name.log" 2>&1; then
    rm -rf "$rootfs"
    log "debootstrap $suite failed (see $STATE/debootstrap-$name.log)"
    return 1
  fi
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import -c 'CMD ["/bin/bash"]' -c "LABEL $IMAGE_NS.recipe=$tag" - "$tag" >/dev/null
  rm -rf "$rootfs"
}

build_dockerfile() { # build_dockerfile NAME TAG: a Dockerfile whose FROM names another recipe
  local name=$1 tag=$2 base
  base=$(ensure_image "$(dockerfile_base "$name")")
  log "docker build $name"
  sed "s#^FROM .*#FROM $base#" "$RECIPES/$name/Dockerfile" |
    docker build -q -t "$tag" --label "$IMAGE_NS.recipe=$tag" - >/dev/null 2>"$STATE/build-$name.log"
}

# dockerfile_base NAME: the recipe named by the FROM line of recipe NAME's Dockerfile.
dockerfile_base() { sed -n "s#^FROM $IMAGE_NS/##p" "$RECIPES/$1/Dockerfile"; }

build_busybox() { # build_busybox NAME TAG: a tiny image from Debian's busybox-static
  local tag=$2 work rootfs applet
  work=$(mktemp -d "$STATE/busybox.XXXX")
  (cd "$work" && apt-get download busybox-static >/dev/null 2>&1) || {
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    (cd "$work" && apt-get download busybox-static >/dev/null)
  }
  dpkg -x "$work"/busybox-static_*.deb "$work/pkg"
  rootfs=$work/rootfs
  mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,var/www,proc,sys,dev}
  chmod 1777 "$rootfs/tmp"
  cp "$work/pkg/bin/busybox" "$rootfs/bin/busybox"
  for applet in $("$rootfs/bin/busybox" --list); do
    [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  tar -C "$rootfs" -c . | docker import -c 'CMD ["/bin/sh"]' -c "LABEL $IMAGE_NS.recipe=$tag" - "$tag" >/dev/null
  rm -rf "$work"
}

# ensure_image NAME: prints the content-addressed tag of recipe NAME, building it if absent,
# and points the stable tag $IMAGE_NS/NAME:latest at it.
ensure_image() {
  local name=$1 kind tag
  kind=$(cat "$RECIPES/$name/kind")
  tag="$IMAGE_NS/$name:$(recipe_hash "$name" "$kind")"
  if ! image_exists "$tag"; then
    "build_$kind" "$name" "$tag" || return 1
  fi
  docker tag "$tag" "$IMAGE_NS/$name:latest"
  echo "$tag"
}

random_secret() { head -c 18 /dev/urandom | base64 | tr -d '/+=' ; }

# serve_registry NAME CONFIG URL [CURL_OPTION...]: a docker-registry serving CONFIG, started
# (pid in $STATE/NAME.pid, recorded for `down`) unless URL already answers; waits for URL.
serve_registry() {
  local name=$1 config=$2 url=$3 _
  shift 3
  if curl -s -o /dev/null "$@" "$url"; then
    log "$name already answers on $url"
    return 0
  fi
  log "starting $name on $url"
  setsid docker-registry serve "$config" >"$STATE/$name.log" 2>&1 < /dev/null &
  echo $! >"$STATE/$name.pid"
  started "$name"
  for _ in $(seq 1 30); do
    curl -s -o /dev/null "$@" "$url" && return 0
    sleep 0.5
  done
}

start_registry() {
  local dir=$STATE/registry
  mkdir -p "$dir/data"
  chmod 700 "$dir"
  if [ ! -s "$dir/password" ]; then
    (umask 077; random_secret >"$dir/password")
  fi
  REGISTRY_PASSWORD=$(cat "$dir/password")
  htpasswd -Bbn "$REGISTRY_USER" "$REGISTRY_PASSWORD" >"$dir/htpasswd" 2>/dev/null
  cat >"$dir/config.yml" <<CFG
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
auth:
  htpasswd:
    realm: mesos-docker-testbed
    path: $dir/htpasswd
CFG
  serve_registry registry "$dir/config.yml" "http://$REGISTRY_ADDR/v2/"
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://$REGISTRY_ADDR/v2/")
  [ "$code" = 401 ] || die "registry on $REGISTRY_ADDR answers $code without credentials, expected 401"
  code=$(curl -s -o /dev/null -w '%{http_code}' -u "$REGISTRY_USER:$REGISTRY_PASSWORD" "http://$REGISTRY_ADDR/v2/")
  [ "$code" = 200 ] || die "registry on $REGISTRY_ADDR refuses the test credentials ($code)"
  # A docker client config logged in to the registry, for tests that push. Never ~/.docker.
  mkdir -p "$STATE/docker-config"
  chmod 700 "$STATE/docker-config"
  printf '%s' "$REGISTRY_PASSWORD" |
    DOCKER_CONFIG=$STATE/docker-config docker login -u "$REGISTRY_USER" --password-stdin "$REGISTRY_ADDR" >/dev/null 2>&1 ||
    die "docker login to $REGISTRY_ADDR failed"
}

# make_tls_certificates GATEWAY: a CA of the test bed and a server certificate for GATEWAY
# (kept while the gateway stays the same).
make_tls_certificates() {
  local dir=$STATE/registry/tls gateway=$1
  mkdir -p "$dir"
  chmod 700 "$dir"
  if [ -s "$dir/server.crt" ] && [ "$(cat "$dir/gateway" 2>/dev/null)" = "$gateway" ]; then
    return 0
  fi
  log "making a CA and a certificate for $gateway"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=mesos.docker test bed CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$gateway" -keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1
  printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$gateway" >"$dir/ext.cnf"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 3650 \
    -extfile "$dir/ext.cnf" -out "$dir/server.crt" >/dev/null 2>&1
  chmod 600 "$dir/ca.key" "$dir/server.key"
  chmod 644 "$dir/ca.crt"
  echo "$gateway" >"$dir/gateway"
}

start_tls_registry() {
  local dir=$STATE/registry gateway addr code
  # The bridge network's gateway (docker0's address; IPAM leaves Gateway empty by default).
  gateway=$(docker network inspect bridge -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}')
  [ -n "$gateway" ] || gateway=$(ip -4 -o addr show docker0 | awk '{ split($4, a, "/"); print a[1]; exit }')
  [ -n "$gateway" ] || die "cannot find the docker bridge's gateway address"
  addr=$gateway:$REGISTRY_TLS_PORT
  make_tls_certificates "$gateway"
  sed -e "s#^  addr: .*#  addr: $addr\n  tls:\n    certificate: $dir/tls/server.crt\n    key: $dir/tls/server.key#" \
    "$dir/config.yml" >"$dir/config-tls.yml"
  serve_registry registry-tls "$dir/config-tls.yml" "https://$addr/v2/" --cacert "$dir/tls/ca.crt"
  code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$dir/tls/ca.crt" -u "$REGISTRY_USER:$REGISTRY_PASSWORD" "https://$addr/v2/")
  [ "$code" = 200 ] || die "TLS registry on $addr refuses the test credentials ($code)"
  REGISTRY_TLS_ADDR=$addr
}

push_private_image() { # push_private_image LOCAL REMOTE
  docker tag "$1" "$2"
  DOCKER_CONFIG=$STATE/docker-config docker push "$2" >/dev/null
  docker rmi "$2" >/dev/null
}

cmd_up() {
  mkdir -p "$STATE"
  install_packages
  start_dockerd
  local busybox debian12 systemd12 systemd12_cluster debian11="" debian13="" systemd11="" systemd13=""
  busybox=$(ensure_image busybox)
  debian12=$(ensure_image debian12)
  systemd12=$(ensure_image systemd12)
  debian11=$(ensure_image debian11) || log "Debian 11 image not built: its suite did not bootstrap offline"
  debian13=$(ensure_image debian13) || log "Debian 13 image not built: its suite did not bootstrap offline"
  [ -z "$debian11" ] || systemd11=$(ensure_image systemd11) || log "Debian 11 systemd image not built"
  [ -z "$debian13" ] || systemd13=$(ensure_image systemd13) || log "Debian 13 systemd image not built"
  systemd12_cluster=$(ensure_image systemd12-cluster)
  start_registry
  push_private_image "$busybox" "$REGISTRY_ADDR/testbed/busybox:latest"
  start_tls_registry
  (umask 077; cat >"$STATE/env" <<ENV
TESTBED_REGISTRY=$REGISTRY_ADDR
TESTBED_REGISTRY_USER=$REGISTRY_USER
TESTBED_REGISTRY_PASSWORD=$REGISTRY_PASSWORD
TESTBED_DOCKER_CONFIG=$STATE/docker-config
TESTBED_PRIVATE_IMAGE=$REGISTRY_ADDR/testbed/busybox:latest
TESTBED_REGISTRY_TLS=$REGISTRY_TLS_ADDR
TESTBED_REGISTRY_CA=$STATE/registry/tls/ca.crt
TESTBED_PRIVATE_IMAGE_TLS=$REGISTRY_TLS_ADDR/testbed/busybox:latest
TESTBED_IMAGE_BUSYBOX=$busybox
TESTBED_IMAGE_DEBIAN12=$debian12
TESTBED_IMAGE_SYSTEMD12=$systemd12
TESTBED_IMAGE_DEBIAN11=$debian11
TESTBED_IMAGE_DEBIAN13=$debian13
TESTBED_IMAGE_SYSTEMD11=$systemd11
TESTBED_IMAGE_SYSTEMD13=$systemd13
TESTBED_IMAGE_SYSTEMD12_CLUSTER=$systemd12_cluster
TESTBED_TEST_LABEL=$TEST_LABEL
ENV
  )
  log "up: registry $REGISTRY_ADDR, images $busybox $debian12 $systemd12 $systemd12_cluster $debian11 $debian13 $systemd11 $systemd13"
}

stop_pidfile() { # stop_pidfile FILE NAME
  [ -f "$1" ] || return 0
  local pid
  pid=$(cat "$1")
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $2 (pid $pid)"
    kill "$pid"
    local _
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}

cmd_down() {
  if docker_answers; then
    local ids
    ids=$(docker ps -aq --filter "label=$TEST_LABEL")
    if [ -n "$ids" ]; then
      log "removing $(echo "$ids" | wc -l) test container(s)"
      echo "$ids" | xargs docker rm -f >/dev/null
    fi
  fi
  local stopped=""
  if owned registry-tls; then stop_pidfile "$STATE/registry-tls.pid" "TLS registry"; stopped=1; fi
  if owned registry; then stop_pidfile "$STATE/registry.pid" registry; stopped=1; fi
  if owned dockerd; then stop_pidfile "$STATE/dockerd.pid" dockerd; stopped=1; fi
  if [ -n "$stopped" ]; then rm -f "$STATE/env"; else log "leaving running what was up before this session"; fi
  [ -z "$SESSION" ] || rm -f "$SESSION"
}

cmd_status() {
  docker_answers && echo "docker: $(docker version -f '{{.Server.Version}}')" || echo "docker: not answering"
  curl -s -o /dev/null -w "registry: HTTP %{http_code}\n" "http://$REGISTRY_ADDR/v2/" || echo "registry: not answering"
  [ -f "$STATE/env" ] && echo "env: $STATE/env" || echo "env: none"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
