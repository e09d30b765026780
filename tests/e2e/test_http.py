"""The REST API seen from a plain HTTP client: authentication on every route,
body limits, path safety in datastores and uploads, concurrent creates, binding
and shutdown."""

import base64
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import threading
import time

import pytest

from lote_e2e import (EXIT_AUTH, EXIT_UNREACHABLE, REPO, Server, api_error, create_compute,
                      write_autolog)

EP = "mybatchedp"
DEP = "dep-one"
DS = "workspaceblobstore"


# --- helpers ----------------------------------------------------------------------

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge_token(server, endpoint, expires_at):
    """Signs an endpoint token with the server's own key (home/signing_key), the
    way `POST /endpoints/{name}/token` does, to make tokens with chosen claims
    (bound to the endpoint's current uid, as issued tokens are)."""
    with open(os.path.join(server.home, "signing_key")) as f:
        key = f.read().strip()
    status, ep = server.http("GET", f"/api/v1/endpoints/{endpoint}")
    uid = ep["uid"] if status == 200 else "no-such-endpoint"
    body = b64url(json.dumps({"ep": endpoint, "exp": expires_at, "uid": uid}).encode())
    sig = b64url(hmac.new(key.encode(), body.encode(), hashlib.sha256).digest())
    return f"lote1.{body}.{sig}"


def endpoint_token(server, name):
    status, body = server.http("POST", f"/api/v1/endpoints/{name}/token", raw=b"{}")
    assert status == 200, body
    assert body["tokenType"] == "Bearer"
    return body["accessToken"]


