"""Unit tests of docker config loading and registry credential matching."""
import base64
import json
import os

import pytest

from ansible_collections.mesos.docker.plugins.module_utils._docker_config import (
    DockerConfigError,
    from_dict,
    load,
    mesos_relative_path,
)

USER = "mesos-user"
PASSWORD = "s3cr:et-Pa55"  # a colon inside the password must survive
AUTH = base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()


def auths(key, **entry):
    return {"auths": {key: entry or {"auth": AUTH}}}


def assert_no_secret(text):
    assert PASSWORD not in text
    assert AUTH not in text


@pytest.mark.parametrize(
    "data",
    [
        auths("127.0.0.1:5000"),
        auths("127.0.0.1:5000", username=USER, password=PASSWORD),
        {"127.0.0.1:5000": {"auth": AUTH, "email": "ops@example.com"}},  # .dockercfg layout
    ],
    ids=["auths-auth", "auths-username-password", "dockercfg"],
)
def test_layouts_give_sdk_auth_config(data):
    config = load(data)
    creds = config.credentials_for("127.0.0.1:5000")
    assert creds["username"] == USER
    assert creds["password"] == PASSWORD
    assert creds["serveraddress"] == "127.0.0.1:5000"
    assert config.credentials_for("127.0.0.1:5001") is None
    assert config.credentials_for("registry.example.com") is None


def test_layout_and_mesos_path():
    assert load(auths("h")).layout == "auths"
    assert load(auths("h")).mesos_relative_path() == os.path.join(".docker", "config.json")
    assert load({"h": {"auth": AUTH}}).layout == "dockercfg"
    assert load({"h": {"auth": AUTH}}).mesos_relative_path() == ".dockercfg"
    assert mesos_relative_path(False) == ".dockercfg"


@pytest.mark.parametrize(
    "key, asked, matches",
    [
        ("https://registry.example.com/v1/", "registry.example.com", True),
        ("http://registry.example.com:5000/v2/", "registry.example.com:5000", True),
        ("registry.example.com", "registry.example.com", True),
        ("Registry.Example.com", "registry.example.com", True),
        ("registry.example.com", "registry.example.com:5000", False),
        ("registry.example.com:5000", "registry.example.com", False),
        ("https://index.docker.io/v1/", "docker.io", True),
        ("index.docker.io", "docker.io", True),
        ("registry-1.docker.io", "docker.io", True),
        ("docker.io", "https://index.docker.io/v1/", True),
        ("https://index.docker.io/v1/", "127.0.0.1:5000", False),
    ],
)
def test_matching_by_registry_host_like_the_cli(key, asked, matches):
    config = load(auths(key))
    creds = config.credentials_for(asked)
    assert (creds is not None) == matches
    if matches:
        assert creds["password"] == PASSWORD


def test_exact_key_wins_then_bare_host():
    other = base64.b64encode(b"other:pw2").decode()
    config = load({"auths": {"https://h:5000/v1/": {"auth": other}, "h:5000": {"auth": AUTH}}})
    assert config.credentials_for("h:5000")["username"] == USER
    assert config.credentials_for("https://h:5000/v1/")["username"] == "other"


def test_explicit_username_password_win_over_auth():
    other = base64.b64encode(b"other:pw2").decode()
    config = load(auths("h", auth=other, username=USER, password=PASSWORD))
    creds = config.credentials_for("h")
    assert (creds["username"], creds["password"]) == (USER, PASSWORD)


def test_identity_token_entry():
    config = load(auths("h", username="<token>", identitytoken="tok-123456"))
    assert config.credentials_for("h")["identitytoken"] == "tok-123456"
    assert "tok-123456" in config.secrets()


def test_secrets_lists_password_and_auth():
    assert load(auths("h")).secrets() == {PASSWORD, AUTH}
    assert load(auths("h", username=USER, password=PASSWORD)).secrets() == {PASSWORD, AUTH}


def test_json_string_file_url_plain_path_and_directory(tmp_path):
    data = auths("127.0.0.1:5000")
    text = json.dumps(data)
    path = tmp_path / "config.json"
    path.write_text(text)
    for value in (text, "  " + text + "\n", "file://%s" % path, str(path), str(tmp_path)):
        config = load(value)
        assert config.credentials_for("127.0.0.1:5000")["password"] == PASSWORD
    assert load(str(path)).source == str(path)
    assert load(text).source == "inline JSON"


def test_directory_with_dockercfg(tmp_path):
    (tmp_path / ".dockercfg").write_text(json.dumps({"h": {"auth": AUTH}}))
    config = load(str(tmp_path))
    assert config.layout == "dockercfg"
    assert config.credentials_for("h")["username"] == USER


