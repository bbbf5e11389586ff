"""mesos.docker.container in process with a fake Docker engine: the state machine's edge cases (the real engine:
tests/integration/test_container.py)."""
import json
import os

import docker
import pytest
from ansible.module_utils.testing import patch_module_args
from docker.errors import ImageNotFound, NotFound
from requests.exceptions import ReadTimeout

from ansible_collections.mesos.docker.plugins.modules import container as container_module

IMAGE = "registry.example:5000/app:1"
U = ["%08d-0000-4000-8000-%012d" % (i, i) for i in range(10)]


class FakeEngine:
    """A docker.APIClient with images, containers and logs in memory; ``fail_create`` names containers whose
    creation times out."""

    constructed = []

    def __init__(self, **kwargs):
        FakeEngine.constructed.append(kwargs)
        self.api_version = "1.41"
        self.images_by_ref = {IMAGE: dict(Id="sha256:new", Config=dict(Cmd=["new-default"], Entrypoint=None))}
        self.images_by_id = {"sha256:old": dict(Id="sha256:old", Config=dict(Cmd=["old-default"], Entrypoint=None)),
                             "sha256:new": self.images_by_ref[IMAGE]}
        self.containers_by_name = {}
        self.calls = []
        self.fail_create = set()

    # images
    def images(self):
        return [dict(Id=v["Id"], RepoTags=[k], RepoDigests=[]) for k, v in self.images_by_ref.items()]

    def inspect_image(self, ref):
        self.calls.append(("inspect_image", ref))
        found = self.images_by_ref.get(ref) or self.images_by_id.get(ref)
        if not found:
            raise ImageNotFound(ref)
        return found

    def pull(self, repository, tag=None, **kwargs):
        self.calls.append(("pull", repository, tag))
        return iter([{"status": "ok"}])

    # containers
    def containers(self, all=False, filters=None):
        return [dict(Id=c["Id"], Names=["/" + n], Labels=c["Config"]["Labels"]) for n, c in self.containers_by_name.items()]

    def inspect_container(self, name):
        for n, c in self.containers_by_name.items():
            if name in (n, c["Id"]):
                return c
        raise NotFound(name)

    def create_host_config(self, **kwargs):
        return kwargs

    def create_container(self, image, name, command, entrypoint, environment, labels, detach, host_config, **kwargs):
        self.calls.append(("create", name))
        if name in self.fail_create:
            raise ReadTimeout("Read timed out. (read timeout=60)")
        self.containers_by_name[name] = dict(
            Id="id-" + name, Image=self.images_by_ref[image]["Id"],
            Config=dict(Image=image, Cmd=command or self.images_by_ref[image]["Config"]["Cmd"], Entrypoint=entrypoint,
                        Env=environment, Labels=labels),
            HostConfig=dict(Binds=host_config["binds"], NetworkMode=host_config["network_mode"]),
            State=dict(Status="created", Running=False), Mounts=[])
        return dict(Id="id-" + name)

    def start(self, ident):
        self.calls.append(("start", ident))
        self.inspect_container(ident)["State"] = dict(Status="running", Running=True)

    def logs(self, ident, **kwargs):
        return iter([])


@pytest.fixture
def engine(monkeypatch):
    FakeEngine.constructed = []
    made = {}

    def factory(**kwargs):
        made["engine"] = made.get("engine") or FakeEngine(**kwargs)
        return made["engine"]

    monkeypatch.setattr(docker, "APIClient", factory)
    return made


def run(args, capsys, check=False):
    args = dict(args, log_follow=False, _ansible_check_mode=check)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            container_module.main()
    return json.loads(capsys.readouterr().out)


def test_the_connection_pool_matches_max_workers(engine, capsys, tmp_path):
    run(dict(container_id=U[0], image=IMAGE, sandbox=str(tmp_path / "sb"), command="true", max_workers=24), capsys)
    assert FakeEngine.constructed[0]["max_pool_size"] == 24


def test_a_timeout_in_one_entry_is_a_clean_failure_naming_it_and_the_others_are_done(engine, capsys, tmp_path):
    entries = [dict(container_id=u, sandbox=str(tmp_path / u)) for u in U[:3]]
    engine["engine"] = FakeEngine()
    engine["engine"].fail_create.add("mesos-" + U[1])
    out = run(dict(image=IMAGE, command="sleep 1", containers=entries), capsys)
    assert out["failed"] and out["msg"].startswith("1 of 3 containers failed: mesos-%s (started) failed" % U[1])
    assert "Read timed out" in out["msg"]
    assert [c.get("status") for c in out["containers"]] == ["running", None, "running"]


def test_force_pull_pulls_on_launch_only(engine, capsys, tmp_path):
    args = dict(container_id=U[0], image=IMAGE, sandbox=str(tmp_path / "sb"), command="sleep 1", force_pull=True)
    first = run(args, capsys)
    assert first["changed"] and [c for c in engine["engine"].calls if c[0] == "pull"] == [("pull", "registry.example:5000/app", "1")]
    again = run(args, capsys)
    assert again["changed"] is False and len([c for c in engine["engine"].calls if c[0] == "pull"]) == 1


def test_the_image_default_is_read_from_the_image_the_container_was_created_from(engine, capsys, tmp_path):
    """The tag moved (sha256:old -> sha256:new, another CMD): the running container stays."""
    args = dict(container_id=U[0], image=IMAGE, sandbox=str(tmp_path / "sb"))
    run(args, capsys)
    created = engine["engine"].containers_by_name["mesos-" + U[0]]
    created.update(Image="sha256:old")
    created["Config"]["Cmd"] = ["old-default"]
    again = run(args, capsys)
    assert again["changed"] is False
    assert ("inspect_image", "sha256:old") in engine["engine"].calls


@pytest.mark.parametrize("args, message", [
    (dict(containers=[dict(container_id=U[0], sandbox="/s"), dict(container_id=U[1], sandbox="/s/")]),
     "sandbox given more than once: /s (containers[0], containers[1])"),
    (dict(containers=[dict(container_id=U[0], sandbox="/a"), dict(container_id=U[0], sandbox="/b")]),
     "container_id given more than once"),
    (dict(container_id=U[0], sandbox="/x:y"), "contains ':'"),
    (dict(container_id=U[0], sandbox="/s", shell=True, command=None), "no command"),
    (dict(container_id=U[0], sandbox="/s", max_workers=0), "max_workers must be an integer of at least 1, got 0"),
], ids=["shared-sandbox", "shared-id", "colon-without-work-dir", "shell-without-command", "no-workers"])
def test_bad_input_fails_before_the_engine_is_touched(engine, capsys, args, message):
    out = run(dict(dict(image=IMAGE, command="true"), **args), capsys)
    assert out["failed"] and message in out["msg"]
    assert "engine" not in engine  # no client was even built


def test_no_command_means_shell_false(engine, capsys, tmp_path):
    out = run(dict(container_id=U[0], image=IMAGE, sandbox=str(tmp_path / "sb")), capsys)
    created = engine["engine"].containers_by_name["mesos-" + U[0]]
    assert out["changed"] and created["Config"]["Entrypoint"] is None
    assert os.path.isdir(str(tmp_path / "sb"))
