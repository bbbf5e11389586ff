"""playbooks/mesos_package.yml on the real Docker engine: the recipe checked quickly, and bad input.

The recipe check runs the role up to ``configure`` (``mesos_package_stop_after: configure``) on the real
Apache Mesos source in a real Debian 12 build container: the patches apply, ``./bootstrap`` and
``configure`` succeed against Debian's libraries, and a second run with nothing changed builds nothing.
The full build (an hour on 2 cores) is ``bench/mesos_package_build.sh``. The build image (Debian's build
dependencies) is cached by the hash of its Dockerfile, so only the first session on a machine builds it.
"""
import os
import re
import subprocess
import tarfile

import pytest
from testbed_env import TEST_LABEL

from systemd_hosts import DEBIAN_RELEASES, image_of_release

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(REPO, "playbooks", "mesos_package.yml")
SHARED_SRC = os.path.join(os.path.dirname(REPO), "shared", "mesos", "src")
# The Apache Mesos source the shared Debian 12 package was built from (apache/mesos at c1b42f7).
SOURCE = os.environ.get("MESOS_SOURCE", os.path.join(SHARED_SRC, "mesos-c1b42f7.tar.xz"))
# The final Apache release: the git tree of the 1.11.0 tag (no generated configure, five bundled tarballs
# absent), what ../shared/mesos/README.md describes.
SOURCE_1_11 = os.environ.get("MESOS_SOURCE_1_11", os.path.join(SHARED_SRC, "mesos-1.11.0.tar.xz"))


def recap_changed(output):
    """The changed= count of the PLAY RECAP line of localhost."""
    match = re.search(r"^localhost\s+:.*\bchanged=(\d+)", output, re.MULTILINE)
    assert match, output
    return int(match.group(1))


@pytest.fixture
def package_vars(testbed, tmp_path, name_prefix):
    """Role variables for a build in a fresh work directory, on the test bed's Debian images."""
    return {
        "mesos_package_source": SOURCE,
        "mesos_package_debian_release": "bookworm",
        "mesos_package_base_images": dict((release, image_of_release(testbed, "DEBIAN", release))
                                          for release in DEBIAN_RELEASES),
        "mesos_package_work_dir": str(tmp_path / "work"),
        "mesos_package_cflags": "-O0 -g0",
        "mesos_package_cxxflags": "-O0 -g0 -Wno-deprecated-declarations",
        "mesos_package_progress_interval": 10,
        "mesos_package_build_container_prefix": name_prefix + "-build-",
        "mesos_package_build_container_labels": {TEST_LABEL: "true"},
    }


def build_dirs(work_dir):
    builds = os.path.join(work_dir, "builds")
    return [os.path.join(builds, name) for name in os.listdir(builds)] if os.path.isdir(builds) else []


