"""``module_defaults: {group/mesos.docker.docker: ...}`` reaches every module (meta/runtime.yml action_groups).

The environment points DOCKER_HOST at a socket that does not exist; only the group's
``docker_host`` leads the modules to the real engine, so a module that the group does not
reach fails with "Cannot connect".
"""
import glob
import os

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

REAL_SOCKET = "unix:///var/run/docker.sock"
NO_SUCH_SOCKET = "unix:///nonexistent/wt12/docker.sock"


def test_action_group_lists_every_module():
    with open(os.path.join(REPO, "meta", "runtime.yml"), encoding="utf-8") as handle:
        runtime = yaml.safe_load(handle)
    modules = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(REPO, "plugins", "modules", "*.py")))
    assert sorted((runtime.get("action_groups") or {}).get("docker") or []) == modules


def test_group_docker_host_reaches_the_modules(testbed, run_playbook, tmp_path):
    play = [{
        "name": "modules with the connection from module_defaults",
        "hosts": "all",
        "gather_facts": False,
        "module_defaults": {"group/mesos.docker.docker": {"docker_host": REAL_SOCKET}},
        "tasks": [
            {"name": "image", "mesos.docker.image": {"name": testbed["TESTBED_IMAGE_BUSYBOX"]}},
            # Without `network`, dind_network reads the parent bridge from the daemon.
            {"name": "dind_network", "check_mode": True,
             "mesos.docker.dind_network": {"agents": ["wt12-a"], "state_file": str(tmp_path / "net.json")}},
        ],
    }]
    playbook = tmp_path / "group.yml"
    playbook.write_text(yaml.safe_dump(play))
    result = run_playbook(str(playbook), env={"DOCKER_HOST": NO_SUCH_SOCKET})
    assert result.rc == 0, result.output
    assert result.results["image"]["changed"] is False, result.results["image"]
    assert "wt12-a" in result.results["dind_network"]["allocations"], result.results["dind_network"]

    # The same play without the group's default: the environment's socket is used, and fails.
    play[0].pop("module_defaults")
    playbook.write_text(yaml.safe_dump(play))
    result = run_playbook(str(playbook), env={"DOCKER_HOST": NO_SUCH_SOCKET})
    assert result.rc != 0 and "nonexistent/wt12" in result.output, result.output
