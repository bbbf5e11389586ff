"""The real Apache Mesos package, provisioned by ``playbooks/site.yml``: what only a real agent shows.

A master and a host-mode agent (systemd containers with their own Docker engine, the
package from ``MESOS_PACKAGE``) are provisioned once for this module; the tests then
launch docker tasks through the master with ``lab/mesos_task.py`` (the v1 scheduler API)
and look at the agent, its Docker and its checkpoint:

- a private image pulled with wrong credentials fails the task with the pull error;
- a checkpointed task survives an agent restart (its container keeps running, the master
  still says TASK_RUNNING) and ``mesos.docker.recover``, reading the real checkpoint and the
  real ``/containers``, keeps it;
- a misspelled ``MESOS_*`` variable is silently ignored by the agent, which is why the
  role's preflight refuses one.
"""
import json
import os
import re
import subprocess
import sys
import time
import uuid

import pytest
import requests

from conftest import REPO, TEST_LABEL, mesos_package_path, run_ansible_playbook
from testbed_env import SecretsHidden

pytestmark = pytest.mark.real_mesos

MASTER = "mdt-real-master"
AGENT = "mdt-real-agent"
TASK_TOOL = os.path.join(REPO, "lab", "mesos_task.py")


def docker(*args, check=True):
    proc = subprocess.run(["docker"] + list(args), capture_output=True, text=True, timeout=300, check=False)
    if check:
        assert proc.returncode == 0, "docker %s: %s%s" % (" ".join(args), proc.stdout, proc.stderr)
    return proc


def on(host, *command, check=True):
    return docker("exec", host, *command, check=check)


def address(host):
    return docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", host).stdout.strip()


def credentials(host, path):
    return json.loads(on(host, "cat", path).stdout)["credentials"][0]


# The hosts run the Debian release the package was built for (``mesos_<version>~<codename>_<arch>.deb``, as
# playbooks/mesos_package.yml names it): bench/mesos_package_build.sh runs this module on each release's package.
SYSTEMD_IMAGE_OF_RELEASE = {"bullseye": "TESTBED_IMAGE_SYSTEMD11", "bookworm": "TESTBED_IMAGE_SYSTEMD12",
                            "trixie": "TESTBED_IMAGE_SYSTEMD13"}


def host_image(testbed, package):
    """The test bed's systemd image of the package's Debian release; Debian 12 when its name names none."""
    release = re.search(r"~(bullseye|bookworm|trixie)_[^_]+\.deb$", os.path.basename(package))
    return testbed[SYSTEMD_IMAGE_OF_RELEASE[release.group(1) if release else "bookworm"]]


def _inventory(testbed, package):
    registry = testbed["TESTBED_REGISTRY_TLS"]
    with open(testbed["TESTBED_REGISTRY_CA"]) as handle:
        ca = handle.read()
    common = {
        "ansible_connection": "community.docker.docker",
        "ansible_python_interpreter": "/usr/bin/python3",
        "ansible_pipelining": True,
        "lab_image": host_image(testbed, package),
        "mesos_master_install_method": "deb", "mesos_master_deb_file": package,
        "mesos_agent_install_method": "deb", "mesos_agent_deb_file": package,
    }
    agents = {
        "mesos_agent_resources": {"cpus": 2, "mem": 1024, "disk": 2048, "ports": "[21000-21099]"},
        "mesos_agent_docker_stop_timeout": "5secs",
        # An agent inside a systemd container (see ../shared/mesos/README.md).
        "mesos_agent_flags": {"systemd_enable_support": False, "launcher": "posix"},
        "docker_engine_registry_ca_certs": [{"registry": registry, "ca": ca}],
        "docker_config_registries": [{"registry": registry, "username": testbed["TESTBED_REGISTRY_USER"],
                                      "password": testbed["TESTBED_REGISTRY_PASSWORD"]}],
    }
    return {"all": {"vars": common, "children": {
        "masters": {"hosts": {MASTER: None}, "vars": {"mesos_master_registry": "in_memory"}},
        "agents": {"hosts": {AGENT: None}, "vars": agents}}}}


_PLAYBOOK = """
- name: Create the hosts
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Create each host as a systemd container able to run Docker
      ansible.builtin.include_tasks: {repo}/playbooks/tasks/lab_host.yml
      vars:
        lab_host_name: "{{{{ item }}}}"
        lab_host_image: "{{{{ hostvars[item].lab_image }}}}"
        lab_host_labels:
          {label}: real-mesos
      loop: "{{{{ groups['masters'] + groups['agents'] }}}}"

- name: Provision
  ansible.builtin.import_playbook: {repo}/playbooks/site.yml
"""


