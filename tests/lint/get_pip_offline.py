"""Offline replacement for ansible-test's pip bootstrap script (get-pip.py).

ansible-test bootstraps pip in each sanity venv with a get-pip.py it downloads from a
host this machine cannot reach. This script does the same job with what is here:
``ensurepip`` puts the bundled pip into the venv, then that pip installs the requested
packages (e.g. ``pip==24.2``) from the package index the machine is configured for.
It accepts get-pip's own ``--no-setuptools`` / ``--no-wheel`` flags.
"""
import subprocess
import sys

GET_PIP_ONLY_FLAGS = {"--no-setuptools", "--no-wheel"}


def main(argv):
    pip_args = [arg for arg in argv if arg not in GET_PIP_ONLY_FLAGS]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + pip_args)


if __name__ == "__main__":
    main(sys.argv[1:])
