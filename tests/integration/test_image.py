"""mesos.docker.image on the real Docker engine and the real private registry with htpasswd auth.

Every test pushes its own images under ``<registry>/<name_prefix>/...`` and removes the local
tags it made, so runs never collide. Images with new content are made by ``docker import``
of a tiny tar built here (no network).
"""
import base64
import io
import json
import tarfile
import time
import uuid

import pytest

from ansible_collections.mesos.docker.plugins.module_utils._docker_config import load as load_docker_config
from ansible_collections.mesos.docker.plugins.module_utils._image_reference import normalize

MODULE = "image"


# ---- helpers ------------------------------------------------------------------------------


def _tar_with(content):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = content.encode()
        info = tarfile.TarInfo("content.txt")
        info.size = len(data)
        info.mtime = int(time.time())
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class Registry:
    """Pushes test images to the test bed's registry and cleans the local side up."""

    def __init__(self, testbed, docker_api, prefix):
        self.host = testbed["TESTBED_REGISTRY"]
        self.user = testbed["TESTBED_REGISTRY_USER"]
        self.password = testbed["TESTBED_REGISTRY_PASSWORD"]
        self.config_dir = testbed["TESTBED_DOCKER_CONFIG"]
        self.api = docker_api
        self.prefix = prefix
        self.push_auth = load_docker_config(self.config_dir).credentials_for(self.host)
        assert self.push_auth, "the test bed's docker config has no entry for %s" % self.host
        self.made = set()
        self.ids = set()

    @property
    def auth(self):
        return base64.b64encode(("%s:%s" % (self.user, self.password)).encode()).decode()

    def ref(self, name, tag="latest"):
        return "%s/%s/%s:%s" % (self.host, self.prefix, name, tag)

    def build(self, ref, content=None):
        """A fresh one-layer image tagged ``ref``; returns its ID."""
        repo, tag = ref.rsplit(":", 1)
        self.api.import_image_from_data(_tar_with(content or uuid.uuid4().hex), repository=repo, tag=tag)
        self.made.add(ref)
        image_id = self.api.inspect_image(ref)["Id"]
        self.ids.add(image_id)
        return image_id

    def push(self, ref):
        repo, tag = ref.rsplit(":", 1)
        for chunk in self.api.push(repo, tag=tag, stream=True, decode=True, auth_config=self.push_auth):
            assert "error" not in chunk, chunk

    def publish(self, name, tag="latest", keep_local=False):
        """Build and push ``name:tag``; unless ``keep_local``, the local tag is removed again."""
        ref = self.ref(name, tag)
        image_id = self.build(ref)
        self.push(ref)
        if not keep_local:
            self.untag(ref)
        return ref, image_id

    def untag(self, ref):
        try:
            self.api.remove_image(ref, force=True)
        except Exception:  # noqa: BLE001 - absent already
            pass

    def local_id(self, ref):
        try:
            return self.api.inspect_image(ref)["Id"]
        except Exception:  # noqa: BLE001
            return None

    def cleanup(self):
        for ref in self.made:
            self.untag(ref)
        # images the tests pulled under the prefix
        mine = "%s/%s/" % (self.host, self.prefix)
        for summary in self.api.images():
            for tag in summary.get("RepoTags") or []:
                if tag.startswith(mine):
                    self.untag(tag)
            # untagged leftovers (a re-pushed tag's old image) still carry a repo digest
            if any(d.startswith(mine) for d in summary.get("RepoDigests") or []):
                self.ids.add(summary["Id"])
        for image_id in self.ids:
            self.untag(image_id)

    def config(self, form):
        """The test bed's credentials in one of the docker config layouts."""
        if form == "auths-auth":
            return {"auths": {self.host: {"auth": self.auth}}}
        if form == "auths-username-password":
            return {"auths": {self.host: {"username": self.user, "password": self.password}}}
        if form == "auths-url-key":
            return {"auths": {"http://%s/v2/" % self.host: {"auth": self.auth}}}
        if form == "dockercfg":
            return {self.host: {"auth": self.auth, "email": "ops@example.com"}}
        raise AssertionError(form)


