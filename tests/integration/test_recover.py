"""mesos.docker.recover on one real Docker daemon shared by several "agents".

The daemon holds: two agents' legacy-named containers, executor containers, modern-named ones (ours
with labels, one proven by its sandbox mount, ones with no proof or another agent's label), an
unparseable ``mesos-...`` name, a container named like an agent and plain user containers.
Agent IDs and container IDs are fresh per test; every container carries ``mesos-docker-test=<prefix>``
so the test finds (and removes) exactly its own.
"""
import base64
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest
from testbed_env import TEST_LABEL

MODULE = "recover"
AGENT_LABEL = "org.apache.mesos.agent_id"
STANDIN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "standin", "mesos-agent")


def _uuid():
    return str(uuid.uuid4())


@pytest.fixture
def daemon(docker_api, testbed, name_prefix, tmp_path):
    busybox = testbed["TESTBED_IMAGE_BUSYBOX"]
    me, other = _uuid() + "-S0", _uuid() + "-S1"
    u = [_uuid() for dummy in range(10)]
    work_dir = tmp_path / "work"
    made = []

    def make(name, labels=None, binds=None, start=True):
        all_labels = {TEST_LABEL: name_prefix}
        all_labels.update(labels or {})
        hc = docker_api.create_host_config(binds=binds or [], network_mode="none")
        c = docker_api.create_container(busybox, command=["sleep", "60"], name=name, labels=all_labels, host_config=hc)
        made.append(c["Id"])
        if start:
            docker_api.start(c["Id"])
        return name

    def sandbox(agent, cid):
        path = work_dir / "slaves" / agent / "frameworks" / "fw" / "executors" / "ex" / "runs" / cid
        path.mkdir(parents=True, exist_ok=True)
        return ["%s:/mnt/mesos/sandbox" % path]

    n = {}
    n["me_known"] = make("mesos-%s.%s" % (me, u[0]))
    n["me_known_exec"] = make("mesos-%s.%s.executor" % (me, u[0]))
    n["me_orphan"] = make("mesos-%s.%s" % (me, u[1]), start=False)
    n["me_orphan_exec"] = make("mesos-%s.%s.executor" % (me, u[1]))
    n["other_legacy"] = make("mesos-%s.%s" % (other, u[2]))
    n["other_legacy_exec"] = make("mesos-%s.%s.executor" % (other, u[2]))
    n["modern_mine_orphan"] = make("mesos-" + u[3], labels={AGENT_LABEL: me})
    n["modern_mine_known"] = make("mesos-" + u[4], labels={AGENT_LABEL: me})
    n["modern_mount_orphan"] = make("mesos-" + u[5], binds=sandbox(me, u[5]))
    n["modern_mount_orphan_exec"] = make("mesos-" + u[5] + ".executor", binds=sandbox(me, u[5]))
    n["modern_no_proof"] = make("mesos-" + u[6])
    n["modern_other_label"] = make("mesos-" + u[7], labels={AGENT_LABEL: other})
    n["modern_other_mount"] = make("mesos-" + u[8], binds=sandbox(other, u[8]))
    n["unparseable"] = make("mesos-nope-" + name_prefix)
    n["agent_like"] = make("mesos-agent-" + name_prefix)
    n["user"] = make(name_prefix + "-web")
    n["user_with_mesos"] = make(name_prefix + "-mesos-" + u[9])

    n["modern_known_exec"] = make("mesos-" + u[4] + ".executor", labels={AGENT_LABEL: me})

    # the checkpoint knows u[4] (latest run with executor.info and both pid files, checkpointed under this
    # boot); known_containers gives u[0]
    executor = work_dir / "meta" / "slaves" / me / "frameworks" / "fw" / "executors" / "ex"
    run = executor / "runs" / u[4]
    (run / "pids").mkdir(parents=True)
    (executor / "executor.info").write_bytes(b"\n\x02ex")
    (run / "pids" / "forked.pid").write_text("1")
    (run / "pids" / "libprocess.pid").write_text("executor(1)@127.0.0.1:5051")
    os.symlink(str(run), str(run.parent / "latest"))
    os.symlink(str(work_dir / "meta" / "slaves" / me), str(work_dir / "meta" / "slaves" / "latest"))
    with open("/proc/sys/kernel/random/boot_id") as handle:
        (work_dir / "meta" / "boot_id").write_text(handle.read())

    yield dict(me=me, other=other, u=u, names=n, work_dir=str(work_dir))
    for ident in made:
        try:
            docker_api.remove_container(ident, force=True, v=True)
        except Exception:
            pass


def survivors(docker_api, prefix):
    return sorted(c["Names"][0][1:] for c in docker_api.containers(all=True, filters={"label": "%s=%s" % (TEST_LABEL, prefix)}))


