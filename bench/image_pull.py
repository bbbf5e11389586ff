"""Benchmark (not a test): ensuring already-present images, mesos.docker.image vs community.docker.

What it measures, in one ansible-playbook run per repetition (median of --repeat runs):

  A. ONE ``mesos.docker.image`` task with ``names:`` listing N images
  B. ``mesos.docker.image`` with ``name:`` in a loop over the same N images (N module runs)
  C. ``community.docker.docker_image_pull`` (``pull: not_present``) in a loop over the same N images
  D. a single-image task: ``mesos.docker.image`` vs ``community.docker.docker_image_pull``
     (5 interleaved samples of each per run, their median)

Runs alternate the order of B and C (and of the D pairs), so that a machine busy with other work
penalises both sides alike.

All N images are present locally (tags of the test bed's busybox image), so nothing is pulled:
this is the cost of a re-run on an agent that already has its images, which is what operators
with hundreds of agents pay on every run. Each task's time is measured by a callback from task
start to its last result, so Ansible's own start-up is not counted.

community.docker is not a dependency of the collection; it comes with the ``ansible`` bundle that
``requirements-test.txt`` installs into the venv (``.venv``), which runs every case.

Needs the test bed (``tests/testbed/testbed.sh up``). Usage::

    .venv/bin/python bench/image_pull.py [--count 20] [--repeat 3] [--keep]
"""

from __future__ import print_function

import argparse
import json
import os
import statistics
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "testbed"))
import testbed_env  # noqa: E402  pylint: disable=wrong-import-position
BUILD = os.path.join(REPO, ".build")
BENCH_DIR = os.path.join(BUILD, "bench")
VENV_BIN = os.path.join(REPO, ".venv", "bin")
BENCH_REPO = "mesos-docker-bench/img"

CALLBACK = '''
import json, os, time
from ansible.plugins.callback import CallbackBase

class CallbackModule(CallbackBase):
    """Writes each task's wall time (task start to its last result) as JSON lines."""
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
        data = result._result
        self._out.write(json.dumps(dict(task=name, seconds=time.monotonic() - start, failed=failed,
                                        changed=bool(data.get("changed")), msg=data.get("msg"))) + "\\n")
        self._out.flush()

    def v2_runner_on_ok(self, result):
        self._done(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._done(result, failed=True)
'''

SCENARIOS = [
    # (key, task name, label)
    ("warmup", "warm-up", None),
    ("ours_names", "A ours names", "mesos.docker.image, ONE task with names: (%d images)"),
    ("ours_loop", "B ours loop", "mesos.docker.image name:, %d tasks (loop)"),
    ("community_loop", "C community loop", "community.docker.docker_image_pull, %d tasks (loop)"),
    ("ours_single", "D ours single", "mesos.docker.image, single image"),
    ("community_single", "D community single", "community.docker.docker_image_pull, single image"),
]


def log(msg):
    print("[bench] %s" % msg, file=sys.stderr)


def read_testbed():
    try:
        return testbed_env.load()
    except testbed_env.TestbedNotUp as exc:
        sys.exit(str(exc))


def community_collections_path():
    """The parent of the venv's ansible_collections (the ansible bundle) and community.docker's version."""
    import ansible_collections.community.docker as community_docker

    collection = list(community_docker.__path__)[0]
    with open(os.path.join(collection, "MANIFEST.json")) as handle:
        version = json.load(handle)["collection_info"]["version"]
    return os.path.dirname(os.path.dirname(os.path.dirname(collection))), version


def make_images(source, count):
    import docker

    api = docker.APIClient(version="auto")
    names = []
    for i in range(count):
        repo = "%s%02d" % (BENCH_REPO, i)
        api.tag(source, repo, tag="latest")
        names.append("%s:latest" % repo)
    return api, names


def remove_images(api, names):
    for name in names:
        try:
            api.remove_image(name)
        except Exception:  # noqa: BLE001 - best effort
            pass


SINGLE_SAMPLES = 5


