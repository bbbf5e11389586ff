"""mesos.docker.container on the real Docker engine.

Every container carries the label ``mesos-docker-test=<name_prefix>`` (``testbed.sh down`` removes
labelled leftovers) and is removed in ``finally``. Images are built FROM the test bed's busybox.
"""
import functools
import http.server
import io
import os
import tarfile
import threading
import time
import uuid
import zipfile

import pytest

from ansible_collections.mesos.docker.plugins.module_utils._mesos_names import format_name

MODULE = "container"
TEST_LABEL = "mesos-docker-test"


# ---- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def busybox(testbed):
    return testbed["TESTBED_IMAGE_BUSYBOX"]


@pytest.fixture
def entry_image(docker_api, busybox, name_prefix):
    """An image with both ENTRYPOINT and CMD."""
    tag = "%s/entry:latest" % name_prefix
    dockerfile = 'FROM %s\nENTRYPOINT ["/bin/echo", "ENTRY"]\nCMD ["default-cmd"]\n' % busybox
    list(docker_api.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True, decode=True, pull=False))
    yield tag
    try:
        docker_api.remove_image(tag, force=True)
    except Exception:
        pass


@pytest.fixture
def cleanup(docker_api, name_prefix):
    """Removes every container labelled for this test, whatever happened."""
    yield
    for c in docker_api.containers(all=True, filters={"label": "%s=%s" % (TEST_LABEL, name_prefix)}):
        docker_api.remove_container(c["Id"], force=True, v=True)


@pytest.fixture
def http_root(tmp_path):
    """A local HTTP server on 127.0.0.1 serving a directory; yields (directory, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def base_args(prefix, sandbox, **kw):
    args = dict(container_id=str(uuid.uuid4()), sandbox=str(sandbox), labels={TEST_LABEL: prefix})
    args.update(kw)
    return args


def read(path, timeout=5.0):
    deadline = time.time() + timeout
    while True:
        try:
            with open(path) as handle:
                return handle.read()
        except FileNotFoundError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)


def read_until(path, predicate, timeout=10.0):
    """The file's content once ``predicate`` holds (the log follower writes asynchronously)."""
    deadline = time.time() + timeout
    content = None
    while time.time() < deadline:
        content = open(path).read() if os.path.exists(str(path)) else None
        if content is not None and predicate(content):
            return content
        time.sleep(0.1)
    return content


def labelled(docker_api, prefix):
    return docker_api.containers(all=True, filters={"label": "%s=%s" % (TEST_LABEL, prefix)})


# ---- command rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw, expected",
    [
        (dict(shell=False), "ENTRY default-cmd\n"),                                      # image default
        (dict(shell=True, command="echo shell-$MESOS_SANDBOX"), "shell-/mnt/mesos/sandbox\n"),  # /bin/sh -c
        (dict(shell=False, command="value", arguments=["a1", "a 2"]), "ENTRY value a1 a 2\n"),  # to the entrypoint
        (dict(shell=False, arguments=["only-args"]), "ENTRY only-args\n"),
    ],
    ids=["default", "shell", "entrypoint-args", "arguments-only"],
)
def test_command_rules(run_module, docker_api, entry_image, name_prefix, tmp_path, cleanup, kw, expected):
    sandbox = tmp_path / "sandbox"
    args = base_args(name_prefix, sandbox, image=entry_image, wait=True, **kw)
    run = run_module(MODULE, args)
    r = run.result
    assert not r.get("failed"), run.output
    assert r["changed"] and r["exit_code"] == 0 and r["status"] == "exited"
    assert r["name"] == "mesos-" + args["container_id"]
    assert read(sandbox / "stdout") == expected
    info = docker_api.inspect_container(r["id"])
    if kw.get("shell"):
        assert info["Config"]["Entrypoint"] == ["/bin/sh"]
        assert info["Config"]["Cmd"] == ["-c", kw["command"]]
    else:
        assert info["Config"]["Entrypoint"] == ["/bin/echo", "ENTRY"]


# ---- sandbox, env, resources, logs, uris ------------------------------------------------------