@pytest.fixture
def registry(testbed, docker_api, name_prefix):
    reg = Registry(testbed, docker_api, name_prefix)
    try:
        yield reg
    finally:
        reg.cleanup()


@pytest.fixture
def no_home_config(tmp_path):
    """An empty DOCKER_CONFIG, so credentials can only come from the task's docker_config."""
    path = tmp_path / "empty-docker-config"
    path.mkdir()
    return {"DOCKER_CONFIG": str(path)}


def ok(run):
    assert run.rc == 0, "%s\n%s" % (run.stdout, run.stderr)
    assert not run.result.get("failed"), run.result
    return run.result


def failed(run):
    assert run.rc != 0, "%s\n%s" % (run.stdout, run.stderr)
    # ansible-core 2.19 keeps `failed` beside the result dict the callback sees, not always inside it
    assert run.result.get("failed", True) is True and run.result.get("msg"), run.result
    return run.result


# ---- pulling --------------------------------------------------------------------------------


def test_absent_image_is_pulled_quad(run_module, registry, no_home_config):
    ref, image_id = registry.publish("app")
    args = dict(name=ref, docker_config=registry.config("auths-auth"))
    assert registry.local_id(ref) is None

    check = ok(run_module(MODULE, args, check=True, diff=True, env=no_home_config))
    assert check["changed"] is True and check["image"]["action"] == "would pull"
    assert registry.local_id(ref) is None, "check mode must not pull"

    apply = ok(run_module(MODULE, args, diff=True, env=no_home_config))
    assert apply["changed"] is True
    assert apply["image"]["pulled"] is True and apply["image"]["id"] == image_id
    assert apply["image"]["name"] == ref and apply["image"]["pull_seconds"] > 0
    assert apply["image"]["repo_digests"] and apply["image"]["repo_digests"][0].startswith(ref.rsplit(":", 1)[0] + "@sha256:")
    assert apply["diff"] == {"before": {ref: None}, "after": {ref: image_id}}
    assert registry.local_id(ref) == image_id

    check2 = ok(run_module(MODULE, args, check=True, env=no_home_config))
    assert check2["changed"] is False and check2["image"]["action"] == "present"
    again = ok(run_module(MODULE, args, env=no_home_config))
    assert again["changed"] is False and again["image"]["pulled"] is False and again["image"]["id"] == image_id


def test_tag_defaults_to_latest(run_module, registry, no_home_config):
    ref, image_id = registry.publish("notag")
    untagged = ref[: -len(":latest")]
    result = ok(run_module(MODULE, dict(name=untagged, docker_config=registry.config("auths-auth")), env=no_home_config))
    assert result["changed"] is True and result["image"]["name"] == ref
    assert registry.local_id(ref) == image_id


def test_force_pull_with_unchanged_remote_is_not_changed(run_module, registry, no_home_config):
    ref, image_id = registry.publish("same")
    args = dict(name=ref, docker_config=registry.config("auths-auth"))
    assert ok(run_module(MODULE, args, env=no_home_config))["changed"] is True
    args["force_pull"] = True
    check = ok(run_module(MODULE, args, check=True, env=no_home_config))
    assert check["changed"] is False and check["image"]["action"] == "up to date"
    forced = ok(run_module(MODULE, args, env=no_home_config))
    assert forced["changed"] is False
    assert forced["image"]["pulled"] is True and forced["image"]["id"] == image_id


