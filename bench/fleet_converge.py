#!/usr/bin/env python
"""Benchmark: ``playbooks/site.yml`` over a fleet of N host-mode agents, for several N.

Not a test: it prints the figures and asserts nothing; it fails only when a step fails (a host not created,
``site.yml`` failing). Uses this machine's Docker and the test bed (``tests/testbed/testbed.sh up``; the
test bed's facts from ``.testbed/env``, or the file ``$TESTBED_ENV`` names). For each N of ``--sizes``:

  hosts     N agents ``bench-fleet-agent-1..N`` and one master ``bench-fleet-master``, fresh systemd
            containers (``playbooks/tasks/lab_host.yml``, labelled ``mesos-docker-test=bench-fleet`` so the
            test bed's ``down`` removes leftovers) from the test bed's ``TESTBED_IMAGE_SYSTEMD12_CLUSTER``:
            Debian 12 with the Mesos package's dependencies, Docker (disabled) and ZooKeeper already there,
            so that apt's downloads do not dominate (for another Debian release's package: that release's
            plain systemd image, and apt is then part of the converge)
  converge  ``site.yml`` on the fresh hosts: a one-node ZooKeeper and a master (``replicated_log``, quorum
            1, ``--zk``: the production topology with one master) on the master host; on each agent the
            Docker engine, iptables, registry credentials (the test bed's TLS registry) and ``mesos-agent``
            from the package, registered with the master
  no-op     ``site.yml`` again on the converged fleet: its ``changed`` count (which must be 0: a figure
            above 0 is printed as NOT IDEMPOTENT, with the tasks), the tasks per agent host (its PLAY RECAP's
            ok + changed + skipped), and where the time went (``ansible.posix.profile_tasks`` on this run:
            the slowest tasks and the time per role; the callback prints a line per task, which costs
            nothing next to the tasks themselves)
  memory    each host's memory cgroup (``memory.usage_in_bytes`` minus inactive page cache, as
            ``docker stats`` counts it; ``docker stats`` itself shows 0 for these systemd containers) after
            the no-op run

and at the end the slope, seconds per added agent (least squares over N), of the converge and of the no-op
re-run: a fleet's cost per host is that slope; the intercept is the master's plays and the run's overhead.

ansible-playbook runs with the community.docker.docker connection (``docker exec``, as the tests' and the
lab's inventories do) and ``--forks N + 1``: at Ansible's default of 5 forks a task reaches the hosts five at
a time and the time per host grows with N for that reason alone; with as many forks as hosts each task runs
on every host at once, as an operator's ``forks`` sized to the fleet does, and what remains is the cost of
the tasks (on this controller, its CPU: every fork is a Python process here, beside N+1 hosts on the same
cores). Hosts of one N are removed before the next N; at the end unless ``--keep`` (which leaves the last
N's hosts running).

Memory: each agent host holds systemd, journald, dbus, containerd, dockerd and mesos-agent; the master host
ZooKeeper's JVM (128 MiB heap) and mesos-master. A size that would not fit in MemAvailable (less 2 GiB for
the rest of the machine), estimated from the memory per agent measured at the sizes before (300 MiB per
agent and 700 MiB for the master until then), is skipped with a line that says so. Seen on a 24 GiB,
2-core machine after the no-op run: 360-420 MiB per agent host, 355-380 MiB the master host (N = 1, 2), so
some 50 agents fit in 24 GiB.

Usage: .venv/bin/python bench/fleet_converge.py [--sizes 4 8 16] [--package PATH] [--keep]
  PATH defaults to $MESOS_PACKAGE, else the newest ../shared/mesos/mesos_*.deb (scripts/lib.sh's
  find_mesos_package).
"""
import argparse
import glob
import json
import os
import re
import sys
import tempfile
import time

from _hosts import (REPO, agent_vars, ansible_env, ansible_playbook, cluster_image, common_vars, hosts_play, remove_hosts, sh,
                    testbed_env)
from playbook_output import changed_tasks, recap