def test_sandbox_env_resources_and_logs(run_module, docker_api, busybox, name_prefix, tmp_path, cleanup):
    sandbox = tmp_path / "deep" / "sandbox"
    cmd = ('echo "sb=$MESOS_SANDBOX name=$MESOS_CONTAINER_NAME role=$MESOS_ALLOCATION_ROLE x=$X"; '
           'echo to-stderr >&2; echo inside > $MESOS_SANDBOX/written-inside; exit 3')
    args = base_args(name_prefix, sandbox, image=busybox, command=cmd, cpus=0.5, mem=64, env={"X": "y z"},
                     wait=True, agent_id="A-S0", framework_id="fw", task_id="t1")
    r = run_module(MODULE, args).result
    assert r["exit_code"] == 3 and r["changed"]
    name = "mesos-" + args["container_id"]
    assert read(sandbox / "stdout") == "sb=/mnt/mesos/sandbox name=%s role=* x=y z\n" % name
    assert read(sandbox / "stderr") == "to-stderr\n"
    assert read(sandbox / "written-inside") == "inside\n"
    info = docker_api.inspect_container(name)
    assert info["HostConfig"]["CpuShares"] == 512
    assert info["HostConfig"]["Memory"] == 64 * 1024 * 1024
    assert info["HostConfig"]["NetworkMode"] == "host"
    assert info["HostConfig"]["Binds"] == ["%s:/mnt/mesos/sandbox" % sandbox]
    labels = info["Config"]["Labels"]
    assert labels["org.apache.mesos.agent_id"] == "A-S0" and labels["org.apache.mesos.task_id"] == "t1"
    # re-run: nothing changes, exit code still reported, files still complete
    again = run_module(MODULE, args).result
    assert again["changed"] is False and again["exit_code"] == 3
    assert read(sandbox / "stdout").startswith("sb=")


def test_logs_of_a_running_container_then_stop_and_remove(run_module, docker_api, busybox, name_prefix, tmp_path, cleanup):
    sandbox = tmp_path / "sandbox"
    cmd = "echo started; echo err-line >&2; i=0; while true; do i=$((i+1)); echo tick$i; sleep 0.2; done"
    args = base_args(name_prefix, sandbox, image=busybox, command=cmd)
    r = run_module(MODULE, args).result
    assert r["status"] == "running" and r["changed"]
    deadline = time.time() + 10
    while time.time() < deadline and "tick3" not in (open(sandbox / "stdout").read() if (sandbox / "stdout").exists() else ""):
        time.sleep(0.1)
    out = read(sandbox / "stdout")
    assert out.startswith("started\ntick1\n") and "tick3" in out  # written while it runs
    assert read_until(sandbox / "stderr", lambda c: c == "err-line\n") == "err-line\n"
    stopped = run_module(MODULE, dict(args, state="stopped", stop_timeout=0)).result
    assert stopped["changed"] and stopped["status"] == "exited"
    final = read(sandbox / "stdout")
    logs = docker_api.logs(r["id"], stdout=True, stderr=False).decode()
    assert final == logs  # complete after stop
    assert run_module(MODULE, dict(args, state="stopped")).result["changed"] is False
    gone = run_module(MODULE, dict(args, state="absent")).result
    assert gone["changed"] and gone["status"] == "absent"
    assert labelled(docker_api, name_prefix) == []
    assert run_module(MODULE, dict(args, state="absent")).result["changed"] is False
    assert read(sandbox / "stdout") == final  # the sandbox stays


def test_uris_fetched_from_local_http(run_module, busybox, name_prefix, tmp_path, http_root, cleanup):
    root, base = http_root
    with tarfile.open(str(root / "app.tar.gz"), "w:gz") as t:
        data = b"from-tarball\n"
        info = tarfile.TarInfo("app/data.txt")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    with zipfile.ZipFile(str(root / "z.zip"), "w") as z:
        z.writestr("zipped.txt", "from-zip\n")
    (root / "run.sh").write_text("#!/bin/sh\necho ran-script\n")
    (root / "plain.txt").write_text("plain\n")
    local = tmp_path / "local.conf"
    local.write_text("local-file\n")
    sandbox = tmp_path / "sandbox"
    cmd = ("cat $MESOS_SANDBOX/app/data.txt $MESOS_SANDBOX/zipped.txt $MESOS_SANDBOX/conf/renamed.txt "
           "$MESOS_SANDBOX/local.conf; $MESOS_SANDBOX/run.sh")
    args = base_args(
        name_prefix, sandbox, image=busybox, command=cmd, wait=True,
        uris=[
            dict(value=base + "/app.tar.gz"),
            dict(value=base + "/z.zip", extract=True),
            dict(value=base + "/run.sh", executable=True),
            dict(value=base + "/plain.txt", output_file="conf/renamed.txt"),
            dict(value="file://" + str(local)),
        ],
    )
    run = run_module(MODULE, args)
    r = run.result
    assert r.get("exit_code") == 0, run.output
    assert read(sandbox / "stdout") == "from-tarball\nfrom-zip\nplain\nlocal-file\nran-script\n"
    assert [f["changed"] for f in r["fetched"]] == [True] * 5
    assert os.access(str(sandbox / "run.sh"), os.X_OK)
    again = run_module(MODULE, args).result
    assert again["changed"] is False and not any(f["changed"] for f in again["fetched"])