def race(n, fn):
    """Runs fn(i) in n threads released together; returns the results in order."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as e:  # noqa: BLE001 - reported through the results
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.fixture
def populated(server, workdir):
    """A server holding one of everything the routes below name."""
    create_compute(server)
    write_autolog(workdir / "autolog")
    server.cli("model", "create", "--name", "autolog", "--version", "1", "--path",
               workdir / "autolog")
    (workdir / "inputs").mkdir()
    (workdir / "inputs" / "a.csv").write_text("x\n1\n")
    server.cli("data", "create", "--name", "taxi", "--version", "1", "--path", workdir / "inputs")
    status, body = server.http("POST", "/api/v1/endpoints", {"name": EP, "type": "batch"})
    assert status == 201, body
    status, body = server.http("PUT", f"/api/v1/endpoints/{EP}/deployments/{DEP}",
                               {"model": "azureml:autolog:1",
                                "compute": {"target": "azureml:cpu-cluster"}})
    assert status == 200, body
    status, body = server.http("PUT", f"/api/v1/datastores/{DS}/files/hello.txt", raw=b"hello\n")
    assert status == 201, body
    status, body = server.http("POST", "/api/v1/uploads", raw=b"{}")
    assert status == 201, body
    server.upload_id = body["upload_id"]
    return server


def all_routes(upload_id):
    """Every route of the REST API with each of its methods, and a valid body."""
    return [
        ("GET", "/api/v1/computes", None),
        ("POST", "/api/v1/computes", {"name": "other-cluster", "type": "local", "max_instances": 2}),
        ("GET", "/api/v1/computes/cpu-cluster", None),
        ("PATCH", "/api/v1/computes/cpu-cluster", {"max_instances": 3}),
        ("DELETE", "/api/v1/computes/cpu-cluster", None),
        ("GET", "/api/v1/models", None),
        ("POST", "/api/v1/models", {"name": "m2", "upload_id": upload_id}),
        ("GET", "/api/v1/models/autolog/versions", None),
        ("GET", "/api/v1/models/autolog/versions/1", None),
        ("DELETE", "/api/v1/models/autolog/versions/1", None),
        ("GET", "/api/v1/data", None),
        ("POST", "/api/v1/data", {"name": "web", "path": "https://example.invalid/x.csv"}),
        ("GET", "/api/v1/data/taxi/versions", None),
        ("GET", "/api/v1/data/taxi/versions/1", None),
        ("DELETE", "/api/v1/data/taxi/versions/1", None),
        ("GET", "/api/v1/datastores", None),
        ("POST", "/api/v1/datastores", {"name": "other-store", "path": REPO}),
        ("GET", f"/api/v1/datastores/{DS}", None),
        ("DELETE", f"/api/v1/datastores/{DS}", None),
        ("PUT", f"/api/v1/datastores/{DS}/files/new.txt", b"payload"),
        ("GET", f"/api/v1/datastores/{DS}/files/hello.txt", None),
        ("POST", "/api/v1/uploads", {}),
        ("PUT", f"/api/v1/uploads/{upload_id}/files/a.txt", b"payload"),
        ("GET", "/api/v1/endpoints", None),
        ("POST", "/api/v1/endpoints", {"name": "other-edp", "type": "batch"}),
        ("GET", f"/api/v1/endpoints/{EP}", None),
        ("PATCH", f"/api/v1/endpoints/{EP}", {"description": "changed"}),
        ("DELETE", f"/api/v1/endpoints/{EP}", None),
        ("PUT", f"/api/v1/endpoints/{EP}/deployments/dep-two",
         {"model": "azureml:autolog:1", "compute": {"target": "azureml:cpu-cluster"}}),
        ("GET", f"/api/v1/endpoints/{EP}/deployments/{DEP}", None),
        ("DELETE", f"/api/v1/endpoints/{EP}/deployments/{DEP}", None),
        ("POST", f"/api/v1/endpoints/{EP}/token", {}),
        ("POST", f"/api/v1/endpoints/{EP}/jobs", {"properties": {}}),
        # Jobs and the agents' API (a job id that does not exist: auth comes first).
        ("GET", "/api/v1/jobs", None),
        ("GET", "/api/v1/jobs/no-such-job", None),
        ("POST", "/api/v1/jobs/no-such-job/cancel", {}),
        ("GET", "/api/v1/jobs/no-such-job/log", None),
        ("GET", "/api/v1/jobs/no-such-job/files", None),
        ("GET", "/api/v1/jobs/no-such-job/files/predictions.csv", None),
        ("GET", "/api/v1/jobs/no-such-job/agent-config", None),
        ("POST", "/api/v1/jobs/no-such-job/lease", {"worker": "w0", "max": 1}),
        ("POST", "/api/v1/jobs/no-such-job/tasks/results",
         b'{"worker": "w0", "results": [{"task": 1, "lease": "l", "bytes": 4}]}\na,1\n'),
        ("POST", "/api/v1/jobs/no-such-job/tasks/release", {"worker": "w0", "tasks": []}),
        ("POST", "/api/v1/jobs/no-such-job/tasks/0/fail", {"outcome": "RUN_EXCEPTION"}),
        # An unknown path is no way around authentication either.
        ("GET", "/api/v1/no-such-route", None),
    ]


def send(server, method, path, body, token):
    if isinstance(body, bytes):
        return server.request(method, path, raw=body, token=token)
    return server.request(method, path, body=body, token=token)


def assert_state_unchanged(server):
    """Nothing that the refused requests named was created, changed or deleted."""
    status, ep = server.http("GET", f"/api/v1/endpoints/{EP}")
    assert status == 200, ep
    assert [d["name"] for d in ep["deployments"]] == [DEP]
    assert ep["description"] == ""
    assert server.http("GET", "/api/v1/computes/cpu-cluster")[1]["max_instances"] == 5
    assert [c["name"] for c in server.http("GET", "/api/v1/computes")[1]] == ["cpu-cluster"]
    assert [m["id"] for m in server.http("GET", "/api/v1/models")[1]] == ["azureml:autolog:1"]
    assert [d["id"] for d in server.http("GET", "/api/v1/data")[1]] == ["azureml:taxi:1"]
    assert [d["name"] for d in server.http("GET", "/api/v1/endpoints")[1]] == [EP]
    assert [d["name"] for d in server.http("GET", "/api/v1/datastores")[1]] == [DS]
    assert server.http("GET", f"/api/v1/datastores/{DS}/files/new.txt")[0] == 404
    assert not os.path.exists(os.path.join(server.home, "staging", server.upload_id, "a.txt"))


# --- authentication -----------------------------------------------------------------

def test_health_needs_no_token(server):
    assert server.http("GET", "/api/v1/health", token=None) == (200, {"status": "ok"})
    assert server.http("GET", "/api/v1/health", token="garbage") == (200, {"status": "ok"})


def test_every_route_refuses_a_missing_token_with_401(populated):
    failures = []
    for method, path, body in all_routes(populated.upload_id):
        status, headers, reply = send(populated, method, path, body, token=None)
        err = reply.get("error", {}) if isinstance(reply, dict) else {}
        if (status != 401 or err.get("code") != "Unauthenticated"
                or "missing 'Authorization: Bearer <token>'" not in err.get("message", "")
                or headers.get("www-authenticate") != "Bearer"):
            failures.append(f"{method} {path}: {status} {reply!r} {headers.get('www-authenticate')}")
    assert not failures, "\n".join(failures)
    assert_state_unchanged(populated)


@pytest.mark.parametrize("bad", ["garbage", "lote1.abc.def", "lote1.eyJlcCI6Im15YmF0Y2hlZHAifQ"])
def test_every_route_refuses_a_wrong_token_with_401(populated, bad):
    failures = []
    for method, path, body in all_routes(populated.upload_id):
        status, _, reply = send(populated, method, path, body, token=bad)
        err = reply.get("error", {}) if isinstance(reply, dict) else {}
        if (status != 401 or err.get("code") != "Unauthenticated"
                or "invalid token" not in err.get("message", "")):
            failures.append(f"{method} {path}: {status} {reply!r}")
    assert not failures, "\n".join(failures)
    assert_state_unchanged(populated)


def test_every_route_refuses_a_non_bearer_scheme(populated):
    failures = []
    for method, path, body in all_routes(populated.upload_id):
        raw = body if isinstance(body, bytes) else (
            json.dumps(body).encode() if body is not None else None)
        status, _, reply = populated.request(
            method, path, raw=raw, token=None,
            headers={"Authorization": f"Basic {populated.admin_token}"})
        err = reply.get("error", {}) if isinstance(reply, dict) else {}
        if status != 401 or "must be 'Bearer <token>'" not in err.get("message", ""):
            failures.append(f"{method} {path}: {status} {reply!r}")
    assert not failures, "\n".join(failures)
    assert_state_unchanged(populated)


def test_token_of_another_server_is_refused(populated, lote_bin, tmp_path):
    other = Server(lote_bin, tmp_path / "other-home")
    try:
        status, body = other.http("POST", "/api/v1/endpoints", {"name": EP, "type": "batch"})
        assert status == 201, body
        foreign = endpoint_token(other, EP)
        assert other.http("POST", f"/api/v1/endpoints/{EP}/jobs", {})[0] not in (401, 403)
    finally:
        assert other.stop() == 0
    status, reply = populated.http("POST", f"/api/v1/endpoints/{EP}/jobs", {}, token=foreign)
    assert status == 401
    assert api_error(reply)["message"] == "invalid token: bad signature"
    # The admin token of one server is no key to another either.
    status, reply = populated.http("GET", "/api/v1/computes", token=other.admin_token)
    assert status == 401 and "invalid token" in api_error(reply)["message"]


# What an endpoint token may call beside invoking: reading its endpoint's jobs
# (a job that is not one of them is 404, as if it did not exist).
JOB_READS = {"/api/v1/jobs/no-such-job", "/api/v1/jobs/no-such-job/log", "/api/v1/jobs/no-such-job/files",
             "/api/v1/jobs/no-such-job/files/predictions.csv"}


def test_endpoint_token_may_only_invoke_its_endpoint(populated):
    token = endpoint_token(populated, EP)
    scoring = f"/api/v1/endpoints/{EP}/jobs"
    status, reply = populated.http("POST", scoring, {"properties": {}}, token=token)
    assert status not in (401, 403), reply
    failures = []
    for method, path, body in all_routes(populated.upload_id):
        if (method, path) == ("POST", scoring):
            continue
        status, _, reply = send(populated, method, path, body, token=token)
        err = reply.get("error", {}) if isinstance(reply, dict) else {}
        if method == "GET" and path in JOB_READS:
            if status != 404 or err.get("message") != "job 'no-such-job' not found":
                failures.append(f"{method} {path}: {status} {reply!r}")
            continue
        if (status != 403 or err.get("code") != "PermissionDenied"
                or f"may only invoke endpoint '{EP}'" not in err.get("message", "")):
            failures.append(f"{method} {path}: {status} {reply!r}")
    assert not failures, "\n".join(failures)
    # Other methods on the scoring URI itself are no invocation.
    for method in ("GET", "PUT", "DELETE"):
        status, reply = populated.http(method, scoring, token=token)
        assert status == 403, (method, status, reply)
    assert_state_unchanged(populated)


def test_token_of_another_endpoint_gets_403(populated):
    status, body = populated.http("POST", "/api/v1/endpoints", {"name": "other-edp", "type": "batch"})
    assert status == 201, body
    other = endpoint_token(populated, "other-edp")
    status, reply = populated.http("POST", f"/api/v1/endpoints/{EP}/jobs", {}, token=other)
    assert status == 403
    err = api_error(reply)
    assert err["code"] == "PermissionDenied"
    assert "may only invoke endpoint 'other-edp'" in err["message"]
    status, reply = populated.http("POST", "/api/v1/endpoints/other-edp/jobs", {}, token=other)
    assert status not in (401, 403), reply


def test_forged_and_expired_tokens(populated):
    now = int(time.time())
    # Control: a token signed the way the server signs is accepted, so the two
    # refusals below are about the claims, not about how the test signs.
    good = forge_token(populated, EP, now + 600)
    status, reply = populated.http("POST", f"/api/v1/endpoints/{EP}/jobs", {}, token=good)
    assert status not in (401, 403), reply

    expired = forge_token(populated, EP, now - 5)
    status, reply = populated.http("POST", f"/api/v1/endpoints/{EP}/jobs", {}, token=expired)
    assert status == 401
    assert api_error(reply)["message"] == "token expired"

    # Changing the claims breaks the signature.
    prefix, body, sig = good.split(".")
    tampered_body = b64url(json.dumps({"ep": "other-edp", "exp": now + 600, "uid": "x"}).encode())
    status, reply = populated.http("POST", "/api/v1/endpoints/other-edp/jobs", {},
                                   token=f"{prefix}.{tampered_body}.{sig}")
    assert status == 401
    assert api_error(reply)["message"] == "invalid token: bad signature"


def test_cli_with_an_endpoint_token_cannot_administer(populated):
    token = endpoint_token(populated, EP)
    env = populated.env()
    env.pop("LOTE_HOME")
    env.update(LOTE_ENDPOINT=populated.url, LOTE_TOKEN=token)
    proc = populated.cli("compute", "list", check=False, env=env)
    assert proc.returncode == EXIT_AUTH
    assert f"may only invoke endpoint '{EP}'" in proc.stderr
    env["LOTE_TOKEN"] = "garbage"
    proc = populated.cli("compute", "list", check=False, env=env)
    assert proc.returncode == EXIT_AUTH
    assert "invalid token" in proc.stderr
    env["LOTE_TOKEN"] = populated.admin_token
    assert populated.cli("compute", "list", "--query", "[0].name", "-o", "tsv",
                         env=env).stdout == "cpu-cluster\n"


def test_unknown_route_is_401_without_token_and_404_with_one(server):
    status, reply = server.http("GET", "/api/v1/nothing-here", token=None)
    assert status == 401 and api_error(reply)["code"] == "Unauthenticated"
    status, reply = server.http("GET", "/api/v1/nothing-here")
    assert status == 404
    assert api_error(reply)["message"] == "no route for GET /api/v1/nothing-here"


# --- request bodies -------------------------------------------------------------------

JSON_ROUTES = [
    ("POST", "/api/v1/computes"),
    ("PATCH", "/api/v1/computes/cpu-cluster"),
    ("POST", "/api/v1/models"),
    ("POST", "/api/v1/data"),
    ("POST", "/api/v1/datastores"),
    ("POST", "/api/v1/endpoints"),
    ("PATCH", f"/api/v1/endpoints/{EP}"),
    ("PUT", f"/api/v1/endpoints/{EP}/deployments/{DEP}"),
]


def test_malformed_json_is_400_with_a_message(populated):
    failures = []
    cases = [
        (b'{"name": ', "malformed JSON body at byte"),
        (b'{"name": "x",}', "malformed JSON body at byte"),
        (b"not json", "malformed JSON body at byte"),
        (b"[1, 2]", "request body must be a JSON object"),
        (b'"text"', "request body must be a JSON object"),
        (b"", "request body is empty"),
    ]
    for method, path in JSON_ROUTES:
        for raw, words in cases:
            status, _, reply = populated.request(method, path, raw=raw,
                                                 headers={"Content-Type": "application/json"})
            err = reply.get("error", {}) if isinstance(reply, dict) else {}
            if status != 400 or err.get("code") != "InvalidArgument" or words not in err.get("message", ""):
                failures.append(f"{method} {path} {raw!r}: {status} {reply!r}")
    assert not failures, "\n".join(failures)
    assert_state_unchanged(populated)


def send_oversized(server, method, path, size):
    """Sends a JSON body of `size` bytes; the server may answer before reading it
    all and close the connection, so a broken pipe while sending is fine."""
    body = b'{"name": "' + b"a" * (size - 13) + b'"}'
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        conn.putrequest(method, path)
        conn.putheader("Authorization", f"Bearer {server.admin_token}")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        try:
            conn.send(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def test_oversized_json_body_is_413(populated):
    failures = []
    routes = JSON_ROUTES + [
        # A path that holds "/files/" is still a JSON route (an endpoint may be
        # called "files"), so the 1 MiB limit applies too.
        ("PUT", "/api/v1/endpoints/files/deployments/dep-one"),
    ]
    for method, path in routes:
        status, reply = send_oversized(populated, method, path, (1 << 20) + 1024)
        err = reply.get("error", {}) if isinstance(reply, dict) else {}
        if status != 413 or err.get("code") != "PayloadTooLarge" or "1 MiB" not in err.get("message", ""):
            failures.append(f"{method} {path}: {status} {reply!r}")
    assert not failures, "\n".join(failures)
    # Just under the limit is read and judged on its content instead.
    status, reply = send_oversized(populated, "POST", "/api/v1/computes", (1 << 20) - 64)
    assert status == 400, reply
    assert api_error(reply)["field"] == "name"
    assert_state_unchanged(populated)


def test_file_uploads_are_not_limited_to_1_mib(server):
    blob = os.urandom(3 << 20)
    status, reply = server.http("PUT", f"/api/v1/datastores/{DS}/files/big/blob.bin", raw=blob)
    assert status == 201, reply
    status, headers, got = server.request("GET", f"/api/v1/datastores/{DS}/files/big/blob.bin")
    assert status == 200
    assert headers["content-type"] == "application/octet-stream"
    assert headers["content-length"] == str(len(blob))
    # request() decodes text; compare through a raw read instead.
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    conn.request("GET", f"/api/v1/datastores/{DS}/files/big/blob.bin",
                 headers={"Authorization": f"Bearer {server.admin_token}"})
    assert conn.getresponse().read() == blob
    conn.close()


def test_post_without_content_length_is_refused_at_once(server):
    # A POST, PUT or PATCH must size its body (an empty one as Content-Length:
    # 0): lote answers 411 at once and closes, rather than guess.
    with socket.create_connection((server.host, server.port), timeout=3) as s:
        s.sendall(f"POST /api/v1/uploads HTTP/1.1\r\nHost: {server.host}\r\n"
                  f"Authorization: Bearer {server.admin_token}\r\nConnection: close\r\n\r\n".encode())
        reply = b""
        while chunk := s.recv(65536):  # TimeoutError after 3 s when the server waits
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"411", reply
    assert "Content-Length" in json.loads(body)["error"]["message"]


# --- paths inside datastores and uploads ------------------------------------------------

BAD_PATHS = [
    ("../evil.txt", "contains '..'"),
    ("../../evil.txt", "contains '..'"),
    ("a/../../evil.txt", "contains '..'"),
    ("a/%2E%2E/%2E%2E/evil.txt", "contains '..'"),
    ("..%2F..%2Fevil.txt", "contains '..'"),
    ("/tmp/evil.txt", "is absolute"),
    ("%2Ftmp%2Fevil.txt", "is absolute"),
]


def raw_request(server, method, path, body=b""):
    """http.client sends the path exactly as given (no dot-segment removal)."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.putheader("Authorization", f"Bearer {server.admin_token}")
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        if body:
            conn.send(body)
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    finally:
        conn.close()


