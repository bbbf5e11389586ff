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
  role's preflight refuses one;
- the cluster's doors are closed by default (mesos_master's secure default): an unauthenticated
  ``SUBSCRIBE`` gets 401, an unauthenticated v0 registration is refused, the package's own
  ``mesos-execute`` runs a docker task only with the framework principal's credentials and only as
  the user the ACLs allow (``root`` gets ``TASK_ERROR``), the monitoring and framework principals get
  403 on ``/teardown`` and the maintenance schedule, an agent with a wrong or no ``--credential`` never
  registers, and the role fails, saying so, when the masters refuse its agent's credential.
"""
import base64
import json
import os
import re
import subprocess
import sys
import time
import uuid

import pytest
import requests

from conftest import REPO, mesos_package_path, run_ansible_playbook
from mesos_real import address, credentials, docker, hosts_then_site, on
from systemd_hosts import agent_vars, common_vars, systemd_image
from testbed_env import SecretsHidden

pytestmark = pytest.mark.real_mesos

# Named per run: two sessions on one Docker engine (worktrees, a bench beside a test run) must not remove
# each other's hosts.
_RUN = uuid.uuid4().hex[:6]
MASTER = "mdt-real-%s-master" % _RUN
AGENT = "mdt-real-%s-agent" % _RUN
TASK_TOOL = os.path.join(REPO, "lab", "mesos_task.py")
# The framework principal mesos_master provisions by default, and where it keeps its secret.
FRAMEWORK = "mesos-framework"
FRAMEWORK_SECRET = "/etc/mesos-master/frameworks/%s.secret" % FRAMEWORK


def package_version(package):
    """The Mesos version of a package (``1.11.0~bookworm`` -> ``1.11.0``): the roles check flags against it
    and refuse a binary of another version than theirs (1.12.0 by default)."""
    version = subprocess.run(["dpkg-deb", "-f", package, "Version"], capture_output=True, text=True, check=True).stdout
    match = re.match(r"(\d+\.\d+\.\d+)", version.strip())
    assert match, "%s: Version %r" % (package, version)
    return match.group(1)


def _inventory(testbed, package):
    version = package_version(package)
    common = dict(common_vars(package, systemd_image(testbed, package)),
                  mesos_master_version=version, mesos_agent_version=version)
    agents = agent_vars(testbed)
    return {"all": {"vars": common, "children": {
        "masters": {"hosts": {MASTER: None}, "vars": {"mesos_master_registry": "in_memory"}},
        "agents": {"hosts": {AGENT: None}, "vars": agents}}}}


@pytest.fixture(scope="module")
def cluster(testbed, tmp_path_factory):
    work = tmp_path_factory.mktemp("real-mesos")
    inventory = work / "inventory.yml"
    inventory.write_text(json.dumps(_inventory(testbed, mesos_package_path())))
    playbook = work / "cluster.yml"
    playbook.write_text(hosts_then_site())
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
        "framework_auth": {"principal": FRAMEWORK, "secret": on(MASTER, "cat", FRAMEWORK_SECRET).stdout},
        "registry_auth": base64.b64encode(("%s:%s" % (testbed["TESTBED_REGISTRY_USER"],
                                                      testbed["TESTBED_REGISTRY_PASSWORD"])).encode()).decode(),
        "monitoring_auth": [c for c in json.loads(on(MASTER, "cat", "/etc/mesos-master/http_credentials.json").stdout)
                            ["credentials"] if c["principal"] == "mesos-monitoring"][0],
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
               MESOS_TASK_AGENT_SECRET=cluster["agent_auth"]["secret"],
               MESOS_TASK_MASTER_PRINCIPAL=cluster["framework_auth"]["principal"],
               MESOS_TASK_MASTER_SECRET=cluster["framework_auth"]["secret"])
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


# --- Secure by default: who gets into the cluster the roles built -------------------------------------------------


def mesos_execute(cluster, *args, timeout=120):
    """The package's own mesos-execute (a v1 HTTP scheduler the project did not write), run on the master host."""
    command = ["timeout", str(timeout), "mesos-execute", "--master=%s:5050" % address(MASTER),
               "--resources=cpus:0.1;mem:32"] + list(args)
    return on(MASTER, *command, check=False)


def framework_names(cluster):
    frameworks = master_get(cluster, "/master/frameworks").json()
    return [f["name"] for f in frameworks["frameworks"] + frameworks.get("completed_frameworks", [])]


