# Waits until exactly one Mesos master answers GET /master/slaves (the leader; followers answer 307, or
# 503 while none leads) and lists at least `agents` active agents. Every master is asked by address on
# each round, so an election in progress (or an old leader whose ZooKeeper session has not yet expired,
# which every master still redirects to) is waited out rather than mistaken for an answer.
# Usage: leader_agents.py CREDENTIALS_FILE AGENTS TIMEOUT MASTER... where CREDENTIALS_FILE is the
# master's HTTP credentials ({"credentials": [{"principal", "secret"}]}, read here so that no secret
# is in argv) and MASTER is address:port. Prints {"leader", "active", "answers"}; exits 1 when the
# timeout passes first.
import base64
import json
import sys
import time
import urllib.error
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _answers(opener, masters, auth):
    answers = {}
    for master in masters:
        request = urllib.request.Request("http://%s/master/slaves" % master, headers={"Authorization": auth})
        try:
            with opener.open(request, timeout=5) as response:
                slaves = json.load(response).get("slaves", [])
                answers[master] = [200, len([slave for slave in slaves if slave.get("active")])]
        except urllib.error.HTTPError as error:
            answers[master] = [error.code, 0]
        except (OSError, ValueError) as error:
            answers[master] = [str(error), 0]
    return answers


def main():
    credentials_file, agents, timeout, masters = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]
    with open(credentials_file) as credentials:
        login = json.load(credentials)["credentials"][0]
    auth = "Basic " + base64.b64encode(("%s:%s" % (login["principal"], login["secret"])).encode()).decode()
    opener = urllib.request.build_opener(_NoRedirect)
    deadline = time.time() + timeout
    while True:
        answers = _answers(opener, masters, auth)
        leaders = [master for master, (status, _count) in answers.items() if status == 200]
        if len(leaders) == 1 and answers[leaders[0]][1] >= agents:
            print(json.dumps({"leader": leaders[0], "active": answers[leaders[0]][1], "answers": answers}))
            return 0
        if time.time() > deadline:
            print(json.dumps({"leader": None, "active": 0, "answers": answers}))
            return 1
        time.sleep(2)


sys.exit(main())
