"""Benchmark (not a test): mesos.docker.recover vs Mesos's own ``docker ps -a`` + ``docker inspect`` loop.

One engine holds N (default 500) ``mesos-`` containers and a few others, a mix like a busy agent host
shared by agents (names, labels and sandbox mounts as the recover module's documentation describes):

* this agent's task containers (``mesos-<uuid>``, the sandbox under ``<work_dir>/slaves/<me>/`` bind-mounted),
  checkpointed, most running, some with their ``.executor`` container (``--docker_mesos_image``);
* this agent's containers whose checkpoint says they are gone (``executor.sentinel``, no ``libprocess.pid``)
  or that have no checkpoint at all (a framework without checkpointing): orphans, running and exited;
* containers labelled ``org.apache.mesos.agent_id`` (launched by mesos.docker.container), known and orphans;
* legacy names ``mesos-<agentID>.<uuid>`` of this agent and of another one;
* another agent's (sandbox under the same work_dir, another agent ID; or under another work_dir);
* modern names with no proof of ownership, and ``mesos-agent-<n>`` names that do not parse;
* ``--others`` plain containers (not ``mesos-``), which Mesos lists but does not inspect.

The checkpoint (``<work_dir>/meta``) has one executor per task of this agent, plus completed executors
whose containers are gone. About half the containers run (``sleep``), the rest have exited.

Sides, measured in the same run on the same containers, each round in alternating order:

  mesos    what the agent does (``Docker::ps`` in ``src/docker/docker.cpp``): ``docker -H <sock> ps -a``, then
           ``docker -H <sock> inspect --type=container <name>`` of each ``mesos-`` name, one process per
           container, in batches of 100 at once (``DOCKER_PS_MAX_INSPECT_CALLS``), each output parsed as JSON;
           the client is ``docker`` from PATH, as the agent's ``--docker`` default (``BENCH_RECOVER_DOCKER_CLI``
           another, e.g. ``/usr/bin/docker`` of Debian's docker.io)
  task     one ``mesos.docker.recover`` task (``work_dir`` given: agent ID and known containers from the
           checkpoint; ``kill_orphans: false``, so every round sees the same containers) in ``ansible-playbook``
           on localhost, timed by a callback from task start to its result (Ansible's own start-up is not
           counted, as in ``bench/image_pull.py``); the AnsiballZ payload is built by a warm-up task first
  process  the module alone: ``python -m ansible_collections.mesos.docker.plugins.modules.recover <args>``,
           as the host's Python runs it, without Ansible's controller (start-up, imports, list, checkpoint,
           classification, JSON out)
  adhoc    ``ansible localhost -c local -m mesos.docker.recover -a <args>``, the whole command: Ansible's
           own start-up (a few seconds on its own) counted

With ``BENCH_RECOVER_BASELINE=<tree>`` (a checkout of the collection, e.g. ``git worktree add /tmp/base main``)
the module of that tree is measured too (``task@base``, ``process@base``, ``adhoc@base``), and its results must equal this
tree's: same agent, same known IDs, same known/orphans/foreign entries, same skipped checkpoint runs.

Every module run's result is also checked against what the mix says each container is.

Printed: each side's wall seconds per round and their median, the ratio of the medians (mesos / side) and,
for the mesos and process sides, the CPU seconds of the side's processes plus the bench dockerd's (a
playbook's CPU is not the task's, so none for task): on a machine shared with other work, the wall times
move with the load, the CPU seconds much less.

The engine is a dockerd of the bench's own (``unix:///run/bench-recover-docker.sock``, data root
``/var/lib/bench-recover-docker``), started and stopped by the bench, so that the test bed's engine, where
tests classify ``mesos-`` containers, never sees these. ``BENCH_RECOVER_DOCKER_HOST`` takes an engine
already running instead; it must hold no ``mesos-`` container (the bench then removes only what it made). The image is the test bed's
busybox, copied from the main engine (``docker save | docker load``). Everything the bench made is removed
when it ends (``--keep`` leaves it for a look).

Needs root and the test bed (``tests/testbed/testbed.sh up``). Usage::

    .venv/bin/python bench/recover_scale.py [--containers 500] [--rounds 5] [--keep]
"""

from __future__ import print_function

import argparse
import json
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "testbed"))
import testbed_env  # noqa: E402  pylint: disable=wrong-import-position

