"""A fake Docker daemon full of Mesos-named containers, shared by the recover and recoverer unit tests."""
from ansible_collections.mesos.docker.plugins.module_utils._common import APIError, NotFound

ME = "11111111-1111-4111-8111-111111111111-S0"
OTHER = "22222222-2222-4222-8222-222222222222-S3"
WORK = "/var/lib/mesos"
U = ["%08d-0000-4000-8000-%012d" % (i, i) for i in range(20)]


def c(name, labels=None, mounts=None, state="running", ident=None):
    return {
        "Id": ident or ("id-" + name),
        "Names": ["/" + name],
        "Labels": labels or {},
        "Mounts": [{"Type": "bind", "Source": m, "Destination": "/mnt/mesos/sandbox"} for m in (mounts or [])],
        "State": state,
    }


def sandbox(agent, cid):
    return "%s/slaves/%s/frameworks/F/executors/E/runs/%s" % (WORK, agent, cid)


class FakeClient:
    def __init__(self, containers):
        self.items = list(containers)
        self.calls = []

    def containers(self, all=False, filters=None):
        self.calls.append(("containers", all, filters))
        needle = (filters or {}).get("name", "")
        return [x for x in self.items if needle in x["Names"][0]]

    def stop(self, ident, timeout=None):
        self.calls.append(("stop", ident, timeout))

    def remove_container(self, ident, v=False, force=False):
        self.calls.append(("remove", ident, v, force))
        if ident == "id-broken":
            raise APIError("boom")
        if ident == "id-gone":
            raise NotFound("gone")
        self.items = [x for x in self.items if x["Id"] != ident]

    def names(self):
        return sorted(x["Names"][0][1:] for x in self.items)


def daemon():
    return [
        c("mesos-%s.%s" % (ME, U[0])),                       # mine, legacy, known
        c("mesos-%s.%s" % (ME, U[1]), state="exited"),       # mine, legacy, orphan
        c("mesos-%s.%s.executor" % (ME, U[1])),              # its executor
        c("mesos-%s.%s" % (OTHER, U[2])),                    # other agent, legacy
        c("mesos-%s.%s.executor" % (OTHER, U[2])),
        c("mesos-" + U[3], labels={"org.apache.mesos.agent_id": ME}),      # modern, labelled mine, orphan
        c("mesos-" + U[4], labels={"org.apache.mesos.agent_id": OTHER}),   # modern, labelled other
        c("mesos-" + U[5]),                                                # modern, no proof
        c("mesos-" + U[6], mounts=[sandbox(ME, U[6])]),                    # modern, mounts my sandbox
        c("mesos-" + U[6] + ".executor", mounts=[sandbox(ME, U[6])]),
        c("mesos-" + U[7], mounts=[sandbox(OTHER, U[7])]),                 # mounts another agent's sandbox
        c("mesos-" + U[8], labels={"org.apache.mesos.agent_id": ME}, mounts=[sandbox(OTHER, U[8])]),  # conflict
        c("mesos-" + U[9], labels={"org.apache.mesos.agent_id": ME}),      # modern, mine, known
        c("mesos-%s.%s" % (OTHER, U[10]), labels={"org.apache.mesos.agent_id": ME}),  # name says other
        c("mesos-agent-1"),
        c("mesos-not-a-uuid"),
        c("my-mesos-thing"),
        c("web"),
    ]