def test_recover_on_a_shared_daemon_kills_exactly_this_agents_orphans(run_module, docker_api, name_prefix, daemon):
    """This agent's known tasks and their executors kept, its unknown tasks and their executors killed; another
    agent's containers, unparseable mesos- names and non-Mesos containers untouched; a second run changes nothing."""
    n = daemon["names"]
    everything = sorted(n.values())
    orphans = {n["me_orphan"], n["me_orphan_exec"], n["modern_mine_orphan"], n["modern_mount_orphan"],
               n["modern_mount_orphan_exec"]}
    args = dict(agent_id=daemon["me"], work_dir=daemon["work_dir"], known_containers=[daemon["u"][0]],
                kill_orphans=True, stop_timeout=0)

    checked = run_module(MODULE, args, check=True).result
    assert checked["changed"] and set(checked["killed"]) == orphans
    assert survivors(docker_api, name_prefix) == everything  # check mode kills nothing

    run = run_module(MODULE, args, diff=True)
    r = run.result
    assert run.rc == 0, run.output
    assert r["changed"] and set(r["killed"]) == orphans
    assert r["known_container_ids"] == sorted([daemon["u"][0], daemon["u"][4]])
    assert survivors(docker_api, name_prefix) == sorted(set(everything) - orphans)
    ours_known = {e["name"] for e in r["known"]}
    assert ours_known == {n["me_known"], n["me_known_exec"], n["modern_mine_known"], n["modern_known_exec"]}
    foreign = {e["name"]: e["reason"] for e in r["foreign"]}
    assert "does not parse" in foreign[n["unparseable"]] and "does not parse" in foreign[n["agent_like"]]
    assert foreign[n["modern_no_proof"]] == "no proof of ownership by this agent"
    for key in ("other_legacy", "other_legacy_exec", "modern_other_label", "modern_other_mount"):
        assert foreign[n[key]] == "belongs to agent " + daemon["other"]
    assert foreign[n["user_with_mesos"]] == "not Mesos-named"  # the name filter is a substring match
    assert n["user"] not in foreign  # not even listed

    again = run_module(MODULE, args).result
    assert again["changed"] is False and again["killed"] == [] and again["orphans"] == []
    assert survivors(docker_api, name_prefix) == sorted(set(everything) - orphans)


def test_recover_without_kill_only_reports(run_module, docker_api, name_prefix, daemon):
    r = run_module(MODULE, dict(work_dir=daemon["work_dir"])).result  # agent ID and known set from the checkpoint
    assert r["changed"] is False and r["agent_id"] == daemon["me"]
    assert r["known_container_ids"] == [daemon["u"][4]]
    assert daemon["names"]["me_known"] in {e["name"] for e in r["orphans"]}  # u[0] is not checkpointed
    assert survivors(docker_api, name_prefix) == sorted(daemon["names"].values())


def test_recover_after_a_reboot_does_not_trust_the_checkpointed_pids(run_module, docker_api, name_prefix, daemon):
    """A boot ID other than the one in <work_dir>/meta/boot_id: the checkpointed run is not live (src/slave/state.cpp)."""
    n = daemon["names"]
    with open(os.path.join(daemon["work_dir"], "meta", "boot_id"), "w") as handle:
        handle.write(_uuid() + "\n")
    r = run_module(MODULE, dict(work_dir=daemon["work_dir"])).result
    assert r["known_container_ids"] == []
    assert "rebooted" in r["checkpoint_skipped"][daemon["u"][4]]
    assert {n["modern_mine_known"], n["modern_known_exec"]} <= {e["name"] for e in r["orphans"]}
    assert survivors(docker_api, name_prefix) == sorted(n.values())  # report only


