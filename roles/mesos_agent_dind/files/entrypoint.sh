#!/usr/bin/env bash
# Entrypoint of the mesos.docker docker-in-docker Mesos agent image (role mesos_agent_dind).
#
# Does what the mesos-slave-dind wrapper does:
#  1. /sys and cgroups writable for the inner Docker daemon;
#  2. storage: overlay on /var/lib/docker when a real overlay mount-and-write works there,
#     else a loop-mounted ext4 file of VAR_LIB_DOCKER_SIZE GB at /var/lib/docker;
#  3. networking: with MESOS_AGENT_DIND_FIXED_CIDR set (bridged mode) eth0 is enslaved to a bridge
#     docker0 that takes over eth0's address, and the inner daemon runs with
#     --bip=<own IP/prefix> --fixed-cidr=<MESOS_AGENT_DIND_FIXED_CIDR>, so task containers get
#     addresses on the parent network. The slice is computed by the role (module dind_network,
#     plugins/module_utils/_dind_network.py); here it is only checked against this container's
#     address and network. Without it the inner daemon keeps its own network (tasks not
#     reachable from the host);
#  4. starts the inner dockerd, waits until it answers, then starts the agent;
#  5. on TERM/INT stops the agent, then the inner dockerd, which stops its task containers.
#
# Arguments: none or agent flags (--name=value) start the agent with them; any other command
# (the executor Mesos starts in a container of this image with --docker_mesos_image) is exec'd
# unchanged, with none of the steps above. Environment (besides the agent's MESOS_* variables):
#   MESOS_AGENT_DIND_FIXED_CIDR  the agent's slice of the parent network (e.g. 172.17.1.0/24): bridged mode
#   MESOS_AGENT_DIND_LAST_IP     the slice's last address (e.g. 172.17.1.255), with MESOS_AGENT_DIND_FIXED_CIDR
#   VAR_LIB_DOCKER_SIZE          GB of the loop file (default 5)
#   MESOS_AGENT_DIND_MODE     dind (default) or container: the agent on the host's Docker daemon
#                             (--docker_mesos_image mode), no inner daemon, no storage or network setup
#   MESOS_AGENT_DIND_BINARY   the agent binary (default: mesos-agent, else mesos-slave, on PATH)
#   MESOS_AGENT_DIND_DOCKERD_ARGS   extra inner dockerd arguments, space separated
#   MESOS_AGENT_DIND_DOCKERD_TIMEOUT  seconds to wait for the inner dockerd (default 60)
#   MESOS_AGENT_DIND_STORAGE  auto (default: overlay when it works, else the loop file) or loop
#   MESOS_AGENT_DIND_LOOP_FILE  backing file of the loop fallback (default /var/lib/mesos-dind/docker.ext4)
set -eu

DOCKER_ROOT=/var/lib/docker
DOCKERD_LOG=/var/log/dockerd.log
# The hybrid-cgroup2 workaround of roles/mesos_agent (files/without-unified-cgroup2), at the same path as on hosts.
CGROUP2_WRAPPER=/usr/local/libexec/mesos-docker/without-unified-cgroup2
agent_pid=""
dockerd_pid=""

