"""The modules run on an agent host with exactly what the docker_engine role installed there.

Each platform of the molecule scenario (Debian 11, 12, 13 systemd hosts) gets the docker_engine
role and nothing else; then mesos.docker.image, mesos.docker.container (a task the Mesos way, to
its end and removed) and mesos.docker.recover (report only) run ON the host, with the host's
own python3, its own Docker SDK and its own Docker engine. The SDK version the host ended up with
must be at least the minimum the modules document.
"""
import re
import subprocess

import pytest

from role_hosts import REPO

PLATFORMS = ["TESTBED_IMAGE_SYSTEMD11", "TESTBED_IMAGE_SYSTEMD12", "TESTBED_IMAGE_SYSTEMD13"]


def _documented_minimum():
    with open("%s/plugins/doc_fragments/docker.py" % REPO, encoding="utf-8") as handle:
        match = re.search(r"Docker SDK for Python \(C\(docker\)\) >= ([\d.]+)", handle.read())
    assert match, "the doc fragment states no minimum SDK version"
    return tuple(int(part) for part in match.group(1).split("."))


def _modules_play(image):
    sandbox = "/var/lib/wt12-sdk/sandbox"
    return [{
        "name": "modules with the host's own SDK", "hosts": "all", "become": True, "gather_facts": False,
        "tasks": [
            {"name": "image present", "mesos.docker.image": {"name": image}, "register": "image_result"},
            {"name": "sandbox", "ansible.builtin.file": {"path": sandbox, "state": "directory", "mode": "0755"}},
            {"name": "task", "register": "task_result",
             "mesos.docker.container": {"task_id": "wt12-sdk", "image": image, "sandbox": sandbox,
                                        "command": "echo sdk-ok > $MESOS_SANDBOX/out", "wait": True}},
            {"name": "recover report", "register": "recover_result",
             "mesos.docker.recover": {"agent_id": "wt12-sdk-S0", "known_containers": []}},
            {"name": "task removed",
             "mesos.docker.container": {"task_id": "wt12-sdk", "state": "absent"}},
            {"name": "results", "ansible.builtin.debug": {
                "msg": "IMAGE_CHANGED={{ image_result.changed }} RECOVER_OK={{ recover_result is succeeded }}"}},
        ],
    }]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_modules_run_with_the_sdk_the_role_installed(systemd_host, testbed, platform):
    host = systemd_host(platform)
    engine = host.roles(["docker_engine"])
    assert engine.rc == 0, engine.output

    sdk = host.sh("python3 -c 'import docker; print(docker.__version__)'").strip()
    assert tuple(int(p) for p in sdk.split(".")[:2]) >= _documented_minimum()[:2], (
        "%s got Docker SDK %s, below the documented minimum %s" % (platform, sdk, _documented_minimum()))

    # The image reaches the host's own engine the way an operator's registry would hand it over.
    image = testbed["TESTBED_IMAGE_BUSYBOX"]
    save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
    load = subprocess.run(["docker", "exec", "-i", host.name, "docker", "load"], stdin=save.stdout,
                          capture_output=True, text=True, check=False)
    save.stdout.close()
    assert save.wait() == 0 and load.returncode == 0, load.stderr

    run = host.play(_modules_play(image))
    assert run.rc == 0, "Docker SDK %s on %s:\n%s" % (sdk, platform, run.output)
    assert "IMAGE_CHANGED=False RECOVER_OK=True" in run.output, run.output
    assert host.sh("cat /var/lib/wt12-sdk/sandbox/out").strip() == "sdk-ok"
    assert not host.sh("docker ps -aq --filter name=mesos-").strip(), "the task container was left behind"