LABEL_VALUE = "bench-fleet"
PREFIX = "bench-fleet-"
MASTER = PREFIX + "master"
# Given to every host (as Vault would): the master, the agents and ZooKeeper derive their secrets from it.
CREDENTIALS_KEY = "mesos-docker-bench-fleet-key"
# Until a size has been measured: what one agent host and the master host are assumed to take.
AGENT_MIB_GUESS = 300
MASTER_MIB_GUESS = 700
HEADROOM_MIB = 2048
TOP_TASKS = 15


def agents_of(count):
    return ["%sagent-%d" % (PREFIX, index) for index in range(1, count + 1)]


def default_package():
    if os.environ.get("MESOS_PACKAGE"):
        return os.environ["MESOS_PACKAGE"]

    def version_key(path):
        return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", os.path.basename(path))]
    found = sorted(glob.glob(os.path.join(os.path.dirname(REPO), "shared", "mesos", "mesos_*.deb")), key=version_key)
    if not found:
        raise SystemExit("no Mesos package in MESOS_PACKAGE or ../shared/mesos/mesos_*.deb: give --package")
    return found[-1]


def inventory(testbed, package, agents):
    common = dict(common_vars(package, cluster_image(testbed, package)), mesos_credentials_key=CREDENTIALS_KEY)
    return {"all": {"vars": common, "children": {
        "zookeepers": {"hosts": {MASTER: None}},
        "masters": {"hosts": {MASTER: None}},
        "agents": {"hosts": dict.fromkeys(agents), "vars": agent_vars(testbed)}}}}


def leftovers():
    return sh("docker", "ps", "-a", "--filter", "label=mesos-docker-test=%s" % LABEL_VALUE,
              "--format", "{{.Names}}").stdout.split()


def mem_available_mib():
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    return 0


def memory_mib(host):
    """The host container's memory as ``docker stats`` counts it (usage less inactive file cache), or None."""
    container = sh("docker", "inspect", "-f", "{{.Id}}", host).stdout.strip()
    for base in ("/sys/fs/cgroup/memory/docker/%s" % container, "/sys/fs/cgroup/system.slice/docker-%s.scope" % container,
                 "/sys/fs/cgroup/docker/%s" % container):
        for usage_file, inactive_key in (("memory.usage_in_bytes", "total_inactive_file"), ("memory.current", "inactive_file")):
            try:
                with open(os.path.join(base, usage_file)) as handle:
                    usage = int(handle.read())
                with open(os.path.join(base, "memory.stat")) as handle:
                    stat = dict(line.split() for line in handle if line.strip())
            except (OSError, ValueError):
                continue
            return (usage - int(stat.get(inactive_key, 0))) / 1048576.0
    return None


def task_times(output):
    """[(task name, seconds)] from profile_tasks' TASKS RECAP (every task: PROFILE_TASKS_TASK_OUTPUT_LIMIT=all)."""
    times = []
    in_recap = False
    for line in output.splitlines():
        if line.startswith("TASKS RECAP"):
            in_recap = True
        elif line.startswith("PLAY RECAP"):
            in_recap = False
        elif in_recap:
            match = re.match(r"^(.*?)[ -]+ (\d+\.\d\d)s$", line)
            if match:
                times.append((match.group(1), float(match.group(2))))
    return times


def role_times(times):
    """{role (or "(play)" for tasks outside roles): seconds} from task_times."""
    totals = {}
    for name, seconds in times:
        role = name.split(" : ", 1)[0] if " : " in name else "(play)"
        totals[role] = totals.get(role, 0.0) + seconds
    return totals


def slope(points):
    """Least-squares slope of [(x, y)]; None with fewer than two distinct x."""
    xs = [point[0] for point in points]
    ys = [point[1] for point in points]
    if len(set(xs)) < 2:
        return None
    mean_x = sum(xs) / len(xs)
    mean_y = sum(ys) / len(ys)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x in xs)


