"""mesos.docker.container on the real Docker engine.

Every container carries the label ``mesos-docker-test=<name_prefix>`` (``testbed.sh down`` removes
labelled leftovers) and is removed in ``finally``. Images are built FROM the test bed's busybox.
"""
import base64
import functools
import http.server
import io
import json
import os
import signal
import tarfile
import threading
import time
import uuid
import zipfile

import pytest

from ansible_collections.mesos.docker.plugins.module_utils._mesos_names import format_name
from testbed_env import TEST_LABEL

MODULE = "container"


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


# ---- issue 11: the divergences from the Mesos Docker containerizer, on the real engine ---------------


@pytest.fixture
def cmd_image(docker_api, busybox, name_prefix):
    """Builds ``<prefix>/cmd:latest`` with the given default command; the tag can be moved by building again."""
    tag = "%s/cmd:latest" % name_prefix

    def make(cmd):
        dockerfile = "FROM %s\nCMD %s\n" % (busybox, cmd)
        list(docker_api.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True, decode=True, pull=False))
        return tag

    yield make
    try:
        docker_api.remove_image(tag, force=True)
    except Exception:
        pass


def test_no_command_and_no_shell_runs_the_image_default(run_module, cmd_image, name_prefix, tmp_path, cleanup):
    """shell unset and no command: the image's default command (the seed's rule), not an error."""
    sandbox = tmp_path / "sandbox"
    image = cmd_image('["echo", "image-default"]')
    run = run_module(MODULE, base_args(name_prefix, sandbox, image=image, wait=True))
    assert run.rc == 0 and run.result["exit_code"] == 0, run.output
    assert read(sandbox / "stdout") == "image-default\n"


def test_memory_is_whole_megabytes_with_a_32_mb_floor(run_module, docker_api, busybox, name_prefix, tmp_path, cleanup):
    for mem, expected in ((64.7, 64), (20.5, 32)):
        r = run_module(MODULE, base_args(name_prefix, tmp_path / ("sb%s" % mem), image=busybox, command="true",
                                         mem=mem, wait=True)).result
        assert docker_api.inspect_container(r["id"])["HostConfig"]["Memory"] == expected * 1024 * 1024


def test_force_pull_pulls_only_when_launching(run_module, busybox, name_prefix, tmp_path, cleanup):
    """The test bed's busybox exists only locally: a pull would fail, so a re-run must not pull."""
    args = base_args(name_prefix, tmp_path / "sandbox", image=busybox, command="sleep 60")
    first = run_module(MODULE, args)
    assert first.rc == 0 and first.result["status"] == "running", first.output
    again = run_module(MODULE, dict(args, force_pull=True))
    assert again.rc == 0, again.output
    assert again.result["changed"] is False and again.result["id"] == first.result["id"]


def test_a_moved_tag_never_relaunches_a_running_task(run_module, docker_api, cmd_image, name_prefix, tmp_path, cleanup):
    image = cmd_image('["sleep", "300"]')
    args = base_args(name_prefix, tmp_path / "sandbox", image=image)
    first = run_module(MODULE, args).result
    assert first["status"] == "running"
    cmd_image('["sleep", "301"]')  # the tag now points at another image with another default command
    again = run_module(MODULE, args)
    assert again.rc == 0, again.output
    assert again.result["changed"] is False and again.result["id"] == first["id"]
    assert docker_api.inspect_container(first["id"])["State"]["Running"]


def test_executor_container_gets_pid_host_the_socket_and_the_sandbox(
        run_module, docker_api, busybox, name_prefix, tmp_path, cleanup):
    sandbox = tmp_path / "sandbox"
    cmd = "test -S /var/run/docker.sock && cat %s/here" % sandbox
    sandbox.mkdir()
    (sandbox / "here").write_text("same-path\n")
    args = base_args(name_prefix, sandbox, image=busybox, command=cmd, executor=True, wait=True)
    run = run_module(MODULE, args)
    assert run.rc == 0 and run.result["exit_code"] == 0, run.output
    assert read(sandbox / "stdout") == "same-path\n"
    hc = docker_api.inspect_container(run.result["id"])["HostConfig"]
    assert hc["PidMode"] == "host" and sorted(hc["CapAdd"]) == ["SYS_ADMIN", "SYS_PTRACE"]
    assert "/var/run/docker.sock:/var/run/docker.sock:ro" in hc["Binds"]
    assert "%s:%s:rw" % (sandbox, sandbox) in hc["Binds"] and "%s:/mnt/mesos/sandbox" % sandbox in hc["Binds"]
    assert run_module(MODULE, args).result["changed"] is False