def test_datastore_paths_cannot_leave_the_datastore(server, tmp_path):
    failures = []
    for rel, words in BAD_PATHS:
        for method in ("PUT", "GET"):
            status, text = raw_request(server, method, f"/api/v1/datastores/{DS}/files/{rel}",
                                       b"evil" if method == "PUT" else b"")
            try:
                err = json.loads(text)["error"]
            except (ValueError, KeyError, TypeError):
                err = {}
            if (status != 400 or err.get("code") != "InvalidArgument" or words not in err.get("message", "")
                    or f"datastore '{DS}'" not in err.get("message", "")):
                failures.append(f"{method} {rel}: {status} {text!r}")
    # The secret files two levels up are never served.
    for rel in ("../../admin_token", "../../signing_key", "..%2F..%2Fsigning_key"):
        status, text = raw_request(server, "GET", f"/api/v1/datastores/{DS}/files/{rel}")
        if status != 400 or server.admin_token in text:
            failures.append(f"GET {rel}: {status} {text!r}")
    assert not failures, "\n".join(failures)
    found = [os.path.join(d, f) for d, _, fs in os.walk(tmp_path) for f in fs if "evil" in f]
    assert found == [] and not os.path.exists("/tmp/evil.txt"), found


def test_upload_paths_cannot_leave_the_upload(server, tmp_path):
    status, body = server.http("POST", "/api/v1/uploads", raw=b"{}")
    assert status == 201
    up = body["upload_id"]
    failures = []
    for rel, words in BAD_PATHS:
        status, text = raw_request(server, "PUT", f"/api/v1/uploads/{up}/files/{rel}", b"evil")
        if status != 400 or words not in text:
            failures.append(f"PUT {rel}: {status} {text!r}")
    status, text = raw_request(server, "PUT", "/api/v1/uploads/../files/a.txt", b"x")
    if status != 400 or "malformed upload id" not in text:
        failures.append(f"bad upload id: {status} {text!r}")
    status, text = raw_request(server, "PUT", f"/api/v1/uploads/{'0' * 32}/files/a.txt", b"x")
    if status != 404 or "not found" not in text:
        failures.append(f"unknown upload id: {status} {text!r}")
    assert not failures, "\n".join(failures)
    found = [os.path.join(d, f) for d, _, fs in os.walk(tmp_path) for f in fs if "evil" in f]
    assert found == [], found