def test_uri_error_names_the_uri_and_creates_nothing(run_module, docker_api, busybox, name_prefix, tmp_path, http_root, cleanup):
    _root, base = http_root
    args = base_args(name_prefix, tmp_path / "sb", image=busybox, command="true", uris=[dict(value=base + "/missing.tgz")])
    run = run_module(MODULE, args)
    r = run.result
    assert run.rc != 0 and base + "/missing.tgz" in r["msg"] and "404" in r["msg"]
    assert labelled(docker_api, name_prefix) == []


# ---- stop grace -------------------------------------------------------------------------------

TRAP = ("trap 'echo term > $MESOS_SANDBOX/marker; sleep 1; echo graceful >> $MESOS_SANDBOX/marker; exit 0' TERM; "
        "echo ready > $MESOS_SANDBOX/ready; while true; do sleep 0.1; done")


@pytest.mark.parametrize("grace, graceful", [(5, True), (0, False)])
def test_stop_grace(run_module, docker_api, busybox, name_prefix, tmp_path, cleanup, grace, graceful):
    sandbox = tmp_path / "sandbox"
    args = base_args(name_prefix, sandbox, image=busybox, command=TRAP, log_follow=False)
    assert run_module(MODULE, args).result["status"] == "running"
    read(sandbox / "ready")
    start = time.time()
    r = run_module(MODULE, dict(args, state="absent", stop_timeout=grace)).result
    assert r["changed"] and r["status"] == "absent"
    marker = (sandbox / "marker").read_text() if (sandbox / "marker").exists() else ""
    if graceful:
        assert marker == "term\ngraceful\n"
        assert time.time() - start >= 1
    else:
        assert "graceful" not in marker
    assert labelled(docker_api, name_prefix) == []


# ---- idempotence, identity, check mode, diff -----------------------------------------------


def test_quad_check_apply_idempotent(run_module, docker_api, busybox, name_prefix, tmp_path, cleanup):
    sandbox = tmp_path / "sandbox"
    args = base_args(name_prefix, sandbox, image=busybox, command="sleep 30", cpus=0.1, mem=32)
    checked = run_module(MODULE, args, check=True, diff=True).result
    assert checked["changed"] and checked["status"] == "absent"
    assert labelled(docker_api, name_prefix) == [] and not sandbox.exists()
    applied = run_module(MODULE, args, diff=True).result
    assert applied["changed"] and applied["status"] == "running"
    assert run_module(MODULE, args, check=True).result["changed"] is False
    again = run_module(MODULE, args, diff=True).result
    assert again["changed"] is False and again["id"] == applied["id"]
    # a different configuration is a change: stopped, removed and launched again
    changed = run_module(MODULE, dict(args, cpus=0.2), diff=True)
    assert changed.result["changed"] and changed.result["id"] != applied["id"]
    assert "recreated: configuration differs" in changed.result["actions"]
    assert docker_api.inspect_container(changed.result["id"])["HostConfig"]["CpuShares"] == 204
    assert len(labelled(docker_api, name_prefix)) == 1