def _helper(tmp_path, monkeypatch, name, script):
    """A ``docker-credential-<name>`` on PATH answering ``script`` (a shell body reading the server on stdin)."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    program = bindir / ("docker-credential-" + name)
    program.write_text("#!/bin/sh\n" + script)
    program.chmod(0o755)
    monkeypatch.setenv("PATH", "%s:%s" % (bindir, os.environ.get("PATH", "")))


def test_empty_entries_and_no_helpers():
    config = load({"auths": {"h": {}}})
    assert config.credentials_for("h") is None
    # .dockercfg-style config with only non-registry keys
    assert load({"credHelpers": {"h": "x"}}).entries == {}


def test_cred_helpers_win_as_in_the_docker_cli(tmp_path, monkeypatch):
    """credHelpers for the registry, else credsStore, else the inline auths (Docker CLI's GetCredentialsStore)."""
    _helper(tmp_path, monkeypatch, "reg", 'read s; echo "{\\"ServerURL\\":\\"$s\\",\\"Username\\":\\"bob\\",\\"Secret\\":\\"from-reg-$s\\"}"\n')
    _helper(tmp_path, monkeypatch, "store", 'read s; echo "{\\"Username\\":\\"<token>\\",\\"Secret\\":\\"tok-$s\\"}"\n')
    _helper(tmp_path, monkeypatch, "none", 'echo "credentials not found in native keychain"; exit 1\n')
    config = load({"auths": {"inline:5000": {"auth": AUTH}}, "credHelpers": {"reg:5000": "reg", "none:1": "none"},
                   "credsStore": "store"})
    assert config.credentials_for("reg:5000") == dict(username="bob", password="from-reg-reg:5000", serveraddress="reg:5000")
    assert config.credentials_for("inline:5000") == dict(identitytoken="tok-inline:5000", serveraddress="inline:5000")
    assert config.credentials_for("none:1") == {}
    assert {"from-reg-reg:5000", "tok-inline:5000"} <= config.secrets()
    only_helpers = load({"auths": {"inline:5000": {"auth": AUTH}}, "credHelpers": {"reg:5000": "reg"}})
    assert only_helpers.credentials_for("inline:5000")["username"] == USER


def test_a_failing_or_missing_helper_is_a_clear_error(tmp_path, monkeypatch):
    _helper(tmp_path, monkeypatch, "broken", "echo secret-in-output; exit 3\n")
    with pytest.raises(DockerConfigError, match="docker-credential-broken failed for reg:5000") as failed:
        load({"credHelpers": {"reg:5000": "broken"}}).credentials_for("reg:5000")
    assert "secret-in-output" not in str(failed.value)
    with pytest.raises(DockerConfigError, match="docker-credential-absent-helper-x for reg:5000 cannot run"):
        load({"credsStore": "absent-helper-x"}).credentials_for("reg:5000")


@pytest.mark.parametrize("value", [None, "", "   "])
def test_nothing_given(value):
    assert load(value) is None


@pytest.mark.parametrize(
    "value, fragment",
    [
        (auths("h", auth="!!!not-base64!!!"), "not valid base64"),
        (auths("h", auth=base64.b64encode(b"no-colon-at-all").decode()), "USER:PASSWORD"),
        (auths("h", email="x@example.com"), "has no credentials"),
        ({"auths": {"h": "user:" + PASSWORD}}, "must be an object"),
        ({"auths": ["h"]}, "'auths' must be an object"),
        (auths("h", username=USER, password=12345678), "'password' must be a string"),
        ('{"auths": {"h": {"auth": "%s"}' % AUTH, "does not parse"),
        ("[1, 2]", "must be a JSON object, not list"),
        ("user:%s" % PASSWORD, "Cannot read docker_config file"),
        ('auth "%s"' % AUTH, "neither a path"),
        ("https://example.com/config.json", "only file:// URLs"),
        ("file://relative/config.json", "absolute"),
        (42, "not int"),
    ],
)
def test_errors_are_clear_and_never_hold_the_secret(value, fragment):
    with pytest.raises(DockerConfigError) as exc:
        load(value)
    message = str(exc.value)
    assert fragment in message
    assert "h" in message or "docker_config" in message
    assert AUTH not in message
    # a password that was handed in as a file path is the user's own doing; everything else hides it
    if not (isinstance(value, str) and value.startswith("user:")):
        assert PASSWORD not in message


def test_file_errors(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(DockerConfigError, match="Cannot read docker_config file .*nope.json"):
        load(str(missing))
    bad = tmp_path / "bad.json"
    bad.write_text('{"auths": {"h": {"auth": "%s"' % AUTH)
    with pytest.raises(DockerConfigError) as exc:
        load("file://%s" % bad)
    assert "not valid JSON" in str(exc.value) and "line 1" in str(exc.value)
    assert_no_secret(str(exc.value))
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    with pytest.raises(DockerConfigError, match="has neither config.json nor .dockercfg"):
        load(str(empty_dir))


def test_repr_never_shows_credentials():
    config = from_dict(auths("h"))
    assert_no_secret(repr(config))
    assert USER not in repr(config)
    assert "h" in repr(config)
