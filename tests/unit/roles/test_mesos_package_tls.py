"""mesos_package_tls: what the switch changes in the recipe (the role's own variables, rendered by Ansible),
without Docker. That it changes the build's cache key and the package's name is
tests/integration/test_mesos_package.py (check mode); the package's file name is build.sh's."""
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(REPO, "roles", "mesos_package")
BIN = os.path.dirname(sys.executable)

PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - ansible.builtin.include_vars: {role}/defaults/main.yml
    - ansible.builtin.include_vars: {role}/vars/main.yml
    - ansible.builtin.include_vars: {role}/vars/bookworm.yml
    - ansible.builtin.copy:
        dest: "{{{{ out }}}}"
        content: "{{{{ {{'configure': _mesos_package_role_configure_options, 'packages': _mesos_package_build_packages,
                       'flavour': _mesos_package_flavour}} | to_json }}}}"
"""


def rendered(tmp_path, tls):
    playbook = tmp_path / "render.yml"
    playbook.write_text(PLAYBOOK.format(role=ROLE))
    out = tmp_path / ("out-%s.json" % tls)
    proc = subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", str(playbook), "-e",
         json.dumps({"mesos_package_tls": tls, "out": str(out), "ansible_python_interpreter": sys.executable})],
        capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text())


@pytest.mark.parametrize("tls", [False, True])
def test_the_switch_adds_libevent_and_the_ssl_configure_options(tmp_path, tls):
    recipe = rendered(tmp_path, tls)
    options = ["--enable-libevent", "--with-libevent=/usr", "--enable-ssl", "--with-ssl=/usr"]
    assert all((option in recipe["configure"]) == tls for option in options), recipe
    assert ("libevent-dev" in recipe["packages"]) == tls, recipe
    assert "libssl-dev" in recipe["packages"], recipe
    assert recipe["flavour"] == ("tls" if tls else ""), recipe


def test_build_sh_names_a_tls_package_apart():
    with open(os.path.join(ROLE, "files", "build", "build.sh")) as handle:
        script = handle.read()
    assert 'Version: $version~$codename$flavour' in script
    assert '"$OUT/mesos_${version}~${codename}${flavour}_${arch}.deb"' in script
    assert 'flavour=${MESOS_PACKAGE_FLAVOUR:+"+$MESOS_PACKAGE_FLAVOUR"}' in script
