"""Record what the real mesos-master and mesos-agent of a Mesos package say about their flags.

    .venv/bin/python tests/integration/record_mesos_flags.py PACKAGE.deb [BASE_IMAGE]

installs PACKAGE.deb in BASE_IMAGE (default: the test bed's Debian 12 image,
mesos-docker-testbed/debian12:latest; the same cached image the tests use, see
conftest.ensure_mesos_package_image) and writes tests/integration/fixtures/mesos-flags/<version>/:
``mesos-<program>.help`` (``--help``, as printed), ``mesos-<program>.flags.json`` (``/flags`` of the
program started with flag_tables.RUNS) and ``recorded.json`` (version, package, its sha256, prefix and
this command). ``test_flag_tables_recorded.py`` checks the flag tables against them.
"""
import hashlib
import json
import os
import subprocess
import sys
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, ".build", "collections"))
sys.path.insert(0, os.path.join(REPO, "tests", "testbed"))

import flag_tables  # noqa: E402  (after the collection path)
from conftest import ensure_mesos_package_image  # noqa: E402
from testbed_env import TEST_LABEL  # noqa: E402

FIXTURES = os.path.join(HERE, "fixtures", "mesos-flags")


def _run(image, script):
    name = "mdt%s-record" % uuid.uuid4().hex[:8]
    proc = subprocess.run(["docker", "run", "--rm", "--name", name, "--label", "%s=%s" % (TEST_LABEL, name), image,
                           "sh", "-c", script], capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        sys.exit("%s failed (%d):\n%s\n%s" % (script, proc.returncode, proc.stdout, proc.stderr))
    return proc.stdout


def main(argv):
    if len(argv) not in (2, 3):
        sys.exit(__doc__)
    package = os.path.abspath(argv[1])
    base = argv[2] if len(argv) == 3 else "mesos-docker-testbed/debian12:latest"
    image = ensure_mesos_package_image(base, package)
    version = flag_tables.package_version(_run(image, "mesos-agent --version"))
    out = os.path.join(FIXTURES, version)
    os.makedirs(out, exist_ok=True)
    prefixes = set()
    for program in sorted(flag_tables.PROGRAMS):
        prefix, help_text, flags_json = flag_tables.parse_probe(_run(image, flag_tables.probe_script(program)))
        prefixes.add(prefix)
        with open(os.path.join(out, program + ".help"), "w") as handle:
            handle.write(help_text)
        with open(os.path.join(out, program + ".flags.json"), "w") as handle:
            json.dump(json.loads(flags_json), handle, indent=1, sort_keys=True)
            handle.write("\n")
    [prefix] = prefixes
    with open(package, "rb") as handle:
        sha256 = hashlib.sha256(handle.read()).hexdigest()
    recorded = {
        "version": version,
        "package": os.path.basename(package),
        "package_sha256": sha256,
        "base_image": base,
        "prefix": prefix,
        # Run from the repository's top directory.
        "command": ".venv/bin/python tests/integration/record_mesos_flags.py %s %s" % (os.path.relpath(package, REPO), base),
        "probe": dict((program, flag_tables.probe_script(program)) for program in sorted(flag_tables.PROGRAMS)),
    }
    with open(os.path.join(out, "recorded.json"), "w") as handle:
        json.dump(recorded, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print(out)


if __name__ == "__main__":
    main(sys.argv)