def test_force_pull_after_repush_changes_while_plain_pull_keeps_old(run_module, registry, no_home_config):
    ref, old_id = registry.publish("moving")
    config = registry.config("auths-auth")
    assert ok(run_module(MODULE, dict(name=ref, docker_config=config), env=no_home_config))["image"]["id"] == old_id

    # Re-push the same tag with new content, then point the local tag back at the old image.
    new_id = registry.build(ref)
    assert new_id != old_id
    registry.push(ref)
    registry.api.tag(old_id, ref.rsplit(":", 1)[0], tag="latest")
    assert registry.local_id(ref) == old_id

    plain = ok(run_module(MODULE, dict(name=ref, docker_config=config), env=no_home_config))
    assert plain["changed"] is False and plain["image"]["pulled"] is False and plain["image"]["id"] == old_id

    args = dict(name=ref, docker_config=config, force_pull_image=True)  # the Mesos spelling
    check = ok(run_module(MODULE, args, check=True, diff=True, env=no_home_config))
    assert check["changed"] is True and check["image"]["action"] == "would pull"
    assert registry.local_id(ref) == old_id, "check mode must not pull"
    forced = ok(run_module(MODULE, args, diff=True, env=no_home_config))
    assert forced["changed"] is True and forced["image"]["id"] == new_id
    assert forced["image"]["previous_id"] == old_id
    assert forced["diff"] == {"before": {ref: old_id}, "after": {ref: new_id}}
    assert registry.local_id(ref) == new_id
    check2 = ok(run_module(MODULE, args, check=True, env=no_home_config))
    assert check2["changed"] is False
    again = ok(run_module(MODULE, args, env=no_home_config))
    assert again["changed"] is False and again["image"]["id"] == new_id


# ---- credentials ----------------------------------------------------------------------------


def test_private_image_without_credentials_fails_clearly(run_module, registry, no_home_config, testbed):
    ref = testbed["TESTBED_PRIVATE_IMAGE"]
    registry.made.add(ref)  # in case the failure test failed and the image came
    registry.untag(ref)
    result = failed(run_module(MODULE, dict(name=ref), env=no_home_config))
    msg = result["msg"]
    assert msg.startswith("Pulling %s from %s failed: " % (ref, registry.host)), msg
    assert "no basic auth credentials" in msg, msg
    assert result["attempts"] == 1, "auth errors are not retried"
    assert registry.local_id(ref) is None, "no image may be left behind"


def test_docker_config_with_no_entry_for_the_registry_fails_clearly(run_module, registry, no_home_config):
    ref, _image_id = registry.publish("noentry")
    other = {"auths": {"registry.example.com": {"auth": registry.auth}}}
    result = failed(run_module(MODULE, dict(name=ref, docker_config=other), env=no_home_config))
    assert "no basic auth credentials" in result["msg"]
    assert "has no entry for %s" % registry.host in result["msg"]
    assert registry.local_id(ref) is None


@pytest.mark.parametrize(
    "form, given_as",
    [
        # every way of giving it, with the `docker login` layout ...
        ("auths-auth", "file"),
        ("auths-auth", "file-url"),
        ("auths-auth", "dict"),
        ("auths-auth", "json-string"),
        # ... and every layout, as a file and as the JSON object
        ("auths-username-password", "file"),
        ("auths-username-password", "dict"),
        ("auths-url-key", "file"),
        ("auths-url-key", "json-string"),
        ("dockercfg", "file-url"),
        ("dockercfg", "dict"),
    ],
)
def test_docker_config_forms(run_module, registry, no_home_config, tmp_path, form, given_as):
    ref, image_id = registry.publish("cfg")
    data = registry.config(form)
    path = tmp_path / ("config.json" if form != "dockercfg" else ".dockercfg")
    path.write_text(json.dumps(data))
    value = {"file": str(path), "file-url": "file://%s" % path, "dict": data, "json-string": json.dumps(data)}[given_as]
    result = ok(run_module(MODULE, dict(name=ref, docker_config=value), env=no_home_config))
    assert result["changed"] is True and result["image"]["id"] == image_id
    assert registry.local_id(ref) == image_id


def test_docker_config_directory_of_the_test_bed(run_module, registry, no_home_config):
    ref, image_id = registry.publish("dir")
    result = ok(run_module(MODULE, dict(name=ref, docker_config=registry.config_dir), env=no_home_config))
    assert result["changed"] is True and result["image"]["id"] == image_id


