# Waits until exactly one Mesos master answers GET /master/slaves (the leader; followers answer 307, or
# 503 while none leads) and lists at least `agents` active agents. Every master is asked by address on
# each round, so an election in progress (or an old leader whose ZooKeeper session has not yet expired,
# which every master still redirects to) is waited out rather than mistaken for an answer.
# Input on stdin (JSON, never argv): {"masters": ["addr:port", ...], "principal", "secret", "agents", "timeout"}.
# Prints {"leader", "active", "answers"}; exits 1 when the timeout passes first.
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
    args = json.load(sys.stdin)
    auth = "Basic " + base64.b64encode(("%s:%s" % (args["principal"], args["secret"])).encode()).decode()
    opener = urllib.request.build_opener(_NoRedirect)
    deadline = time.time() + float(args["timeout"])
    while True:
        answers = _answers(opener, args["masters"], auth)
        leaders = [master for master, (status, _count) in answers.items() if status == 200]
        if len(leaders) == 1 and answers[leaders[0]][1] >= int(args["agents"]):
            print(json.dumps({"leader": leaders[0], "active": answers[leaders[0]][1], "answers": answers}))
            return 0
        if time.time() > deadline:
            print(json.dumps({"leader": None, "active": 0, "answers": answers}))
            return 1
        time.sleep(2)


sys.exit(main())
