"""Restart a Mesos daemon's systemd unit, then wait until its /health answers 200.

    restart_and_wait.py UNIT URL TIMEOUT [CERT KEY]

The restart handler of mesos_master runs this as one task with ``throttle: 1``: one master at a time
restarts and is back on /health before the next one restarts, while the rest of the play runs on every
master at once. With an https URL the daemon's own certificate and key (CERT, KEY) are the client
certificate (it may require one), and the server certificate is not checked: the probe asks the
loopback address, which is in no certificate. Exit 0 when healthy, 1 (with the last answer) when not
within TIMEOUT seconds, the error of systemctl when the restart itself fails. Standard library only.
"""
import ssl
import subprocess
import sys
import time
import urllib.request


def _context(url, cert):
    if not url.startswith("https:"):
        return None
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if cert:
        context.load_cert_chain(cert[0], cert[1])
    return context


def main(argv):
    if len(argv) not in (4, 6):
        sys.exit(__doc__)
    unit, url, timeout, cert = argv[1], argv[2], float(argv[3]), argv[4:6]
    for command in (["systemctl", "daemon-reload"], ["systemctl", "restart", unit]):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit("%s failed (%d): %s" % (" ".join(command), done.returncode, done.stderr.strip()))
    context = _context(url, cert)
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5, context=context) as response:
                if response.status == 200:
                    print("%s restarted; %s answered 200" % (unit, url))
                    return 0
                last = "HTTP %d" % response.status
        except OSError as error:
            last = str(error)
        if time.monotonic() >= deadline:
            sys.exit("%s restarted but %s did not answer 200 within %d s (last: %s)" % (unit, url, timeout, last))
        time.sleep(2)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
