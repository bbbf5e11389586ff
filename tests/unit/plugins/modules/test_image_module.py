"""In-process unit tests of mesos.docker.image (no Docker daemon: the SDK client is faked)."""
import base64
import json

import docker
import pytest
from ansible.module_utils.testing import patch_module_args
from docker.errors import ImageNotFound

from ansible_collections.mesos.docker.plugins.modules import image as image_module

PASSWORD = "Unit-pa55word"
AUTH = base64.b64encode(("mesos:" + PASSWORD).encode()).decode()
REG = "127.0.0.1:5000"


class FakeAPIClient:
    """Stands in for docker.APIClient; records every construction and call."""

    constructed = []

    def __init__(self, **kwargs):
        FakeAPIClient.constructed.append(kwargs)
        self.calls = []
        self.store = dict(FakeAPIClient.initial_images)

    def images(self):
        self.calls.append("images")
        return [dict(Id=img["Id"], RepoTags=[tag], RepoDigests=[]) for tag, img in self.store.items()]

    def inspect_image(self, lookup):
        self.calls.append("inspect_image")
        if lookup not in self.store:
            raise ImageNotFound("No such image: " + lookup)
        return self.store[lookup]

    def pull(self, repository, tag=None, stream=False, decode=False, auth_config=None):
        self.calls.append("pull")
        FakeAPIClient.auth_configs.append(auth_config)
        outcome = FakeAPIClient.pull_stream

        def gen():
            yield from outcome
            if not any("error" in c for c in outcome):
                familiar = repository.replace("docker.io/library/", "") + ":" + tag
                self.store[familiar] = {"Id": "sha256:" + "9" * 64, "RepoDigests": []}

        return gen()

    def remove_image(self, lookup):
        self.calls.append("remove_image")
        del self.store[lookup]


@pytest.fixture(autouse=True)
def fake_sdk(monkeypatch):
    FakeAPIClient.constructed = []
    FakeAPIClient.initial_images = {}
    FakeAPIClient.auth_configs = []
    FakeAPIClient.pull_stream = [{"status": "Downloaded newer image"}]
    monkeypatch.setattr(docker, "APIClient", FakeAPIClient)
    return FakeAPIClient


def run(args, capsys, check_mode=False, diff=False):
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            image_module.main()
    out = capsys.readouterr().out
    return json.loads(out), out


@pytest.mark.parametrize(
    "args, fragment",
    [
        (dict(name="Busy Box"), "Invalid image reference 'Busy Box'"),
        (dict(name="upper/Case"), "Invalid image reference 'upper/Case'"),
        (dict(names=["busybox", "bad::tag"]), "Invalid image reference 'bad::tag'"),
        (dict(name="app@sha256:123"), "64 lower-case hex"),
        (dict(name="busybox", docker_config='{"auths": {"h": {"auth": "%s"' % AUTH), "does not parse"),
        (dict(name="busybox", docker_config={"auths": {"h": {"auth": "%%%"}}}), "not valid base64"),
        (dict(name="busybox", docker_config="/nonexistent/config.json"), "Cannot read docker_config file"),
        (dict(name="busybox", retries=-1), "retries must be 0 or more"),
        (dict(name="busybox", max_workers=0), "max_workers must be an integer of at least 1, got 0"),
    ],
)
def test_bad_input_fails_before_any_client_is_created(args, fragment, capsys, fake_sdk):
    result, out = run(args, capsys)
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert fake_sdk.constructed == []  # no Docker client, so no API call
    assert "Expected [REGISTRY_HOST[:PORT]/]PATH" in result["msg"] or "docker_config" in result["msg"] \
        or "must be" in result["msg"]
    assert AUTH not in out and PASSWORD not in out


@pytest.mark.parametrize(
    "args, fragment",
    [
        (dict(), "one of the following is required: name, names"),
        (dict(name="a", names=["b"]), "parameters are mutually exclusive: name|names"),
        (dict(name="a", state="gone"), "value of state must be one of"),
    ],
)
def test_argument_spec_constraints(args, fragment, capsys, fake_sdk):
    result, _out = run(args, capsys)
    assert result["failed"] is True and fragment in result["msg"]
    assert fake_sdk.constructed == []


def test_pull_absent_then_present(capsys, fake_sdk):
    result, _out = run(dict(name="busybox"), capsys)
    assert result["changed"] is True
    assert result["image"]["pulled"] is True and result["image"]["name"] == "docker.io/library/busybox:latest"
    assert set(result["image"]) >= {"name", "id", "repo_digests", "pulled", "pull_seconds"}
    fake_sdk.initial_images = {"busybox:latest": {"Id": "sha256:" + "1" * 64, "RepoDigests": []}}
    result, _out = run(dict(name="busybox"), capsys)
    assert result["changed"] is False and result["image"]["pulled"] is False