def test_identity_by_task_labels_without_container_id(run_module, docker_api, busybox, name_prefix, tmp_path, cleanup):
    args = dict(task_id="task-" + name_prefix, framework_id="fw", agent_id="agent-S1", naming="legacy", image=busybox,
                command="sleep 30", sandbox=str(tmp_path / "sb"), labels={TEST_LABEL: name_prefix})
    first = run_module(MODULE, args).result
    cid = first["container_id"]
    assert first["changed"] and first["name"] == format_name(cid, agent_id="agent-S1", naming="legacy")
    second = run_module(MODULE, args).result
    assert second["changed"] is False and second["container_id"] == cid
    assert len(labelled(docker_api, name_prefix)) == 1
    gone = run_module(MODULE, dict(task_id=args["task_id"], framework_id="fw", agent_id="agent-S1", naming="legacy",
                                   state="absent")).result
    assert gone["changed"] and gone["container_id"] == cid
    assert labelled(docker_api, name_prefix) == []


def test_executor_container_name(run_module, docker_api, busybox, name_prefix, tmp_path, cleanup):
    args = base_args(name_prefix, tmp_path / "sb", image=busybox, command="true", executor=True, wait=True)
    r = run_module(MODULE, args).result
    assert r["name"] == "mesos-%s.executor" % args["container_id"]
    assert docker_api.inspect_container(r["name"])["Config"]["Labels"]["org.apache.mesos.executor"] == "true"


def test_bridge_network_with_port_mapping(run_module, docker_api, busybox, name_prefix, tmp_path, cleanup):
    args = base_args(name_prefix, tmp_path / "sb", image=busybox, command="sleep 30", network="bridge",
                     port_mappings=[dict(host_port=31999, container_port=80)])
    r = run_module(MODULE, args).result
    info = docker_api.inspect_container(r["id"])
    assert info["HostConfig"]["NetworkMode"] == "bridge"
    assert info["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"] == "31999"
    assert run_module(MODULE, args).result["changed"] is False


# ---- batch ----------------------------------------------------------------------------------


def test_batch_launch(run_module, docker_api, busybox, name_prefix, tmp_path, cleanup):
    entries = [dict(container_id=str(uuid.uuid4()), sandbox=str(tmp_path / ("sb%d" % i)), command="echo hello-%d; sleep 30" % i)
               for i in range(6)]
    args = dict(image=busybox, containers=entries, labels={TEST_LABEL: name_prefix}, cpus=0.25)
    run = run_module(MODULE, args)
    r = run.result
    assert not r.get("failed"), run.output
    assert r["changed"] and [c["status"] for c in r["containers"]] == ["running"] * 6
    assert sorted(c["Names"][0][1:] for c in labelled(docker_api, name_prefix)) == sorted(
        "mesos-" + e["container_id"] for e in entries)
    for i, e in enumerate(entries):
        expected = "hello-%d\n" % i
        assert read_until(tmp_path / ("sb%d" % i) / "stdout", lambda c, e=expected: c.startswith(e)) == expected
    again = run_module(MODULE, args).result
    assert again["changed"] is False
    gone = run_module(MODULE, dict(args, state="absent")).result
    assert gone["changed"] and labelled(docker_api, name_prefix) == []


# ---- bad input: clear errors, nothing created or removed ----------------------------------------


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(container_id="not-a-uuid"), "container_id must be a UUID"),
        (dict(naming="ancient"), "naming"),
        (dict(command=None, shell=True), "no command"),
        (dict(cpus=-1), "cpus must be greater than 0"),
        (dict(mem=-64), "mem must be greater than 0"),
        (dict(sandbox="relative/sandbox"), "sandbox must be an absolute"),
        (dict(image="127.0.0.1:5000/nonexistent/image:nope"), "Pulling"),
        (dict(network="host", port_mappings=[dict(host_port=31000, container_port=80)]), "Port mappings"),
    ],
    ids=["uuid", "naming", "shell-no-command", "cpus", "mem", "sandbox", "missing-image", "ports-on-host"],
)
def test_bad_input(run_module, docker_api, busybox, name_prefix, tmp_path, cleanup, kw, message):
    bystander = docker_api.create_container(busybox, command="sleep 30", labels={TEST_LABEL: name_prefix},
                                            name="mesos-" + str(uuid.uuid4()))
    args = base_args(name_prefix, tmp_path / "sb", image=busybox, command="true")
    args.update(kw)
    if args.get("command") is None:
        args.pop("command")
    run = run_module(MODULE, args)
    assert run.rc != 0 and message in run.result["msg"], run.result
    assert [c["Id"] for c in labelled(docker_api, name_prefix)] == [bystander["Id"]]
