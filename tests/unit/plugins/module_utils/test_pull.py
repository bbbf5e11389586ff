"""Unit tests of the shared pull code, on a fake Docker API client."""
import base64
import threading

import pytest
import requests
from docker.errors import APIError, ImageNotFound

from ansible_collections.mesos.docker.plugins.module_utils._pull import (
    ImagePuller,
    PullError,
    RemoveError,
    classify,
)

REG = "127.0.0.1:5000"
PRIVATE = REG + "/testbed/busybox:latest"
PASSWORD = "Very-s3cret-pw"
AUTH = base64.b64encode(("mesos:" + PASSWORD).encode()).decode()
CONFIG = {"auths": {REG: {"auth": AUTH}}}


def api_error(message, status=500):
    response = requests.Response()
    response.status_code = status
    return APIError("%d Server Error" % status, response=response, explanation=message)


class FakeClient:
    """Just enough of docker.APIClient. ``pull_outcomes[name]`` is a list consumed per pull:
    a list of stream chunks (and the image to store afterwards) or an exception."""

    def __init__(self, images=None):
        self.images_by_ref = dict(images or {})
        self.calls = []
        self.pull_outcomes = {}
        self.remote_digests = {}
        self.lock = threading.Lock()
        self.max_parallel = 0
        self._parallel = 0

    def _record(self, *call):
        with self.lock:
            self.calls.append(call)

    def count(self, method):
        return sum(1 for c in self.calls if c[0] == method)

    def images(self):
        self._record("images")
        seen = {}
        for lookup, img in self.images_by_ref.items():
            summary = seen.setdefault(img["Id"], dict(Id=img["Id"], RepoTags=[], RepoDigests=list(img.get("RepoDigests", []))))
            if "@" not in lookup:
                summary["RepoTags"].append(lookup)
        return list(seen.values())

    def inspect_image(self, lookup):
        self._record("inspect_image", lookup)
        if lookup not in self.images_by_ref:
            raise ImageNotFound("No such image: %s" % lookup)
        return dict(self.images_by_ref[lookup])

    def pull(self, repository, tag=None, stream=False, decode=False, auth_config=None):
        self._record("pull", repository, tag, auth_config)
        assert stream and decode
        key = "%s:%s" % (repository, tag)
        outcomes = self.pull_outcomes.get(key)
        assert outcomes, "unexpected pull of %s" % key
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        chunks, image, lookup = outcome

        def gen():
            with self.lock:
                self._parallel += 1
                self.max_parallel = max(self.max_parallel, self._parallel)
            try:
                yield from chunks
                if image is not None:
                    self.images_by_ref[lookup] = image
            finally:
                with self.lock:
                    self._parallel -= 1

        return gen()

    def inspect_distribution(self, image, auth_config=None):
        self._record("inspect_distribution", image, auth_config)
        value = self.remote_digests[image]
        if isinstance(value, Exception):
            raise value
        return {"Descriptor": {"digest": value}}

    def remove_image(self, lookup):
        self._record("remove_image", lookup)
        if isinstance(self.images_by_ref.get(lookup), Exception):
            raise self.images_by_ref[lookup]
        self.images_by_ref.pop(lookup)


def image(n, digest_repo=None):
    img = {"Id": "sha256:%064d" % n, "RepoDigests": []}
    if digest_repo:
        img["RepoDigests"] = ["%s@sha256:%064d" % (digest_repo, n + 1000)]
    return img


OK = [{"status": "Pulling from testbed/busybox"}, {"status": "Digest: sha256:..."}, {"status": "Downloaded newer image"}]


class Sleeps:
    def __init__(self):
        self.delays = []

    def __call__(self, seconds):
        self.delays.append(seconds)


def puller(client, **kw):
    kw.setdefault("sleep", Sleeps())
    return ImagePuller(client, **kw)


# ---- force_pull policy ------------------------------------------------------------------


def test_present_image_costs_one_inspect_and_no_pull():
    client = FakeClient({"busybox:latest": image(1)})
    res = puller(client).ensure("busybox")
    assert res["changed"] is False and res["pulled"] is False and res["action"] == "present"
    assert res["id"] == image(1)["Id"] and res["name"] == "docker.io/library/busybox:latest"
    assert client.calls == [("inspect_image", "busybox:latest")]


def test_absent_image_is_pulled_and_changed():
    client = FakeClient()
    client.pull_outcomes["docker.io/library/busybox:latest"] = [(OK, image(2), "busybox:latest")]
    res = puller(client).ensure("busybox")
    assert res["changed"] is True and res["pulled"] is True and res["id"] == image(2)["Id"]
    assert res["attempts"] == 1 and res["previous_id"] is None and res["action"] == "pulled"
    assert res["pull_seconds"] >= 0


