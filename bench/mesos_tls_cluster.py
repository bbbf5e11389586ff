#!/usr/bin/env python
"""Benchmark: a Mesos cluster with libprocess TLS on a package built with ``mesos_package_tls``.

Not a test: it prints what it saw and the times, and fails only when a step fails. Uses this machine's
Docker and the test bed (``tests/testbed/testbed.sh up``). Steps:

  provision  a master and an agent (systemd containers of the package's Debian release, their own
             dockerd), a lab CA (``playbooks/tls_lab_ca.yml``: a certificate per host with its IP, and one
             for this machine as a client) and ``playbooks/site.yml`` with ``mesos_master_tls_*`` and
             ``mesos_agent_tls_*`` on, verification and client certificates required
  register   the agent registered with the master (over TLS: the master accepts nothing else); then
             the agent restarted, and the time until it is registered again
  task       a private-image docker task through the master (``lab/mesos_task.py`` over https with this
             machine's client certificate): its state and stdout
  plaintext  ``curl http://master:5050/health`` (refused: no downgrade), https without a client
             certificate (refused: require_cert), https with one (200); ``openssl s_client``'s protocol
             and cipher

Usage: .venv/bin/python bench/mesos_tls_cluster.py [--package PATH] [--keep] [--prepare | --reuse]
  --prepare  only the hosts, the lab CA and playbooks/docker.yml (no package needed: e.g. while it builds);
  --reuse    keep hosts made by --prepare (their Docker engine is then there) instead of making new ones;
  the provision time is then that of the rest.
  PATH defaults to $MESOS_PACKAGE, else the newest mesos_*+tls_*.deb in /var/tmp/mesos-bench-tls/packages
  (where ``BENCH_TLS=1 BENCH_WORK_DIR=/var/tmp/mesos-bench-tls bench/mesos_package_build.sh`` puts it).
On a package built without TLS the provisioning fails at the roles' refusal, which this prints.
"""
import argparse
import glob
import json
import os
import re
import sys
import tempfile
import time

from _hosts import (REPO, address, agent_vars, ansible_playbook, common_vars, hosts_play, on, remove_hosts, sh, systemd_image,
                    testbed_env)

MASTER = "bench-tls-master"
AGENT = "bench-tls-agent"
CLIENT = "bench-tls-client"
TASK_TOOL = os.path.join(REPO, "lab", "mesos_task.py")

# mesos_task.py over TLS: every request of this process carries the client certificate, verifies the
# servers with the lab CA, and goes to https:// (the agent's sandbox URL it builds is http://).
TLS_TASK = """
import runpy, sys, requests
cert, key, ca = sys.argv[1:4]
original = requests.Session.request
def request(self, method, url, *args, **kwargs):
    kwargs.setdefault("cert", (cert, key))
    kwargs.setdefault("verify", ca)
    if url.startswith("http://"):
        url = "https://" + url[len("http://"):]
    return original(self, method, url, *args, **kwargs)
requests.Session.request = request
sys.argv = [sys.argv[4]] + sys.argv[5:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""

# After the hosts (_hosts.hosts_play).
PLAYBOOK = """
- name: A lab CA and a certificate per host
  ansible.builtin.import_playbook: {repo}/playbooks/tls_lab_ca.yml
  vars:
    tls_lab_ca_hosts: masters:agents:tls_clients

- name: Provision
  ansible.builtin.import_playbook: {repo}/playbooks/{site}