VENV_BIN = os.path.join(REPO, ".venv", "bin")
PYTHON = os.path.join(VENV_BIN, "python")
SOCK = "/run/bench-recover-docker.sock"
DATA_ROOT = "/var/lib/bench-recover-docker"
EXEC_ROOT = "/run/bench-recover-docker"
PIDFILE = "/run/bench-recover-docker.pid"
BENCH_LABEL = "mesos-docker-bench"
AGENT_LABEL = "org.apache.mesos.agent_id"
MAX_INSPECT_CALLS = 100  # DOCKER_PS_MAX_INSPECT_CALLS, src/slave/constants.hpp
SANDBOX = "/mnt/mesos/sandbox"
# The client the agent runs (its --docker flag, default "docker" from PATH); e.g. /usr/bin/docker for Debian's docker.io
DOCKER_CLI = os.environ.get("BENCH_RECOVER_DOCKER_CLI") or shutil.which("docker") or "docker"

CALLBACK = '''
import json, os, time
from ansible.plugins.callback import CallbackBase

class CallbackModule(CallbackBase):
    """Writes each task's wall time (task start to its result) and result as JSON lines."""
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *a, **kw):
        super(CallbackModule, self).__init__(*a, **kw)
        self._start = None
        self._out = open(os.environ["BENCH_TIMINGS"], "a")

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start = (task.get_name(), time.monotonic())

    def _done(self, result, failed=False):
        name, start = self._start
        seconds = time.monotonic() - start
        data = dict(result._result)
        self._out.write(json.dumps(dict(task=name, seconds=seconds, failed=failed, result=data), default=str) + "\\n")
        self._out.flush()

    def v2_runner_on_ok(self, result):
        self._done(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._done(result, failed=True)
'''


def log(msg):
    print("[bench] %s" % msg, file=sys.stderr)
    sys.stderr.flush()


def _uuid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# ---- the engine ------------------------------------------------------------------------------------------------