def playbook(names, reverse=False):
    """The tasks of one run; ``reverse`` swaps the order of the two loops (and of the singles)."""
    single = names[0]
    ours_single = {"mesos.docker.image": {"name": single}}
    community_single = {"community.docker.docker_image_pull": {"name": single.split(":")[0], "tag": "latest",
                                                               "pull": "not_present"}}
    loops = [
        {"name": "B ours loop", "mesos.docker.image": {"name": "{{ item }}"}, "loop": names},
        {"name": "C community loop",
         "community.docker.docker_image_pull": {"name": "{{ item.split(':')[0] }}", "tag": "latest",
                                                "pull": "not_present"},
         "loop": names},
    ]
    singles = []
    for i in range(SINGLE_SAMPLES):
        pair = [dict(ours_single, name="D ours single %d" % i), dict(community_single, name="D community single %d" % i)]
        singles.extend(reversed(pair) if reverse else pair)
    tasks = [
        # builds both modules' AnsiballZ payloads before anything is timed
        {"name": "warm-up", "mesos.docker.image": {"name": single}},
        dict(community_single, name="warm-up community"),
        {"name": "A ours names", "mesos.docker.image": {"names": names}},
    ] + (list(reversed(loops)) if reverse else loops) + singles
    return [{"name": "bench", "hosts": "all", "gather_facts": False, "tasks": tasks}]


def run_once(playbook_path, env, timings_path):
    open(timings_path, "w").close()
    cmd = [os.path.join(VENV_BIN, "ansible-playbook"), playbook_path, "-i", "localhost,",
           "-e", "ansible_connection=local", "-e", "ansible_python_interpreter=%s" % os.path.join(VENV_BIN, "python")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
    if proc.returncode != 0:
        sys.exit("the bench playbook failed:\n%s\n%s" % (proc.stdout[-4000:], proc.stderr[-4000:]))
    with open(timings_path) as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    out = {}
    for rec in records:
        if rec["failed"] or rec["changed"]:
            sys.exit("task %r should be ok and unchanged: %r" % (rec["task"], rec))
        out[rec["task"]] = rec["seconds"]
    for key in ("ours", "community"):
        out["D %s single" % key] = statistics.median(
            out["D %s single %d" % (key, i)] for i in range(SINGLE_SAMPLES))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--count", type=int, default=20, help="images already present (default 20)")
    parser.add_argument("--repeat", type=int, default=3, help="playbook runs; the median is shown (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the bench's image tags afterwards")
    args = parser.parse_args()

    testbed = read_testbed()
    community_path, community_version = community_collections_path()
    os.makedirs(BENCH_DIR, exist_ok=True)
    with open(os.path.join(BENCH_DIR, "bench_timer.py"), "w") as handle:
        handle.write(CALLBACK)

    api, names = make_images(testbed["TESTBED_IMAGE_BUSYBOX"], args.count)
    try:
        env = dict(os.environ)
        env.update(
            ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([os.path.join(BUILD, "collections"), community_path]),
            ANSIBLE_CALLBACK_PLUGINS=BENCH_DIR,
            ANSIBLE_CALLBACKS_ENABLED="bench_timer",
            ANSIBLE_LOCALHOST_WARNING="0",
            ANSIBLE_NOCOLOR="1",
            BENCH_TIMINGS=os.path.join(BENCH_DIR, "timings.jsonl"),
            PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""),
        )
        runs = []
        for i in range(args.repeat):
            log("run %d/%d" % (i + 1, args.repeat))
            path = os.path.join(BENCH_DIR, "image_pull.yml")
            with open(path, "w") as handle:
                json.dump(playbook(names, reverse=bool(i % 2)), handle, indent=1)
            runs.append(run_once(path, env, env["BENCH_TIMINGS"]))
    finally:
        if not args.keep:
            remove_images(api, names)

    med = dict((key, statistics.median(r[task] for r in runs)) for key, task, _label in SCENARIOS)
    import ansible

    print()
    print("ensure %d already-present images on the local engine; median of %d runs" % (args.count, args.repeat))
    print("ansible-core %s, community.docker %s, python %s" % (
        ansible.__version__, community_version, sys.version.split()[0]))
    print()
    print("%-58s %9s %11s" % ("scenario", "seconds", "per image"))
    for key, _task, label in SCENARIOS:
        if label is None:
            continue
        n = args.count if key in ("ours_names", "ours_loop", "community_loop") else 1
        text = label % args.count if "%d" in label else label
        print("%-58s %9.3f %9.0f ms" % (text, med[key], 1000.0 * med[key] / n))
    print()
    print("speed-up of the one-call form (A):")
    print("  vs mesos.docker.image loop (B):                %6.1fx" % (med["ours_loop"] / med["ours_names"]))
    print("  vs community.docker.docker_image_pull loop (C): %6.1fx" % (med["community_loop"] / med["ours_names"]))
    print("single image, community.docker / mesos.docker:   %6.2fx  (>1 means ours is faster)" % (
        med["community_single"] / med["ours_single"]))


if __name__ == "__main__":
    main()