"""


def default_package():
    if os.environ.get("MESOS_PACKAGE"):
        return os.environ["MESOS_PACKAGE"]
    found = sorted(glob.glob("/var/tmp/mesos-bench-tls/packages/mesos_*+tls_*.deb"))
    if not found:
        raise SystemExit("no TLS package: build one (BENCH_TLS=1 bench/mesos_package_build.sh) or give --package")
    return found[-1]


def inventory(testbed, package, ca_dir):
    tls = {}
    for role in ("mesos_master", "mesos_agent"):
        tls.update({role + "_tls_enabled": True,
                    role + "_tls_cert_file": "%s/{{ inventory_hostname }}.pem" % ca_dir,
                    role + "_tls_key_file": "%s/{{ inventory_hostname }}.key" % ca_dir,
                    role + "_tls_ca_file": "%s/ca.pem" % ca_dir,
                    role + "_tls_verify_cert": True, role + "_tls_require_cert": True})
    common = dict(tls, tls_lab_ca_dir=ca_dir, **common_vars(package, systemd_image(testbed, package)))
    agents = agent_vars(testbed)
    client = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    return {"all": {"vars": common, "children": {
        "masters": {"hosts": {MASTER: None}, "vars": {"mesos_master_registry": "in_memory"}},
        "agents": {"hosts": {AGENT: None}, "vars": agents},
        "tls_clients": {"hosts": {CLIENT: client}}}}}


def master_get(ca_dir, master, path, auth):
    import requests  # pylint: disable=import-outside-toplevel
    return requests.get("https://%s:5050%s" % (master, path), auth=auth, timeout=30,
                        cert=("%s/%s.pem" % (ca_dir, CLIENT), "%s/%s.key" % (ca_dir, CLIENT)), verify="%s/ca.pem" % ca_dir)


def registered_agents(ca_dir, master, auth):
    try:
        return [a["id"] for a in master_get(ca_dir, master, "/master/slaves", auth).json()["slaves"] if a["active"]]
    except Exception as error:  # pylint: disable=broad-except
        return ["error: %s" % error]


def main():
    import requests  # pylint: disable=import-outside-toplevel
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--package", default=None)
    parser.add_argument("--keep", action="store_true", help="leave the hosts running")
    parser.add_argument("--prepare", action="store_true", help="only hosts, lab CA and docker.yml; keep them")
    parser.add_argument("--reuse", action="store_true", help="use the hosts (and lab CA) --prepare made")
    args = parser.parse_args()
    package = os.path.abspath(args.package or ("/nonexistent/mesos_0~bookworm+tls_amd64.deb" if args.prepare
                                               else default_package()))
    testbed = testbed_env.load()
    work = "/var/tmp/mesos-tls-cluster" if args.prepare or args.reuse else tempfile.mkdtemp(prefix="mesos-tls-cluster.")
    os.makedirs(work, exist_ok=True)
    ca_dir = os.path.join(work, "ca")
    if not args.prepare:
        print("package:    %s, %d bytes" % (os.path.basename(package), os.path.getsize(package)))
    if not args.prepare:
        print("depends:    %s" % sh("dpkg-deb", "-f", package, "Depends", check=False).stdout.strip())
    with open(os.path.join(work, "inventory.yml"), "w") as handle:
        json.dump(inventory(testbed, package, ca_dir), handle)
    with open(os.path.join(work, "cluster.yml"), "w") as handle:
        handle.write(hosts_play("bench-tls") + PLAYBOOK.format(repo=REPO, site="docker.yml" if args.prepare else "site.yml"))
    if not args.reuse:
        remove_hosts((MASTER, AGENT))
    try:
        start = time.time()
        run = ansible_playbook(os.path.join(work, "inventory.yml"), os.path.join(work, "cluster.yml"))
        print("provision:  %d s (hosts, lab CA, site.yml with TLS on: rc %d)" % (time.time() - start, run.returncode))
        if args.prepare:
            print(run.stdout[-1500:] if run.returncode else "prepared: hosts, lab CA and Docker engine in %s" % work)
            return run.returncode
        if run.returncode != 0:
            refusal = re.findall(r"mesos_(?:master|agent): mesos_(?:master|agent)_tls_enabled=true, but [^\"]*", run.stdout)
            print("\n".join(refusal) if refusal else run.stdout[-6000:])
            return 1
        master = address(MASTER)
        env_file = on(MASTER, "cat", "/etc/default/mesos-master").stdout
        print("master env: %s" % " ".join(line for line in env_file.splitlines() if line.startswith("LIBPROCESS_SSL_")))
        print("tls dir:    %s" % on(AGENT, "sh", "-c", "ls -ln /etc/mesos-agent/tls | tail -n +2 | awk '{print $1, $3, $9}' | tr '\\n' ' '").stdout)
        auth_json = json.loads(on(MASTER, "cat", "/etc/mesos-master/http_credentials.json").stdout)["credentials"][0]
        auth = (auth_json["principal"], auth_json["secret"])

        # Registered over TLS (the master takes nothing else), and again after an agent restart.
        agents = registered_agents(ca_dir, master, auth)
        print("register:   agents active at https://%s:5050/master/slaves: %s" % (master, agents))
        if not agents or agents[0].startswith("error"):
            return 1
        agent_env = on(AGENT, "cat", "/etc/default/mesos-agent").stdout
        executor_env = [line for line in agent_env.splitlines() if line.startswith("MESOS_EXECUTOR_ENVIRONMENT_VARIABLES=")]
        print("executors:  %s" % (executor_env[0][:300] if executor_env else "no MESOS_EXECUTOR_ENVIRONMENT_VARIABLES"))
        on(AGENT, "systemctl", "restart", "mesos-agent")
        restarted = time.time()
        time.sleep(1)
        agent_auth = json.loads(on(AGENT, "cat", "/etc/mesos-agent/http_credentials.json").stdout)["credentials"][0]
        while time.time() - restarted < 120:
            try:
                metrics = requests.get("https://%s:5051/metrics/snapshot" % address(AGENT), timeout=5,
                                       auth=(agent_auth["principal"], agent_auth["secret"]), verify="%s/ca.pem" % ca_dir,
                                       cert=("%s/%s.pem" % (ca_dir, CLIENT), "%s/%s.key" % (ca_dir, CLIENT))).json()
                if metrics.get("slave/registered") == 1:
                    break
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.5)
        else:
            print("register:   the agent did not register again within 120 s")
            return 1
        print("re-register: %.1f s after `systemctl restart mesos-agent` (slave/registered = 1 over https)"
              % (time.time() - restarted))
        print("agent log:  %s" % " | ".join(
            on(AGENT, "sh", "-c", "journalctl -u mesos-agent --no-pager -n 400 | grep -v 'Flags at startup' "
               "| grep -E 'client certificates|server certificates|Registered with master|SSL' "
               "| tail -n 4 | cut -c1-200").stdout.splitlines()))

        # A docker task through the master, the framework on https with a client certificate.
        framework_secret = on(MASTER, "cat", "/etc/mesos-master/frameworks/mesos-framework.secret", check=False)
        env = dict(os.environ, MESOS_TASK_AGENT_PRINCIPAL=agent_auth["principal"], MESOS_TASK_AGENT_SECRET=agent_auth["secret"])
        if framework_secret.returncode == 0:
            env.update(MESOS_TASK_MASTER_PRINCIPAL="mesos-framework", MESOS_TASK_MASTER_SECRET=framework_secret.stdout)
        task_start = time.time()
        task = sh(sys.executable, "-c", TLS_TASK, "%s/%s.pem" % (ca_dir, CLIENT), "%s/%s.key" % (ca_dir, CLIENT),
                  "%s/ca.pem" % ca_dir, TASK_TOOL, "--master", "https://%s:5050" % master, "--agent-hostname", AGENT,
                  "--agent-address", address(AGENT), "--image", testbed["TESTBED_PRIVATE_IMAGE_TLS"],
                  "--command", "echo task over tls ok", check=False, timeout=600, env=env)
        try:
            result = json.loads(task.stdout)
        except ValueError:
            print("task:       mesos_task.py failed: %s %s" % (task.stdout[-2000:], task.stderr[-2000:]))
            return 1
        print("task:       %s in %.1f s, states %s, stdout %r" % (result.get("state"), time.time() - task_start,
                                                                  result.get("states"), result.get("stdout")))

        # Plaintext and certificate-less clients are refused.
        plain = sh("curl", "-sS", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", "http://%s:5050/health" % master,
                   check=False)
        print("plaintext:  curl http://%s:5050/health -> exit %d %s" % (master, plain.returncode, plain.stderr.strip()))
        nocert = sh("curl", "-sS", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", "%s/ca.pem" % ca_dir,
                    "https://%s:5050/health" % master, check=False)
        print("no cert:    curl https://%s:5050/health (no client certificate) -> exit %d %s"
              % (master, nocert.returncode, nocert.stderr.strip()))
        good = sh("curl", "-sS", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", "%s/ca.pem" % ca_dir,
                  "--cert", "%s/%s.pem" % (ca_dir, CLIENT), "--key", "%s/%s.key" % (ca_dir, CLIENT),
                  "https://%s:5050/health" % master, check=False)
        print("client cert: curl https://%s:5050/health -> exit %d, HTTP %s" % (master, good.returncode, good.stdout))
        handshake = sh("openssl", "s_client", "-connect", "%s:5050" % master, "-CAfile", "%s/ca.pem" % ca_dir,
                       "-cert", "%s/%s.pem" % (ca_dir, CLIENT), "-key", "%s/%s.key" % (ca_dir, CLIENT), "-brief",
                       check=False, input="", timeout=30)
        print("handshake:  %s" % " | ".join(line.strip() for line in handshake.stderr.splitlines()
                                            if re.match(r"\s*(Protocol version|Ciphersuite|Verification|Peer certificate)", line)))
        return 0 if result.get("state") == "TASK_FINISHED" and plain.returncode != 0 and good.stdout == "200" else 1
    finally:
        if not args.keep and not args.prepare:
            remove_hosts((MASTER, AGENT))
        print("work dir:   %s (lab CA); hosts %s" % (work, "kept" if args.keep or args.prepare else "removed"))


if __name__ == "__main__":
    sys.exit(main())