def test_uploads_never_overwrite(server):
    status, body = server.http("POST", "/api/v1/uploads", raw=b"{}")
    assert status == 201
    up = body["upload_id"]
    for base in (f"/api/v1/uploads/{up}/files", f"/api/v1/datastores/{DS}/files"):
        assert server.http("PUT", f"{base}/dir/a.txt", raw=b"first")[0] == 201
        status, reply = server.http("PUT", f"{base}/dir/a.txt", raw=b"second")
        assert status == 409, (base, reply)
        err = api_error(reply)
        assert err["code"] == "AlreadyExists"
        assert err["message"] == "'a.txt' already exists; uploads never overwrite"
    status, text = raw_request(server, "GET", f"/api/v1/datastores/{DS}/files/dir/a.txt")
    assert (status, text) == (200, "first")
    with open(os.path.join(server.home, "staging", up, "dir", "a.txt")) as f:
        assert f.read() == "first"


def slow_put_race(server, path, n=8):
    """n clients PUT the same path at once: each sends its headers and half its
    body, all wait, then all finish. Returns [(status, content)]."""
    conns = []
    for i in range(n):
        content = bytes([ord("A") + i]) * 4096
        conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
        conn.putrequest("PUT", path)
        conn.putheader("Authorization", f"Bearer {server.admin_token}")
        conn.putheader("Content-Length", str(len(content)))
        conn.endheaders()
        conn.send(content[:2048])
        conns.append((conn, content))
    time.sleep(0.5)  # every handler has started and is reading its body

    def finish(i):
        conn, content = conns[i]
        try:
            conn.send(content[2048:])
            resp = conn.getresponse()
            resp.read()
            return resp.status, content
        finally:
            conn.close()

    return race(n, finish)


