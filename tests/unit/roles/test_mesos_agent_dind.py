"""Role mesos_agent_dind: variables documented in step with the argument spec; the entrypoint's
bridged-network arithmetic (it refuses what the seed's shell arithmetic silently wraps)."""
import os
import subprocess

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(REPO, "roles", "mesos_agent_dind")
ENTRYPOINT = os.path.join(ROLE, "files", "entrypoint.sh")


def _load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


def test_defaults_mirror_argument_specs():
    defaults = _load("defaults", "main.yml")
    options = _load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert sorted(defaults) == sorted(options)
    for name, value in defaults.items():
        assert options[name].get("default") == value, name
        assert options[name].get("description"), name


def fixed_cidr(address, offset, size):
    return subprocess.run(
        ["bash", "-c", 'source "$1" && fixed_cidr "$2" "$3" "$4"', "test", ENTRYPOINT, address, offset, str(size)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    "address, offset, size, expected",
    [
        ("172.17.0.3/16", "0.0.1.0", 24, "172.17.1.0/24"),
        ("172.17.0.3/16", "0.0.2.0", 24, "172.17.2.0/24"),
        ("172.17.0.3/16", "0.0.255.0", 24, "172.17.255.0/24"),
        ("10.247.0.2/16", "0.0.128.0", 20, "10.247.128.0/20"),
        ("10.0.0.5/24", "0.0.0.64", 26, "10.0.0.64/26"),
    ],
)
def test_fixed_cidr(address, offset, size, expected):
    proc = fixed_cidr(address, offset, size)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == expected


@pytest.mark.parametrize(
    "address, offset, size, reason",
    [
        ("172.17.0.3/16", "0.1.0.0", 24, "overflows the parent network"),  # the seed would wrap to 172.17.0.0
        ("10.0.0.5/24", "0.0.1.0", 26, "overflows the parent network"),
        ("172.17.0.3/16", "0.0.256.0", 24, "invalid bridged network setting"),
        ("172.17.0.3/16", "0.0.1.128", 24, "not a non-zero multiple"),
        ("172.17.0.3/16", "0.0.0.0", 24, "not a non-zero multiple"),
        ("172.17.0.3/16", "0.0.1.0", 16, "must be larger than the parent prefix"),
        ("172.17.0.3/16", "0.0.1.0", 31, "must be larger than the parent prefix"),
        ("172.17.1.3/16", "0.0.1.0", 24, "own address 172.17.1.3 lies inside its slice"),
    ],
)
def test_fixed_cidr_refuses(address, offset, size, reason):
    proc = fixed_cidr(address, offset, size)
    assert proc.returncode != 0
    assert reason in proc.stderr