@pytest.mark.parametrize("version", ["1.12.0", "1.11.0"])
def test_debian12_bootstrap_and_configure_with_patches_then_rerun_changes_nothing(
        run_playbook, package_vars, docker_api, name_prefix, version):
    source = {"1.12.0": SOURCE, "1.11.0": SOURCE_1_11}[version]
    assert os.path.isfile(source), "the Mesos source %s is missing (set MESOS_SOURCE / MESOS_SOURCE_1_11)" % source
    variables = dict(package_vars, mesos_package_source=source, mesos_package_stop_after="configure")

    first = run_playbook(PLAYBOOK, extra_vars=variables)
    assert first.rc == 0, first.output
    assert recap_changed(first.output) > 0, first.output
    # The progress display named the stages as the build went through them.
    assert "finished: done configure" in first.output, first.output

    [build] = build_dirs(variables["mesos_package_work_dir"])
    for stage in ("patch", "bootstrap", "configure"):
        assert os.path.exists(os.path.join(build, "stamps", stage)), stage
    assert not os.path.exists(os.path.join(build, "stamps", "make"))
    # The patches Debian 12 needs are in the tree configure ran on ...
    with open(os.path.join(build, "src", "configure.ac")) as handle:
        assert "AX_CXX_COMPILE_STDCXX([14], [noext], [mandatory])" in handle.read()
    with open(os.path.join(build, "src", "include", "mesos", "csi", "v1.hpp")) as handle:
        assert "status.message()" in handle.read()
    with open(os.path.join(build, "src", "src", "docker", "docker.cpp")) as handle:
        assert 'json.find<JSON::Value>("Config.Entrypoint")' in handle.read()  # Docker >= 26 images
    with open(os.path.join(build, "build.log")) as handle:
        applied = re.findall(r"^applying (\S+)$", handle.read(), re.MULTILINE)
    release_patches = ["3rdparty-no-bundled-zookeeper.patch", "cxx14.patch", "glog-drop-log-memory.patch",
                       "protobuf-status-message.patch", "docker-image-config.patch"]
    # 1.11.0 checks libz with a list of functions configure cannot compile: its own patch, after the release's.
    assert applied == release_patches + (["configure-libz-inflate.patch"] if version == "1.11.0" else [])
    # ... and configure succeeded with Debian's libraries in C++14 mode.
    with open(os.path.join(build, "obj", "config.status")) as handle:
        assert "--with-grpc=/usr" in handle.read()
    with open(os.path.join(build, "obj", "config.log")) as handle:
        config_log = handle.read()
    # Debian's libraries, not the bundled ones, and libz found (where 1.11.0 stopped without its patch).
    assert re.search(r"^ac_cv_lib_z_inflate=yes$", config_log, re.MULTILINE), "libz check"
    # (automake comments out the bundled library's rules: WITH_BUNDLED_<X>_TRUE='#').
    for library in ("BOOST", "GLOG", "GRPC", "HTTP_PARSER", "LEVELDB", "LIBARCHIVE", "LIBEV", "PROTOBUF", "RAPIDJSON",
                    "ZOOKEEPER"):
        assert "\nWITH_BUNDLED_%s_TRUE='#'\n" % library in config_log, library
    assert re.search(r"^PACKAGE_VERSION='%s'$" % re.escape(version), config_log, re.MULTILINE)
    with open(os.path.join(build, "obj", "src", "Makefile")) as handle:
        makefile = handle.read()
    assert "-std=c++14" in makefile
    assert re.search(r"^prefix = /opt/mesos$", makefile, re.MULTILINE)
    # The build container is gone once it finished.
    assert docker_api.containers(all=True, filters={"name": name_prefix}) == []

    second = run_playbook(PLAYBOOK, extra_vars=variables)
    assert second.rc == 0, second.output
    assert recap_changed(second.output) == 0, second.output
    started = [result for task, result in second.results.items() if "Start the build container" in task]
    assert started and all("skip_reason" in result for result in started), second.output


def make_tarball(path, top, files):
    """A gzipped tarball with files {relative path: content} under top/."""
    staging = path.parent / (path.name + ".d")
    for name, content in files.items():
        target = staging / top / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    with tarfile.open(path, "w:gz") as archive:
        archive.add(staging / top, arcname=top)
    return str(path)


@pytest.mark.parametrize("case, expected", [
    ("unknown-release", ["mesos_package_debian_release must be one of: %s, got: buster" % ", ".join(DEBIAN_RELEASES)]),
    ("not-mesos-tarball", ["is not an Apache Mesos source tree", "AC_INIT([mesos]"]),
    ("not-mesos-directory", ["is not an Apache Mesos source tree", "has no src/slave/main.cpp"]),
    ("not-a-tarball", ["is not an Apache Mesos source tree", "tar cannot read it"]),
    ("url-cannot-be-fetched", ["cannot fetch mesos_package_source=http://127.0.0.1:9/mesos-1.11.0.tar.gz"]),
    ("relative-path", ["mesos_package_source=\"mesos-1.11.0.tar.gz\"", "absolute path"]),
    ("ssl-as-configure-option", ["mesos_package_configure_options has --enable-ssl", "mesos_package_tls: true"]),
])
def test_bad_input_fails_before_anything_is_built(run_playbook, package_vars, tmp_path, docker_api, name_prefix, case, expected):
    variables = dict(package_vars)
    if case == "unknown-release":
        variables["mesos_package_debian_release"] = "buster"
    elif case == "not-mesos-tarball":
        variables["mesos_package_source"] = make_tarball(
            tmp_path / "other-1.0.tar.gz", "other-1.0",
            {"configure.ac": "AC_INIT([other], [1.0])\n", "src/slave/main.cpp": "int main() {}\n"})
    elif case == "not-mesos-directory":
        tree = tmp_path / "tree"
        tree.mkdir()
        (tree / "configure.ac").write_text("AC_INIT([mesos], [1.11.0])\n")
        variables["mesos_package_source"] = str(tree)
    elif case == "not-a-tarball":
        variables["mesos_package_source"] = os.path.join(REPO, "README.md")
    elif case == "url-cannot-be-fetched":
        variables["mesos_package_source"] = "http://127.0.0.1:9/mesos-1.11.0.tar.gz"
    elif case == "relative-path":
        variables["mesos_package_source"] = "mesos-1.11.0.tar.gz"
    elif case == "ssl-as-configure-option":
        variables["mesos_package_configure_options"] = ["--enable-ssl"]

    run = run_playbook(PLAYBOOK, extra_vars=variables)
    assert run.rc != 0, run.output
    for text in expected:
        assert text in run.output, run.output
    # Nothing was built: no build tree, no build container.
    assert build_dirs(variables["mesos_package_work_dir"]) == []
    assert docker_api.containers(all=True, filters={"name": name_prefix}) == []


