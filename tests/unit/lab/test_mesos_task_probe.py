"""lab/mesos_task.py's --http-probe: the task's address as the agent reports it, asked from here.

The scheduler side (offers, launch, KILL after the probe) runs against the real master in the lab;
here the two pieces that decide what the summary says: which address a status carries, and what a
probe of a real HTTP server on this machine returns (an answer, or an error naming the address).
"""
import http.server
import importlib.util
import os
import socket
import threading

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
_spec = importlib.util.spec_from_file_location("mesos_task", os.path.join(REPO, "lab", "mesos_task.py"))
mesos_task = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mesos_task)


def _status(*addresses):
    """A TASK_RUNNING status as the docker executor sends it (container_status.network_infos)."""
    return {"state": "TASK_RUNNING", "container_status": {"network_infos": [
        {"ip_addresses": [{"protocol": "IPv4", "ip_address": address} for address in addresses]}]}}


def test_the_address_is_the_one_the_agent_reports_for_the_container():
    assert mesos_task.task_addresses(_status("10.231.1.2")) == ["10.231.1.2"]
    assert mesos_task.task_addresses({"state": "TASK_RUNNING"}) == []


@pytest.fixture
def http_server():
    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = b"hello from the task\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_a_probe_records_the_answer_of_the_tasks_address(http_server):
    result = mesos_task.http_probe(_status("127.0.0.1"), http_server, timeout=10)
    assert result == {"address": "127.0.0.1", "url": "http://127.0.0.1:%d/" % http_server,
                      "answer": "hello from the task"}


def test_a_probe_of_an_address_that_does_not_answer_says_so():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    result = mesos_task.http_probe(_status("127.0.0.1"), port, timeout=2)
    assert result["address"] == "127.0.0.1" and "answer" not in result
    assert result["error"].startswith("no answer within 2s")


def test_a_status_without_an_address_is_an_error_not_a_probe():
    assert mesos_task.http_probe({"state": "TASK_RUNNING"}, 8080, timeout=2) == {
        "address": None, "error": "the agent reported no address for the task"}