@pytest.mark.parametrize(
    "args, message",
    [
        (dict(agent_id="a-S0", known_containers=["not-a-uuid"], kill_orphans=True), "not UUIDs: not-a-uuid"),
        (dict(agent_id="a-S0", kill_orphans=True), "one of the following is required"),
        (dict(agent_id="a-S0", work_dir="/nonexistent/mesos", kill_orphans=True), "No agent checkpoint"),
    ],
)
def test_recover_bad_input_removes_nothing(run_module, docker_api, name_prefix, daemon, args, message):
    run = run_module(MODULE, args)
    assert run.rc != 0 and message in run.result["msg"], run.result
    assert survivors(docker_api, name_prefix) == sorted(daemon["names"].values())


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def authenticated_agent(docker_api, testbed, name_prefix, tmp_path):
    """A stand-in agent behind HTTP basic authentication, on a free loopback port, whose ``/containers``
    lists one container ID; on the daemon, that container (legacy-named for this agent) and an orphan of
    this agent. Stopped and removed afterwards."""
    work_dir = tmp_path / "agent-work"
    work_dir.mkdir()
    secret = secrets.token_urlsafe(24)
    credentials = tmp_path / "http-credentials.json"
    credentials.touch(mode=0o600)
    credentials.write_text(json.dumps({"credentials": [{"principal": "ops", "secret": secret}]}))
    assert credentials.stat().st_mode & 0o777 == 0o600
    known_cid, orphan_cid = _uuid(), _uuid()
    (work_dir / "standin-containers.json").write_text(json.dumps(
        [{"container_id": known_cid, "executor_id": "ex", "framework_id": "fw"}]))
    port = _free_port()
    url = "http://127.0.0.1:%d" % port
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("MESOS_"))
    log = open(str(tmp_path / "agent.log"), "w+")
    made = []
    process = subprocess.Popen(
        [sys.executable, STANDIN, "--master=zk://127.0.0.1:2181/mesos", "--work_dir=%s" % work_dir,
         "--ip=127.0.0.1", "--port=%d" % port, "--authenticate_http_readonly", "--authenticate_http_readwrite",
         "--http_credentials=file://%s" % credentials],
        env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        state = None
        deadline = time.time() + 15
        while state is None:
            if process.poll() is not None:
                log.seek(0)
                pytest.fail("stand-in agent exited with %s: %s" % (process.returncode, log.read()))
            if time.time() > deadline:
                pytest.fail("stand-in agent did not answer on %s" % url)
            request = urllib.request.Request(url + "/state", headers={
                "Authorization": "Basic " + base64.b64encode(("ops:" + secret).encode()).decode()})
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    state = json.loads(response.read())
            except (OSError, ValueError):
                time.sleep(0.1)
        me = state["id"]
        busybox = testbed["TESTBED_IMAGE_BUSYBOX"]
        names = dict(known="mesos-%s.%s" % (me, known_cid), orphan="mesos-%s.%s" % (me, orphan_cid))
        for name in names.values():
            hc = docker_api.create_host_config(network_mode="none")
            c = docker_api.create_container(busybox, command=["sleep", "300"], name=name,
                                            labels={TEST_LABEL: name_prefix}, host_config=hc)
            made.append(c["Id"])
            docker_api.start(c["Id"])
        yield dict(url=url, secret=secret, me=me, known_cid=known_cid, names=names)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
        for ident in made:
            try:
                docker_api.remove_container(ident, force=True, v=True)
            except Exception:
                pass


def _secret_forms(secret):
    return [secret, base64.b64encode(("ops:" + secret).encode()).decode(), base64.b64encode(secret.encode()).decode()]


@pytest.mark.parametrize(
    "credentials",
    [None, ("ops", "wrong-" + uuid.uuid4().hex), ("nobody", "SECRET")],
    ids=["no-credentials", "wrong-secret", "wrong-principal"],
)
def test_recover_agent_url_without_valid_credentials_fails_and_kills_nothing(
        run_module, docker_api, name_prefix, authenticated_agent, credentials):
    agent = authenticated_agent
    args = dict(agent_id=agent["me"], agent_url=agent["url"], kill_orphans=True)
    if credentials:
        args.update(agent_url_username=credentials[0],
                    agent_url_password=agent["secret"] if credentials[1] == "SECRET" else credentials[1])
    run = run_module(MODULE, args, verbosity=3)
    assert run.rc != 0, run.output
    r = run.result
    assert r["failed"], r
    assert "%s/containers" % agent["url"] in r["msg"] and "401" in r["msg"], r["msg"]
    assert survivors(docker_api, name_prefix) == sorted(agent["names"].values())
    for form in _secret_forms(agent["secret"]) + ([credentials[1]] if credentials and credentials[1] != "SECRET" else []):
        assert form not in run.output


def test_recover_knows_containers_from_an_authenticated_agent(run_module, docker_api, name_prefix, authenticated_agent):
    agent = authenticated_agent
    names = agent["names"]
    # no agent_id: the module reads it from /state, the known set from /containers, both behind authentication
    args = dict(agent_url=agent["url"], agent_url_username="ops", agent_url_password=agent["secret"],
                kill_orphans=True)
    run = run_module(MODULE, args, verbosity=3)
    assert run.rc == 0, run.output
    r = run.result
    assert r["agent_id"] == agent["me"]
    assert r["known_container_ids"] == [agent["known_cid"]]
    assert [e["name"] for e in r["known"]] == [names["known"]]
    assert [e["name"] for e in r["orphans"]] == [names["orphan"]]
    assert r["changed"] and r["killed"] == [names["orphan"]]
    assert survivors(docker_api, name_prefix) == [names["known"]]
    for form in _secret_forms(agent["secret"]):
        assert form not in run.output