@pytest.fixture(scope="module")
def cluster(testbed, tmp_path_factory):
    work = tmp_path_factory.mktemp("real-mesos")
    inventory = work / "inventory.yml"
    inventory.write_text(json.dumps(_inventory(testbed, mesos_package_path())))
    playbook = work / "cluster.yml"
    playbook.write_text(_PLAYBOOK.format(repo=REPO, label=TEST_LABEL))
    for host in (MASTER, AGENT):
        docker("rm", "-f", "-v", host, check=False)
        docker("volume", "rm", "-f", host + "-docker", check=False)
    # Installing Docker and Mesos with their dependencies on two hosts: minutes on 2 busy cores.
    run = run_ansible_playbook(str(playbook), inventory=str(inventory), timeout=2400)
    assert run.rc == 0, run.output[-20000:]
    info = SecretsHidden({
        "inventory": str(inventory),
        "master": "http://%s:5050" % address(MASTER),
        "agent_address": address(AGENT),
        "master_auth": credentials(MASTER, "/etc/mesos-master/http_credentials.json"),
        "agent_auth": credentials(AGENT, "/etc/mesos-agent/http_credentials.json"),
    })
    yield info
    for host in (MASTER, AGENT):
        docker("rm", "-f", "-v", host, check=False)
        docker("volume", "rm", "-f", host + "-docker", check=False)


def agent_get(cluster, path, **kwargs):
    auth = cluster["agent_auth"]
    return requests.get("http://%s:5051%s" % (cluster["agent_address"], path),
                        auth=(auth["principal"], auth["secret"]), timeout=30, **kwargs)


def master_get(cluster, path):
    auth = cluster["master_auth"]
    return requests.get(cluster["master"] + path, auth=(auth["principal"], auth["secret"]), timeout=30)


def run_task(cluster, *args):
    env = dict(os.environ, MESOS_TASK_AGENT_PRINCIPAL=cluster["agent_auth"]["principal"],
               MESOS_TASK_AGENT_SECRET=cluster["agent_auth"]["secret"])
    proc = subprocess.run(
        [sys.executable, TASK_TOOL, "--master", cluster["master"], "--agent-hostname", AGENT,
         "--agent-address", cluster["agent_address"]] + list(args),
        capture_output=True, text=True, timeout=400, env=env, check=False)
    assert proc.stdout, proc.stderr
    return json.loads(proc.stdout)


def outcome(result):
    """What a failed assertion on a task shows: its state and the agent's reason and message."""
    return dict((key, result.get(key)) for key in ("task_id", "states", "reason", "message"))