def test_wrong_password_fails_clearly(run_module, registry, no_home_config):
    ref, _image_id = registry.publish("wrongpw")
    bad = {"auths": {registry.host: {"username": registry.user, "password": "not-the-" + registry.password}}}
    result = failed(run_module(MODULE, dict(name=ref, docker_config=bad), env=no_home_config))
    msg = result["msg"]
    assert msg.startswith("Pulling %s from %s failed: unauthorized" % (ref, registry.host)), msg
    assert "check the credentials docker_config (inline JSON) has for %s" % registry.host in msg
    assert result["attempts"] == 1
    assert registry.password not in json.dumps(result)
    assert registry.local_id(ref) is None


def test_secrets_never_appear_in_vvv_diff_output(run_module, registry, no_home_config, tmp_path):
    ref, _image_id = registry.publish("secret")
    wrong = "wrong-" + registry.password
    wrong_auth = base64.b64encode(("%s:%s" % (registry.user, wrong)).encode()).decode()
    cfg_file = tmp_path / "config.json"
    cfg_file.write_text(json.dumps(registry.config("auths-auth")))
    runs = [
        # failing pulls: the error path
        run_module(MODULE, dict(name=ref, docker_config={"auths": {registry.host: {"auth": wrong_auth}}}),
                   diff=True, verbosity=3, env=no_home_config),
        run_module(MODULE, dict(name=ref, docker_config={"auths": {registry.host: {
            "username": registry.user, "password": wrong}}}), diff=True, verbosity=3, env=no_home_config),
        # check mode, then successful pulls with each form
        run_module(MODULE, dict(name=ref, docker_config=registry.config("auths-auth")), check=True, diff=True,
                   verbosity=3, env=no_home_config),
        run_module(MODULE, dict(name=ref, docker_config=str(cfg_file)), diff=True, verbosity=3, env=no_home_config),
        run_module(MODULE, dict(name=ref, docker_config=registry.config("auths-username-password"), force_pull=True),
                   diff=True, verbosity=3, env=no_home_config),
        run_module(MODULE, dict(names=[ref], docker_config=json.dumps(registry.config("dockercfg")),
                                state="absent"), diff=True, verbosity=3, env=no_home_config),
    ]
    assert [r.rc != 0 for r in runs] == [True, True, False, False, False, False]
    assert runs[3].result["changed"] is True
    for run in runs:
        text = run.stdout + run.stderr
        assert "docker_config" in text  # the -vvv output does show the invocation ...
        for secret in (registry.password, registry.auth, wrong, wrong_auth):
            assert secret not in text, "a secret leaked into the -vvv --diff output"


# ---- errors ---------------------------------------------------------------------------------


def test_unreachable_registry_is_retried_then_fails_clearly(run_module):
    args = dict(name="127.0.0.1:5999/nothing/here:1", retries=2, retry_delay=0.2)
    started = time.monotonic()
    result = failed(run_module(MODULE, args))
    elapsed = time.monotonic() - started
    msg = result["msg"]
    assert result["attempts"] == 3
    assert msg.startswith("Pulling 127.0.0.1:5999/nothing/here:1 from 127.0.0.1:5999 failed after 3 attempts: "
                          "connection refused"), msg
    assert elapsed >= 0.6  # 0.2 + 0.4 seconds of backoff


@pytest.mark.parametrize("name", ["Bad Name:1", "registry:5000/UPPER/x", "busybox:-tag", "app@sha256:1234"])
def test_malformed_reference_fails_before_any_api_call(run_module, name):
    # A daemon address where nothing listens: any API call would fail differently.
    args = dict(name=name, docker_host="tcp://127.0.0.1:1", timeout=2)
    result = failed(run_module(MODULE, args))
    assert result["msg"].startswith("Invalid image reference %r" % name), result["msg"]
    assert "Expected [REGISTRY_HOST[:PORT]/]PATH[:TAG]" in result["msg"]
    assert "127.0.0.1:1" not in result["msg"]