log() {
    printf '%s mesos-agent-dind: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

die() {
    log "ERROR: $*"
    exit 1
}

prepare_sys() {
    # Docker mounts /sys read-only in unprivileged containers; the inner daemon needs it writable.
    if ! touch /sys/.mesos-dind-rw 2>/dev/null; then
        mount -o remount,rw /sys || log "cannot remount /sys read-write; continuing"
    fi
    rm -f /sys/.mesos-dind-rw 2>/dev/null || true

    local fstype
    fstype=$(stat -f -c %T /sys/fs/cgroup 2>/dev/null || echo none)
    if [ "$fstype" != cgroup2fs ]; then
        # cgroup v1 or hybrid host: give the inner daemon a cgroup2 hierarchy of its own view.
        if mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null; then
            log "mounted cgroup2 at /sys/fs/cgroup"
        else
            log "cannot mount cgroup2 at /sys/fs/cgroup; keeping the $fstype hierarchy"
            return 0
        fi
    else
        mount -o remount,rw /sys/fs/cgroup 2>/dev/null || true
    fi
    # cgroup2 nesting (as moby's hack/dind): move every process out of the root cgroup so that
    # controllers can be delegated to the inner daemon's children. Only in a private cgroup
    # namespace (/proc/self/cgroup is 0::/): with the host's namespace this root is the host's.
    if [ -f /sys/fs/cgroup/cgroup.subtree_control ] && grep -qx '0::/' /proc/self/cgroup; then
        mkdir -p /sys/fs/cgroup/init
        xargs -rn1 </sys/fs/cgroup/cgroup.procs >/sys/fs/cgroup/init/cgroup.procs 2>/dev/null || true
        sed -e 's/ / +/g' -e 's/^/+/' </sys/fs/cgroup/cgroup.controllers \
            >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
    fi
}

overlay_works() {
    # A real mount-and-write through an overlay whose layers live on $1's filesystem.
    local dir rc=1
    dir=$(mktemp -d "$1/.mesos-dind-overlay-test.XXXXXX") || return 1
    mkdir -p "$dir/lower" "$dir/upper" "$dir/work" "$dir/merged"
    echo lower >"$dir/lower/file"
    if mount -t overlay overlay \
        -o "lowerdir=$dir/lower,upperdir=$dir/upper,workdir=$dir/work" "$dir/merged" 2>/dev/null; then
        if echo written >"$dir/merged/file" 2>/dev/null && [ "$(cat "$dir/upper/file" 2>/dev/null)" = written ]; then
            rc=0
        fi
        umount "$dir/merged" 2>/dev/null || true
    fi
    rm -rf "$dir"
    return "$rc"
}

ensure_loop_devices() {
    # Unprivileged containers have no loop device nodes; the device cgroup rule allows making them.
    [ -e /dev/loop-control ] || mknod -m 0660 /dev/loop-control c 10 237 || true
    local i
    for i in $(seq 0 63); do
        [ -e "/dev/loop$i" ] || mknod -m 0660 "/dev/loop$i" b 7 "$i" 2>/dev/null || true
    done
}

prepare_storage() {
    mkdir -p "$DOCKER_ROOT"
    if [ "${MESOS_AGENT_DIND_STORAGE:-auto}" != loop ] && overlay_works "$DOCKER_ROOT"; then
        log "overlay mount-and-write works on $DOCKER_ROOT: storage driver overlay2"
        STORAGE_DRIVER=overlay2
        return 0
    fi
    local size=${VAR_LIB_DOCKER_SIZE:-5}
    case "$size" in
        '' | *[!0-9]*) die "VAR_LIB_DOCKER_SIZE=$size is not a whole number of GB" ;;
    esac
    [ "$size" -ge 1 ] || die "VAR_LIB_DOCKER_SIZE=$size must be at least 1 (GB)"
    local file=${MESOS_AGENT_DIND_LOOP_FILE:-/var/lib/mesos-dind/docker.ext4}
    if [ "${MESOS_AGENT_DIND_STORAGE:-auto}" = loop ]; then
        log "MESOS_AGENT_DIND_STORAGE=loop: loop-mounting a ${size} GB ext4 file $file at $DOCKER_ROOT"
    else
        log "overlay does not work on $DOCKER_ROOT: loop-mounting a ${size} GB ext4 file $file there"
    fi
    mkdir -p "$(dirname "$file")"
    if [ ! -s "$file" ]; then
        truncate -s "${size}G" "$file"
        mkfs.ext4 -q -F "$file"
    fi
    ensure_loop_devices
    mount -o loop "$file" "$DOCKER_ROOT" || die "cannot loop-mount $file at $DOCKER_ROOT"
    if overlay_works "$DOCKER_ROOT"; then
        STORAGE_DRIVER=overlay2
    else
        log "overlay does not work on the loop file either: storage driver vfs"
        STORAGE_DRIVER=vfs
    fi
}

# An IPv4 address as 12 digits (three per octet), so that addresses compare as strings.
ipv4_key() {
    local IFS=. octets
    read -r -a octets <<<"$1"
    printf '%03d%03d%03d%03d' "${octets[@]}"
}