def wait_registered(cluster, timeout=90):
    """The agent's ID once the agent says it is registered with the master."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            state = agent_get(cluster, "/state")
            if state.ok and state.json().get("id") and state.json().get("master_hostname"):
                return state.json()["id"]
        except requests.RequestException:
            pass
        time.sleep(2)
    raise AssertionError("the agent did not register within %ss" % timeout)


def restart_agent():
    on(AGENT, "systemctl", "restart", "mesos-agent")


def push_private_tag(testbed):
    """A new private tag in the registry (pushed on loopback), named as the agents see it (TLS)."""
    name = "testbed/busybox-%s:latest" % uuid.uuid4().hex[:8]
    local = "%s/%s" % (testbed["TESTBED_REGISTRY"], name)
    docker("tag", testbed["TESTBED_IMAGE_BUSYBOX"], local)
    env = dict(os.environ, DOCKER_CONFIG=testbed["TESTBED_DOCKER_CONFIG"])
    proc = subprocess.run(["docker", "push", local], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    docker("rmi", local)
    return "%s/%s" % (testbed["TESTBED_REGISTRY_TLS"], name)


def test_the_agent_registers_and_runs_a_private_image_task(cluster, testbed):
    agent_id = wait_registered(cluster)
    slaves = master_get(cluster, "/master/slaves").json()["slaves"]
    assert [(s["id"], s["hostname"], s["active"]) for s in slaves] == [(agent_id, AGENT, True)]
    result = run_task(cluster, "--image", testbed["TESTBED_PRIVATE_IMAGE_TLS"], "--command", "echo private ok")
    assert result["state"] == "TASK_FINISHED", outcome(result)
    assert result["stdout"] == "private ok\n", result


def test_wrong_registry_credentials_fail_the_task_with_the_pull_error(cluster, testbed):
    image = push_private_tag(testbed)
    good = on(AGENT, "cat", "/etc/mesos/docker_config.json").stdout
    wrong = json.loads(good)
    for entry in wrong["auths"].values():
        entry["auth"] = "bW9sZWN1bGU6d3Jvbmc="  # molecule:wrong
    on(AGENT, "sh", "-c", "cat > /etc/mesos/docker_config.json <<'EOF'\n%s\nEOF" % json.dumps(wrong))
    try:
        restart_agent()
        wait_registered(cluster)
        result = run_task(cluster, "--image", image, "--command", "echo must not run")
        assert result["state"] == "TASK_FAILED", outcome(result)
        assert "Failed to run 'docker" in result["message"] and "pull %s" % image in result["message"], result
        assert "unauthorized" in result["message"] or "no basic auth" in result["message"], result
    finally:
        on(AGENT, "sh", "-c", "cat > /etc/mesos/docker_config.json <<'EOF'\n%s\nEOF" % good)
        restart_agent()
        wait_registered(cluster)
    result = run_task(cluster, "--image", image, "--command", "echo right credentials")
    assert result["state"] == "TASK_FINISHED", outcome(result)


def test_a_checkpointed_task_survives_an_agent_restart_and_recover_keeps_it(cluster, testbed):
    agent_id = wait_registered(cluster)
    running = run_task(cluster, "--image", testbed["TESTBED_PRIVATE_IMAGE_TLS"], "--command", "sleep 600",
                       "--checkpoint", "--failover-timeout", "3600", "--until", "TASK_RUNNING")
    assert running["state"] == "TASK_RUNNING", outcome(running)
    container = running["container_name"]
    assert on(AGENT, "docker", "inspect", "-f", "{{.State.Running}}", container).stdout.strip() == "true"

    restart_agent()
    assert wait_registered(cluster) == agent_id
    assert on(AGENT, "docker", "inspect", "-f", "{{.State.Running}}", container).stdout.strip() == "true"
    tasks = master_get(cluster, "/master/tasks").json()["tasks"]
    assert [t["state"] for t in tasks if t["id"] == running["task_id"]] == ["TASK_RUNNING"], tasks

    auth = cluster["agent_auth"]
    playbook = (
        "- hosts: %s\n  gather_facts: false\n  tasks:\n"
        "    - name: recover\n      mesos.docker.recover:\n        work_dir: /var/lib/mesos/agent\n"
        "        agent_url: http://127.0.0.1:5051\n        agent_url_username: %s\n"
        "        agent_url_password: \"{{ agent_secret }}\"\n        kill_orphans: true\n" % (AGENT, auth["principal"]))
    path = os.path.join(os.path.dirname(cluster["inventory"]), "recover.yml")
    with open(path, "w") as handle:
        handle.write(playbook)
    run = run_ansible_playbook(path, inventory=cluster["inventory"], extra_vars={"agent_secret": auth["secret"]})
    assert run.rc == 0, run.output[-5000:]
    recovered = run.results["recover"]
    container_id = container[len("mesos-"):]
    assert recovered["agent_id"] == agent_id, recovered
    assert container_id in recovered["known_container_ids"], recovered
    assert recovered["killed"] == [], recovered
    assert auth["secret"] not in run.output
    assert on(AGENT, "docker", "inspect", "-f", "{{.State.Running}}", container).stdout.strip() == "true"

    master_auth = cluster["master_auth"]
    teardown = requests.post(cluster["master"] + "/master/teardown", data={"frameworkId": running["framework_id"]},
                             auth=(master_auth["principal"], master_auth["secret"]), timeout=30)
    assert teardown.status_code == 200, teardown.text


def test_a_misspelled_mesos_variable_is_silently_ignored_by_the_real_agent(cluster):
    env_file = "/etc/default/mesos-agent"
    original = on(AGENT, "cat", env_file).stdout
    on(AGENT, "sh", "-c", "echo 'MESOS_DOCKER_KIL_ORPHANS=\"false\"' >> %s" % env_file)
    try:
        restart_agent()
        wait_registered(cluster)
        flags = agent_get(cluster, "/flags").json()["flags"]
        assert flags["docker_kill_orphans"] == "true"
        assert "docker_kil_orphans" not in flags
    finally:
        on(AGENT, "sh", "-c", "cat > %s <<'EOF'\n%sEOF" % (env_file, original))
        restart_agent()
        wait_registered(cluster)


def test_agent_endpoints_need_credentials_but_health(cluster):
    base = "http://%s:5051" % cluster["agent_address"]
    assert requests.get(base + "/health", timeout=10).status_code == 200
    for path in ("/flags", "/state"):
        assert requests.get(base + path, timeout=10).status_code == 401
        assert agent_get(cluster, path).status_code == 200
    assert requests.get(cluster["master"] + "/master/state", timeout=10).status_code == 401
    assert master_get(cluster, "/master/state").status_code == 200