def test_check_mode_pulls_nothing(run_module, registry, no_home_config, docker_api):
    refs = [registry.publish("chk%d" % i)[0] for i in range(2)]
    result = ok(run_module(MODULE, dict(names=refs, docker_config=registry.config("auths-auth")), check=True,
                           diff=True, env=no_home_config))
    assert result["changed"] is True
    assert [i["action"] for i in result["images"]] == ["would pull", "would pull"]
    assert [registry.local_id(r) for r in refs] == [None, None]


def test_names_several_images_in_one_call_quad(run_module, registry, no_home_config, testbed):
    present = testbed["TESTBED_IMAGE_BUSYBOX"]
    published = [registry.publish("many%d" % i) for i in range(3)]
    names = [published[0][0], present, published[1][0], published[2][0], published[0][0]]
    args = dict(names=names, docker_config=registry.config("auths-username-password"), max_workers=3)

    check = ok(run_module(MODULE, args, check=True, env=no_home_config))
    assert check["changed"] is True
    assert [i["action"] for i in check["images"]] == ["would pull", "present", "would pull", "would pull", "would pull"]
    assert all(registry.local_id(ref) is None for ref, _image_id in published)

    apply = ok(run_module(MODULE, args, env=no_home_config))
    assert apply["changed"] is True
    assert [i["name"] for i in apply["images"]] == [normalize(n) for n in names]
    assert apply["images"][1]["name"] == "docker.io/" + present
    assert [i["changed"] for i in apply["images"]] == [True, False, True, True, True]
    for (ref, image_id), entry in zip(published, [apply["images"][0], apply["images"][2], apply["images"][3]]):
        assert entry["id"] == image_id and registry.local_id(ref) == image_id

    check2 = ok(run_module(MODULE, args, check=True, env=no_home_config))
    assert check2["changed"] is False
    again = ok(run_module(MODULE, args, env=no_home_config))
    assert again["changed"] is False
    assert all(i["action"] == "present" for i in again["images"])


def test_names_partial_failure_pulls_the_rest_and_reports_each(run_module, registry, no_home_config):
    good, image_id = registry.publish("good")
    missing = registry.ref("never-pushed")
    result = failed(run_module(MODULE, dict(names=[good, missing], docker_config=registry.config("auths-auth")),
                               env=no_home_config))
    assert result["msg"].startswith("Pulling %s from %s failed: " % (missing, registry.host)), result["msg"]
    assert result["images"][0]["changed"] is True and result["images"][0]["id"] == image_id
    assert result["images"][1]["failed"] is True
    assert registry.local_id(good) == image_id


def test_state_absent_quad(run_module, registry, no_home_config):
    ref, image_id = registry.publish("gone", keep_local=True)
    args = dict(name=ref, state="absent")
    check = ok(run_module(MODULE, args, check=True, diff=True, env=no_home_config))
    assert check["changed"] is True and check["image"]["action"] == "would remove"
    assert check["diff"] == {"before": {ref: image_id}, "after": {ref: None}}
    assert registry.local_id(ref) == image_id, "check mode must not remove"
    apply = ok(run_module(MODULE, args, env=no_home_config))
    assert apply["changed"] is True and apply["image"]["action"] == "removed"
    assert registry.local_id(ref) is None
    check2 = ok(run_module(MODULE, args, check=True, env=no_home_config))
    assert check2["changed"] is False
    again = ok(run_module(MODULE, args, env=no_home_config))
    assert again["changed"] is False and again["image"]["action"] == "absent"


def test_docker_host_from_environment(run_module, registry, no_home_config):
    ref, image_id = registry.publish("envhost", keep_local=True)
    env = dict(no_home_config, DOCKER_HOST="unix:///var/run/docker.sock")
    result = ok(run_module(MODULE, dict(name=ref), env=env))
    assert result["changed"] is False and result["image"]["id"] == image_id
    env["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"
    result = failed(run_module(MODULE, dict(name=ref), env=env))
    assert "nonexistent/docker.sock" in result["msg"] or "Docker" in result["msg"]