def test_port_mappings_outside_the_ports_resources_are_refused(run_module, docker_api, busybox, name_prefix, tmp_path,
                                                               cleanup):
    args = base_args(name_prefix, tmp_path / "sb", image=busybox, command="sleep 30", network="bridge",
                     ports=["31000-31099"], port_mappings=[dict(host_port=32000, container_port=80)])
    run = run_module(MODULE, args)
    assert run.rc != 0 and "Port [32000] not included in resources" in run.result["msg"], run.output
    assert labelled(docker_api, name_prefix) == []
    inside = run_module(MODULE, dict(args, port_mappings=[dict(host_port=31098, container_port=80)]))
    assert inside.rc == 0, inside.output
    assert docker_api.inspect_container(inside.result["id"])["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"] == "31098"


def test_a_sandbox_path_with_a_colon_is_bound_through_the_agents_link(run_module, docker_api, busybox, name_prefix,
                                                                      tmp_path, cleanup):
    work_dir = tmp_path / "work"
    cid = str(uuid.uuid4())
    sandbox = work_dir / "slaves" / "S:0" / "frameworks" / "fw" / "executors" / "ex:1" / "runs" / cid
    args = base_args(name_prefix, sandbox, image=busybox, command="echo through-the-link", wait=True, container_id=cid)
    refused = run_module(MODULE, args)
    assert refused.rc != 0 and "contains ':'" in refused.result["msg"] and "work_dir" in refused.result["msg"]
    assert labelled(docker_api, name_prefix) == [] and not sandbox.exists()
    run = run_module(MODULE, dict(args, work_dir=str(work_dir), agent_id="S0"))
    # the agent ID in the sandbox path ("S:0") cannot carry a link either: it is refused, nothing is created
    assert run.rc != 0 and "contains ':'" in run.result["msg"], run.output
    sandbox = work_dir / "slaves" / "S0" / "frameworks" / "fw" / "executors" / "ex:1" / "runs" / cid
    run = run_module(MODULE, dict(args, sandbox=str(sandbox), work_dir=str(work_dir)))
    assert run.rc == 0 and run.result["exit_code"] == 0, run.output
    link = work_dir / "slaves" / "S0" / "docker" / "links" / cid
    assert os.path.realpath(str(link)) == str(sandbox)
    assert "%s:/mnt/mesos/sandbox" % link in docker_api.inspect_container(run.result["id"])["HostConfig"]["Binds"]
    assert read(sandbox / "stdout") == "through-the-link\n"


def _config_dir(tmp_path, name, registry, user, password):
    path = tmp_path / name
    (path / ".docker").mkdir(parents=True)
    auth = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    (path / ".docker" / "config.json").write_text(json.dumps({"auths": {registry: {"auth": auth}}}))
    return path


def test_a_docker_config_fetched_into_the_sandbox_wins_over_docker_config(run_module, testbed, name_prefix, tmp_path,
                                                                          cleanup):
    """Launch order sandbox -> fetch -> pull; the pull uses the sandbox's .docker/config.json (Mesos's HOME)."""
    registry, image = testbed["TESTBED_REGISTRY"], testbed["TESTBED_PRIVATE_IMAGE"]
    good = _config_dir(tmp_path, "good", registry, testbed["TESTBED_REGISTRY_USER"], testbed["TESTBED_REGISTRY_PASSWORD"])
    wrong = {"auths": {registry: {"auth": base64.b64encode(b"mesos-test:wrong-password").decode()}}}
    sandbox = tmp_path / "sandbox"
    args = base_args(name_prefix, sandbox, image=image, command="echo pulled-with-the-sandbox-config", wait=True,
                     force_pull=True, docker_config=wrong,
                     uris=[dict(value="file://%s/.docker/config.json" % good, output_file=".docker/config.json")])
    run = run_module(MODULE, args)
    assert run.rc == 0 and run.result["exit_code"] == 0, run.output
    assert run.result["image"]["credentials"] == str(sandbox / ".docker" / "config.json")
    assert read(sandbox / "stdout") == "pulled-with-the-sandbox-config\n"
    assert testbed["TESTBED_REGISTRY_PASSWORD"] not in run.output