def test_an_unauthenticated_scheduler_gets_401_and_registers_nothing(cluster):
    name = "intruder-%s" % uuid.uuid4().hex[:8]
    subscribe = {"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "root", "name": name}}}
    answer = requests.post(cluster["master"] + "/api/v1/scheduler", json=subscribe, timeout=30, stream=True)
    assert answer.status_code == 401, answer.text
    wrong = requests.post(cluster["master"] + "/api/v1/scheduler", json=subscribe, timeout=30, stream=True,
                          auth=(FRAMEWORK, "wrong-secret"))
    assert wrong.status_code == 401, wrong.text
    assert name not in framework_names(cluster)
    # An agent's principal is no framework's: authenticated, but not allowed to register one.
    flags = master_get(cluster, "/master/flags").json()["flags"]
    assert flags["authenticate_frameworks"] == "true" and flags["authenticate_http_frameworks"] == "true", flags
    assert flags["authenticate_agents"] == "true" and flags["acls"], flags


def _length_delimited(field, data):
    assert len(data) < 128
    return bytes([field << 3 | 2, len(data)]) + data


def test_a_v0_scheduler_driver_without_credentials_is_refused(cluster):
    """What a v0 scheduler driver sends to register (the package ships no v0 driver client: mesos-execute speaks
    the v1 HTTP API): a libprocess message RegisterFrameworkMessage{FrameworkInfo{user, name}}, without the
    CRAM-MD5 authentication a driver with a credential does first. The master takes the message and refuses it."""
    name = "v0-intruder-%s" % uuid.uuid4().hex[:8]
    framework_info = _length_delimited(1, b"root") + _length_delimited(2, name.encode())
    counter = "master/messages_register_framework"
    before = master_get(cluster, "/metrics/snapshot").json()[counter]
    sent = requests.post(cluster["master"] + "/master/mesos.internal.RegisterFrameworkMessage",
                         data=_length_delimited(1, framework_info), timeout=30,
                         headers={"Libprocess-From": "scheduler-%s@127.0.0.1:9" % uuid.uuid4().hex[:8]})
    assert sent.status_code == 202, sent.text
    deadline = time.time() + 30
    while master_get(cluster, "/metrics/snapshot").json()[counter] == before:
        assert time.time() < deadline, "the master never handled the registration message"
        time.sleep(1)
    assert name not in framework_names(cluster)
    journal = on(MASTER, "journalctl", "-u", "mesos-master", "--no-pager", "-o", "cat").stdout
    refusal = [line for line in journal.splitlines() if name in line and "Refusing subscription" in line]
    assert refusal and "is not authenticated" in refusal[-1], journal[-3000:]


def test_mesos_execute_runs_a_docker_task_only_with_the_framework_credentials(cluster, testbed):
    image = testbed["TESTBED_PRIVATE_IMAGE_TLS"]
    name = "anonymous-%s" % uuid.uuid4().hex[:8]
    anonymous = mesos_execute(cluster, "--name=" + name, "--containerizer=docker", "--docker_image=" + image,
                              "--command=echo must not run", timeout=30)
    assert name not in framework_names(cluster), anonymous.stdout + anonymous.stderr
    assert "401" in anonymous.stdout + anonymous.stderr or "Unauthorized" in anonymous.stdout + anonymous.stderr, \
        anonymous.stdout + anonymous.stderr

    # With the framework's credentials, as the user the policy allows it (nobody): TASK_FINISHED.
    task = {"name": "as-nobody-%s" % uuid.uuid4().hex[:8], "task_id": {"value": uuid.uuid4().hex},
            "agent_id": {"value": ""},
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                          {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}],
            "command": {"value": "echo allowed as $(id -un)", "shell": True, "user": "nobody"},
            "container": {"type": "DOCKER", "docker": {"image": image, "network": "HOST"}}}
    on(MASTER, "sh", "-c", "cat > /tmp/task.json <<'EOF'\n%s\nEOF" % json.dumps(task))
    allowed = mesos_execute(cluster, "--task=file:///tmp/task.json", "--principal=" + FRAMEWORK,
                            "--secret=file://" + FRAMEWORK_SECRET)
    assert "TASK_FINISHED" in allowed.stdout, allowed.stdout + allowed.stderr
    tasks = master_get(cluster, "/master/tasks").json()["tasks"]
    assert [t["state"] for t in tasks if t["name"] == task["name"]] == ["TASK_FINISHED"], tasks

    # The same principal as root, which its ACL does not name: the master refuses the task.
    as_root = "as-root-%s" % uuid.uuid4().hex[:8]
    refused = mesos_execute(cluster, "--name=" + as_root, "--containerizer=docker", "--docker_image=" + image,
                            "--command=echo must not run", "--principal=" + FRAMEWORK,
                            "--secret=file://" + FRAMEWORK_SECRET)
    assert "TASK_ERROR" in refused.stdout, refused.stdout + refused.stderr
    assert "not authorized" in refused.stdout.lower() or "unauthorized" in refused.stdout.lower(), refused.stdout
    assert cluster["framework_auth"]["secret"] not in refused.stdout + refused.stderr


