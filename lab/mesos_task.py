# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Run one docker task through a Mesos master with the v1 scheduler HTTP API.

Used by the lab and by the tests: a tiny scheduler that subscribes, accepts an offer of
the agent it is told to use (by hostname or agent ID), launches one command task in the
Docker containerizer, acknowledges its status updates and, when the task ends, reads its
stdout and stderr from the agent's sandbox (``/files/read``).

    mesos_task.py --master http://10.0.0.2:5050 --agent-hostname lab-agent-1 \
        --image 127.0.0.1:5000/testbed/busybox --command 'echo hi'

It subscribes as a framework principal (the ``master`` credentials: a principal of the master's
``--credentials`` that its ``--acls`` let register frameworks), with that principal in its
FrameworkInfo, and runs its tasks as ``--user`` (default ``nobody``: the master's policy names
the users each framework principal may run tasks as).

Credentials never go on the command line: the agent's HTTP credentials and the framework's
come from standard input (``--credentials-stdin``: ``{"agent": {"principal", "secret"},
"master": {...}}``; what Ansible's ``command`` module passes as ``stdin`` shows nowhere) or
from the environment (``MESOS_TASK_AGENT_PRINCIPAL``/``_SECRET``,
``MESOS_TASK_MASTER_PRINCIPAL``/``_SECRET``; Ansible prints an ``environment:`` at -vvv). Prints one JSON document: the task's states,
its final state and message, the agent, the container name and the sandbox's stdout.
``--until TASK_RUNNING`` returns once the task runs; ``--failover-timeout`` then keeps the
framework (and its checkpointed task) alive after this process ends. ``--http-probe PORT``
(bridge networking): once the task runs, GET ``http://<task address>:PORT/`` from this
process, i.e. from the machine it runs on, record the answer, then kill the task; the address
is the one the agent reports in the task's status.
"""

import argparse
import json
import os
import sys
import threading
import time
import uuid

import requests

TERMINAL = {"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR",
            "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR", "TASK_UNREACHABLE"}


# Credentials read from standard input (--credentials-stdin), by environment prefix.
_STDIN_CREDENTIALS = {}


def _auth(prefix):
    if prefix in _STDIN_CREDENTIALS:
        entry = _STDIN_CREDENTIALS[prefix]
        return (entry["principal"], entry["secret"])
    principal = os.environ.get(prefix + "_PRINCIPAL")
    secret = os.environ.get(prefix + "_SECRET")
    return (principal, secret) if principal and secret else None


def records(response):
    """The RecordIO stream of the scheduler API: ``<length>\\n<json>`` records."""
    raw = response.raw
    while True:
        length = b""
        while not length.endswith(b"\n"):
            byte = raw.read(1)
            if not byte:
                return
            length += byte
        data = b""
        size = int(length)
        while len(data) < size:
            chunk = raw.read(size - len(data))
            if not chunk:
                return
            data += chunk
        yield json.loads(data.decode("utf-8"))


def scalar(name, value):
    return {"name": name, "type": "SCALAR", "scalar": {"value": value}}


class Scheduler(object):
    def __init__(self, args):
        self.args = args
        self.master = args.master.rstrip("/")
        self.stream_id = None
        self.framework_id = args.framework_id
        self.task_id = args.task_id or "%s-%s" % (args.name, uuid.uuid4().hex[:8])
        self.launched_on = None
        self.states = []
        self.final = None
        self.probe = None
        self.done = threading.Event()

    def call(self, body):
        body = dict(body, framework_id={"value": self.framework_id})
        response = requests.post(
            self.master + "/api/v1/scheduler", json=body, timeout=30, auth=_auth("MESOS_TASK_MASTER"),
            headers={"Mesos-Stream-Id": self.stream_id, "Accept": "application/json"})
        if response.status_code not in (200, 202):
            raise RuntimeError("%s call answered %s: %s" % (body["type"], response.status_code, response.text))

    def task_info(self, offer):
        args = self.args
        resources = [scalar("cpus", args.cpus), scalar("mem", args.mem)]
        docker = {"image": args.image, "network": args.network, "force_pull_image": args.force_pull}
        if args.port_mapping:
            container_port, host_port = args.port_mapping.split(":")
            docker["port_mappings"] = [{"container_port": int(container_port), "host_port": int(host_port),
                                        "protocol": "tcp"}]
            resources.append({"name": "ports", "type": "RANGES",
                              "ranges": {"range": [{"begin": int(host_port), "end": int(host_port)}]}})
        command = {"shell": args.command is not None}
        if args.command is not None:
            command["value"] = args.command
        return {"name": args.name, "task_id": {"value": self.task_id}, "agent_id": offer["agent_id"],
                "resources": resources, "command": command,
                "container": {"type": "DOCKER", "docker": docker}}

    def wanted(self, offer):
        if self.launched_on is not None:
            return False
        if self.args.agent_id and offer["agent_id"]["value"] != self.args.agent_id:
            return False
        if self.args.agent_hostname and offer["hostname"] != self.args.agent_hostname:
            return False
        return True

    def on_offers(self, offers):
        take = [offer for offer in offers if self.wanted(offer)][:1]
        for offer in take:
            self.launched_on = offer
            self.call({"type": "ACCEPT", "accept": {
                "offer_ids": [offer["id"]],
                "operations": [{"type": "LAUNCH", "launch": {"task_infos": [self.task_info(offer)]}}],
                "filters": {"refuse_seconds": 1}}})
        rest = [offer["id"] for offer in offers if offer not in take]
        if rest:
            self.call({"type": "DECLINE", "decline": {"offer_ids": rest, "filters": {"refuse_seconds": 1}}})

    def on_update(self, status):
        if status.get("uuid"):
            self.call({"type": "ACKNOWLEDGE", "acknowledge": {
                "agent_id": status["agent_id"], "task_id": status["task_id"], "uuid": status["uuid"]}})
        if status["task_id"]["value"] != self.task_id:
            return
        self.states.append(status["state"])
        if status["state"] == "TASK_RUNNING" and self.args.http_probe and self.probe is None:
            self.probe = http_probe(status, self.args.http_probe, self.args.probe_timeout)
            self.call({"type": "KILL", "kill": {"task_id": status["task_id"], "agent_id": status["agent_id"]}})
            return
        if status["state"] in TERMINAL or status["state"] == self.args.until:
            self.final = status
            self.done.set()

    def run(self):
        framework = {"user": self.args.user, "name": self.args.framework_name, "checkpoint": self.args.checkpoint,
                     "failover_timeout": self.args.failover_timeout}
        credentials = _auth("MESOS_TASK_MASTER")
        if credentials:
            # The master refuses a framework whose principal differs from the one it authenticated.
            framework["principal"] = credentials[0]
        if self.framework_id:
            framework["id"] = {"value": self.framework_id}
        response = requests.post(
            self.master + "/api/v1/scheduler", stream=True, timeout=(10, self.args.timeout),
            auth=_auth("MESOS_TASK_MASTER"),
            json={"type": "SUBSCRIBE", "subscribe": {"framework_info": framework},
                  **({"framework_id": {"value": self.framework_id}} if self.framework_id else {})},
            headers={"Accept": "application/json"})
        if response.status_code != 200:
            raise RuntimeError("SUBSCRIBE answered %s: %s" % (response.status_code, response.text))
        self.stream_id = response.headers["Mesos-Stream-Id"]
        deadline = time.time() + self.args.timeout
        for event in records(response):
            kind = event["type"]
            if kind == "SUBSCRIBED":
                self.framework_id = event["subscribed"]["framework_id"]["value"]
            elif kind == "OFFERS":
                self.on_offers(event["offers"]["offers"])
            elif kind == "UPDATE":
                self.on_update(event["update"]["status"])
            elif kind == "ERROR":
                raise RuntimeError("master: %s" % event["error"]["message"])
            if self.done.is_set() or time.time() > deadline:
                break
        response.close()
        if self.final is None:
            raise RuntimeError("task %s: no final state within %ss (states %s)" % (
                self.task_id, self.args.timeout, self.states))


def task_addresses(status):
    """The IP addresses the agent reports for the task's container (docker bridge: the container's)."""
    found = []
    for network in status.get("container_status", {}).get("network_infos", []):
        found.extend(entry["ip_address"] for entry in network.get("ip_addresses", []) if entry.get("ip_address"))
    return found


def http_probe(status, port, timeout):
    """GET http://<task address>:<port>/ from here until it answers 200 or ``timeout`` seconds pass."""
    addresses = task_addresses(status)
    if not addresses:
        return {"address": None, "error": "the agent reported no address for the task"}
    url = "http://%s:%d/" % (addresses[0], port)
    deadline, error = time.time() + timeout, None
    while time.time() < deadline:
        try:
            response = requests.get(url, timeout=3)
            if response.status_code == 200:
                return {"address": addresses[0], "url": url, "answer": response.text.strip()}
            error = "HTTP %s" % response.status_code
        except requests.RequestException as exc:
            error = str(exc)
        time.sleep(1)
    return {"address": addresses[0], "url": url, "error": "no answer within %ss: %s" % (timeout, error)}


