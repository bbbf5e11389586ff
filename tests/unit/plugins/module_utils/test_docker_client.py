"""The one Docker connection builder: what the modules' shared options become, for a module and its log follower."""
import json

import docker
import pytest
from ansible.module_utils.testing import patch_module_args
from docker.tls import TLSConfig

from ansible_collections.mesos.docker.plugins.module_utils._common import DockerModule
from ansible_collections.mesos.docker.plugins.module_utils._docker_client import api_client, connection_args, pool_size

PARAMS = dict(docker_host="unix:///run/d.sock", api_version="auto", timeout=60, tls=False, validate_certs=False,
              ca_path=None, client_cert=None, client_key=None)


@pytest.mark.parametrize("params, tls", [
    (dict(), None),
    (dict(tls=True), dict(client_cert=None, ca_cert=None, verify=False)),
    (dict(validate_certs=True, ca_path="/ca.pem"), dict(client_cert=None, ca_cert="/ca.pem", verify=True)),
    (dict(client_cert="/c.pem", client_key="/k.pem"), dict(client_cert=["/c.pem", "/k.pem"], ca_cert=None, verify=False)),
], ids=["plain", "tls", "verify", "client-cert"])
def test_connection_args_from_the_shared_options(params, tls):
    args = connection_args(dict(PARAMS, **params))
    assert args == dict(base_url="unix:///run/d.sock", version="auto", timeout=60, tls=tls)
    assert json.loads(json.dumps(args)) == args  # the follower gets them as JSON


@pytest.mark.parametrize("calls, pool", [(None, 10), (0, 10), (4, 10), (24, 24)])
def test_the_pool_has_a_connection_per_concurrent_call_and_never_fewer_than_the_sdk(calls, pool):
    assert pool_size(calls) == pool


class Recorder:
    """docker.APIClient, recording its arguments; ``pool=False`` is an SDK without ``max_pool_size`` (4.1.0)."""

    made = []

    def __init__(self, pool=True):
        self.pool = pool

    def __call__(self, base_url=None, version=None, timeout=None, tls=None, **kwargs):
        if kwargs and not self.pool:
            raise TypeError("__init__() got an unexpected keyword argument 'max_pool_size'")
        Recorder.made.append(dict(base_url=base_url, version=version, timeout=timeout, tls=tls, **kwargs))
        return Recorder.made[-1]


@pytest.fixture
def recorder(monkeypatch):
    Recorder.made = []
    monkeypatch.setattr(docker, "APIClient", Recorder())
    return monkeypatch


def test_api_client_sizes_the_pool_where_the_sdk_can_and_works_without(recorder):
    args = connection_args(PARAMS)
    assert api_client(args, 24) == dict(base_url="unix:///run/d.sock", version="auto", timeout=60, tls=None,
                                        max_pool_size=24)
    recorder.setattr(docker, "APIClient", Recorder(pool=False))
    assert api_client(args, 24) == dict(base_url="unix:///run/d.sock", version="auto", timeout=60, tls=None)


def test_api_client_makes_the_tls_config(recorder, tmp_path):
    for name in ("c.pem", "k.pem", "ca.pem"):
        (tmp_path / name).write_text("x")
    args = connection_args(dict(PARAMS, validate_certs=True, ca_path=str(tmp_path / "ca.pem"),
                                client_cert=str(tmp_path / "c.pem"), client_key=str(tmp_path / "k.pem")))
    tls = api_client(args, 10)["tls"]
    assert isinstance(tls, TLSConfig) and tls.verify is True and tls.ca_cert == str(tmp_path / "ca.pem")
    assert tls.cert == (str(tmp_path / "c.pem"), str(tmp_path / "k.pem"))


def connect(capsys, **params):
    with patch_module_args(dict(params)):
        dm = DockerModule(dict(max_workers=dict(type="int", default=8)))
        try:
            return dm.client
        except SystemExit:
            return json.loads(capsys.readouterr().out)


def test_a_module_connects_with_its_options_and_a_pool_for_its_workers(recorder, capsys):
    assert connect(capsys, docker_host="tcp://d:2375", timeout=5, max_workers=16) == dict(
        base_url="tcp://d:2375", version="auto", timeout=5, tls=None, max_pool_size=16)


def test_bad_tls_files_and_a_bad_address_fail_naming_the_daemon(capsys):
    out = connect(capsys, docker_host="tcp://d:2376", client_cert="/nonexistent.pem", client_key="/nonexistent.key")
    assert out["failed"] and out["msg"].startswith("Invalid TLS settings for the Docker daemon at tcp://d:2376: ")
    out = connect(capsys, docker_host="bogus://d")
    assert out["failed"] and out["msg"].startswith("Cannot connect to the Docker daemon at bogus://d: ")
