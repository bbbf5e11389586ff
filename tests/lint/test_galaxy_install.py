"""The collection as a new user gets it: the built tarball installed with the dependencies galaxy.yml declares.

Galaxy is not reachable here, so each dependency is installed from the copy the pip ``ansible``
bundle holds in the venv (``ansible-galaxy collection install --offline`` with ``type: dir``
sources). The installed path is then the ONLY place Ansible looks for collections
(``ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false`` hides the venv's bundle): every playbook must pass
``--syntax-check`` there and every module must render with ``ansible-doc``.
"""
import glob
import json
import os
import tarfile

import pytest
import yaml

from test_lint import MODULES, REPO, run

pytestmark = pytest.mark.lint

BUNDLE = os.path.join(os.path.dirname(os.path.dirname(yaml.__file__)), "ansible_collections")
PLAYBOOKS = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(REPO, "playbooks", "*.yml")))


def _galaxy():
    with open(os.path.join(REPO, "galaxy.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _bundled(fqcn):
    namespace, name = fqcn.split(".")
    path = os.path.join(BUNDLE, namespace, name)
    with open(os.path.join(path, "MANIFEST.json"), encoding="utf-8") as handle:
        return path, json.load(handle)["collection_info"]


def _bundled_closure(dependencies):
    """The venv's copies of the declared dependencies and of everything they depend on."""
    todo, seen = list(dependencies), {}
    while todo:
        fqcn = todo.pop()
        if fqcn in seen:
            continue
        seen[fqcn] = _bundled(fqcn)
        todo.extend(seen[fqcn][1].get("dependencies") or {})
    return seen


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """An empty collections path with the tarball and the declared dependencies installed into it."""
    work = tmp_path_factory.mktemp("galaxy")
    rc, out = run(["ansible-galaxy", "collection", "build", "--output-path", str(work)])
    assert rc == 0, out
    tarball = glob.glob(str(work / "mesos-docker-*.tar.gz"))
    assert len(tarball) == 1, out
    sources = [{"name": tarball[0], "type": "file"}]
    sources += [{"name": found[0], "type": "dir"} for found in _bundled_closure(_galaxy()["dependencies"]).values()]
    (work / "requirements.yml").write_text(yaml.safe_dump({"collections": sources}))
    target = work / "collections"
    isolated = {"ANSIBLE_COLLECTIONS_PATH": str(target), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false"}
    rc, out = run(["ansible-galaxy", "collection", "install", "--offline", "-r", str(work / "requirements.yml"),
                   "-p", str(target)], env=isolated)
    assert rc == 0, out
    return tarball[0], target, isolated


@pytest.mark.parametrize("dependency", sorted(_galaxy()["dependencies"]) or ["(none declared)"])
def test_declared_dependency_range_holds_the_tested_version(dependency):
    """Each range in galaxy.yml admits the version the tests run with (the venv's bundled copy)."""
    from ansible.galaxy.dependency_resolution.versioning import meets_requirements

    assert dependency != "(none declared)", "galaxy.yml declares no dependencies, yet the roles use community.docker"
    info = _bundled(dependency)[1]
    wanted = _galaxy()["dependencies"][dependency]
    assert meets_requirements(info["version"], wanted), (dependency, info["version"], wanted)


def test_every_collection_the_content_names_is_declared():
    """A collection named by FQCN in a role, playbook or plugin is a declared dependency (or ansible.builtin)."""
    import re

    declared = set(_galaxy()["dependencies"]) | {"ansible.builtin", "mesos.docker"}
    used = {}
    for top in ("roles", "playbooks", "lab", "inventory"):
        for path in glob.glob(os.path.join(REPO, top, "**", "*.y*ml"), recursive=True):
            with open(path, encoding="utf-8") as handle:
                for fqcn in re.findall(r"\b(community\.\w+|ansible\.\w+|mesos\.docker)\.\w+", handle.read()):
                    used.setdefault(fqcn, path)
    missing = {fqcn: path for fqcn, path in used.items() if fqcn not in declared}
    assert not missing, "used but not in galaxy.yml dependencies: %s" % missing


def test_tarball_keeps_tests_out(installed):
    with tarfile.open(installed[0]) as archive:
        names = archive.getnames()
    assert "plugins/modules/image.py" in names and "meta/runtime.yml" in names
    assert not [n for n in names if n.startswith(("tests/", "molecule/", "bench/", ".venv", ".testbed"))], names


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_installed_playbook_syntax_checks(installed, playbook):
    target, isolated = installed[1:]
    rc, out = run(["ansible-playbook", "-i", "localhost,", "--syntax-check", "mesos.docker.%s" % playbook],
                  cwd=str(target), env=isolated)
    assert rc == 0, out
    assert "ERROR" not in out, out


@pytest.mark.parametrize("module", MODULES)
def test_installed_module_docs_render(installed, module):
    target, isolated = installed[1:]
    rc, out = run(["ansible-doc", "mesos.docker.%s" % module], cwd=str(target), env=isolated)
    assert rc == 0, out
    assert "[WARNING]" not in out and "ERROR" not in out, out
    assert "EXAMPLES:" in out and "RETURN VALUES:" in out, out