def test_only_the_operator_may_tear_down_or_change_maintenance(cluster, testbed):
    running = run_task(cluster, "--image", testbed["TESTBED_PRIVATE_IMAGE_TLS"], "--command", "sleep 600",
                       "--failover-timeout", "600", "--until", "TASK_RUNNING")
    assert running["state"] == "TASK_RUNNING", outcome(running)
    # Mesos checks the ACL per machine of the new schedule (an empty one would check nothing).
    window = {"windows": [{"machine_ids": [{"hostname": "maintenance-test", "ip": "192.0.2.1"}],
                           "unavailability": {"start": {"nanoseconds": int((time.time() + 86400) * 1e9)}}}]}
    for who in ("monitoring_auth", "framework_auth"):
        auth = (cluster[who]["principal"], cluster[who]["secret"])
        teardown = requests.post(cluster["master"] + "/master/teardown", data={"frameworkId": running["framework_id"]},
                                 auth=auth, timeout=30)
        assert teardown.status_code == 403, (who, teardown.status_code, teardown.text)
        schedule = requests.post(cluster["master"] + "/master/maintenance/schedule", json=window, auth=auth,
                                 timeout=30)
        assert schedule.status_code == 403, (who, schedule.status_code, schedule.text)
    # The monitoring principal reads.
    monitoring = (cluster["monitoring_auth"]["principal"], cluster["monitoring_auth"]["secret"])
    assert requests.get(cluster["master"] + "/metrics/snapshot", auth=monitoring, timeout=30).status_code == 200
    assert requests.get(cluster["master"] + "/master/slaves", auth=monitoring, timeout=30).json()["slaves"]
    # The operator may.
    operator = (cluster["master_auth"]["principal"], cluster["master_auth"]["secret"])
    for body in (window, {"windows": []}):
        schedule = requests.post(cluster["master"] + "/master/maintenance/schedule", json=body, auth=operator,
                                 timeout=30)
        assert schedule.status_code == 200, schedule.text
    teardown = requests.post(cluster["master"] + "/master/teardown", data={"frameworkId": running["framework_id"]},
                             auth=operator, timeout=30)
    assert teardown.status_code == 200, teardown.text


def _rogue_agent(credential_json, port):
    """A second mesos-agent on the agent host, started by hand with the given --credential (None: none),
    through the role's hybrid-cgroup wrapper where the role installed one (as the role's unit does)."""
    work = "/tmp/rogue-%d" % port
    flags = ["--master=%s:5050" % address(MASTER), "--work_dir=" + work, "--port=%d" % port,
             "--hostname=rogue-%d" % port, "--containerizers=mesos", "--launcher=posix",
             "--isolation=posix/cpu,posix/mem", "--no-systemd_enable_support", "--log_dir=" + work]
    script = "rm -rf {work} && mkdir -p {work} && cd {work}\n"
    if credential_json is not None:
        script += "umask 077 && printf '%s' '{credential}' > credential.json\n"
        flags.append("--credential=file://%s/credential.json" % work)
    script += ("wrapper=/usr/local/libexec/mesos-docker/without-unified-cgroup2\n"
               "if [ -x $wrapper ]; then set -- unshare --mount --propagation private $wrapper; else set --; fi\n"
               "setsid \"$@\" mesos-agent {flags} > out.log 2>&1 < /dev/null &\n")
    on(AGENT, "sh", "-c", script.format(work=work, credential=credential_json, flags=" ".join(flags)))
    return work


def test_an_agent_with_a_wrong_or_no_credential_never_registers(cluster):
    agent_principal = on(AGENT, "sh", "-c", "python3 -c \"import json; print(json.load(open("
                         "'/etc/mesos-agent/credential.json'))['principal'])\"").stdout.strip()
    wrong = json.dumps({"principal": agent_principal, "secret": "not-the-secret"})
    works = [_rogue_agent(wrong, 5055), _rogue_agent(None, 5056)]
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            hostnames = [s["hostname"] for s in master_get(cluster, "/master/slaves").json()["slaves"]]
            assert "rogue-5055" not in hostnames and "rogue-5056" not in hostnames, hostnames
            time.sleep(3)
        # The wrong secret: the master refused it, and the agent exited saying so.
        log = on(AGENT, "sh", "-c", "cat %s/out.log %s/mesos-agent.INFO 2>/dev/null" % (works[0], works[0])).stdout
        assert "refused authentication" in log, log[-3000:]
        assert "not-the-secret" not in log
    finally:
        on(AGENT, "sh", "-c", "pkill -f 'rogue-505[56]' || true", check=False)