def test_force_pull_same_id_is_not_changed():
    client = FakeClient({"busybox:latest": image(1)})
    client.pull_outcomes["docker.io/library/busybox:latest"] = [(OK, image(1), "busybox:latest")]
    res = puller(client).ensure("busybox", force_pull=True)
    assert res["pulled"] is True and res["changed"] is False and res["action"] == "up to date"
    assert client.count("pull") == 1


def test_force_pull_new_id_is_changed():
    client = FakeClient({"busybox:latest": image(1)})
    client.pull_outcomes["docker.io/library/busybox:latest"] = [(OK, image(3), "busybox:latest")]
    res = puller(client).ensure("busybox", force_pull=True)
    assert res["changed"] is True and res["id"] == image(3)["Id"] and res["previous_id"] == image(1)["Id"]


def test_digest_reference_pulls_by_digest_and_inspects_by_digest():
    digest = "sha256:" + "c" * 64
    client = FakeClient()
    client.pull_outcomes["%s/app:%s" % (REG, digest)] = [(OK, image(4), "%s/app@%s" % (REG, digest))]
    res = puller(client).ensure("%s/app:v1@%s" % (REG, digest))
    assert res["changed"] is True
    assert ("inspect_image", "%s/app@%s" % (REG, digest)) in client.calls


# ---- check mode -------------------------------------------------------------------------


def test_check_mode_never_pulls_absent_image():
    client = FakeClient()
    res = puller(client, check_mode=True).ensure(PRIVATE)
    assert res["changed"] is True and res["action"] == "would pull" and res["pulled"] is False
    assert client.count("pull") == 0 and client.count("inspect_distribution") == 0


def test_check_mode_force_pull_compares_remote_digest():
    client = FakeClient({PRIVATE: image(5, digest_repo=REG + "/testbed/busybox")})
    client.remote_digests[PRIVATE] = "sha256:%064d" % 1005
    res = puller(client, check_mode=True, docker_config=CONFIG).ensure(PRIVATE, force_pull=True)
    assert res["changed"] is False and res["action"] == "up to date"
    assert client.calls[-1][2]["password"] == PASSWORD  # asked the registry with the config's credentials
    client.remote_digests[PRIVATE] = "sha256:" + "f" * 64
    res = puller(client, check_mode=True).ensure(PRIVATE, force_pull=True)
    assert res["changed"] is True and res["action"] == "would pull"
    assert client.count("pull") == 0


def test_check_mode_force_pull_registry_unreachable_predicts_change_without_secret():
    client = FakeClient({PRIVATE: image(5)})
    client.remote_digests[PRIVATE] = api_error("Get http://x: auth %s connection refused" % PASSWORD)
    res = puller(client, check_mode=True, docker_config=CONFIG).ensure(PRIVATE, force_pull=True)
    assert res["changed"] is True and "connection refused" in res["check_note"]
    assert PASSWORD not in res["check_note"]
    assert client.count("pull") == 0


def test_check_mode_many_never_pulls():
    client = FakeClient({"busybox:latest": image(1)})
    res = puller(client, check_mode=True).ensure_many(["busybox", PRIVATE, "alpine"], max_workers=3)
    assert [r["changed"] for r in res] == [False, True, True]
    assert client.count("pull") == 0


# ---- errors and retries -----------------------------------------------------------------


def test_error_inside_the_stream_is_a_pull_error():
    client = FakeClient()
    chunks = [{"status": "Pulling"}, {"error": "Head http://x: no basic auth credentials",
                                      "errorDetail": {"message": "Head \"http://%s/v2/testbed/busybox/manifests/latest\": "
                                                                 "no basic auth credentials" % REG}}]
    client.pull_outcomes[REG + "/testbed/busybox:latest"] = [(chunks, None, None)]
    sleeps = Sleeps()
    with pytest.raises(PullError) as exc:
        puller(client, sleep=sleeps).ensure(PRIVATE)
    msg = str(exc.value)
    assert msg.startswith("Pulling %s from %s failed: no basic auth credentials" % (PRIVATE, REG))
    assert "no docker_config was given" in msg
    assert exc.value.attempts == 1 and sleeps.delays == []  # auth errors are not retried