def test_no_credentials_from_the_home_of_the_user_running_the_module(run_module, testbed, name_prefix, tmp_path, cleanup):
    """As on an agent (HOME is the sandbox), valid credentials in ~/.docker or DOCKER_CONFIG are not used."""
    registry, image = testbed["TESTBED_REGISTRY"], testbed["TESTBED_PRIVATE_IMAGE"]
    home = _config_dir(tmp_path, "home", registry, testbed["TESTBED_REGISTRY_USER"], testbed["TESTBED_REGISTRY_PASSWORD"])
    args = base_args(name_prefix, tmp_path / "sandbox", image=image, command="true", wait=True, force_pull=True)
    run = run_module(MODULE, args, env=dict(HOME=str(home), DOCKER_CONFIG=str(home / ".docker")))
    assert run.rc != 0, run.output
    assert "Pulling" in run.result["msg"] and "no docker_config was given" in run.result["msg"]


def test_a_credential_helper_of_the_docker_config_is_used(run_module, testbed, name_prefix, tmp_path, cleanup):
    registry, image = testbed["TESTBED_REGISTRY"], testbed["TESTBED_PRIVATE_IMAGE"]
    bindir = tmp_path / "bin"
    bindir.mkdir()
    helper = bindir / ("docker-credential-" + name_prefix)
    answer = json.dumps(dict(ServerURL=registry, Username=testbed["TESTBED_REGISTRY_USER"],
                             Secret=testbed["TESTBED_REGISTRY_PASSWORD"]))
    helper.write_text("#!/bin/sh\nread server\n[ \"$server\" = %s ] && echo '%s' && exit 0\n"
                      "echo 'credentials not found in native keychain'; exit 1\n" % (registry, answer))
    helper.chmod(0o755)
    args = base_args(name_prefix, tmp_path / "sandbox", image=image, command="echo via-helper", wait=True,
                     force_pull=True, docker_config={"auths": {}, "credHelpers": {registry: name_prefix}})
    run = run_module(MODULE, args, env=dict(PATH="%s:%s" % (bindir, os.environ["PATH"])))
    assert run.rc == 0 and run.result["exit_code"] == 0, run.output
    assert read(tmp_path / "sandbox" / "stdout") == "via-helper\n"
    assert testbed["TESTBED_REGISTRY_PASSWORD"] not in run.output


# ---- issue 11: a batch ---------------------------------------------------------------------------------


def test_batch_refuses_two_entries_with_one_sandbox(run_module, docker_api, busybox, name_prefix, tmp_path, cleanup):
    entries = [dict(container_id=str(uuid.uuid4()), sandbox=str(tmp_path / "shared")) for dummy in range(2)]
    run = run_module(MODULE, dict(image=busybox, command="true", containers=entries, labels={TEST_LABEL: name_prefix}))
    assert run.rc != 0 and "sandbox given more than once" in run.result["msg"], run.output
    assert "containers[0], containers[1]" in run.result["msg"]
    assert labelled(docker_api, name_prefix) == [] and not (tmp_path / "shared").exists()