def site(work, count, profile=False):
    """site.yml over the fleet: (seconds, output); the output also goes to ``<work>/site-<count>-<run>.log``."""
    env = ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_FORCE_COLOR="0")
    if profile:
        env.update(ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks", PROFILE_TASKS_TASK_OUTPUT_LIMIT="all")
    start = time.time()
    run = ansible_playbook(os.path.join(work, "inventory.yml"), os.path.join(REPO, "playbooks", "site.yml"),
                           "--forks", str(count + 1), timeout=4 * 3600, env=env)
    seconds = time.time() - start
    output = run.stdout + run.stderr
    with open(os.path.join(work, "site-%d-%s.log" % (count, "noop" if profile else "converge")), "w") as handle:
        handle.write(output)
    if run.returncode != 0:
        print(output[-8000:])
        raise SystemExit("site.yml failed (rc %d) after %.0f s on %d agents" % (run.returncode, seconds, count))
    return seconds, output


def one_size(testbed, package, count, work):
    """Hosts, converge and no-op re-run for ``count`` agents; a dict of the figures."""
    agents = agents_of(count)
    with open(os.path.join(work, "inventory.yml"), "w") as handle:
        json.dump(inventory(testbed, package, agents), handle)
    with open(os.path.join(work, "hosts.yml"), "w") as handle:
        handle.write(hosts_play(LABEL_VALUE))
    print("N=%d: %d agents + 1 master, --forks %d, load average %s" % (count, count, count + 1,
                                                                       " ".join("%.1f" % v for v in os.getloadavg())))
    start = time.time()
    run = ansible_playbook(os.path.join(work, "inventory.yml"), os.path.join(work, "hosts.yml"))
    if run.returncode != 0:
        print(run.stdout[-6000:])
        raise SystemExit("creating the hosts failed (rc %d)" % run.returncode)
    print("  hosts:     %6.1f s  (%d systemd containers, one at a time; not part of the figures)"
          % (time.time() - start, count + 1))

    converge, output = site(work, count)
    converge_changed = sum(recap(output, host).get("changed", 0) for host in agents + [MASTER])
    print("  converge:  %6.1f s  %5.1f s per agent  (changed %d over all hosts)"
          % (converge, converge / count, converge_changed))

    noop, output = site(work, count, profile=True)
    counts = {host: recap(output, host) for host in agents + [MASTER]}
    changed = sum(c.get("changed", 0) for c in counts.values())
    tasks = sorted({c.get("ok", 0) + c.get("changed", 0) + c.get("skipped", 0) for host, c in counts.items()
                    if host != MASTER})
    master_tasks = sum(counts[MASTER].get(key, 0) for key in ("ok", "changed", "skipped"))
    print("  no-op:     %6.1f s  %5.1f s per agent  changed=%d%s" % (
        noop, noop / count, changed,
        "" if changed == 0 else "  NOT IDEMPOTENT: the re-run changed %s" % "; ".join(changed_tasks(output))))
    print("  tasks per agent in the no-op run (ok+changed+skipped): %s; master host: %d"
          % ("..".join(str(t) for t in (tasks[0], tasks[-1])) if len(tasks) > 1 else tasks[0], master_tasks))

    memory = {host: memory_mib(host) for host in agents + [MASTER]}
    agent_memory = [memory[host] for host in agents if memory[host] is not None]
    if agent_memory and memory[MASTER] is not None:
        print("  memory:    %.0f MiB per agent host (max %.0f), master host %.0f MiB; MemAvailable now %d MiB"
              % (sum(agent_memory) / len(agent_memory), max(agent_memory), memory[MASTER], mem_available_mib()))
    else:
        print("  memory:    not readable from the hosts' memory cgroups")

    times = task_times(output)
    return {"count": count, "converge": converge, "noop": noop, "changed": changed, "tasks": tasks,
            "agent_mib": sum(agent_memory) / len(agent_memory) if agent_memory else None,
            "master_mib": memory[MASTER], "times": times}


def fits(count, measured):
    """(whether ``count`` agents fit in memory now, MiB they need, MiB available)."""
    agent_mib = next((m["agent_mib"] for m in reversed(measured) if m["agent_mib"]), AGENT_MIB_GUESS)
    master_mib = next((m["master_mib"] for m in reversed(measured) if m["master_mib"]), MASTER_MIB_GUESS)
    need = count * agent_mib + master_mib
    available = mem_available_mib() - HEADROOM_MIB
    return need <= available, need, available


def report(measured):
    print()
    print("%4s %10s %9s %9s %9s %8s %12s %10s" % ("N", "converge", "s/agent", "no-op", "s/agent", "changed",
                                                  "tasks/agent", "MiB/agent"))
    for m in measured:
        print("%4d %9.1fs %8.1fs %8.1fs %8.1fs %8d %12s %10s" % (
            m["count"], m["converge"], m["converge"] / m["count"], m["noop"], m["noop"] / m["count"], m["changed"],
            "..".join(str(t) for t in sorted({m["tasks"][0], m["tasks"][-1]})),
            "%.0f" % m["agent_mib"] if m["agent_mib"] else "?"))
    for what in ("converge", "noop"):
        value = slope([(m["count"], m[what]) for m in measured])
        print("slope of the %-8s %s" % (what + ":", "n/a (fewer than two sizes)" if value is None else
                                        "%.2f s per added agent (least squares over N = %s)"
                                        % (value, ", ".join(str(m["count"]) for m in measured))))
    if any(m["changed"] for m in measured):
        print("NOT IDEMPOTENT: a no-op re-run reported changed (see above)")
    if measured:
        last = measured[-1]
        print()
        print("no-op re-run at N=%d, where the time went (profile_tasks; a task's time is its wall time over "
              "all hosts at once):" % last["count"])
        for role, seconds in sorted(role_times(last["times"]).items(), key=lambda item: -item[1]):
            print("  %6.1f s  %s" % (seconds, role))
        print("  slowest %d tasks:" % TOP_TASKS)
        for name, seconds in sorted(last["times"], key=lambda item: -item[1])[:TOP_TASKS]:
            print("  %6.2f s  %s" % (seconds, name))
        print("  %d tasks ran in all (%d of them under 0.1 s)" % (len(last["times"]),
                                                                  len([t for t in last["times"] if t[1] < 0.1])))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 8, 16], help="numbers of agents (default 4 8 16)")
    parser.add_argument("--package", default=None, help="the Mesos .deb (default $MESOS_PACKAGE, ../shared/mesos)")
    parser.add_argument("--keep", action="store_true", help="leave the last size's hosts running")
    args = parser.parse_args()
    if any(size < 1 for size in args.sizes):
        parser.error("--sizes: every size must be at least 1")
    package = os.path.abspath(args.package or default_package())
    testbed = testbed_env.load()
    work = tempfile.mkdtemp(prefix="mesos-fleet-converge.")
    print("package:   %s, %d bytes" % (os.path.basename(package), os.path.getsize(package)))
    print("image:     %s; machine: %d cores, MemAvailable %d MiB"
          % (cluster_image(testbed, package), os.cpu_count(), mem_available_mib()))
    measured = []
    hosts = []
    try:
        for count in args.sizes:
            remove_hosts(set(leftovers()) | set(hosts))
            hosts = []
            ok, need, available = fits(count, measured)
            if not ok:
                print("N=%d: skipped: about %d MiB needed, %d MiB available (MemAvailable less %d MiB)"
                      % (count, need, available, HEADROOM_MIB))
                continue
            hosts = agents_of(count) + [MASTER]
            measured.append(one_size(testbed, package, count, work))
        report(measured)
        return 0
    finally:
        if not args.keep:
            remove_hosts(set(leftovers()) | set(hosts))
        print("work dir:  %s (inventory, site.yml's output of each run); hosts %s"
              % (work, "kept: %s" % ", ".join(hosts) if args.keep else "removed"))


if __name__ == "__main__":
    sys.exit(main())
