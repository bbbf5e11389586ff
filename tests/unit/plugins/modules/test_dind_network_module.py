# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""In-process tests of the mesos.docker.dind_network module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import io
import json
import multiprocessing
import os
import sys

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.mesos.docker.plugins.module_utils import _common
from ansible_collections.mesos.docker.plugins.modules import dind_network


def run_module(args, check=False, diff=False):
    """Run the module's main() in-process; return (failed, result)."""
    args = dict(args)
    if check:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    out = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(out):
        with pytest.raises(SystemExit) as exc:
            dind_network.main()
    result = json.loads(out.getvalue())
    return exc.value.code != 0 or bool(result.get("failed")), result


def _no_daemon(self):
    raise AssertionError("the Docker daemon must not be contacted")


@pytest.fixture(autouse=True)
def forbid_daemon(monkeypatch):
    monkeypatch.setattr(_common.DockerModule, "client", property(_no_daemon))


@pytest.fixture
def state(tmp_path):
    return str(tmp_path / "dind.json")


def base_args(state_file, **kw):
    args = dict(network="172.17.0.0/16", size=24, agents=["agent-b", "agent-a"], state_file=state_file)
    args.update(kw)
    return args


def test_state_file_written_then_idempotent(state):
    failed, result = run_module(base_args(state))
    assert not failed, result
    assert result["changed"] is True
    assert result["allocations"]["agent-a"]["fixed_cidr"] == "172.17.1.0/24"
    assert result["allocations"]["agent-b"]["offset"] == "0.0.2.0"
    assert result["network"] == "172.17.0.0/16" and result["size"] == 24
    assert result["gateway"] == "172.17.0.1"
    assert result["free_blocks"] == 256 - 1 - 2
    assert result["retained"] == {}
    with open(state) as handle:
        recorded = json.load(handle)
    assert recorded["network"] == "172.17.0.0/16" and recorded["size"] == 24
    assert recorded["allocations"] == {
        "agent-a": {"offset": "0.0.1.0", "fixed_cidr": "172.17.1.0/24"},
        "agent-b": {"offset": "0.0.2.0", "fixed_cidr": "172.17.2.0/24"},
    }
    mtime = os.stat(state).st_mtime_ns
    failed, again = run_module(base_args(state))
    assert not failed and again["changed"] is False
    assert again["allocations"] == result["allocations"]
    assert os.stat(state).st_mtime_ns == mtime


def test_adding_and_removing_agents_never_moves_others(state):
    run_module(base_args(state, agents=["a", "b", "c"]))
    failed, result = run_module(base_args(state, agents=["c", "d"]))
    assert not failed and result["changed"] is True
    assert result["allocations"]["c"]["offset"] == "0.0.3.0"
    assert result["allocations"]["d"]["offset"] == "0.0.1.0"  # a's block, freed by prune


def test_prune_false_keeps_blocks(state):
    run_module(base_args(state, agents=["a", "b"]))
    failed, result = run_module(base_args(state, agents=["b", "c"], prune=False))
    assert not failed
    assert sorted(result["allocations"]) == ["b", "c"]
    assert result["retained"]["a"]["offset"] == "0.0.1.0" and "retained" not in result["retained"]["a"]
    assert result["allocations"]["c"]["offset"] == "0.0.3.0"
    with open(state) as handle:
        assert sorted(json.load(handle)["allocations"]) == ["a", "b", "c"]


def test_check_mode_writes_nothing(state):
    failed, result = run_module(base_args(state), check=True, diff=True)
    assert not failed and result["changed"] is True
    assert result["allocations"]["agent-a"]["offset"] == "0.0.1.0"
    assert result["diff"]["before"] == {}
    assert sorted(result["diff"]["after"]["allocations"]) == ["agent-a", "agent-b"]
    assert os.listdir(os.path.dirname(state)) == []
    # and against an existing state: still nothing written
    run_module(base_args(state))
    with open(state) as handle:
        content = handle.read()
    failed, result = run_module(base_args(state, agents=["agent-a", "agent-c"]), check=True)
    assert not failed and result["changed"] is True
    assert result["allocations"]["agent-c"]["offset"] == "0.0.2.0"
    with open(state) as handle:
        assert handle.read() == content


