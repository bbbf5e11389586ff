#!/usr/bin/env python
"""Benchmark: time from nothing to two docker-in-docker agents running a task each (bridged mode).

Not a test: it prints figures and asserts nothing about time. It uses this machine's Docker engine and
the test bed's images (``tests/testbed/testbed.sh up``); the agent binary is the test STAND-IN.

Steps, each timed:
  converge  ``ansible-playbook playbooks/dind.yml`` for two agents on localhost (image build when not
            cached, network allocation, containers, until both agents answer ``/health``)
  tasks     load busybox into each inner daemon, run an HTTP task in each, until both answer from the host
  total     the two together
``--cold`` removes the agent image first, so the converge includes the image build.
Everything it made (containers, volumes, the parent network, the state file) is removed afterwards.

Usage: .venv/bin/python bench/dind_startup.py [--cold] [--runs N]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "testbed"))
import testbed_env  # noqa: E402  pylint: disable=wrong-import-position
BINDIR = os.path.dirname(sys.executable)
NETWORK = "bench-mesos-dind"
SUBNET = "10.248.0.0/16"
IP_RANGE = "10.248.0.0/24"
PREFIX = "bench-dind-"
AGENTS = ["a", "b"]


def run(argv, **kwargs):
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


def quiet(argv):
    subprocess.run(argv, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cleanup_docker():
    for agent in AGENTS:
        quiet(["docker", "rm", "-f", PREFIX + agent])
        quiet(["docker", "volume", "rm", PREFIX + agent + "-var-lib-docker"])
    quiet(["docker", "rm", "-f", PREFIX + "privileged-probe"])
    quiet(["docker", "network", "rm", NETWORK])


def write_inventory(workdir, tb):
    group_vars = {
        "mesos_agent_dind_agents": [
            {"name": "a", "resources": {"cpus": 1, "mem": 512}},
            {"name": "b", "resources": {"cpus": 1, "mem": 512}},
        ],
        "mesos_agent_dind_master": "127.0.0.1:5050",
        "mesos_agent_dind_docker_network": NETWORK,
        "mesos_agent_dind_network_state_file": os.path.join(workdir, "dind-network.json"),
        "mesos_agent_dind_container_prefix": PREFIX,
        "mesos_agent_dind_build_dir": os.path.join(workdir, "build"),
        "mesos_agent_dind_base_image": tb["TESTBED_IMAGE_DEBIAN12"],
        "mesos_agent_dind_agent_packages": [],
        "mesos_agent_dind_agent_files": [
            {"src": os.path.join(REPO, "tests/standin/mesos-agent"),
             "dest": "/opt/mesos-standin/tests/standin/mesos-agent", "mode": "0755"},
            {"src": os.path.join(REPO, "plugins/module_utils/_agent_flags.py"),
             "dest": "/opt/mesos-standin/plugins/module_utils/_agent_flags.py"},
        ],
        "mesos_agent_dind_agent_binary": "/opt/mesos-standin/tests/standin/mesos-agent",
        "mesos_agent_dind_stop_timeout": 10,
    }
    inventory = {
        "dind_agents": {"hosts": {"bench-host": {"ansible_connection": "local",
                                                 "ansible_python_interpreter": sys.executable}},
                        "vars": group_vars},
        "all": {"hosts": {"localhost": {"ansible_connection": "local",
                                        "ansible_python_interpreter": sys.executable}}},
    }
    path = os.path.join(workdir, "inventory.json")
    with open(path, "w") as handle:
        json.dump(inventory, handle)
    return path


def wait_http(url, expect=None, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                body = response.read().decode()
                if expect is None or body.strip() == expect:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("%s did not answer within %ss" % (url, timeout))
        time.sleep(0.1)


def one_run(tb, cold):
    workdir = tempfile.mkdtemp(prefix="bench-dind-")
    try:
        cleanup_docker()
        run(["docker", "network", "create", "--subnet", SUBNET, "--ip-range", IP_RANGE, NETWORK])
        inventory = write_inventory(workdir, tb)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"),
                   ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", PATH=BINDIR + os.pathsep + os.environ["PATH"])
        if cold:
            listing = run(["docker", "images", "-q", "--filter", "reference=mesos-docker/mesos-agent-dind"]).stdout.split()
            for image in set(listing):
                quiet(["docker", "rmi", "-f", image])
        start = time.monotonic()
        proc = subprocess.run([os.path.join(BINDIR, "ansible-playbook"), "-i", inventory,
                               os.path.join(REPO, "playbooks", "dind.yml")],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
        converged = time.monotonic()
        if proc.returncode:
            sys.stdout.write(proc.stdout[-5000:])
            raise RuntimeError("converge failed")
        busybox = tb["TESTBED_IMAGE_BUSYBOX"]
        ips = {}
        for agent in AGENTS:
            container = PREFIX + agent
            subprocess.run("docker save %s | docker exec -i %s docker load" % (busybox, container),
                           shell=True, check=True, stdout=subprocess.DEVNULL)
            run(["docker", "exec", container, "docker", "run", "-d", "--name", "task-" + agent, busybox, "sh", "-c",
                 "mkdir -p /www && echo task-%s > /www/index.html && exec httpd -f -p 8080 -h /www" % agent])
            inspect = json.loads(run(["docker", "exec", container, "docker", "inspect", "task-" + agent]).stdout)
            ips[agent] = inspect[0]["NetworkSettings"]["IPAddress"]
        for agent in AGENTS:
            wait_http("http://%s:8080/" % ips[agent], expect="task-" + agent)
        done = time.monotonic()
        return converged - start, done - converged, done - start, ips
    finally:
        cleanup_docker()
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="remove the agent image first (include the build)")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    tb = testbed_env.load()
    print("dind start-up, two bridged agents + one task each (%s image)" % ("cold" if args.cold else "cached"))
    print("%-4s %10s %10s %10s  %s" % ("run", "converge", "tasks", "total", "task addresses"))
    for number in range(1, args.runs + 1):
        converge, tasks, total, ips = one_run(tb, args.cold)
        addresses = ", ".join("%s=%s" % item for item in sorted(ips.items()))
        print("%-4d %9.1fs %9.1fs %9.1fs  %s" % (number, converge, tasks, total, addresses))


if __name__ == "__main__":
    main()