@pytest.mark.parametrize("where", ["datastore", "upload"])
def test_concurrent_puts_of_one_file_store_exactly_one(server, where):
    if where == "datastore":
        path = f"/api/v1/datastores/{DS}/files/race/one.bin"
    else:
        status, body = server.http("POST", "/api/v1/uploads", raw=b"{}")
        assert status == 201
        path = f"/api/v1/uploads/{body['upload_id']}/files/race/one.bin"
    results = slow_put_race(server, path)
    statuses = sorted(r[0] for r in results)
    assert statuses == [201] + [409] * 7, statuses
    winner = next(content for status, content in results if status == 201)
    if where == "datastore":
        status, text = raw_request(server, "GET", path)
        assert status == 200 and text.encode() == winner


# --- concurrent creates ------------------------------------------------------------------

@pytest.mark.parametrize("route,body", [
    ("/api/v1/computes", {"name": "race-cluster", "type": "local", "max_instances": 2}),
    ("/api/v1/endpoints", {"name": "race-edp", "type": "batch"}),
    ("/api/v1/datastores", {"name": "race-store", "path": "<tmp>"}),
], ids=["compute", "endpoint", "datastore"])
def test_concurrent_creates_of_one_name_make_exactly_one(server, tmp_path, route, body):
    body = {k: (str(tmp_path) if v == "<tmp>" else v) for k, v in body.items()}
    results = race(8, lambda i: server.http("POST", route, body))
    statuses = sorted(r[0] if isinstance(r, tuple) else repr(r) for r in results)
    assert statuses == [201] + [409] * 7, results
    for status, reply in results:
        if status == 409:
            err = api_error(reply)
            assert err["code"] == "AlreadyExists"
            assert f"'{body['name']}' already exists" in err["message"]
    status, listed = server.http("GET", route)
    assert [r["name"] for r in listed].count(body["name"]) == 1