def executor_of(state, framework_id, task_id):
    for group in ("frameworks", "completed_frameworks"):
        for framework in state.get(group, []):
            if framework["id"] != framework_id:
                continue
            for kind in ("executors", "completed_executors"):
                for executor in framework.get(kind, []):
                    tasks = executor.get("tasks", []) + executor.get("completed_tasks", [])
                    if executor["id"] == task_id or any(t["id"] == task_id for t in tasks):
                        return executor
    return None


def read_sandbox(base, executor, name):
    """A sandbox file through the agent's /files/read, in pieces (the agent caps a read)."""
    auth, data, offset = _auth("MESOS_TASK_AGENT"), "", 0
    while True:
        response = requests.get(base + "/files/read", auth=auth, timeout=30, params={
            "path": executor["directory"] + "/" + name, "offset": offset, "length": 65536})
        if response.status_code != 200:
            return None
        piece = response.json()["data"]
        if not piece:
            return data
        data += piece
        offset += len(piece.encode("utf-8"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--master", required=True, help="http://host:port of the leading master")
    parser.add_argument("--agent-hostname", help="launch only on the agent with this hostname")
    parser.add_argument("--agent-id", help="launch only on the agent with this ID")
    parser.add_argument("--agent-address", help="host[:port] to read the sandbox from (default: the offer's hostname)")
    parser.add_argument("--image", required=True)
    parser.add_argument("--command", help="shell command; none runs the image's own command")
    parser.add_argument("--name", default="mesos-docker-task")
    parser.add_argument("--task-id")
    parser.add_argument("--framework-name", default="mesos.docker")
    parser.add_argument("--framework-id", help="re-subscribe as this framework")
    parser.add_argument("--user", default="nobody",
                        help="the Unix user the tasks run as (the master's policy names who may use which)")
    parser.add_argument("--cpus", type=float, default=0.1)
    parser.add_argument("--mem", type=float, default=32)
    parser.add_argument("--network", default="HOST", choices=["HOST", "BRIDGE", "NONE", "USER"])
    parser.add_argument("--port-mapping", help="CONTAINER_PORT:HOST_PORT (bridge networking)")
    parser.add_argument("--force-pull", action="store_true")
    parser.add_argument("--checkpoint", action="store_true")
    parser.add_argument("--failover-timeout", type=float, default=0)
    parser.add_argument("--until", default="", help="also stop at this state, e.g. TASK_RUNNING")
    parser.add_argument("--http-probe", type=int, metavar="PORT",
                        help="once running, GET http://<task address>:PORT/ from here, then kill the task")
    parser.add_argument("--probe-timeout", type=float, default=60)
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--credentials-stdin", action="store_true",
                        help='read {"agent": {"principal": ..., "secret": ...}, "master": {...}} from stdin')
    args = parser.parse_args(argv)
    if args.credentials_stdin:
        given = json.load(sys.stdin)
        for key, prefix in (("agent", "MESOS_TASK_AGENT"), ("master", "MESOS_TASK_MASTER")):
            if given.get(key):
                _STDIN_CREDENTIALS[prefix] = given[key]

    scheduler = Scheduler(args)
    try:
        scheduler.run()
    except (RuntimeError, requests.RequestException) as error:
        json.dump({"failed": True, "msg": str(error), "task_id": scheduler.task_id,
                   "states": scheduler.states}, sys.stdout)
        return 1
    offer, final = scheduler.launched_on, scheduler.final
    result = {"task_id": scheduler.task_id, "framework_id": scheduler.framework_id,
              "agent_id": offer["agent_id"]["value"], "hostname": offer["hostname"],
              "states": scheduler.states, "state": final["state"], "message": final.get("message", ""),
              "reason": final.get("reason", "")}
    if scheduler.probe is not None:
        result["http_probe"] = scheduler.probe
    address = args.agent_address or offer["hostname"]
    base = "http://" + (address if ":" in address else address + ":5051")
    state = requests.get(base + "/state", auth=_auth("MESOS_TASK_AGENT"), timeout=30)
    executor = executor_of(state.json(), scheduler.framework_id, scheduler.task_id) if state.ok else None
    if executor:
        result["sandbox"] = executor["directory"]
        result["container_name"] = "mesos-" + executor.get("container", "")
        if final["state"] in TERMINAL:
            result["stdout"] = read_sandbox(base, executor, "stdout")
            result["stderr"] = read_sandbox(base, executor, "stderr")
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
