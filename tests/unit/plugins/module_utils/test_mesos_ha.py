# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
import pytest

from ansible_collections.mesos.docker.plugins.module_utils import _mesos_ha


@pytest.mark.parametrize("endpoints, path, user, password, url", [
    (["zk1", "zk2", "zk3"], "/mesos", "", "", "zk://zk1:2181,zk2:2181,zk3:2181/mesos"),
    (["10.0.0.1:2281"], "/prod", "", "", "zk://10.0.0.1:2281/prod"),
    (["zk1"], "/mesos", "mesos", "s3cret", "zk://mesos:s3cret@zk1:2181/mesos"),
    ([], "/mesos", "mesos", "s3cret", ""),
])
def test_zookeeper_url(endpoints, path, user, password, url):
    assert _mesos_ha.zookeeper_url(endpoints, path, user, password) == url


@pytest.mark.parametrize("endpoints, path, user, password, message", [
    (["zk1"], "mesos", "", "", "not a znode path"),
    (["zk1"], "/", "", "", "not a znode path"),
    (["zk1"], "/mesos", "mesos", "", "needs both a user and a password"),
    (["zk 1"], "/mesos", "", "", "is not host or host:port"),
    (["zk1:port"], "/mesos", "", "", "is not host or host:port"),
])
def test_zookeeper_url_refuses(endpoints, path, user, password, message):
    with pytest.raises(ValueError, match=message):
        _mesos_ha.zookeeper_url(endpoints, path, user, password)


@pytest.mark.parametrize("count, quorum", [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (7, 4)])
def test_majority(count, quorum):
    assert _mesos_ha.majority(count) == quorum


@pytest.mark.parametrize("masters, quorum, registry, zk, fragments", [
    (1, 1, "replicated_log", "", []),
    (1, 1, "in_memory", "", []),
    (3, 2, "replicated_log", "zk", []),
    (5, 3, "replicated_log", "zk", []),
    (3, 2, "replicated_log", "", ["3 masters need --zk"]),
    (2, 2, "replicated_log", "zk", ["2 masters: an even count"]),
    (4, 3, "replicated_log", "zk", ["4 masters: an even count"]),
    (3, 1, "replicated_log", "zk", ["quorum 1 of 3 masters is not a majority (at least 2)"]),
    (3, 4, "replicated_log", "zk", ["quorum 4 cannot be met by 3 master(s)"]),
    (1, 2, "replicated_log", "", ["quorum 2 cannot be met by 1 master(s)"]),
    (3, 2, "in_memory", "zk", ["3 masters with --registry=in_memory share no state"]),
])
def test_quorum_errors(masters, quorum, registry, zk, fragments):
    errors = _mesos_ha.quorum_errors(masters, quorum, registry, zk)
    assert len(errors) == len(fragments), errors
    for error, fragment in zip(errors, fragments):
        assert fragment in error


@pytest.mark.parametrize("serial", [1, "1", "10%", "100%", " 3 "])
def test_usable_serial(serial):
    assert _mesos_ha.serial_errors(serial) == []


@pytest.mark.parametrize("serial, fragment", [
    (0, "would put no agent in a batch"), ("0%", "would put no agent in a batch"),
    ("101%", "is over 100%"), ("ten", "neither a count"), ("-1", "neither a count"), (None, "neither a count"),
])
def test_unusable_serial(serial, fragment):
    assert fragment in _mesos_ha.serial_errors(serial)[0]


@pytest.mark.parametrize("hosts, serial, expected", [
    (list("abcde"), 1, [["a"], ["b"], ["c"], ["d"], ["e"]]),
    (list("abcde"), 2, [["a", "b"], ["c", "d"], ["e"]]),
    (list("abcdefghij"), "10%", [[h] for h in "abcdefghij"]),
    (list("abc"), "10%", [["a"], ["b"], ["c"]]),
    (list("abcdefg"), "30%", [["a", "b"], ["c", "d"], ["e", "f"], ["g"]]),
    (list("abc"), "100%", [["a", "b", "c"]]),
    ([], "10%", []),
])
def test_batches_as_ansible_makes_them(hosts, serial, expected):
    assert _mesos_ha.batches(hosts, serial) == expected


@pytest.mark.parametrize("value, seconds", [("10mins", 600), ("30secs", 30), ("1.5hrs", 5400), ("500ms", 0.5),
                                            ("2days", 172800), ("1weeks", 604800)])
def test_durations(value, seconds):
    assert _mesos_ha.duration_errors(value) == []
    assert _mesos_ha.duration_seconds(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["10m", "10", "mins", "10 mins", "-1secs", ""])
def test_bad_durations(value):
    assert "is not a Mesos duration" in _mesos_ha.duration_errors(value)[0]
    with pytest.raises(ValueError):
        _mesos_ha.duration_seconds(value)