def test_diff_shows_before_and_after(state):
    run_module(base_args(state, agents=["a"]))
    failed, result = run_module(base_args(state, agents=["a", "b"]), diff=True)
    assert not failed
    assert sorted(result["diff"]["before"]["allocations"]) == ["a"]
    assert sorted(result["diff"]["after"]["allocations"]) == ["a", "b"]


def test_without_state_file_never_changed():
    args = dict(network="10.0.0.0/8", size=16, agents=["x", {"name": "y", "offset": "0.9.0.0"}])
    failed, result = run_module(args)
    assert not failed and result["changed"] is False
    assert result["allocations"]["x"]["fixed_cidr"] == "10.1.0.0/16"
    assert result["allocations"]["y"]["fixed_cidr"] == "10.9.0.0/16"
    assert "state_file" not in result


@pytest.mark.parametrize(
    "kw, pattern",
    [
        (dict(agents=["a", {"name": "b", "offset": "0.0.256.0"}]), r"offset '0.0.256.0' has octet 256 > 255"),
        (dict(agents=["a", "a"]), r"agent name 'a' is listed more than once"),
        (dict(network="172.17.0.0/33"), r"network '172.17.0.0/33' is not a valid CIDR"),
        (dict(size=16), r"size 16 is not larger than the prefix"),
        (dict(size=31), r"size 31 is too small"),
        (dict(agents=[{"name": "a", "offset": "0.1.0.0"}]), r"overflows past the end of the parent network"),
        (dict(agents=[{"name": "a", "offset": "0.0.1.128"}]), r"not aligned to /24 blocks"),
        (dict(reserved=["bogus"]), r"reserved entry 'bogus' is not a CIDR"),
        (dict(network="192.168.0.0/24", size=30, agents=["n%d" % i for i in range(64)]), r"only 63 free block\(s\) remain"),
    ],
)
def test_bad_input_fails_before_writing(state, kw, pattern):
    import re

    failed, result = run_module(base_args(state, **kw))
    assert failed
    assert re.search(pattern, result["msg"]), result["msg"]
    assert not os.path.exists(state)


def test_bad_input_leaves_existing_state_untouched(state):
    run_module(base_args(state))
    with open(state) as handle:
        content = handle.read()
    failed, result = run_module(base_args(state, agents=["agent-a", "agent-b", {"name": "z", "offset": "0.0.2.0"}]))
    assert failed and "already taken by agent 'agent-b'" in result["msg"]
    with open(state) as handle:
        assert handle.read() == content


@pytest.mark.parametrize(
    "kw, pattern",
    [
        (dict(network="10.0.0.0/8"), r"records allocations in network 172.17.0.0/16 but network 10.0.0.0/8 is requested.*clear or migrate the state file"),
        (dict(size=25), r"records allocations of size 24 but size 25 is requested"),
        (dict(reserved=["172.17.2.0/24"]), r"agent 'agent-b' .* no longer allowed because it overlaps reserved range 172.17.2.0/24"),
    ],
)
def test_changed_network_refused_not_moved(state, kw, pattern):
    import re

    run_module(base_args(state))
    with open(state) as handle:
        content = handle.read()
    failed, result = run_module(base_args(state, **kw))
    assert failed and re.search(pattern, result["msg"]), result["msg"]
    with open(state) as handle:
        assert handle.read() == content


def test_corrupt_state_file_refused(state):
    with open(state, "w") as handle:
        handle.write("{oops")
    failed, result = run_module(base_args(state))
    assert failed and "is not valid JSON" in result["msg"]
    with open(state) as handle:
        assert handle.read() == "{oops"