class Engine:
    """The bench's own dockerd (or one given by BENCH_RECOVER_DOCKER_HOST)."""

    def __init__(self, keep=False):
        self.keep = keep
        self.given = os.environ.get("BENCH_RECOVER_DOCKER_HOST")
        self.host = self.given or "unix://" + SOCK
        self.process = None
        self.log_path = None

    def docker(self, *args, **kwargs):
        return subprocess.run(["docker", "-H", self.host] + list(args), check=False, capture_output=True, **kwargs)

    def up(self):
        if self.given:
            if self.docker("info").returncode != 0:
                sys.exit("BENCH_RECOVER_DOCKER_HOST=%s does not answer" % self.given)
            names = self.docker("ps", "-a", "--format", "{{.Names}}", text=True).stdout.split()
            if any(n.startswith("mesos-") for n in names):
                sys.exit("the engine at %s already holds mesos- containers: the bench needs one without "
                         "(it checks every classification against its own mix)" % self.given)
            return
        if os.path.exists(SOCK) and self.docker("info").returncode == 0:
            sys.exit("a dockerd already answers on %s (an earlier bench left it?): stop it, or take it with "
                     "BENCH_RECOVER_DOCKER_HOST=unix://%s" % (SOCK, SOCK))
        for path in (DATA_ROOT, EXEC_ROOT):
            os.makedirs(path, exist_ok=True)
        self.log_path = os.path.join(tempfile.gettempdir(), "bench-recover-dockerd.log")
        with open(self.log_path, "w") as out:
            # A network namespace of its own: a dockerd with --bridge=none in the host's namespace deletes the
            # host's docker0 (and with it the address the test bed's TLS registry listens on).
            self.process = subprocess.Popen(
                ["unshare", "--net", "dockerd", "--host", self.host, "--data-root", DATA_ROOT, "--exec-root", EXEC_ROOT,
                 "--pidfile", PIDFILE, "--bridge=none", "--iptables=false", "--ip-masq=false"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 60
        while self.docker("info").returncode != 0:
            if self.process.poll() is not None or time.time() > deadline:
                with open(self.log_path) as handle:
                    tail = handle.read()[-3000:]
                self.down()
                sys.exit("the bench's dockerd did not come up:\n%s" % tail)
            time.sleep(0.5)

    def down(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self.keep:
            return
        for mount in mounts_under((EXEC_ROOT, DATA_ROOT)):  # e.g. the daemon's netns/default
            subprocess.run(["umount", "-l", mount], check=False, capture_output=True)
        for path in (DATA_ROOT, EXEC_ROOT):
            shutil.rmtree(path, ignore_errors=True)
        for path in (SOCK, PIDFILE, self.log_path):
            if path and os.path.exists(path):
                os.unlink(path)

    def cpu(self):
        """CPU seconds the bench's dockerd has used so far (None for an engine it did not start)."""
        if self.process is None:
            return None
        with open("/proc/%d/stat" % self.process.pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))

    def version(self):
        """``<client version> (<client path>)/<server version>``."""
        proc = subprocess.run([DOCKER_CLI, "-H", self.host, "version", "--format", "{{.Client.Version}} {{.Server.Version}}"],
                              check=False, capture_output=True, text=True)
        client, _sep, server = proc.stdout.strip().partition(" ")
        return "%s (%s)/%s" % (client, DOCKER_CLI, server)


def mounts_under(roots):
    """Mount points below ``roots``, deepest first."""
    found = []
    with open("/proc/self/mounts") as handle:
        for line in handle:
            point = line.split()[1].replace("\\040", " ")
            if any(point == root or point.startswith(root + "/") for root in roots):
                found.append(point)
    return sorted(found, key=len, reverse=True)


def load_image(engine, image):
    """Copy ``image`` from the main engine (DOCKER_HOST or the default socket) to the bench's."""
    if engine.docker("image", "inspect", image).returncode == 0:
        return
    save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
    load = subprocess.run(["docker", "-H", engine.host, "load"], stdin=save.stdout, capture_output=True, check=False)
    save.stdout.close()
    if save.wait() != 0 or load.returncode != 0:
        sys.exit("copying %s to the bench engine failed: %s" % (image, load.stderr.decode(errors="replace")))


# ---- the containers and the checkpoint -----------------------------------------------------------------------

class Mix:
    """What the engine and the checkpoint hold, and what recover must say about each container."""

    def __init__(self, count, others, work_dir, seed=20):
        rng = random.Random(seed)
        self.work_dir = work_dir
        self.me = _uuid(rng) + "-S0"
        self.other = _uuid(rng) + "-S1"      # another agent ID under the same work_dir (e.g. before an ID reset)
        self.stranger = _uuid(rng) + "-S2"   # another agent on the same daemon, its own work_dir
        self.framework = _uuid(rng) + "-0000"
        self.specs = []       # dicts: name, labels, binds, running, expect (class)
        self.executors = []   # checkpointed executors: (executor ID, container ID, skip reason or None)
        kinds = [
            # (weight, kind)
            (30, "ckpt_known"), (6, "ckpt_known_exec"), (6, "ckpt_sentinel"), (3, "ckpt_no_libprocess"),
            (8, "no_ckpt"), (6, "labelled_known"), (3, "labelled_orphan"), (4, "legacy_mine"),
            (5, "legacy_other"), (8, "other_same_workdir"), (8, "stranger"), (8, "no_proof"), (1, "unparseable"),
        ]
        total = float(sum(w for w, _k in kinds))
        plan = []
        for weight, kind in kinds:
            plan.extend([kind] * int(round(count * weight / total)))
        while len(plan) < count:
            plan.append("ckpt_known")
        plan = plan[:count]
        agent_n = 0
        for kind in plan:
            if len(self.specs) >= count:
                break
            cid = _uuid(rng)
            running = rng.random() < 0.5
            if kind in ("ckpt_known", "ckpt_known_exec"):
                self._task(cid, self.me, True, running, "known")
                self.executors.append(("ex-" + cid[:8], cid, None))
                if kind == "ckpt_known_exec" and len(self.specs) < count:
                    self._add("mesos-%s.executor" % cid, binds=self._sandbox(self.me, cid), running=running,
                              expect="known")
            elif kind in ("ckpt_sentinel", "ckpt_no_libprocess"):
                self._task(cid, self.me, True, running, "orphans")
                self.executors.append(("ex-" + cid[:8], cid, kind))
            elif kind == "no_ckpt":
                self._task(cid, self.me, True, running, "orphans")
            elif kind in ("labelled_known", "labelled_orphan"):
                self._add("mesos-" + cid, labels={AGENT_LABEL: self.me}, binds=self._sandbox(self.me, cid),
                          running=running, expect="known" if kind == "labelled_known" else "orphans")
                if kind == "labelled_known":
                    self.executors.append(("ex-" + cid[:8], cid, None))
            elif kind == "legacy_mine":
                self._add("mesos-%s.%s" % (self.me, cid), running=running, expect="orphans")
            elif kind == "legacy_other":
                self._add("mesos-%s.%s" % (self.other, cid), running=running, expect="foreign")
            elif kind == "other_same_workdir":
                self._task(cid, self.other, True, running, "foreign")
            elif kind == "stranger":
                self._add("mesos-" + cid, running=running, expect="foreign",
                          binds=["%s-%s/slaves/%s/frameworks/%s/executors/e/runs/%s:%s" % (
                              work_dir, "stranger", self.stranger, self.framework, cid, SANDBOX)])
            elif kind == "no_proof":
                self._add("mesos-" + cid, running=running, expect="foreign")
            else:
                agent_n += 1
                self._add("mesos-agent-%d" % agent_n, running=True, expect="foreign")
        # completed executors whose containers are gone (the agent keeps their checkpoint for a while)
        for dummy in range(max(1, count // 10)):
            self.executors.append(("ex-gone-%d" % dummy, _uuid(rng), "ckpt_sentinel"))
        for i in range(others):
            self._add("web-%d" % i, running=True, expect=None)

    def _sandbox(self, agent, cid):
        path = os.path.join(self.work_dir, "slaves", agent, "frameworks", self.framework, "executors",
                            "ex-" + cid[:8], "runs", cid)
        return ["%s:%s" % (path, SANDBOX)]

    def _task(self, cid, agent, mounted, running, expect):
        self._add("mesos-" + cid, binds=self._sandbox(agent, cid) if mounted else [], running=running, expect=expect)

    def _add(self, name, labels=None, binds=None, running=True, expect=None):
        self.specs.append(dict(name=name, labels=labels or {}, binds=binds or [], running=running, expect=expect))

    def expected(self):
        out = dict(known=set(), orphans=set(), foreign=set())
        for spec in self.specs:
            if spec["expect"]:
                out[spec["expect"]].add(spec["name"])
        return out

    def write_checkpoint(self):
        """``<work_dir>/meta`` as the agent checkpoints: one executor per task, ``runs/latest``, pids, boot ID."""
        meta = os.path.join(self.work_dir, "meta")
        agent_dir = os.path.join(meta, "slaves", self.me)
        for executor, cid, skip in self.executors:
            exdir = os.path.join(agent_dir, "frameworks", self.framework, "executors", executor)
            run = os.path.join(exdir, "runs", cid)
            os.makedirs(os.path.join(run, "pids"))
            with open(os.path.join(exdir, "executor.info"), "wb") as handle:
                handle.write(b"\n\x0a" + executor.encode())
            with open(os.path.join(run, "pids", "forked.pid"), "w") as handle:
                handle.write("4242")
            if skip != "ckpt_no_libprocess":
                with open(os.path.join(run, "pids", "libprocess.pid"), "w") as handle:
                    handle.write("executor(1)@127.0.0.1:40000")
            if skip == "ckpt_sentinel":
                open(os.path.join(run, "executor.sentinel"), "w").close()
            os.makedirs(os.path.join(run, "tasks", "task-" + cid[:8]))
            os.symlink(run, os.path.join(exdir, "runs", "latest"))
        os.symlink(agent_dir, os.path.join(meta, "slaves", "latest"))
        with open("/proc/sys/kernel/random/boot_id") as src, open(os.path.join(meta, "boot_id"), "w") as dst:
            dst.write(src.read())

    def create(self, engine, image, workers=8):
        """Create (and start) every container on the bench engine; returns their Docker IDs."""
        import docker

        api = docker.APIClient(base_url=engine.host, version="auto", timeout=120)

        def make(spec):
            for bind in spec["binds"]:
                os.makedirs(bind.split(":")[0], exist_ok=True)
            hc = api.create_host_config(binds=spec["binds"], network_mode="host")
            labels = dict(spec["labels"], **{BENCH_LABEL: "1"})
            command = ["sleep", "86400"] if spec["running"] else ["true"]
            ident = api.create_container(image, command=command, name=spec["name"], labels=labels,
                                         host_config=hc)["Id"]
            api.start(ident)
            if not spec["running"]:
                api.wait(ident, timeout=60)
            return ident

        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(make, self.specs))


def remove_containers(engine, workers=8):
    import docker

    api = docker.APIClient(base_url=engine.host, version="auto", timeout=120)
    idents = [c["Id"] for c in api.containers(all=True, filters={"label": BENCH_LABEL})]

    def rm(ident):
        try:
            api.remove_container(ident, force=True, v=True)
        except Exception:  # noqa: BLE001  pylint: disable=broad-except  # best effort, counted below
            pass

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(rm, idents))
    return len(api.containers(all=True, filters={"label": BENCH_LABEL}))


# ---- the sides -------------------------------------------------------------------------------------------------

def mesos_side(engine, prefix="mesos-"):
    """``docker ps -a`` then one ``docker inspect`` process per ``mesos-`` name, 100 at once, as the agent does.

    Returns (seconds, {name: parsed inspect})."""
    start = time.monotonic()
    ps = subprocess.run([DOCKER_CLI, "-H", engine.host, "ps", "-a"], capture_output=True, check=True, text=True)
    lines = [line for line in ps.stdout.split("\n") if line.strip()][1:]  # header skipped
    names = []
    while lines:  # createInspectBatch takes lines from the back
        line = lines.pop()
        name = line.strip().split(" ")[-1]
        if name.startswith(prefix):
            names.append(name)
    inspected = {}
    for at in range(0, len(names), MAX_INSPECT_CALLS):
        batch = names[at:at + MAX_INSPECT_CALLS]
        procs = [(name, subprocess.Popen([DOCKER_CLI, "-H", engine.host, "inspect", "--type=container", name],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
                 for name in batch]
        for name, proc in procs:
            out, err = proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError("docker inspect %s failed: %s" % (name, err.decode(errors="replace")))
            inspected[name] = json.loads(out)[0]
    return time.monotonic() - start, inspected


def collection_root(tree, where):
    """A directory whose ``ansible_collections/mesos/docker`` is ``tree``."""
    link = os.path.join(where, "ansible_collections", "mesos", "docker")
    os.makedirs(os.path.dirname(link))
    os.symlink(os.path.abspath(tree), link)
    return where


def module_args(mix, engine):
    return dict(work_dir=mix.work_dir, docker_host=engine.host, kill_orphans=False)


def process_side(root, args, scratch):
    path = os.path.join(scratch, "args.json")  # also what --keep leaves for a look with a profiler
    with open(path, "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
    env = dict(os.environ, PYTHONPATH=root)
    start = time.monotonic()
    proc = subprocess.run([PYTHON, "-m", "ansible_collections.mesos.docker.plugins.modules.recover", path],
                          env=env, capture_output=True, check=False, cwd=scratch)
    seconds = time.monotonic() - start
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        sys.exit("the module printed no JSON: %s %s" % (proc.stdout[-2000:], proc.stderr[-2000:]))
    return seconds, result


class TaskSide:
    """One ansible-playbook per sample: a warm-up task, the timed task; then the same for ``ansible.builtin.ping``,
    Ansible's own cost of a task (``ping`` attribute: its seconds in the last run)."""

    def __init__(self, root, args, scratch):
        self.scratch = scratch
        self.playbook = os.path.join(scratch, "recover.yml")
        self.timings = os.path.join(scratch, "timings.jsonl")
        with open(os.path.join(scratch, "bench_timer.py"), "w") as handle:
            handle.write(CALLBACK)
        task = {"mesos.docker.recover": args}
        ping = {"ansible.builtin.ping": {}}
        play = [{"name": "bench", "hosts": "all", "gather_facts": False, "tasks": [
            dict(task, name="warm-up"), dict(task, name="timed"), dict(ping, name="ping warm-up"),
            dict(ping, name="ping timed")]}]
        with open(self.playbook, "w") as handle:
            json.dump(play, handle)
        self.env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=root, ANSIBLE_CALLBACK_PLUGINS=scratch,
                        ANSIBLE_CALLBACKS_ENABLED="bench_timer", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_NOCOLOR="1",
                        BENCH_TIMINGS=self.timings, PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))

    def __call__(self):
        open(self.timings, "w").close()
        cmd = [os.path.join(VENV_BIN, "ansible-playbook"), self.playbook, "-i", "localhost,",
               "-e", "ansible_connection=local", "-e", "ansible_python_interpreter=%s" % PYTHON]
        proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              check=False, cwd=self.scratch)
        if proc.returncode != 0:
            sys.exit("the bench playbook failed:\n%s\n%s" % (proc.stdout[-4000:], proc.stderr[-4000:]))
        with open(self.timings) as handle:
            records = dict((r["task"], r) for r in (json.loads(line) for line in handle if line.strip()))
        self.ping = records["ping timed"]["seconds"]
        return records["timed"]["seconds"], records["timed"]["result"]


def adhoc_side(root, args, scratch, module="mesos.docker.recover"):
    """``ansible localhost -m mesos.docker.recover``, the whole command: Ansible's start-up counted."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=root, ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_NOCOLOR="1",
               PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))
    cmd = [os.path.join(VENV_BIN, "ansible"), "localhost", "-i", "localhost,", "-c", "local",
           "-e", "ansible_python_interpreter=%s" % PYTHON, "-m", module] + (["-a", json.dumps(args)] if args else [])
    start = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False,
                          cwd=scratch)
    seconds = time.monotonic() - start
    head, sep, body = proc.stdout.partition(" => ")
    if proc.returncode != 0 or not sep or "SUCCESS" not in head:
        sys.exit("the ad-hoc command failed:\n%s\n%s" % (proc.stdout[-4000:], proc.stderr[-4000:]))
    return seconds, json.loads(body)


# ---- checks ----------------------------------------------------------------------------------------------------

DECISION_KEYS = ("agent_id", "known_container_ids", "known", "orphans", "foreign", "checkpoint_skipped", "killed",
                 "kill_failed", "changed")


def decisions(result):
    return dict((key, result.get(key)) for key in DECISION_KEYS)


def check_result(side, result, mix, expected):
    if result.get("failed"):
        sys.exit("%s failed: %s" % (side, result.get("msg")))
    got = dict((cls, set(e["name"] for e in result[cls])) for cls in ("known", "orphans", "foreign"))
    got["foreign"] = set(n for n in got["foreign"] if n.startswith("mesos-"))
    if got != expected or result["agent_id"] != mix.me or result["changed"] or result["killed"]:
        wrong = dict((cls, sorted(got[cls] ^ expected[cls])[:5]) for cls in expected)
        sys.exit("%s classified differently from the mix: %s" % (side, wrong))


def check_mesos(inspected, mix):
    names = set(s["name"] for s in mix.specs if s["name"].startswith("mesos-"))
    if set(inspected) != names:
        sys.exit("the mesos side inspected %d containers, the mix has %d" % (len(inspected), len(names)))


# ---- main ------------------------------------------------------------------------------------------------------

def fmt(values):
    return " ".join("%6.2f" % v for v in values)


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--containers", type=int, default=500, help="mesos- containers on the engine (default 500)")
    parser.add_argument("--others", type=int, default=10, help="plain containers beside them (default 10)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, each side once per round (default 5)")
    parser.add_argument("--keep", action="store_true", help="leave the engine, containers and work dir")
    args = parser.parse_args()

    if os.geteuid() != 0:
        sys.exit("run as root (the bench starts a dockerd of its own)")
    try:
        testbed = testbed_env.load()
    except testbed_env.TestbedNotUp as exc:
        sys.exit(str(exc))
    image = testbed["TESTBED_IMAGE_BUSYBOX"]
    baseline = os.environ.get("BENCH_RECOVER_BASELINE")

    scratch = tempfile.mkdtemp(prefix="bench-recover-")
    engine = Engine(keep=args.keep)
    try:
        log("starting the bench engine" if not engine.given else "using the engine at %s" % engine.host)
        engine.up()
        load_image(engine, image)
        mix = Mix(args.containers, args.others, os.path.join(scratch, "work"))
        mix.write_checkpoint()
        started = time.monotonic()
        mix.create(engine, image)
        log("%d containers made in %.0f s" % (len(mix.specs), time.monotonic() - started))
        expected = mix.expected()

        trees = [("", REPO)] + ([("@base", baseline)] if baseline else [])
        sides = [("mesos", None)]
        for suffix, tree in trees:
            root = collection_root(tree, os.path.join(scratch, "collections" + suffix))
            margs = module_args(mix, engine)
            where = os.path.join(scratch, "side" + suffix)
            os.makedirs(where)
            sides.append(("task" + suffix, TaskSide(root, margs, where)))
            sides.append(("process" + suffix, lambda r=root, a=margs, w=where: process_side(r, a, w)))
            sides.append(("adhoc" + suffix, lambda r=root, a=margs, w=where: adhoc_side(r, a, w)))
        # Ansible's own cost: a ping task (in each task side's playbook) and an ad-hoc ping command
        sides.append(("adhoc ping", lambda w=where: adhoc_side(os.path.join(scratch, "collections"), {}, w,
                                                               module="ansible.builtin.ping")))
        floors = dict(("%s ping" % name, []) for name, _run in sides if name.startswith("task"))

        times = dict((name, []) for name, _run in sides)
        cpu = dict((name, []) for name, _run in sides)  # CPU seconds of the side's processes and of dockerd
        first = {}
        for rnd in range(args.rounds):
            order = sides if rnd % 2 == 0 else list(reversed(sides))
            for name, run in order:
                cpu_before = (children_cpu(), engine.cpu())
                if name == "mesos":
                    seconds, inspected = mesos_side(engine)
                    check_mesos(inspected, mix)
                elif name == "adhoc ping":
                    seconds, result = run()
                    if result.get("ping") != "pong":
                        sys.exit("ansible -m ping answered %r" % result)
                else:
                    seconds, result = run()
                    check_result(name, result, mix, expected)
                    if first and decisions(first["result"]) != decisions(result):  # any tree, any way of running it
                        sys.exit("%s decided differently from %s" % (name, first["side"]))
                    first.setdefault("result", result)
                    first.setdefault("side", name)
                times[name].append(seconds)
                if name.startswith("task"):
                    floors[name + " ping"].append(run.ping)
                if not name.startswith("task") and cpu_before[1] is not None:  # a playbook's CPU is not the task's
                    cpu[name].append(children_cpu() - cpu_before[0] + engine.cpu() - cpu_before[1])
            log("round %d/%d: %s" % (rnd + 1, args.rounds, ", ".join(
                "%s %.2f s" % (name, times[name][-1]) for name, _run in sides)))
        times.update(floors)
        med = dict((name, statistics.median(values)) for name, values in times.items())
        rows = [name for name, _run in sides if name != "adhoc ping"] + sorted(floors) + ["adhoc ping"]
        counts = dict((cls, len(first["result"][cls])) for cls in ("known", "orphans", "foreign"))
        running = sum(1 for s in mix.specs if s["running"] and s["name"].startswith("mesos-"))
        import ansible

        print()
        print("recover over %d mesos- containers (%d running; %d other containers) on one engine, %d rounds, "
              "order alternating" % (args.containers, running, args.others, args.rounds))
        print("every module run said the same: %d known, %d orphans, %d foreign (mesos- named); checkpoint: %d executors, %d skipped"
              % (counts["known"], counts["orphans"], counts["foreign"], len(mix.executors),
                 len(first["result"]["checkpoint_skipped"])))
        print("docker client/server %s, ansible-core %s, python %s, %d cores, load average %.2f" % (
            engine.version(), ansible.__version__, sys.version.split()[0], os.cpu_count(), os.getloadavg()[0]))
        print()
        print("%-16s %8s   %s" % ("side", "median", "seconds per round"))
        for name in rows:
            print("%-16s %8.2f   %s" % (name, med[name], fmt(times[name])))
        if cpu["mesos"]:
            print()
            print("CPU seconds (the side's processes + dockerd), median: " + ", ".join(
                "%s %.2f" % (name, statistics.median(cpu[name])) for name, _run in sides if cpu[name]))
        print()
        for name in rows[1:]:
            note = "  (Ansible alone: what no module can beat)" if name.endswith("ping") else ""
            print("mesos / %-16s %6.1fx%s" % (name, med["mesos"] / med[name], note))
    finally:
        if not args.keep:
            left = remove_containers(engine) if engine.docker("info").returncode == 0 else 0
            if left:
                log("%d containers could not be removed" % left)
            engine.down()
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            log("kept: engine %s (pid file %s), work dir and module arguments in %s" % (engine.host, PIDFILE, scratch))


if __name__ == "__main__":
    main()
