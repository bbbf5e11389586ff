#!/bin/sh
# Waits up to INTERVAL seconds for a Mesos build to finish, then prints one line: where it is
# (stage, files compiled of total), or how it ended. Runs on the Docker host.
#
#   progress.sh BUILD_DIR CONTAINER INTERVAL
#
# Output starts with "running", "finished" or "failed"; the role keeps waiting while it is "running".
set -u
build=$1 container=$2 interval=$3

running() { [ "$(docker inspect -f '{{.State.Running}}' "$container" 2>/dev/null)" = true ]; }

waited=0
while [ "$waited" -lt "$interval" ] && [ ! -f "$build/exit-status" ] && running; do
  sleep 5
  waited=$((waited + 5))
done

if [ -f "$build/exit-status" ]; then
  status=$(cat "$build/exit-status")
  if [ "$status" = 0 ]; then
    echo "finished: $(cat "$build/stage" 2>/dev/null)"
  else
    echo "failed: the build exited with status $status in stage $(cut -d' ' -f2 "$build/stage" 2>/dev/null)"
  fi
  exit 0
fi
if ! running; then
  echo "failed: the build container $container stopped without finishing (killed? out of memory?)"
  exit 0
fi

now=$(date +%s)
started=$(cat "$build/started" 2>/dev/null || echo "$now")
elapsed=$((now - started))
line="running: stage $(cat "$build/stage" 2>/dev/null)"
case "$line" in
  *" make")
    total=$(cat "$build/make.total" 2>/dev/null || echo 0)
    compiled=$(grep -cE '^  (CXX|CC) ' "$build/make.log" 2>/dev/null || true)
    if [ "${total:-0}" -gt 0 ]; then
      line="$line: ${compiled:-0} of $total files compiled ($(( ${compiled:-0} * 100 / total ))%)"
    else
      line="$line: counting the files to compile"
    fi
    ;;
esac
printf '%s, %dh%02dm%02ds elapsed\n' "$line" $((elapsed / 3600)) $((elapsed % 3600 / 60)) $((elapsed % 60))