def test_missing_state_directory(tmp_path):
    failed, result = run_module(base_args(str(tmp_path / "nope" / "s.json")))
    assert failed and "does not exist" in result["msg"]


def test_missing_netaddr(monkeypatch, state):
    monkeypatch.setattr(dind_network, "HAS_NETADDR", False)
    failed, result = run_module(base_args(state))
    assert failed and "netaddr" in result["msg"]
    assert not os.path.exists(state)


# ------------------------------------------------------------------ daemon path


class FakeClient:
    def __init__(self, bridge):
        self.bridge = bridge
        self.calls = []

    def inspect_network(self, name):
        self.calls.append(name)
        if isinstance(self.bridge, Exception):
            raise self.bridge
        return self.bridge


def _bridge(ip_range=None):
    config = {"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}
    if ip_range:
        config["IPRange"] = ip_range
    return {"Name": "bridge", "IPAM": {"Driver": "default", "Config": [{"Subnet": "fd00::/64"}, config]}}


def _use_client(monkeypatch, client):
    monkeypatch.setattr(_common.DockerModule, "client", property(lambda self: client))


def test_network_from_daemon(monkeypatch, state):
    client = FakeClient(_bridge(ip_range="172.17.0.0/20"))
    _use_client(monkeypatch, client)
    failed, result = run_module(dict(agents=["a", "b"], state_file=state))
    assert not failed, result
    assert client.calls == ["bridge"]
    assert result["network"] == "172.17.0.0/16" and result["gateway"] == "172.17.0.1"
    assert result["reserved"] == ["172.17.0.1/32", "172.17.0.0/20"]
    assert result["allocations"]["a"]["fixed_cidr"] == "172.17.16.0/24"
    assert result["allocations"]["b"]["fixed_cidr"] == "172.17.17.0/24"
    assert not result.get("warnings")


def test_network_from_daemon_warns_without_fixed_cidr(monkeypatch, capfd):
    _use_client(monkeypatch, FakeClient(_bridge()))
    failed, result = run_module(dict(agents=["a"], reserved=["172.17.1.0/24"]))
    assert not failed
    assert result["allocations"]["a"]["fixed_cidr"] == "172.17.2.0/24"
    # A module process returns its warnings in the result; once controller code
    # (ansible.errors, a filter plugin) is imported in the same process, ansible-core
    # 2.19 shows them on stderr instead. Either way the user sees it.
    shown = json.dumps(result.get("warnings", [])) + capfd.readouterr().err
    assert "no fixed-cidr" in shown


def test_network_from_daemon_error(monkeypatch):
    _use_client(monkeypatch, FakeClient(_common.DockerException("connection refused")))
    failed, result = run_module(dict(agents=["a"]))
    assert failed and "Cannot read the 'bridge' network" in result["msg"] and "connection refused" in result["msg"]


def test_network_from_daemon_without_ipv4(monkeypatch):
    _use_client(monkeypatch, FakeClient({"IPAM": {"Config": [{"Subnet": "fd00::/64"}]}}))
    failed, result = run_module(dict(agents=["a"]))
    assert failed and "no IPv4 subnet" in result["msg"]


def test_bad_agents_fail_before_daemon(state):
    # forbid_daemon is active: contacting the daemon would raise instead of this message
    failed, result = run_module(dict(agents=["a", "a"], state_file=state))
    assert failed and "more than once" in result["msg"]


# ------------------------------------------------------------------ concurrency


def _child(state_file, agents, queue):
    args = dict(network="10.0.0.0/8", size=24, agents=agents, state_file=state_file, prune=False)
    out = io.StringIO()
    code = None
    try:
        with patch_module_args(args), contextlib.redirect_stdout(out):
            try:
                dind_network.main()
            except SystemExit as exc:
                code = exc.code
        queue.put((code, out.getvalue()))
    except BaseException as exc:  # pragma: no cover - reported to the parent
        queue.put((-1, repr(exc)))
    sys.stdout.flush()


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_concurrent_runs_never_overlap(state):
    ctx = multiprocessing.get_context("fork")
    for round_ in range(3):
        queue = ctx.Queue()
        groups = [["r%d-p%d-a%03d" % (round_, p, i) for i in range(150)] for p in range(4)]
        procs = [ctx.Process(target=_child, args=(state, g, queue)) for g in groups]
        for proc in procs:
            proc.start()
        results = [queue.get(timeout=60) for dummy in procs]
        for proc in procs:
            proc.join(timeout=60)
        seen = {}
        for code, out in results:
            assert code == 0, out
            result = json.loads(out)
            blocks = dict((n, a["fixed_cidr"]) for n, a in result["allocations"].items())
            blocks.update((n, a["fixed_cidr"]) for n, a in result["retained"].items())
            for name, cidr in blocks.items():
                # every run saw every earlier run's agents; no two agents ever share a block
                seen.setdefault(cidr, set()).add(name)
        assert all(len(names) == 1 for names in seen.values()), [c for c, n in seen.items() if len(n) > 1][:5]
        with open(state) as handle:
            recorded = json.load(handle)["allocations"]
        assert len(recorded) == 600 * (round_ + 1)
        assert len(set(a["offset"] for a in recorded.values())) == len(recorded)


def test_new_state_file_and_lock_are_owner_only(state):
    # The state lives on the Docker host (e.g. /var/lib/mesos-docker/dind_network.json): root's 0600.
    failed, result = run_module(base_args(state))
    assert not failed, result
    assert os.stat(state).st_mode & 0o777 == 0o600
    assert os.stat(state + ".lock").st_mode & 0o777 == 0o600


def test_release_frees_only_the_named_agents(state):
    run_module(base_args(state, agents=["h1/a", "h1/b", "h2/c"]))
    # h1/a is removed (state: absent); h2/c is not in this run (--limit) and keeps its block.
    failed, result = run_module(base_args(state, agents=["h1/b"], release=["h1/a"], prune=False))
    assert not failed and result["changed"] is True, result
    assert sorted(result["allocations"]) == ["h1/b"]
    assert sorted(result["retained"]) == ["h2/c"]
    with open(state) as handle:
        assert sorted(json.load(handle)["allocations"]) == ["h1/b", "h2/c"]
    # The freed block goes to the next new agent; h2/c's block is never handed out again.
    failed, result = run_module(base_args(state, agents=["h1/b", "h1/new"], prune=False))
    assert result["allocations"]["h1/new"]["offset"] == "0.0.1.0"
    assert result["retained"]["h2/c"]["offset"] == "0.0.3.0"


def test_released_agent_that_is_also_listed_is_refused(state):
    failed, result = run_module(base_args(state, agents=["a", "b"], release=["a"]))
    assert failed and "release" in result["msg"] and "'a'" in result["msg"], result


def test_prune_scope_prunes_only_names_in_scope(state):
    run_module(base_args(state, agents=["h1/a", "h1/b", "h2/c"]))
    failed, result = run_module(base_args(state, agents=["h1/b"], prune=True, prune_scope="h1/"))
    assert not failed, result
    assert sorted(result["allocations"]) == ["h1/b"]
    assert sorted(result["retained"]) == ["h2/c"]
    with open(state) as handle:
        assert sorted(json.load(handle)["allocations"]) == ["h1/b", "h2/c"]


def test_check_mode_with_missing_state_directory_reports_the_change(tmp_path):
    # The role creates the directory in the same run; in check mode it does not exist yet.
    failed, result = run_module(base_args(str(tmp_path / "nope" / "s.json")), check=True)
    assert not failed and result["changed"] is True, result
    assert not os.path.exists(str(tmp_path / "nope"))
