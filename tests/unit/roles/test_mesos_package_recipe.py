"""The mesos_package role's recipe: each release's patches, and each Mesos version's, present and applying."""
import os
import re
import subprocess
import tarfile

import pytest
import yaml

from systemd_hosts import DEBIAN_RELEASES, DEBIAN_RELEASES_FILE

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(REPO, "roles", "mesos_package")
SHARED_SRC = os.path.join(os.path.dirname(REPO), "shared", "mesos", "src")
# The Apache Mesos sources the recipe is for: the development head the shared package was built from
# (apache/mesos c1b42f7, "1.12.0") and the final Apache release (the 1.11.0 tag).
SOURCES = {
    "1.12.0": os.environ.get("MESOS_SOURCE", os.path.join(SHARED_SRC, "mesos-c1b42f7.tar.xz")),
    "1.11.0": os.environ.get("MESOS_SOURCE_1_11", os.path.join(SHARED_SRC, "mesos-1.11.0.tar.xz")),
}
RELEASES = tuple(DEBIAN_RELEASES)


def _load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


def test_one_release_table():
    """files/debian_releases.yml is the table: the role reads it, the tests' line reader and YAML agree on it."""
    assert DEBIAN_RELEASES_FILE == os.path.join(ROLE, "files", "debian_releases.yml")
    assert _load("files", "debian_releases.yml") == DEBIAN_RELEASES == {"bullseye": 11, "bookworm": 12, "trixie": 13}
    assert "'/files/debian_releases.yml'" in _load("vars", "main.yml")["_mesos_package_releases"]


@pytest.mark.parametrize("release, number", sorted(DEBIAN_RELEASES.items()) + [("buster", None), ("bookw", None)])
def test_the_scripts_read_the_table(release, number):
    proc = subprocess.run(["bash", "-c", 'source "$1/scripts/lib.sh" && debian_release_number "$2" && debian_releases',
                           "-", REPO, release], capture_output=True, text=True, check=False)
    if number is None:
        assert proc.returncode != 0 and proc.stdout == "", proc.stdout
    else:
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines() == [str(number), ", ".join(DEBIAN_RELEASES)]


def test_every_known_release_has_a_recipe():
    assert set(_load("defaults", "main.yml")["mesos_package_base_images"]) == set(RELEASES)
    choices = _load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]["mesos_package_debian_release"]["choices"]
    assert sorted(choices) == sorted(RELEASES)
    for release in RELEASES:
        recipe = _load("vars", release + ".yml")
        assert set(recipe) == {"_mesos_package_release_refusal", "_mesos_package_release_packages", "_mesos_package_release_patches"}


def test_every_patch_says_why_before_its_diff():
    """Each patch file starts with its reason (text before the first ``--- a/``), and every patch a release or
    a version lists exists."""
    listed = set()
    for release in RELEASES:
        listed.update(_load("vars", release + ".yml")["_mesos_package_release_patches"])
    for patches in _load("vars", "main.yml")["_mesos_package_version_patches"].values():
        listed.update(patches)
    on_disk = set(os.listdir(os.path.join(ROLE, "files", "patches")))
    assert listed == on_disk
    for patch in sorted(on_disk):
        with open(os.path.join(ROLE, "files", "patches", patch)) as handle:
            reason = handle.read().split("\n--- a/", 1)[0].strip()
        assert len(reason) > 40 and not reason.startswith("---"), patch


def _source_version(tree):
    with open(os.path.join(tree, "configure.ac")) as handle:
        return re.search(r"^AC_INIT\(\[mesos\], *\[([^]]*)\]\)", handle.read(), re.M).group(1)


@pytest.mark.parametrize("version", sorted(SOURCES))
@pytest.mark.parametrize("release", RELEASES)
def test_patches_of_the_release_and_version_apply_to_the_mesos_source(tmp_path, release, version):
    """The patches the role applies for a release and a source version (release's, then version's, as
    source.yml composes them) exist and apply cleanly (no fuzz) to that Apache Mesos source, in order."""
    source = SOURCES[version]
    assert os.path.isfile(source), "the Mesos source %s is missing" % source
    patches = (_load("vars", release + ".yml")["_mesos_package_release_patches"]
               + _load("vars", "main.yml")["_mesos_package_version_patches"].get(version, []))
    with tarfile.open(source) as archive:
        archive.extractall(tmp_path, filter="data")
    [top] = os.listdir(tmp_path)
    assert _source_version(tmp_path / top) == version
    for patch in patches:
        path = os.path.join(ROLE, "files", "patches", patch)
        assert os.path.isfile(path), patch
        with open(path) as handle:
            proc = subprocess.run(["patch", "-p1", "--forward", "--batch", "--fuzz=0"], stdin=handle, cwd=tmp_path / top,
                                  capture_output=True, text=True, check=False)
        assert proc.returncode == 0, (patch, proc.stdout, proc.stderr)
    with open(tmp_path / top / "configure.ac") as handle:
        configure_ac = handle.read()
    # What the libz patch is for: after the patches, configure checks libz by one function, as upstream does.
    assert "AC_CHECK_LIB([z], [inflate]," in configure_ac
    assert "gzread, gzwrite" not in configure_ac
