"""Unit tests of the image reference parser (Docker's grammar and normalisation)."""
import pytest

from ansible_collections.mesos.docker.plugins.module_utils._image_reference import (
    ImageReferenceError,
    is_docker_hub,
    normalize,
    parse,
    registry_hostname,
    split_domain,
)

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    "value, name, registry, path, tag, digest",
    [
        ("busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest", None),
        ("busybox:1.36", "docker.io/library/busybox:1.36", "docker.io", "library/busybox", "1.36", None),
        ("library/busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest", None),
        ("docker.io/busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest", None),
        ("index.docker.io/busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest", None),
        ("user/app", "docker.io/user/app:latest", "docker.io", "user/app", "latest", None),
        ("user/team/app:v2", "docker.io/user/team/app:v2", "docker.io", "user/team/app", "v2", None),
        ("localhost/app", "localhost/app:latest", "localhost", "app", "latest", None),
        ("localhost:5000/app:1", "localhost:5000/app:1", "localhost:5000", "app", "1", None),
        ("127.0.0.1:5000/testbed/busybox", "127.0.0.1:5000/testbed/busybox:latest", "127.0.0.1:5000",
         "testbed/busybox", "latest", None),
        ("registry.example.com/team/app:1.4.2", "registry.example.com/team/app:1.4.2", "registry.example.com",
         "team/app", "1.4.2", None),
        ("registry.example.com:443/a/b/c", "registry.example.com:443/a/b/c:latest", "registry.example.com:443",
         "a/b/c", "latest", None),
        ("[::1]:5000/app", "[::1]:5000/app:latest", "[::1]:5000", "app", "latest", None),
        ("app@" + DIGEST, "docker.io/library/app@" + DIGEST, "docker.io", "library/app", None, DIGEST),
        ("app:v1@" + DIGEST, "docker.io/library/app:v1@" + DIGEST, "docker.io", "library/app", "v1", DIGEST),
        ("host:5000/app@" + DIGEST, "host:5000/app@" + DIGEST, "host:5000", "app", None, DIGEST),
        ("a-b__c_d/e.f--g:T_a.g-1", "docker.io/a-b__c_d/e.f--g:T_a.g-1", "docker.io", "a-b__c_d/e.f--g", "T_a.g-1", None),
        ("app:" + "x" * 128, "docker.io/library/app:" + "x" * 128, "docker.io", "library/app", "x" * 128, None),
        ("app@sha512:" + "b" * 128, "docker.io/library/app@sha512:" + "b" * 128, "docker.io", "library/app", None,
         "sha512:" + "b" * 128),
    ],
)
def test_parse_normalises_like_docker(value, name, registry, path, tag, digest):
    ref = parse(value)
    assert ref.name == name
    assert ref.registry == registry
    assert ref.path == path
    assert ref.tag == tag
    assert ref.digest == digest
    assert normalize(value) == name
    assert str(ref) == name
    # Parsing the normalised form again is a fixed point.
    assert parse(ref.name) == ref


@pytest.mark.parametrize(
    "value, familiar, lookup",
    [
        ("busybox", "busybox:latest", "busybox:latest"),
        ("docker.io/library/busybox:1", "busybox:1", "busybox:1"),
        ("docker.io/user/app", "user/app:latest", "user/app:latest"),
        ("docker.io/library/a/b", "library/a/b:latest", "library/a/b:latest"),
        ("127.0.0.1:5000/x/y:z", "127.0.0.1:5000/x/y:z", "127.0.0.1:5000/x/y:z"),
        ("app:v1@" + DIGEST, "app:v1@" + DIGEST, "app@" + DIGEST),
    ],
)
def test_familiar_forms_match_docker_images_output(value, familiar, lookup):
    ref = parse(value)
    assert ref.familiar_name == familiar
    assert ref.local_lookup == lookup


def test_pull_tag_is_digest_when_pinned():
    assert parse("app:v1@" + DIGEST).pull_tag == DIGEST
    assert parse("app:v1").pull_tag == "v1"
    assert parse("app").pull_tag == "latest"


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("", "empty"),
        ("Busybox", "lowercase"),
        ("user/App", "lowercase"),
        ("bad name", "white space"),
        (" busybox", "white space"),
        ("busybox:", "tag ''"),
        ("busybox:-x", "tag '-x'"),
        ("busybox:.x", "tag '.x'"),
        ("busybox:" + "x" * 129, "tag"),
        ("busybox:t@g", "digest"),
        ("app@sha256:abc", "64 lower-case hex"),
        ("app@sha256:" + "A" * 64, "64 lower-case hex"),
        ("app@md5:" + "a" * 32, "unsupported digest algorithm"),
        ("app@" + "a" * 64, "ALGORITHM:HEX"),
        ("-app", "path component '-app'"),
        ("app-", "path component 'app-'"),
        ("a..b", "path component 'a..b'"),
        ("a___b", "path component"),
        ("a//b", "empty component"),
        ("host:5000/", "path is empty"),
        ("host:abc:def/x", "registry host"),
        ("-bad.host/x", "registry host"),
        ("a_b.c/x", "registry host 'a_b.c'"),
        ("https://registry/x", "URL scheme"),
        ("@" + DIGEST, "repository name is empty"),
        (":tag", "repository name is empty"),
        ("a/" * 130 + "b", "longer than 255"),
        ("app:täg", "tag"),
    ],
)
def test_invalid_references_name_value_and_expected_form(value, fragment):
    with pytest.raises(ImageReferenceError) as exc:
        parse(value)
    message = str(exc.value)
    assert repr(value) in message
    assert fragment in message
    assert "Expected [REGISTRY_HOST[:PORT]/]PATH[:TAG]" in message


@pytest.mark.parametrize("value", [None, 3, ["busybox"]])
def test_non_strings_are_rejected(value):
    with pytest.raises(ImageReferenceError, match="must be a string"):
        parse(value)


def test_uppercase_first_component_is_a_registry_host():
    # Docker's splitDockerDomain: an upper-case first component can only be a host.
    assert split_domain("MyRegistry/app") == ("MyRegistry", "app")
    assert parse("MyRegistry/app").registry == "MyRegistry"


@pytest.mark.parametrize(
    "value, host",
    [
        ("https://index.docker.io/v1/", "docker.io"),
        ("index.docker.io", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
        ("docker.io", "docker.io"),
        ("http://127.0.0.1:5000/v2/", "127.0.0.1:5000"),
        ("Registry.Example.com:5000", "registry.example.com:5000"),
        ("registry.example.com", "registry.example.com"),
    ],
)
def test_registry_hostname(value, host):
    assert registry_hostname(value) == host


def test_is_docker_hub():
    assert is_docker_hub("https://index.docker.io/v1/")
    assert not is_docker_hub("127.0.0.1:5000")