def test_force_pull_image_alias_and_diff(capsys, fake_sdk):
    fake_sdk.initial_images = {"busybox:latest": {"Id": "sha256:" + "1" * 64, "RepoDigests": []}}
    result, _out = run(dict(name="busybox", force_pull_image=True), capsys, diff=True)
    assert result["changed"] is True
    name = "docker.io/library/busybox:latest"
    assert result["diff"] == {"before": {name: "sha256:" + "1" * 64}, "after": {name: "sha256:" + "9" * 64}}


def test_check_mode_never_pulls(capsys, fake_sdk):
    result, _out = run(dict(names=["busybox", REG + "/x/y"]), capsys, check_mode=True, diff=True)
    assert result["changed"] is True
    assert [i["action"] for i in result["images"]] == ["would pull", "would pull"]
    assert result["diff"]["after"][REG + "/x/y:latest"] == "(would be pulled)"
    assert fake_sdk.auth_configs == []  # pull never called


def test_names_returns_images_in_order(capsys, fake_sdk):
    fake_sdk.initial_images = {"b:latest": {"Id": "sha256:" + "2" * 64, "RepoDigests": []}}
    result, _out = run(dict(names=["a", "b", "c"]), capsys)
    assert [i["name"] for i in result["images"]] == ["docker.io/library/%s:latest" % n for n in "abc"]
    assert [i["changed"] for i in result["images"]] == [True, False, True]
    assert "image" not in result


def test_state_absent(capsys, fake_sdk):
    fake_sdk.initial_images = {"busybox:latest": {"Id": "sha256:" + "1" * 64, "RepoDigests": []}}
    result, _out = run(dict(name="busybox", state="absent"), capsys, check_mode=True)
    assert result["changed"] is True and result["image"]["action"] == "would remove"
    result, _out = run(dict(name="busybox", state="absent"), capsys)
    assert result["changed"] is True and result["image"]["action"] == "removed"
    fake_sdk.initial_images = {}
    result, _out = run(dict(name="busybox", state="absent"), capsys)
    assert result["changed"] is False and result["image"]["action"] == "absent"


def test_credentials_used_and_secret_never_in_output(capsys, fake_sdk, tmp_path):
    # The daemon's error (made up here) echoes the password: it must still be masked.
    fake_sdk.pull_stream = [{"error": "unauthorized: authentication required for %s %s" % (PASSWORD, AUTH)}]
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"auths": {"http://%s/v2/" % REG: {"auth": AUTH}}}))
    for docker_config in (str(cfg), {"auths": {REG: {"auth": AUTH}}}, {REG: {"auth": AUTH}},
                          json.dumps({"auths": {REG: {"username": "mesos", "password": PASSWORD}}})):
        result, out = run(dict(name=REG + "/x/y", docker_config=docker_config), capsys, diff=True)
        assert result["failed"] is True
        assert result["msg"].startswith("Pulling %s/x/y:latest from %s failed: unauthorized" % (REG, REG))
        assert PASSWORD not in out and AUTH not in out
        assert fake_sdk.auth_configs[-1]["password"] == PASSWORD  # but it was sent to the daemon


def test_partial_failure_of_names_reports_each(capsys, fake_sdk):
    fake_sdk.pull_stream = [{"error": "manifest unknown"}]
    fake_sdk.initial_images = {"ok:latest": {"Id": "sha256:" + "1" * 64, "RepoDigests": []}}
    result, _out = run(dict(names=["ok", "missing"]), capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("Pulling docker.io/library/missing:latest from docker.io failed: image not found")
    assert result["images"][0]["action"] == "present"
    assert result["images"][1]["failed"] is True


def test_docstrings_parse():
    import yaml

    doc = yaml.safe_load(image_module.DOCUMENTATION)
    ret = yaml.safe_load(image_module.RETURN)
    yaml.safe_load(image_module.EXAMPLES)
    spec_keys = {"name", "names", "state", "force_pull", "docker_config", "retries", "retry_delay", "max_workers"}
    assert spec_keys == set(doc["options"])
    for key, value in ret.items():
        assert {"description", "returned", "type"} <= set(value), key
        assert "sample" in value or "contains" in value, key
    for key, value in ret["image"]["contains"].items():
        assert {"description", "returned", "type", "sample"} <= set(value), key