PROGRESS = os.path.join(REPO, "roles", "mesos_package", "files", "build", "progress.sh")


def test_progress_shows_stage_and_files_compiled_of_total(testbed, docker_api, tmp_path, name_prefix):
    """progress.sh, what the role prints while a build runs, on a build directory as build.sh leaves it."""
    build = tmp_path / "build"
    build.mkdir()
    (build / "stage").write_text("4/5 make\n")
    (build / "make.total").write_text("30\n")
    # Three compiled files; link lines and compiler output are not files compiled.
    (build / "make.log").write_text(
        "  CXX      src/libprocess_la-clock.lo\n  CXX      src/libprocess_la-http.lo\n"
        "In file included from ../include/process/http.hpp:1:\n  CC       src/x.lo\n  CXXLD    libprocess.la\n")
    (build / "started").write_text("0\n")
    container = docker_api.create_container(
        testbed["TESTBED_IMAGE_BUSYBOX"], command=["sleep", "300"], name=name_prefix + "-build",
        labels={TEST_LABEL: "true"})
    try:
        docker_api.start(container)

        def progress():
            return subprocess.run(["sh", PROGRESS, str(build), name_prefix + "-build", "5"], capture_output=True,
                                  text=True, check=True, timeout=60).stdout.strip()

        assert progress().startswith("running: stage 4/5 make: 3 of 30 files compiled (10%), ")
        (build / "exit-status").write_text("2\n")
        assert progress() == "failed: the build exited with status 2 in stage make"
        (build / "exit-status").write_text("0\n")
        (build / "stage").write_text("done package\n")
        assert progress() == "finished: done package"
        (build / "exit-status").unlink()
        docker_api.remove_container(container, force=True)
        assert progress() == ("failed: the build container %s-build stopped without finishing "
                              "(killed? out of memory?)" % name_prefix)
    finally:
        if docker_api.containers(all=True, filters={"name": name_prefix}):
            docker_api.remove_container(container, force=True, v=True)


def test_check_mode_reports_the_build_and_changes_nothing(run_playbook, package_vars, docker_api, name_prefix):
    assert os.path.isfile(SOURCE), "the Mesos source %s is missing (set MESOS_SOURCE)" % SOURCE
    run = run_playbook(PLAYBOOK, extra_vars=package_vars, check=True)
    assert run.rc == 0, run.output
    assert recap_changed(run.output) > 0, run.output
    started = [result for task, result in run.results.items() if "Start the build container" in task]
    assert started and all(result.get("changed") for result in started), run.output
    assert not os.path.exists(package_vars["mesos_package_work_dir"])
    assert docker_api.containers(all=True, filters={"name": name_prefix}) == []


def test_tls_switch_names_its_own_build_image_build_and_package(run_playbook, package_vars, docker_api, name_prefix):
    """mesos_package_tls (check mode, nothing built): libevent-dev in the build image, the TLS configure
    options, another build (cache key) and the package Version <version>~<codename>+tls; the build
    without TLS keeps its names."""
    def facts(variables):
        # The names come before the build image; in check mode a build image not on the host yet (the TLS
        # one, before its first build) ends the run there, which is fine for this test.
        run = run_playbook(PLAYBOOK, extra_vars=variables, check=True)
        named = [result for task, result in run.results.items() if "Name the build image and the build" in task]
        assert named and "ansible_facts" in named[0], run.output
        assert run.rc == 0 or "Build the build image" in run.output.split("fatal:")[0].rsplit("TASK [", 1)[-1], run.output
        return named[0]["ansible_facts"]

    plain = facts(package_vars)
    tls = facts(dict(package_vars, mesos_package_tls=True))
    assert plain["__mesos_package_full_version"] == "1.12.0~bookworm", plain
    assert tls["__mesos_package_full_version"] == "1.12.0~bookworm+tls", tls
    assert "libevent-dev" in tls["__mesos_package_dockerfile"] and "libevent-dev" not in plain["__mesos_package_dockerfile"]
    assert tls["__mesos_package_builder"] != plain["__mesos_package_builder"]
    assert tls["__mesos_package_build_dir"] != plain["__mesos_package_build_dir"]
    assert tls["__mesos_package_container"] != plain["__mesos_package_container"]
    assert not os.path.exists(package_vars["mesos_package_work_dir"])
    assert docker_api.containers(all=True, filters={"name": name_prefix}) == []