# Checks the slice $2 (a CIDR) .. $3 (its last address) that the role computed for this agent against
# the address $1 (IP/prefix) of the interface $4 (eth0, or docker0 after a restart in the same network
# namespace): the slice must not hold the agent's own address, and must lie on that interface's
# network (the kernel routes both its ends out of $4 directly, not through a gateway). Fails with a reason.
check_slice() {
    local own=${1%/*} first=${2%/*} last=$3 dev=$4 end route
    if [[ ! "$(ipv4_key "$own")" < "$(ipv4_key "$first")" && ! "$(ipv4_key "$own")" > "$(ipv4_key "$last")" ]]; then
        log "the agent's own address $own lies inside its slice $2"
        return 1
    fi
    for end in "$first" "$last"; do
        route=$(ip -4 route get "$end" 2>/dev/null | head -n 1) || route=""
        if [[ "$route" != *" dev $dev "* || "$route" == *" via "* ]]; then
            log "the slice $2 is not on the network of $dev ($1): the route to $end is '${route:-none}'"
            return 1
        fi
    done
}

prepare_network() {
    DOCKERD_NET_ARGS=()
    if [ -z "${MESOS_AGENT_DIND_FIXED_CIDR:-}" ]; then
        [ -z "${DOCKER_NETWORK_OFFSET:-}" ] \
            || die "DOCKER_NETWORK_OFFSET is not read here: give the slice as MESOS_AGENT_DIND_FIXED_CIDR and MESOS_AGENT_DIND_LAST_IP (the role computes them)"
        log "default networking: the inner daemon has its own network"
        return 0
    fi
    [ -n "${MESOS_AGENT_DIND_LAST_IP:-}" ] || die "bridged mode: MESOS_AGENT_DIND_FIXED_CIDR is set but MESOS_AGENT_DIND_LAST_IP is not"
    local dev=eth0 address routes fixed=$MESOS_AGENT_DIND_FIXED_CIDR
    if ip link show docker0 >/dev/null 2>&1; then
        dev=docker0 # restarted inside the same network namespace: already bridged
    fi
    address=$(ip -4 -o addr show dev "$dev" | awk '{print $4; exit}')
    [ -n "$address" ] || die "bridged mode: $dev has no IPv4 address"
    check_slice "$address" "$fixed" "$MESOS_AGENT_DIND_LAST_IP" "$dev" || die "bridged mode refused"
    if [ "$dev" = eth0 ]; then
        routes=$(ip -4 route show default dev eth0)
        ip link add docker0 type bridge
        ip link set docker0 address "$(cat /sys/class/net/eth0/address)"
        ip addr del "$address" dev eth0
        ip link set eth0 master docker0
        ip addr add "$address" dev docker0
        ip link set docker0 up
        if [ -n "$routes" ]; then
            # shellcheck disable=SC2086 # the route is a list of words
            ip route replace ${routes/dev eth0/dev docker0}
        fi
        log "bridged networking: eth0 enslaved to docker0 ($address)"
    fi
    log "bridged networking: inner daemon --bip=$address --fixed-cidr=$fixed"
    DOCKERD_NET_ARGS=("--bip=$address" "--fixed-cidr=$fixed")
}

start_dockerd() {
    local extra=() timeout=${MESOS_AGENT_DIND_DOCKERD_TIMEOUT:-60} waited=0
    read -r -a extra <<<"${MESOS_AGENT_DIND_DOCKERD_ARGS:-}"
    rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid
    dockerd --host=unix:///var/run/docker.sock --storage-driver="$STORAGE_DRIVER" \
        "${DOCKERD_NET_ARGS[@]}" "${extra[@]}" >"$DOCKERD_LOG" 2>&1 &
    dockerd_pid=$!
    until docker version >/dev/null 2>&1; do
        if ! kill -0 "$dockerd_pid" 2>/dev/null; then
            tail -n 30 "$DOCKERD_LOG" >&2 || true
            die "the inner dockerd exited before answering"
        fi
        if [ "$waited" -ge $((timeout * 5)) ]; then
            tail -n 30 "$DOCKERD_LOG" >&2 || true
            die "the inner dockerd did not answer within ${timeout}s"
        fi
        sleep 0.2
        waited=$((waited + 1))
    done
    log "inner dockerd answers (pid $dockerd_pid, log $DOCKERD_LOG)"
}

stop_all() {
    trap - TERM INT
    log "stopping: the agent, then the inner dockerd and its containers"
    if [ -n "$agent_pid" ] && kill -0 "$agent_pid" 2>/dev/null; then
        kill -TERM "$agent_pid" 2>/dev/null || true
        wait "$agent_pid" 2>/dev/null || true
    fi
    if [ -n "$dockerd_pid" ] && kill -0 "$dockerd_pid" 2>/dev/null; then
        kill -TERM "$dockerd_pid" 2>/dev/null || true
        wait "$dockerd_pid" 2>/dev/null || true
    fi
    exit "${1:-0}"
}

agent_binary() {
    local candidate
    for candidate in ${MESOS_AGENT_DIND_BINARY:-} mesos-agent mesos-slave; do
        if command -v "$candidate" >/dev/null 2>&1; then
            command -v "$candidate"
            return 0
        fi
    done
    die "no Mesos agent binary found (MESOS_AGENT_DIND_BINARY=${MESOS_AGENT_DIND_BINARY:-unset})"
}

in_container() {
    [ -f /.dockerenv ] || [ -f /run/.containerenv ] || [ "${MESOS_AGENT_DIND_IN_CONTAINER:-}" = yes ]
}

# True when the arguments are the agent's: none, or flags (--work_dir=..., -h). Anything else is a
# command to run instead, as Mesos starts executors in container mode: `docker run <docker_mesos_image>
# <launcher_dir>/mesos-docker-executor --container=... ` (shell=false: the command line arrives as
# the arguments of this entrypoint).
agent_arguments() {
    [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]
}

# Mesos 1.12 exits at start when a cgroup2 file system is mounted anywhere but /sys/fs/cgroup
# ("Found cgroups2 mount at an unexpected location"), as systemd's hybrid layout does at
# /sys/fs/cgroup/unified. This container has its own mount namespace: the mesos_agent role's
# workaround (the script its host unit runs the agent through, roles/mesos_agent/files/, copied into
# this image by the role) detaches such mounts here, for the whole container.
hide_hybrid_cgroup2() {
    "$CGROUP2_WRAPPER" true \
        || log "cannot detach the cgroup2 mounts outside /sys/fs/cgroup; the agent may refuse to start"
}

main() {
    local binary rc
    if ! agent_arguments "$@"; then
        # An executor (or any other command) in a container of this image: run it unchanged.
        exec "$@"
    fi
    # This script remounts /sys and /sys/fs/cgroup and starts a dockerd: never on a host.
    in_container || die "refusing to run outside a container (no /.dockerenv; set MESOS_AGENT_DIND_IN_CONTAINER=yes to override)"
    # Container mode shares the host's PID namespace (--pid=host), so it is never PID 1; it
    # touches neither /sys nor a dockerd.
    [ "$$" = 1 ] || [ "${MESOS_AGENT_DIND_MODE:-dind}" = container ] || [ "${MESOS_AGENT_DIND_IN_CONTAINER:-}" = yes ] \
        || die "refusing to run as PID $$: this is a container entrypoint (PID 1)"
    binary=$(agent_binary)
    if [ "${MESOS_AGENT_DIND_MODE:-dind}" = container ]; then
        log "container mode: the agent uses the host's Docker daemon"
        hide_hybrid_cgroup2
        trap 'stop_all 143' TERM INT
    else
        hide_hybrid_cgroup2
        prepare_sys
        prepare_storage
        prepare_network
        trap 'stop_all 143' TERM INT
        start_dockerd
    fi
    log "starting the agent: $binary $*"
    "$binary" "$@" &
    agent_pid=$!
    set +e
    wait "$agent_pid"
    rc=$?
    set -e
    agent_pid=""
    log "the agent exited with status $rc"
    stop_all "$rc"
}

# Sourcing the script (tests) defines the functions only.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    main "$@"
fi