def test_the_role_says_so_when_the_master_refuses_the_agent(cluster, tmp_path):
    """A credential the masters do not know (another cluster key): the agents' play fails, naming why."""
    playbook = tmp_path / "agents.yml"
    playbook.write_text("- ansible.builtin.import_playbook: %s/playbooks/agents.yml\n" % REPO)
    # The agents' play alone has no facts of the master: its address as site.yml found it.
    master = {"mesos_agent_master": "%s:5050" % address(MASTER)}
    try:
        run = run_ansible_playbook(str(playbook), inventory=cluster["inventory"],
                                   extra_vars=dict(master, mesos_agent_credentials_key="another-cluster-key",
                                                   mesos_agent_registration_timeout=30))
        assert run.rc != 0, run.output[-30000:]
        assert "did not register" in run.output and "refused its credential" in run.output, run.output[-5000:]
        assert "another-cluster-key" not in run.output
        # What the failure quotes of the agent's log: never its start-up line, which holds the registry credentials.
        assert "Flags at startup: " not in run.output
        assert cluster["registry_auth"] not in run.output
    finally:
        again = run_ansible_playbook(str(playbook), inventory=cluster["inventory"], extra_vars=master)
        assert again.rc == 0, again.output[-5000:]
    wait_registered(cluster)


# One play for both hosts: the master's refusal must not end the run before the agent's role ran.
_TLS_PLAYBOOK = """
- name: The master and the agent with TLS
  hosts: masters:agents
  tasks:
    - name: The master
      ansible.builtin.include_role:
        name: mesos.docker.mesos_master
      when: inventory_hostname in groups['masters']
    - name: The agent
      ansible.builtin.include_role:
        name: mesos.docker.mesos_agent
      when: inventory_hostname in groups['agents']
"""


def test_the_roles_refuse_tls_on_a_package_built_without_it(cluster, tmp_path):
    """mesos_*_tls_enabled on the real package (built without mesos_package_tls): both roles fail naming the
    option that builds TLS in, before they write any TLS file or configuration."""
    package = os.path.basename(mesos_package_path())
    if "+tls_" in package:
        pytest.skip("%s is built with TLS (bench/mesos_tls_cluster.py runs a cluster on it)" % package)
    ca = tmp_path / "ca"
    run = run_ansible_playbook(os.path.join(REPO, "playbooks", "tls_lab_ca.yml"), inventory=cluster["inventory"],
                               extra_vars={"tls_lab_ca_hosts": "all", "tls_lab_ca_gather_facts": False,
                                           "tls_lab_ca_dir": str(ca)})
    assert run.rc == 0, run.output[-5000:]
    variables = {}
    for role, host in (("mesos_master", MASTER), ("mesos_agent", AGENT)):
        variables.update({role + "_tls_enabled": True, role + "_tls_cert_file": str(ca / (host + ".pem")),
                          role + "_tls_key_file": str(ca / (host + ".key")), role + "_tls_ca_file": str(ca / "ca.pem")})
    env_files = {MASTER: "/etc/default/mesos-master", AGENT: "/etc/default/mesos-agent"}
    before = dict((host, on(host, "cat", path).stdout) for host, path in env_files.items())
    playbook = tmp_path / "tls.yml"
    playbook.write_text(_TLS_PLAYBOOK)
    run = run_ansible_playbook(str(playbook), inventory=cluster["inventory"], extra_vars=variables, timeout=900)
    assert run.rc != 0, run.output[-5000:]
    for role in ("mesos_master", "mesos_agent"):
        assert re.search(r"%s: %s_tls_enabled=true, but the installed Mesos \(/opt/mesos/lib/libmesos-[0-9.]+\.so\) was "
                         r"built\s+without TLS support" % (role, role), run.output), run.output[-5000:]
    assert run.output.count("build one with mesos_package_tls: true") >= 2, run.output[-5000:]
    assert (ca / (AGENT + ".key")).read_text().splitlines()[1] not in run.output
    for host, path in env_files.items():
        assert on(host, "cat", path).stdout == before[host], host
        assert on(host, "sh", "-c", "ls -d /etc/mesos-master/tls /etc/mesos-agent/tls", check=False).returncode != 0
