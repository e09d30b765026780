"""The HTTP server under hostile clients (issue 9): request smuggling through
an early refusal, pipelining, slow-header connections, an endless request
line, a burst of connections, a busy port, deeply nested JSON, and bodies of
the wrong types. Raw sockets where the client must misbehave; the real
`lote serve` throughout. Time bounds are generous: they say "not starved",
not "fast"."""

import json
import socket
import subprocess
import threading
import time

import pytest

from lote_e2e import _clean_env, api_error
from test_http import DS, EP, endpoint_token, populated, race  # noqa: F401 - fixture

# --- raw HTTP ---------------------------------------------------------------------


def connect(server, timeout=10):
    return socket.create_connection((server.host, server.port), timeout=timeout)


def request_bytes(method, path, token=None, body=b"", headers=None):
    lines = [f"{method} {path} HTTP/1.1", "Host: lote"]
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    headers = dict(headers or {})
    if body or method in ("POST", "PUT", "PATCH"):
        headers.setdefault("Content-Length", str(len(body)))
    for k, v in headers.items():
        lines.append(f"{k}: {v}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Reader:
    """Reads HTTP/1.1 responses (Content-Length bodies) off a raw socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.closed = False

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        if not chunk:
            self.closed = True
        self.buf += chunk
        return bool(chunk)

    def response(self):
        """(status, headers, body), or None when the connection ends first."""
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                return None
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode(errors="replace").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        while len(rest) < n:
            self.buf = head + b"\r\n\r\n" + rest
            if not self._fill():
                return None
            head, _, rest = self.buf.partition(b"\r\n\r\n")
        self.buf = rest[n:]
        return status, headers, rest[:n]

    def wait_closed(self, timeout):
        """True when the peer closes within `timeout` s (data kept in buf)."""
        self.sock.settimeout(timeout)
        try:
            while self._fill():
                pass
        except socket.timeout:
            return False
        return True


def vm_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {key} in /proc/{pid}/status")


def healthy(server):
    return server.http("GET", "/api/v1/health", token=None) == (200, {"status": "ok"})


# --- smuggling and pipelining ----------------------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("POST", "/api/v1/computes"),
    ("PATCH", f"/api/v1/endpoints/{EP}"),
    ("PUT", f"/api/v1/datastores/{DS}/files/smuggle.txt"),
])
def test_a_refused_body_is_never_parsed_as_a_request(populated, method, path):  # noqa: F811
    """An unauthenticated request announces a body and sends it in a second
    segment; the "body" is a whole admin-token DELETE. The server answers 401,
    closes, and the DELETE never runs."""
    server = populated
    delete = request_bytes("DELETE", f"/api/v1/endpoints/{EP}", token=server.admin_token)
    with connect(server) as s:
        s.sendall(request_bytes(method, path, headers={"Content-Length": str(len(delete))}))
        time.sleep(0.3)  # the headers are processed alone
        try:
            s.sendall(delete)
        except OSError:
            pass  # the server may already have closed: so much the better
        reader = Reader(s)
        first = reader.response()
        assert first is not None and first[0] == 401, first
        assert first[1].get("connection") == "close", first
        assert reader.wait_closed(5), "the connection stayed open after a refusal with a body"
        assert b"HTTP/1.1" not in reader.buf, f"a second answer came: {reader.buf!r}"
    time.sleep(0.2)
    status, body = server.http("GET", f"/api/v1/endpoints/{EP}")
    assert status == 200, f"the smuggled DELETE ran: {body}"


def test_pipelined_requests_are_answered_in_order(populated):  # noqa: F811
    server = populated
    batch = (request_bytes("GET", f"/api/v1/endpoints/{EP}", token=server.admin_token)
             + request_bytes("GET", "/api/v1/computes")  # no token: 401, connection kept
             + request_bytes("POST", "/api/v1/computes", token=server.admin_token,
                             body=b'{"name": "piped-cluster", "type": "local", "max_instances": 1}')
             + request_bytes("GET", "/api/v1/health"))
    with connect(server) as s:
        s.sendall(batch)  # one send()
        reader = Reader(s)
        answers = [reader.response() for _ in range(4)]
    assert all(a is not None for a in answers), answers
    assert [a[0] for a in answers] == [200, 401, 201, 200], answers
    assert json.loads(answers[0][2])["name"] == EP
    assert json.loads(answers[2][2])["name"] == "piped-cluster"
    assert json.loads(answers[3][2]) == {"status": "ok"}


# --- starvation -----------------------------------------------------------------------

def test_slow_header_clients_starve_nobody_and_are_closed(server):
    """100 connections trickle a request's headers, a byte a second, without a
    token. Meanwhile 20 requests of a normal client all succeed at once, and
    the header deadline (10 s) closes every slow connection."""
    slow = []
    for _ in range(100):
        s = connect(server)
        s.setblocking(False)
        slow.append(s)
    trickle = (b"GET /api/v1/computes HTTP/1.1\r\nHost: lote\r\nX-Slow: " + b"a" * 100)
    stop = threading.Event()
    closed_at = {}
    started = time.monotonic()

    def trickler():
        i = 0
        while not stop.is_set() and len(closed_at) < len(slow) and i < len(trickle):
            for n, s in enumerate(slow):
                if n in closed_at:
                    continue
                try:
                    if s.recv(4096) == b"":
                        closed_at[n] = time.monotonic() - started
                        continue
                except BlockingIOError:
                    pass
                except OSError:
                    closed_at[n] = time.monotonic() - started
                    continue
                try:
                    s.send(trickle[i:i + 1])
                except OSError:
                    closed_at[n] = time.monotonic() - started
            i += 1
            stop.wait(1.0)

    t = threading.Thread(target=trickler)
    t.start()
    try:
        time.sleep(2)  # every slow connection has started its headers
        for i in range(20):
            t0 = time.monotonic()
            status, headers, body = server.request("GET", "/api/v1/computes", timeout=5)
            assert status == 200, (i, status, body)
            assert time.monotonic() - t0 < 5
        t.join(40)
    finally:
        stop.set()
        t.join()
        for s in slow:
            s.close()
    assert len(closed_at) == len(slow), f"{len(slow) - len(closed_at)} slow connections still open"
    assert max(closed_at.values()) < 30, sorted(closed_at.values())
    assert healthy(server)


def test_an_endless_request_line_is_refused_early(server):
    """64 MiB of request line without a newline: refused after a few KiB, and
    the server's memory does not grow with it."""
    pid = server.proc.pid
    assert healthy(server)
    hwm_before = vm_kib(pid, "VmHWM")
    chunk = b"a" * (1 << 20)
    sent = 0
    with connect(server, timeout=10) as s:
        s.sendall(b"GET /")
        try:
            for _ in range(64):
                s.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        reader = Reader(s)
        try:
            answer = reader.response()
        except OSError:
            answer = None
    assert sent < (32 << 20), f"the server read {sent} bytes of one request line"
    if answer is not None:
        assert answer[0] in (400, 414, 431), answer
    assert healthy(server)
    grown_kib = vm_kib(pid, "VmHWM") - hwm_before
    assert grown_kib < 16 * 1024, f"peak RSS grew by {grown_kib} KiB; VmRSS now {vm_kib(pid, 'VmRSS')} KiB"


def test_200_simultaneous_connections_are_all_answered(populated):  # noqa: F811
    """200 clients connect at once and keep their connection open after their
    answer, as agents do: half read the endpoint (admin token), half invoke
    it with an endpoint token (on a datastore that does not exist, so that no
    job starts). Every one is answered within 8 s. (The httplib server held
    a thread per open connection, 64 of them, and a backlog of 5: the other
    136 waited for idle connections to time out, or were reset.)"""
    server = populated
    token = endpoint_token(server, EP)
    invoke = json.dumps({"input": {"datastore": "no-such-store", "path": "x"}}).encode()
    n = 200
    barrier = threading.Barrier(n)
    release = threading.Event()
    results = [None] * n
    started = time.monotonic()

    def one(i):
        try:
            barrier.wait()
            with connect(server, timeout=15) as s:
                if i % 2:
                    s.sendall(request_bytes("POST", f"/api/v1/endpoints/{EP}/jobs", token=token, body=invoke,
                                            headers={"Content-Type": "application/json"}))
                else:
                    s.sendall(request_bytes("GET", f"/api/v1/endpoints/{EP}", token=server.admin_token))
                answer = Reader(s).response()
                results[i] = (answer[0] if answer else "no answer", time.monotonic() - started)
                release.wait(30)  # keep the connection open until every client is answered
        except Exception as e:  # noqa: BLE001 - reported through the results
            results[i] = (repr(e), time.monotonic() - started)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and any(r is None for r in results):
        time.sleep(0.05)
    release.set()
    for t in threads:
        t.join(30)
    failures = [(i, r) for i, r in enumerate(results)
                if r is None or r[0] != (404 if i % 2 else 200) or r[1] > 8]
    assert not failures, f"{len(failures)} of {n} failed or were late: {failures[:5]}"
    assert server.http("GET", "/api/v1/jobs")[1] == []


# --- the port -------------------------------------------------------------------------

def test_a_busy_port_is_refused_and_the_first_server_keeps_it(server, lote_bin, tmp_path):
    home = tmp_path / "second-home"
    proc = subprocess.Popen([lote_bin, "serve", "--home", str(home), "--port", str(server.port)],
                            env=_clean_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"a second `lote serve` on port {server.port} kept running: {out} {err}")
    assert proc.returncode != 0
    assert f"127.0.0.1:{server.port}" in err, err
    assert "Address already in use" in err, err
    # Every request (fresh connections, so none could be split off) reaches the first server.
    for _ in range(30):
        status, body = server.http("GET", "/api/v1/computes")
        assert status == 200, body
    assert healthy(server)


# --- JSON bodies ------------------------------------------------------------------------

@pytest.mark.parametrize("template", [
    # Both shapes killed the server (SIGSEGV: a recursive copy of the value).
    b'{"input": {"datastore": "workspaceblobstore", "path": "hello.txt", "extra": %s}}',
    b'{"input": {"datastore": "workspaceblobstore"}, "set": {"mini_batch_size": %s}}',
], ids=["input", "set"])
def test_deeply_nested_json_is_400_and_the_server_lives(populated, template):  # noqa: F811
    server = populated
    token = endpoint_token(server, EP)
    depth = 100000
    body = template % (b"[" * depth + b"]" * depth)
    assert len(body) < (1 << 20)
    status, reply = server.http("POST", f"/api/v1/endpoints/{EP}/jobs", raw=body, token=token,
                                headers={"Content-Type": "application/json"})
    assert status == 400, reply
    err = api_error(reply)
    assert err["code"] == "InvalidArgument"
    assert "deeper than the limit of 64 levels" in err["message"], err
    assert server.proc.poll() is None
    assert healthy(server)
    # Unclosed brackets, and every route that reads JSON, alike.
    for method, path in [("POST", f"/api/v1/endpoints/{EP}/jobs"), ("POST", "/api/v1/computes"),
                         ("PATCH", f"/api/v1/endpoints/{EP}")]:
        status, reply = server.http(method, path, raw=b"[" * (1 << 19),
                                    headers={"Content-Type": "application/json"})
        assert status == 400 and "limit of 64 levels" in api_error(reply)["message"], (path, reply)
    assert healthy(server)


def invoke_body(**over):
    body = {"input": {"datastore": DS, "path": "hello.txt"}}
    body.update(over)
    return body


MALFORMED = [
    # (method, path, body, field or words the error must name)
    ("POST", f"/api/v1/endpoints/{EP}/jobs", {"input": {"datastore": 1, "path": "x"}}, "input.datastore"),
    ("POST", f"/api/v1/endpoints/{EP}/jobs", {"input": {"datastore": DS, "path": ["x"]}}, "input.path"),
    ("POST", f"/api/v1/endpoints/{EP}/jobs", {"input": {"uri": 5}}, "input.uri"),
    ("POST", f"/api/v1/endpoints/{EP}/jobs", invoke_body(output={"datastore": 1}), "output.datastore"),
    ("POST", f"/api/v1/endpoints/{EP}/jobs", invoke_body(output={"path": {}}), "output.path"),
    ("POST", f"/api/v1/endpoints/{EP}/jobs", invoke_body(output={"file_name": 2}), "output.file_name"),
    ("POST", f"/api/v1/endpoints/{EP}/jobs", invoke_body(output={"path": "x" * 300}), "output.path"),
    ("POST", f"/api/v1/endpoints/{EP}/jobs", invoke_body(deployment=7), "deployment"),
    ("POST", f"/api/v1/endpoints/{EP}/jobs", invoke_body(deployment=["a"]), "deployment"),
    ("POST", "/api/v1/models", {"name": "m2", "upload_id": "0" * 32, "type": 1}, "type"),
    ("POST", "/api/v1/data", {"name": "d2", "path": 1}, "path"),
    ("POST", "/api/v1/data", {"name": "d2", "type": []}, "type"),
    ("POST", "/api/v1/data", {"name": "d2", "path": "https://example.invalid/x", "description": {}},
     "description"),
    ("POST", "/api/v1/jobs/no-such-job/lease", {"worker": 1}, "worker"),
    ("POST", "/api/v1/jobs/no-such-job/lease", {"max": "two"}, "max"),
    ("POST", "/api/v1/jobs/no-such-job/tasks/1/fail", {"outcome": 1}, "outcome"),
    ("POST", "/api/v1/jobs/no-such-job/tasks/1/fail", {"elapsed_ms": "slow"}, "elapsed_ms"),
    ("POST", "/api/v1/jobs/no-such-job/tasks/1/fail", {"error": ["x"]}, "error"),
]


def test_malformed_bodies_are_400_naming_the_field(populated):  # noqa: F811
    server = populated
    failures = []
    for method, path, body, field in MALFORMED:
        status, reply = server.http(method, path, body)
        err = reply.get("error", {}) if isinstance(reply, dict) else {}
        if (status != 400 or err.get("code") != "InvalidArgument" or err.get("field") != field
                or field not in err.get("message", "")):
            failures.append(f"{method} {path} {json.dumps(body)[:80]}: {status} {reply!r}")
    assert not failures, "\n".join(failures)
    assert healthy(server)


def test_a_number_out_of_range_is_400_naming_the_byte(populated):  # noqa: F811
    server = populated
    for method, path in [("POST", f"/api/v1/endpoints/{EP}/jobs"), ("POST", "/api/v1/computes"),
                         ("POST", "/api/v1/jobs/no-such-job/lease")]:
        status, reply = server.http(method, path, raw=b'{"x": 1e400}',
                                    headers={"Content-Type": "application/json"})
        assert status == 400, (path, reply)
        message = api_error(reply)["message"]
        assert "malformed JSON body at byte 11" in message and "1e400" in message, message


def test_route_parameters_out_of_range_are_400(populated):  # noqa: F811
    server = populated
    status, reply = server.http("POST", "/api/v1/jobs/no-such-job/tasks/" + "9" * 30 + "/fail", {})
    assert status == 400, reply
    assert "task id must be an integer" in api_error(reply)["message"]
    status, reply = server.http("POST", "/api/v1/jobs/no-such-job/tasks/-1/fail", {})
    assert status == 400, reply
    for offset in ("abc", "9" * 30, "-5"):
        status, reply = server.http("GET", f"/api/v1/jobs/no-such-job/log?offset={offset}")
        assert status == 400, (offset, reply)
        assert "offset must be an integer" in api_error(reply)["message"]


@pytest.mark.parametrize("where", ["datastore", "upload"])
def test_names_over_the_filesystem_limits_are_400(populated, where):  # noqa: F811
    server = populated
    base = (f"/api/v1/datastores/{DS}/files" if where == "datastore"
            else f"/api/v1/uploads/{server.upload_id}/files")
    status, reply = server.http("PUT", f"{base}/{'a' * 300}", raw=b"x")
    assert status == 400, reply
    assert "over the limit of 255 (NAME_MAX)" in api_error(reply)["message"]
    status, reply = server.http("PUT", f"{base}/dir/{'b' * 256}/x.txt", raw=b"x")
    assert status == 400, reply
    assert "(NAME_MAX)" in api_error(reply)["message"]
    deep = "/".join(["abcdefgh"] * 600)  # 5,399 bytes
    status, reply = server.http("PUT", f"{base}/{deep}", raw=b"x")
    assert status == 400, reply
    assert "(PATH_MAX)" in api_error(reply)["message"]
    # 255 bytes is a legal name.
    status, reply = server.http("PUT", f"{base}/{'c' * 255}", raw=b"x")
    assert status == 201, reply
    assert healthy(server)
