"""URL inputs cannot hurt the server (issue 9, "Confinement"): an index page
with a 200 KB href, a host that accepts and never answers, a page over the
size cap, and the hosts the server may fetch from (--allow-url-host,
--deny-url-host). Each is refused at invoke with a clear 400 within a few
seconds, and the server stays alive and answerable meanwhile."""

import os
import socket
import subprocess
import threading
import time

import pytest

from jobs_e2e import EP, completed, job_names, make_files, output_lines, run_job, simple_endpoint
from lote_e2e import EXIT_INVALID, Server, api_error


@pytest.fixture
def endpoint(server, workdir):
    simple_endpoint(server, workdir, mini_batch_size=2)
    return server


def invoke_url(server, url):
    """POST the invoke with an endpoint token; returns (status, reply, seconds)."""
    status, reply = server.http("POST", f"/api/v1/endpoints/{EP}/token", raw=b"{}")
    assert status == 200, reply
    token = reply["accessToken"]
    t0 = time.monotonic()
    status, reply = server.http("POST", f"/api/v1/endpoints/{EP}/jobs",
                                body={"input": {"uri": url}}, token=token)
    return status, reply, time.monotonic() - t0


def assert_alive(server):
    status, reply = server.http("GET", "/api/v1/health")
    assert (status, reply) == (200, {"status": "ok"})
    assert server.proc.poll() is None, server.log()


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never answers (holds them open)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.accepted = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            self.accepted.set()

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def test_a_200kb_href_is_a_400_not_a_crash(endpoint, file_server):
    server = endpoint
    os.makedirs(os.path.join(file_server.root, "evil"))
    with open(os.path.join(file_server.root, "evil", "index.html"), "w") as f:
        f.write('<html><a href="' + "x" * (200 * 1024) + '">x</a></html>')
    status, reply, took = invoke_url(server, f"{file_server.url}/evil/")
    assert status == 400, (status, reply)
    err = api_error(reply)
    assert "over the 4096-byte limit" in err["message"] and err.get("field") == "input", err
    assert took < 10, f"refusing took {took:.1f}s"
    assert_alive(server)
    assert job_names(server) == []


def test_a_host_that_never_answers_is_refused_within_seconds(endpoint):
    server = endpoint
    silent = SilentServer()
    try:
        results = {}

        def stalled():
            results["file"] = invoke_url(server, f"http://127.0.0.1:{silent.port}/x.csv")

        t = threading.Thread(target=stalled)
        t.start()
        assert silent.accepted.wait(10), "the server never connected"
        # While one invoke waits on the silent host, others are served.
        for _ in range(5):
            t0 = time.monotonic()
            assert_alive(server)
            status, _ = server.http("GET", f"/api/v1/endpoints/{EP}")
            assert status == 200
            assert time.monotonic() - t0 < 2
        t.join(30)
        assert not t.is_alive(), "the invoke never returned"
        status, reply, took = results["file"]
        assert status == 400, (status, reply)
        err = api_error(reply)
        assert "did not answer within 5 s" in err["message"], err
        assert f"127.0.0.1:{silent.port}/x.csv" in err["message"], err
        assert took < 15, f"the invoke waited {took:.1f}s"
        # A folder URL on the same host: the same bound.
        status, reply, took = invoke_url(server, f"http://127.0.0.1:{silent.port}/dir/")
        assert status == 400 and "did not answer within 5 s" in api_error(reply)["message"], reply
        assert took < 15
    finally:
        silent.close()
    assert_alive(server)
    assert job_names(server) == []


def test_an_index_page_over_the_cap_is_refused(endpoint, file_server):
    server = endpoint
    os.makedirs(os.path.join(file_server.root, "huge"))
    line = '<a href="f.csv">f.csv</a>\n'
    with open(os.path.join(file_server.root, "huge", "index.html"), "w") as f:
        f.write(line * ((5 << 20) // len(line)))  # 5 MiB, over the 4 MiB cap
    status, reply, took = invoke_url(server, f"{file_server.url}/huge/")
    assert status == 400, (status, reply)
    err = api_error(reply)
    assert "index page" in err["message"] and "over the 4194304-byte limit" in err["message"], err
    assert_alive(server)


def test_deny_url_host_refuses_by_name_and_by_address(lote_bin, tmp_path, workdir, file_server):
    make_files(file_server.root, ["a.txt"])
    srv = Server(lote_bin, tmp_path / "home", extra_args=["--deny-url-host", "127.0.0.0/8",
                                                          "--deny-url-host", "*.invalid"])
    try:
        simple_endpoint(srv, workdir, mini_batch_size=2)
        status, reply, _ = invoke_url(srv, f"{file_server.url}/a.txt")
        assert status == 400 and "is denied by this server (--deny-url-host '127.0.0.0/8')" in \
            api_error(reply)["message"], reply
        # "localhost" is not a denied name; the address it connects to is.
        port = file_server.port
        status, reply, _ = invoke_url(srv, f"http://localhost:{port}/a.txt")
        assert status == 400 and "denied by this server" in api_error(reply)["message"], reply
        status, reply, _ = invoke_url(srv, "http://files.invalid/a.txt")
        assert status == 400 and "'*.invalid'" in api_error(reply)["message"], reply
        # A data asset naming a denied host is refused when registered.
        proc = srv.cli("data", "create", "--name", "web", "--path", "http://files.invalid/d/", check=False)
        assert proc.returncode == EXIT_INVALID and "denied" in proc.stderr, proc.stderr
        assert job_names(srv) == []
    finally:
        assert srv.stop() == 0


def test_allow_url_host_admits_only_its_hosts(lote_bin, tmp_path, workdir, file_server):
    make_files(os.path.join(file_server.root, "dir"), ["a.txt", "b.txt"])
    srv = Server(lote_bin, tmp_path / "home", extra_args=["--allow-url-host", "localhost"])
    try:
        simple_endpoint(srv, workdir, mini_batch_size=2)
        url = f"http://localhost:{file_server.port}/dir/"
        done = completed(srv, run_job(srv, "--input-path", url))
        assert output_lines(done) == ["a.txt", "b.txt"]
        # The same files by address, or another host: refused before any lookup.
        for other in (f"{file_server.url}/dir/a.txt", "http://example.invalid/x.csv"):
            status, reply, took = invoke_url(srv, other)
            assert status == 400 and "is not one this server may fetch from" in api_error(reply)["message"], reply
            assert took < 5
    finally:
        assert srv.stop() == 0


def test_malformed_url_host_patterns_stop_the_server_at_start(lote_bin, tmp_path):
    proc = subprocess.run([lote_bin, "serve", "--home", str(tmp_path / "home"), "--port", "0",
                           "--allow-url-host", "10.0.0.0/99"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == EXIT_INVALID, proc.stderr
    assert "--allow-url-host" in proc.stderr and "10.0.0.0/99" in proc.stderr
    assert not os.path.exists(tmp_path / "home" / "server.json")
