"""The mesos_package role's recipe: each release's patches present and applying."""
import os
import subprocess
import tarfile

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(REPO, "roles", "mesos_package")
SOURCE = os.environ.get("MESOS_SOURCE", os.path.join(os.path.dirname(REPO), "shared", "mesos", "src", "mesos-c1b42f7.tar.xz"))
RELEASES = ("bullseye", "bookworm", "trixie")


def _load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


def test_every_known_release_has_a_recipe():
    known = _load("vars", "main.yml")["_mesos_package_releases"]
    assert sorted(known) == sorted(RELEASES)
    choices = _load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]["mesos_package_debian_release"]["choices"]
    assert sorted(choices) == sorted(RELEASES)
    for release in RELEASES:
        recipe = _load("vars", release + ".yml")
        assert set(recipe) == {"_mesos_package_release_refusal", "_mesos_package_release_packages", "_mesos_package_release_patches"}


@pytest.mark.parametrize("release", RELEASES)
def test_patches_of_the_release_apply_to_the_mesos_source(tmp_path, release):
    """Each patch a release lists exists and applies cleanly (no fuzz) to the Apache Mesos source."""
    assert os.path.isfile(SOURCE), "the Mesos source %s is missing (set MESOS_SOURCE)" % SOURCE
    patches = _load("vars", release + ".yml")["_mesos_package_release_patches"]
    with tarfile.open(SOURCE) as archive:
        archive.extractall(tmp_path, filter="data")
    [top] = os.listdir(tmp_path)
    for patch in patches:
        path = os.path.join(ROLE, "files", "patches", patch)
        assert os.path.isfile(path), patch
        with open(path) as handle:
            proc = subprocess.run(["patch", "-p1", "--forward", "--batch", "--fuzz=0"], stdin=handle, cwd=tmp_path / top,
                                  capture_output=True, text=True, check=False)
        assert proc.returncode == 0, (patch, proc.stdout, proc.stderr)