def test_batch_failures_are_clean_and_name_the_container(run_module, docker_api, busybox, name_prefix, tmp_path, cleanup):
    good = dict(container_id=str(uuid.uuid4()), sandbox=str(tmp_path / "good"))
    bad = dict(container_id=str(uuid.uuid4()), sandbox=str(tmp_path / "bad"), image="Not A Valid/Reference")
    run = run_module(MODULE, dict(image=busybox, command="true", containers=[good, bad], labels={TEST_LABEL: name_prefix}))
    assert run.rc != 0 and "Traceback" not in run.output, run.output
    assert "containers[1]" in run.result["msg"] and "image" in run.result["msg"]
    assert labelled(docker_api, name_prefix) == []  # refused before anything was touched


def test_warnings_from_building_a_task_reach_the_user(run_module, busybox, name_prefix, tmp_path, cleanup):
    args = base_args(name_prefix, tmp_path / "sb", image=busybox, command="true", shell=True, arguments=["a"], wait=True)
    run = run_module(MODULE, args)
    assert run.rc == 0, run.output
    assert "arguments are ignored with shell: true" in run.output
    assert "mesos-" + args["container_id"] in run.output


# ---- issue 11: append-only logs ---------------------------------------------------------------------------

FOLLOWER_MARKER = "mesos-docker-log-follower"


def _followers_of(sandbox, wait=0.0):
    """PIDs of log followers whose arguments name ``sandbox`` (waiting up to ``wait`` s for one: it is detached)."""
    deadline = time.time() + wait
    found = _scan_followers(sandbox)
    while not found and time.time() < deadline:
        time.sleep(0.1)
        found = _scan_followers(sandbox)
    return found


def _scan_followers(sandbox):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                cmdline = handle.read()
        except OSError:
            continue
        if FOLLOWER_MARKER.encode() in cmdline and str(sandbox).encode() in cmdline:
            found.append(int(pid))
    return found


class SizeSampler(threading.Thread):
    """Samples a file's size every few milliseconds: a file that only grows never shows a smaller size."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.sizes, self.done = str(path), [], threading.Event()

    def run(self):
        while not self.done.is_set():
            try:
                self.sizes.append(os.path.getsize(self.path))
            except OSError:
                pass
            time.sleep(0.005)

    def shrank(self):
        return [(a, b) for a, b in zip(self.sizes, self.sizes[1:]) if b < a]


def test_a_restarted_follower_continues_where_the_file_ends(run_module, busybox, name_prefix, tmp_path, cleanup):
    sandbox = tmp_path / "sandbox"
    cmd = "i=0; while [ $i -lt 1200 ]; do i=$((i+1)); echo line$i; sleep 0.05; done"  # about a minute
    args = base_args(name_prefix, sandbox, image=busybox, command=cmd)
    assert run_module(MODULE, args).result["status"] == "running"
    sampler = SizeSampler(sandbox / "stdout")
    sampler.start()
    assert read_until(sandbox / "stdout", lambda c: "line10\n" in c) is not None
    followers = _followers_of(sandbox, wait=5)
    assert len(followers) == 1
    os.kill(followers[0], 9)  # the follower dies (OOM killer, reboot of the controller...) while the task runs
    time.sleep(1)
    again = run_module(MODULE, args)  # catches up and starts a new follower
    assert again.rc == 0 and again.result["changed"] is False, again.output
    assert len(_followers_of(sandbox, wait=5)) == 1
    assert run_module(MODULE, dict(args, state="stopped", stop_timeout=0)).rc == 0
    sampler.done.set()
    sampler.join()
    content = read(sandbox / "stdout")
    written = content.splitlines()
    assert written == ["line%d" % i for i in range(1, len(written) + 1)]  # each line once, in order, none missing
    assert len(written) > 10
    assert sampler.shrank() == []


def _peak_rss_kib(pids):
    peak = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as handle:
                for line in handle:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
    return peak


def test_50_mb_of_output_under_3_x_10_mb_rotation_all_reach_the_sandbox(
        run_module, docker_api, busybox, name_prefix, tmp_path, cleanup):
    """The engine's rotation (the docker_engine role's 3 x 10 MB) keeps 30 MB at most; the sandbox keeps all 50 MB,
    and the follower's memory stays bounded."""
    sandbox = tmp_path / "sandbox"
    # 50 MiB as 51200 lines of 1 KiB, in 10 bursts of 5 MiB
    cmd = ('L=$(head -c 1023 /dev/zero | tr "\\0" x); i=0; while [ $i -lt 10 ]; do i=$((i+1)); '
           'yes "$L" | head -n 5120; sleep 0.3; done; sleep 2')
    args = base_args(name_prefix, sandbox, image=busybox, command=cmd, wait=True, wait_timeout=600,
                     log_options={"max-size": "10m", "max-file": "3"})
    peaks = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            peaks.append(_peak_rss_kib(_followers_of(sandbox)))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    run = run_module(MODULE, args)
    stop.set()
    watcher.join()
    assert run.rc == 0 and run.result["exit_code"] == 0, run.output
    info = docker_api.inspect_container(run.result["id"])
    assert info["HostConfig"]["LogConfig"]["Config"] == {"max-size": "10m", "max-file": "3"}
    rotated = sum(len(chunk) for chunk in docker_api.logs(run.result["id"], stdout=True, stderr=False, stream=True))
    assert rotated < 31 * 1024 * 1024  # the engine kept only the last 30 MB
    assert os.path.getsize(str(sandbox / "stdout")) == 50 * 1024 * 1024
    line = b"x" * 1023 + b"\n"
    with open(str(sandbox / "stdout"), "rb") as handle:
        assert all(chunk == line * 1024 for chunk in iter(lambda: handle.read(1024 * 1024), b""))
    peak_kib = max(peaks or [0])
    print("follower peak RSS: %d KiB" % peak_kib)
    assert 0 < peak_kib < 80 * 1024  # bounded: far below the 50 MB it wrote (Python + Docker SDK ~ 30 MB)
    assert run_module(MODULE, args).result["changed"] is False
    assert os.path.getsize(str(sandbox / "stdout")) == 50 * 1024 * 1024  # a re-run appends nothing