@pytest.mark.parametrize(
    "message, transient",
    [
        ("Get \"https://127.0.0.1:5999/v2/\": dial tcp 127.0.0.1:5999: connect: connection refused", True),
        ("read tcp: connection reset by peer", True),
        ("net/http: TLS handshake timeout", True),
        ("Get https://r/v2/: dial tcp: i/o timeout", True),
        ("received unexpected HTTP status: 503 Service Unavailable", True),
        ("received unexpected HTTP status: 502 Bad Gateway", True),
        ("toomanyrequests: too many requests", True),
        ("unexpected EOF", True),
        ("Head https://r/v2/x/manifests/latest: unauthorized: authentication required", False),
        ("Head https://r/v2/x/manifests/latest: no basic auth credentials", False),
        ("pull access denied for x, repository does not exist or may require 'docker login': denied", False),
        ("manifest for r/x:nope not found: manifest unknown: manifest unknown", False),
        ("Get https://nohost.invalid/v2/: dial tcp: lookup nohost.invalid: no such host", False),
        ("something else entirely", False),
    ],
)
def test_classify(message, transient):
    assert classify(message)[1] is transient


def test_transient_errors_are_retried_with_exponential_backoff():
    client = FakeClient()
    refused = api_error("Get \"http://127.0.0.1:5999/v2/\": dial tcp 127.0.0.1:5999: connect: connection refused")
    client.pull_outcomes["127.0.0.1:5999/x/y:latest"] = [refused, refused, refused, refused]
    sleeps = Sleeps()
    with pytest.raises(PullError) as exc:
        puller(client, retries=3, backoff=0.5, sleep=sleeps).ensure("127.0.0.1:5999/x/y")
    assert sleeps.delays == [0.5, 1.0, 2.0]
    assert exc.value.attempts == 4 and client.count("pull") == 4
    assert str(exc.value).startswith(
        "Pulling 127.0.0.1:5999/x/y:latest from 127.0.0.1:5999 failed after 4 attempts: connection refused")


def test_transient_then_success():
    client = FakeClient()
    stream_5xx = ([{"error": "received unexpected HTTP status: 503 Service Unavailable"}], None, None)
    client.pull_outcomes["docker.io/library/busybox:latest"] = [
        stream_5xx, requests.exceptions.ConnectionError("reset"), (OK, image(7), "busybox:latest")]
    sleeps = Sleeps()
    res = puller(client, retries=3, backoff=1.0, sleep=sleeps).ensure("busybox")
    assert res["changed"] is True and res["attempts"] == 3 and sleeps.delays == [1.0, 2.0]


def test_retries_zero_means_one_attempt():
    client = FakeClient()
    client.pull_outcomes["docker.io/library/busybox:latest"] = [api_error("connection refused")]
    with pytest.raises(PullError) as exc:
        puller(client, retries=0).ensure("busybox")
    assert exc.value.attempts == 1 and "after" not in str(exc.value)


def test_not_found_is_not_retried():
    client = FakeClient()
    client.pull_outcomes["docker.io/library/nope:latest"] = [
        ImageNotFound("pull access denied for nope, repository does not exist")]
    sleeps = Sleeps()
    with pytest.raises(PullError, match="failed: access denied") as exc:
        puller(client, sleep=sleeps).ensure("nope")
    assert sleeps.delays == [] and exc.value.attempts == 1


def test_credentials_from_docker_config_and_secret_never_in_error():
    client = FakeClient()
    leaky = api_error("Head http://%s/v2/: unauthorized: authentication required (%s / %s)" % (REG, PASSWORD, AUTH), 401)
    client.pull_outcomes[REG + "/testbed/busybox:latest"] = [leaky]
    with pytest.raises(PullError) as exc:
        puller(client, docker_config=CONFIG).ensure(PRIVATE)
    sent = client.calls[-1][3]
    assert sent["username"] == "mesos" and sent["password"] == PASSWORD
    msg = str(exc.value)
    assert "unauthorized: authentication required" in msg and REG in msg
    assert PASSWORD not in msg and AUTH not in msg
    assert "check the credentials docker_config (inline JSON) has for %s" % REG in msg


def test_docker_config_without_entry_pulls_anonymously_not_with_home_config():
    client = FakeClient()
    client.pull_outcomes["docker.io/library/busybox:latest"] = [(OK, image(1), "busybox:latest")]
    puller(client, docker_config=CONFIG).ensure("busybox")
    assert client.calls[1][3] == {}
    client2 = FakeClient()
    client2.pull_outcomes["docker.io/library/busybox:latest"] = [(OK, image(1), "busybox:latest")]
    puller(client2).ensure("busybox")
    assert client2.calls[1][3] is None  # the SDK's own lookup


def test_pull_succeeds_but_image_missing():
    client = FakeClient()
    client.pull_outcomes["docker.io/library/busybox:latest"] = [(OK, None, None)]
    with pytest.raises(PullError, match="not there afterwards"):
        puller(client).ensure("busybox")