def test_concurrent_model_versions_are_distinct(server, workdir):
    """Eight registrations without a version: eight different versions 1..8."""
    write_autolog(workdir / "autolog")
    ids = []
    for _ in range(8):
        status, up = server.http("POST", "/api/v1/uploads", raw=b"{}")
        assert server.http("PUT", f"/api/v1/uploads/{up['upload_id']}/files/MLmodel",
                           raw=b"flavors: {}\n")[0] == 201
        ids.append(up["upload_id"])
    results = race(8, lambda i: server.http("POST", "/api/v1/models",
                                            {"name": "racy", "upload_id": ids[i]}))
    assert sorted(r[0] for r in results) == [201] * 8, results
    assert sorted(int(r[1]["version"]) for r in results) == list(range(1, 9))


# --- binding and shutdown ----------------------------------------------------------------

def listening_addresses(port):
    """Local addresses with a socket listening on `port` (from /proc/net/tcp*)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            addr, p = fields[1].split(":")
            if int(p, 16) == port and fields[3] == "0A":  # 0A = LISTEN
                found.append(addr)
    return found


def test_binds_to_loopback_by_default(server):
    assert server.url == f"http://127.0.0.1:{server.port}"
    log = server.log()
    assert f"lote serve: listening on http://127.0.0.1:{server.port}" in log
    assert "warning" not in log
    # 0100007F is 127.0.0.1 in /proc/net/tcp's little-endian hex.
    assert listening_addresses(server.port) == ["0100007F"]


def test_server_files_are_private(server):
    for name in ("admin_token", "signing_key", "server.json"):
        mode = os.stat(os.path.join(server.home, name)).st_mode & 0o777
        assert mode == 0o600, (name, oct(mode))
    assert os.stat(server.home).st_mode & 0o077 == 0
    with open(os.path.join(server.home, "server.json")) as f:
        info = json.load(f)
    assert info == {"url": server.url, "pid": server.proc.pid}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_shuts_down_cleanly(server, sig):
    assert server.http("GET", "/api/v1/health")[0] == 200
    started = time.monotonic()
    assert server.stop(sig) == 0, server.log()
    assert time.monotonic() - started < 10
    assert not os.path.exists(os.path.join(server.home, "server.json"))
    assert server.log().rstrip().endswith("lote serve: stopped")
    # The CLI now says that no server runs, with its own exit code.
    proc = server.cli("compute", "list", check=False)
    assert proc.returncode == EXIT_UNREACHABLE
    assert "no lote server found" in proc.stderr
    env = server.env(LOTE_ENDPOINT=server.url, LOTE_TOKEN=server.admin_token)
    proc = server.cli("compute", "list", check=False, env=env)
    assert proc.returncode == EXIT_UNREACHABLE
    assert f"cannot reach the lote server at {server.url}" in proc.stderr


def test_sigterm_right_after_start(lote_bin, tmp_path):
    for i in range(5):
        srv = Server(lote_bin, tmp_path / f"home{i}")
        assert srv.stop() == 0, srv.log()
        assert not os.path.exists(os.path.join(srv.home, "server.json"))


def test_sigterm_with_an_idle_keep_alive_client(server):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    conn.request("GET", "/api/v1/health")
    assert conn.getresponse().read()
    try:
        started = time.monotonic()
        assert server.stop() == 0
        assert time.monotonic() - started < 10
    finally:
        conn.close()


def test_sigterm_with_a_stalled_upload(server):
    s = socket.create_connection((server.host, server.port), timeout=30)
    try:
        s.sendall(f"PUT /api/v1/datastores/{DS}/files/stalled.bin HTTP/1.1\r\nHost: x\r\n"
                  f"Authorization: Bearer {server.admin_token}\r\nContent-Length: 1000\r\n\r\n"
                  f"only part of it".encode())
        time.sleep(0.2)
        server.proc.send_signal(signal.SIGTERM)
        try:
            rc = server.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 - TimeoutExpired: still running
            rc = None
        assert rc == 0
    finally:
        s.close()


def test_restart_keeps_resources_and_tokens(lote_bin, tmp_path, workdir):
    home = tmp_path / "home"
    first = Server(lote_bin, home)
    try:
        create_compute(first)
        status, body = first.http("POST", "/api/v1/endpoints", {"name": EP, "type": "batch"})
        assert status == 201
        token = endpoint_token(first, EP)
    finally:
        assert first.stop() == 0
    second = Server(lote_bin, home)
    try:
        assert second.admin_token == first.admin_token
        assert second.cli("compute", "show", "--name", "cpu-cluster", "--query", "max_instances",
                          "-o", "tsv").stdout == "5\n"
        status, reply = second.http("POST", f"/api/v1/endpoints/{EP}/jobs", {}, token=token)
        assert status not in (401, 403), reply
        status, reply = second.http("GET", f"/api/v1/endpoints/{EP}")
        assert reply["scoring_uri"] == f"{second.url}/api/v1/endpoints/{EP}/jobs"
    finally:
        assert second.stop() == 0


def test_a_refused_endpoint_create_leaves_no_code_behind(server):
    """The first deployment's uploaded code is moved into the server's home
    before the second one is found wrong: the refused create takes it away
    again (as it does when a concurrent create of the same name wins)."""
    assert server.http("POST", "/api/v1/computes",
                       {"name": "cpu-cluster", "type": "local", "max_instances": 2})[0] == 201
    status, up = server.http("POST", "/api/v1/uploads", raw=b"{}")
    assert server.http("PUT", f"/api/v1/uploads/{up['upload_id']}/files/MLmodel",
                       raw=b"flavors: {}\n")[0] == 201
    assert server.http("POST", "/api/v1/models",
                       {"name": "codemodel", "upload_id": up["upload_id"]})[0] == 201
    deployments = []
    for name, compute in (("dep1", "cpu-cluster"), ("dep2", "no-such-cluster")):
        status, code = server.http("POST", "/api/v1/uploads", raw=b"{}")
        assert server.http("PUT", f"/api/v1/uploads/{code['upload_id']}/files/score.py",
                           raw=b"def run(mini_batch):\n    return mini_batch\n")[0] == 201
        deployments.append({"name": name, "model": "azureml:codemodel:1",
                            "code_configuration": {"code": {"upload_id": code["upload_id"]},
                                                   "scoring_script": "score.py"},
                            "compute": {"target": f"azureml:{compute}"}})
    status, reply = server.http("POST", "/api/v1/endpoints",
                                {"name": "leaky", "type": "batch", "deployments": deployments})
    assert status == 404, reply
    assert "no-such-cluster" in api_error(reply)["message"]
    code_root = os.path.join(server.home, "code", "leaky")
    assert not os.path.exists(code_root) or os.listdir(code_root) == [], os.listdir(code_root)