def test_a_stalled_follower_holds_the_task_back_instead_of_losing_output(
        run_module, docker_api, busybox, name_prefix, tmp_path, cleanup):
    """As ``docker run`` does for Mesos's executor: output nobody has appended yet blocks the task's writes, so the
    engine's 3 x 10 MB rotation never drops a line, however far behind the sandbox writer falls (here: stopped)."""
    sandbox = tmp_path / "sandbox"
    # after 2 s: 50 MiB in 10 bursts of 5 MiB, each followed by its number in $MESOS_SANDBOX/progress
    cmd = ('sleep 2; L=$(head -c 1023 /dev/zero | tr "\\0" x); i=0; while [ $i -lt 10 ]; do i=$((i+1)); '
           'yes "$L" | head -n 5120; echo $i > "$MESOS_SANDBOX/progress"; done')
    args = base_args(name_prefix, sandbox, image=busybox, command=cmd,
                     log_options={"max-size": "10m", "max-file": "3"})
    run = run_module(MODULE, args)
    assert run.rc == 0 and run.result["status"] == "running", run.output
    followers = _followers_of(sandbox, wait=5)
    assert len(followers) == 1
    os.kill(followers[0], signal.SIGSTOP)  # the writer stalls (an overloaded controller, a slow disk ...)
    try:
        deadline = time.time() + 20  # unheld, the task writes its 50 MiB and exits in far less
        while time.time() < deadline and docker_api.inspect_container(run.result["id"])["State"]["Running"]:
            time.sleep(0.5)
        held = docker_api.inspect_container(run.result["id"])["State"]["Running"]
        progress = (sandbox / "progress").read_text().strip() if (sandbox / "progress").exists() else "0"
    finally:
        os.kill(followers[0], signal.SIGCONT)
    assert held, "the task ran to its end while nothing appended its output"
    assert int(progress) <= 2  # at most the follower's window (4 MiB) and the pipes ahead of the sandbox file
    done = run_module(MODULE, dict(args, wait=True, wait_timeout=600))
    assert done.rc == 0 and done.result["exit_code"] == 0, done.output
    assert os.path.getsize(str(sandbox / "stdout")) == 50 * 1024 * 1024