# ---- many -------------------------------------------------------------------------------


def test_many_present_costs_one_list_call():
    images = {"img%d:latest" % i: image(i) for i in range(20)}
    client = FakeClient(images)
    res = puller(client).ensure_many(["img%d" % i for i in range(20)])
    assert client.calls == [("images",)]
    assert [r["id"] for r in res] == [image(i)["Id"] for i in range(20)]
    assert not any(r["changed"] for r in res)


def test_many_matches_registry_and_digest_names():
    digest = "sha256:%064d" % 1009
    img = image(9, digest_repo=REG + "/t/app")
    client = FakeClient({REG + "/t/app:1": img, REG + "/t/app@" + digest: img})
    res = puller(client).ensure_many([REG + "/t/app:1", REG + "/t/app@" + digest])
    assert client.calls == [("images",)]
    assert [r["id"] for r in res] == [img["Id"], img["Id"]]


def test_many_in_input_order_parallel_and_deduplicated():
    client = FakeClient({"present:latest": image(1)})
    names = ["a", "present", "b", "c", "a", "d"]
    for n, name in enumerate("abcd"):
        client.pull_outcomes["docker.io/library/%s:latest" % name] = [(OK, image(10 + n), "%s:latest" % name)]
    res = puller(client).ensure_many(names, max_workers=4)
    assert [r["name"] for r in res] == ["docker.io/library/%s:latest" % n for n in names]
    assert [r["changed"] for r in res] == [True, False, True, True, True, True]
    assert client.count("pull") == 4 and client.count("images") == 1
    assert client.max_parallel >= 1


def test_many_falls_back_to_inspect_when_list_spells_differently():
    client = FakeClient({"busybox:latest": image(1)})
    client.images = lambda: client._record("images") or []  # the list misses it
    res = puller(client).ensure_many(["busybox"])
    assert res[0]["action"] == "present" and client.count("pull") == 0
    assert client.count("inspect_image") == 1


def test_many_partial_failure_reports_all():
    client = FakeClient()
    client.pull_outcomes["docker.io/library/ok:latest"] = [(OK, image(1), "ok:latest")]
    client.pull_outcomes["docker.io/library/bad:latest"] = [api_error("manifest unknown", 404)]
    client.pull_outcomes["docker.io/library/worse:latest"] = [api_error("no basic auth credentials")]
    with pytest.raises(PullError) as exc:
        puller(client).ensure_many(["ok", "bad", "worse"], max_workers=3)
    assert str(exc.value).startswith("2 of 3 images failed: Pulling docker.io/library/bad:latest")
    results = exc.value.results
    assert results[0]["changed"] is True and results[0]["id"] == image(1)["Id"]
    assert results[1]["failed"] is True and "image not found" in results[1]["msg"]
    assert results[2]["failed"] is True and "no basic auth credentials" in results[2]["msg"]


def test_many_force_pull_compares_ids_from_the_list():
    client = FakeClient({"a:latest": image(1), "b:latest": image(2)})
    client.pull_outcomes["docker.io/library/a:latest"] = [(OK, image(1), "a:latest")]
    client.pull_outcomes["docker.io/library/b:latest"] = [(OK, image(22), "b:latest")]
    res = puller(client).ensure_many(["a", "b"], force_pull=True)
    assert [r["changed"] for r in res] == [False, True]
    assert res[1]["previous_id"] == image(2)["Id"]


def test_many_empty():
    client = FakeClient()
    assert puller(client).ensure_many([]) == []
    assert client.calls == []


# ---- remove -----------------------------------------------------------------------------


def test_remove_present_absent_and_check_mode():
    client = FakeClient({"busybox:latest": image(1)})
    res = puller(client, check_mode=True).remove("busybox")
    assert res["changed"] is True and res["action"] == "would remove"
    assert "busybox:latest" in client.images_by_ref
    res = puller(client).remove("busybox")
    assert res["changed"] is True and res["action"] == "removed" and res["id"] == image(1)["Id"]
    assert "busybox:latest" not in client.images_by_ref
    res = puller(client).remove("busybox")
    assert res["changed"] is False and res["action"] == "absent"


def test_remove_conflict_is_a_clear_error():
    client = FakeClient({"busybox:latest": image(1)})

    def conflict(lookup):
        raise api_error("conflict: unable to remove repository reference \"%s\" - container abc is using it" % lookup, 409)

    client.remove_image = conflict
    with pytest.raises(RemoveError, match="Removing docker.io/library/busybox:latest failed: conflict"):
        puller(client).remove("busybox")
