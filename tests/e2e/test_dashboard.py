"""The web dashboard (docs/dashboard.md): one-time login links, the session
cookie and its CSRF rules over plain HTTP, and the page itself driven in
Debian's headless Chromium (tests/browser/dashboard.mjs with playwright-core):
log in, see the jobs, watch a running job's bar move, cancel it, download a
finished job's output.

LOTE_DASHBOARD_SCREENSHOT=docs/dashboard.png also saves the job page for the
README (the Chromium test takes it)."""

import json
import os
import pathlib
import shutil
import subprocess
import urllib.parse

import pytest

from jobs_e2e import (ECHO_SCORE, PYTHON, create_endpoint, deployment_spec, get_job, have_xgboost, invoke,
                      make_files, make_native_models, numbered, sleepy_echo, wait_job, wait_until)

REPO = pathlib.Path(__file__).resolve().parents[2]
BROWSER_DIR = REPO / "tests" / "browser"
CHROMIUM = os.environ.get("LOTE_CHROMIUM", "/usr/bin/chromium")
NODE = shutil.which("node")

# A file name that is markup: the page must show it as text.
HOSTILE = '<img src=x onerror=alert(1)><b class=injected>bad&amp;<i>.txt'  # no '/': one file

# Fails on files whose name has "bad": the failed items list shows them.
PICKY_SCORE = """\
import os

def run(mini_batch):
    for p in mini_batch:
        if "bad" in os.path.basename(p):
            raise ValueError("cannot score " + os.path.basename(p))
    return [os.path.basename(p) for p in mini_batch]
"""


def login_link(server, token=None, next_path=None):
    body = {"next": next_path} if next_path else None
    status, reply = server.http("POST", "/api/v1/dashboard/login-links", body=body,
                                **({"token": token} if token else {}))
    assert status == 201, (status, reply)
    return reply


def visit(server, url, headers=None):
    """GET a login URL (no bearer token): (status, headers, body)."""
    parts = urllib.parse.urlsplit(url)
    return server.request("GET", parts.path + "?" + parts.query, token=None, headers=headers)


def cookie_of(headers):
    """'name=value' from a Set-Cookie header."""
    return headers["set-cookie"].split(";", 1)[0]


def logged_in(server, token=None):
    """A session cookie ('name=value') and its CSRF token."""
    status, headers, _ = visit(server, login_link(server, token)["url"])
    assert status == 303, (status, headers)
    cookie = cookie_of(headers)
    status, _, session = server.request("GET", "/api/v1/dashboard/session", token=None,
                                        headers={"Cookie": cookie})
    assert status == 200, (status, session)
    return cookie, session


def test_login_link_works_once(server):
    link = login_link(server, next_path="/jobs/some-job")
    assert link["expires_in_s"] == 60 and link["read_only"] is False
    assert link["url"].startswith(server.url + "/login?token=")

    status, headers, _ = visit(server, link["url"])
    assert status == 303
    assert headers["location"] == "/jobs/some-job"
    attrs = [a.strip() for a in headers["set-cookie"].split(";")]
    assert attrs[0].startswith(f"lote_session_{server.port}=") and len(attrs[0].split("=", 1)[1]) == 64
    assert {"HttpOnly", "SameSite=Strict", "Path=/"} <= set(attrs), attrs
    assert "no-referrer" in headers["referrer-policy"]

    # The same link again: a clear page, no session.
    status, headers, body = visit(server, link["url"])
    assert status == 410, (status, body)
    assert "set-cookie" not in headers
    assert "already used" in body and "lote dashboard" in body
    assert headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in headers["content-security-policy"]

    status, headers, body = visit(server, server.url + "/login?token=" + "ab" * 32)
    assert status == 403 and "set-cookie" not in headers and "lote dashboard" in body
    status, _, _ = visit(server, server.url + "/login")
    assert status == 403

    # The access log has the route, never the link's token.
    assert link["url"].split("token=")[1] not in server.log()

    # Only a dashboard path is a place to land.
    status, reply = server.http("POST", "/api/v1/dashboard/login-links", body={"next": "//evil.example/"})
    assert status == 400 and reply["error"]["field"] == "next", reply


def test_login_link_needs_a_token(server):
    status, reply = server.http("POST", "/api/v1/dashboard/login-links", token=None)
    assert status == 401, reply
    cookie, session = logged_in(server)
    # A session cannot mint more sessions, even with its CSRF token.
    status, _, reply = server.request("POST", "/api/v1/dashboard/login-links", token=None,
                                      headers={"Cookie": cookie, "X-CSRF-Token": session["csrf_token"]})
    assert status == 403, reply


def test_cookie_state_changes_need_csrf(server, workdir):
    create_endpoint(server, workdir, [deployment_spec(workdir, "dep1", sleepy_echo(0.5), mini_batch_size=1)],
                    name="csrfedp")
    make_files(workdir / "in", numbered(40))
    job = invoke(server, "--input-local-path", "in", endpoint="csrfedp", cwd=workdir)["name"]
    cookie, session = logged_in(server)
    origin = f"http://{server.host}:{server.port}"

    status, _, jobs = server.request("GET", "/api/v1/jobs", token=None, headers={"Cookie": cookie})
    assert status == 200 and job in [j["name"] for j in jobs]

    cancel = f"/api/v1/jobs/{job}/cancel"
    for headers in ({"Cookie": cookie},
                    {"Cookie": cookie, "X-CSRF-Token": "0" * 64},
                    {"Cookie": cookie, "X-CSRF-Token": session["csrf_token"], "Origin": "http://evil.example"},
                    {"Cookie": cookie, "X-CSRF-Token": session["csrf_token"], "Origin": "null"}):
        status, _, reply = server.request("POST", cancel, token=None, headers=headers)
        assert status == 403, (headers, status, reply)
        assert reply["error"]["code"] == "PermissionDenied", reply
    assert get_job(server, job)["status"] not in ("CancelRequested", "Canceled")

    # Never more than reading and cancelling, CSRF token or not.
    good = {"Cookie": cookie, "X-CSRF-Token": session["csrf_token"], "Origin": origin}
    status, _, reply = server.request("DELETE", "/api/v1/endpoints/csrfedp", token=None, headers=good)
    assert status == 403, reply

    status, _, reply = server.request("POST", cancel, token=None, headers=good)
    assert status == 200, reply
    assert wait_job(server, job)["status"] == "Canceled"

    # Bearer clients are unaffected: no CSRF token, any Origin.
    status, _, reply = server.request("GET", "/api/v1/jobs", headers={"Origin": "http://evil.example"})
    assert status == 200

    # Logged out: the cookie is worth nothing.
    status, headers, _ = server.request("POST", "/api/v1/dashboard/logout", token=None, headers=good)
    assert status == 204 and "Max-Age=0" in headers["set-cookie"]
    status, _, reply = server.request("GET", "/api/v1/jobs", token=None, headers={"Cookie": cookie})
    assert status == 401 and "lote dashboard" in reply["error"]["message"], reply

    # The access log names the kind, never the cookie or the link's token.
    log = server.log()
    assert "token=session" in log
    assert cookie.split("=", 1)[1] not in log and session["csrf_token"] not in log


def test_read_only_session_cannot_cancel(server, workdir):
    token = server.cli("token", "create", "--scope", "read").stdout.strip()
    link = login_link(server, token=token)
    assert link["read_only"] is True
    cookie, session = logged_in(server, token=token)
    assert session["read_only"] is True
    status, _, reply = server.request("POST", "/api/v1/jobs/nojob/cancel", token=None,
                                      headers={"Cookie": cookie, "X-CSRF-Token": session["csrf_token"]})
    assert status == 403 and "read-only" in reply["error"]["message"], reply
    status, _, _ = server.request("GET", "/api/v1/jobs", token=None, headers={"Cookie": cookie})
    assert status == 200


def test_pages_are_served_with_a_strict_policy(server, workdir):
    for path in ("/", "/jobs", "/endpoints", "/jobs/any-job"):
        status, headers, body = server.request("GET", path, token=None)
        assert status == 200, (path, status)
        assert headers["content-type"] == "text/html; charset=utf-8"
        assert '<script src="/ui/app.js"' in body
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    status, headers, body = server.request("GET", "/ui/app.js", token=None)
    assert status == 200 and headers["content-type"].startswith("text/javascript")
    assert "innerHTML" not in body  # everything from the API goes in as text
    assert (REPO / "web" / "app.js").read_text() == body  # built from web/ into the binary
    status, headers, _ = server.request("GET", "/ui/app.css", token=None)
    assert status == 200 and headers["content-type"].startswith("text/css")
    assert server.request("GET", "/ui/nothing.js", token=None)[0] == 404
    assert server.request("GET", "/ui/../admin_token", token=None)[0] == 404
    # The API still wants a token or a session.
    status, _, reply = server.request("GET", "/api/v1/jobs", token=None)
    assert status == 401, reply

    # The job's Studio link is its page.
    create_endpoint(server, workdir, [deployment_spec(workdir, "dep1", ECHO_SCORE)], name="pageedp")
    make_files(workdir / "in", numbered(2))
    job = invoke(server, "--input-local-path", "in", endpoint="pageedp", cwd=workdir)
    assert job["interactionEndpoints"]["Studio"]["endpoint"] == f"{server.url}/jobs/{job['name']}"
    shown = server.cli_json("job", "show", "--name", job["name"])
    assert shown["properties"]["interactionEndpoints"]["Studio"]["endpoint"] == f"{server.url}/jobs/{job['name']}"
    status, _, page = server.request("GET", f"/jobs/{job['name']}", token=None)
    assert status == 200 and "app.js" in page

    # job show --web: a logged-in link to that page (printed: no browser here).
    env = {k: v for k, v in server.env().items() if k not in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY")}
    proc = server.cli("job", "show", "--name", job["name"], "--web", env=env)
    assert json.loads(proc.stdout)["name"] == job["name"]
    url = proc.stderr.split("Job page: ", 1)[1].split()[0]
    status, headers, _ = visit(server, url)
    assert status == 303 and headers["location"] == f"/jobs/{job['name']}", (status, headers)

    # The mini-batch list the charts draw from.
    wait_job(server, job["name"])
    status, reply = server.http("GET", f"/api/v1/jobs/{job['name']}/mini-batches")
    assert status == 200, reply
    assert [m["status"] for m in reply["mini_batches"]] == ["done"]
    assert reply["mini_batches"][0]["items"][0]["path"].endswith("f0000.txt")
    status, reply = server.http("GET", f"/api/v1/jobs/{job['name']}/mini-batches?limit=0")
    assert status == 400, reply


def test_dashboard_cli(server):
    proc = server.cli("dashboard", "--job", "my-job")
    url = proc.stdout.strip()
    assert url.startswith(server.url + "/login?token="), proc.stdout
    assert "once" in proc.stderr
    status, headers, _ = visit(server, url)
    assert status == 303 and headers["location"] == "/jobs/my-job"
    link = server.cli_json("dashboard")
    assert link["read_only"] is False and link["url"] != url
    proc = server.cli("dashboard", "--job", "../x?y", check=False)
    assert proc.returncode != 0 and "next" in proc.stderr


def _browser_ready():
    if NODE is None:
        return "node is not installed (./setup.sh installs it)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"chromium is not installed at {CHROMIUM} (./setup.sh installs Debian's chromium)"
    return None


@pytest.mark.skipif(_browser_ready() is not None, reason=str(_browser_ready()))
def bad_rows_job(server, workdir):
    """A no-code job (native worker) whose a.csv has a bad cell in row 4 and
    a hostile file name: its page lists the row, its column and its error."""
    from test_failed_items import bad_csv
    models = make_native_models(workdir / "models")
    (workdir / "rows.yml").write_text(
        "name: rowsedp\ntype: batch\ndeployments:\n  - name: xgb\n"
        f"    model: {{name: xgbreg, version: 1, local_path: {models / 'mlflow_reg'}}}\n"
        "    compute: {target: azureml:cpu-cluster}\n")
    server.cli("endpoint", "create", "--file", str(workdir / "rows.yml"), cwd=workdir)
    (workdir / "rows").mkdir()
    features = ["fareAmount", "tripDistance", "passengerCount", "hour"]
    (workdir / "rows" / "a.csv").write_bytes(bad_csv(features, 8, {4: "hour"}))
    job = invoke(server, "--input-local-path", "rows", endpoint="rowsedp", cwd=workdir)["name"]
    assert wait_job(server, job)["status"] == "Completed"
    return job


def test_dashboard_in_chromium(server, workdir):
    assert (BROWSER_DIR / "node_modules" / "playwright-core").is_dir(), (
        "tests/browser's npm packages are missing: run ./setup.sh (npm ci in tests/browser)")
    create_endpoint(server, workdir, [deployment_spec(workdir, "dep1", PICKY_SCORE, mini_batch_size=1,
                                                      retry_settings={"max_retries": 0, "timeout": 30})],
                    name="fastedp")
    create_endpoint(server, workdir, [deployment_spec(workdir, "dep1", sleepy_echo(0.4), mini_batch_size=1,
                                                      python=PYTHON)],
                    name="slowedp")
    make_files(workdir / "fast", ["a.txt", "b.txt", HOSTILE])
    fast = invoke(server, "--input-local-path", "fast", endpoint="fastedp", cwd=workdir)["name"]
    assert wait_job(server, fast)["status"] == "Completed"
    make_files(workdir / "slow", numbered(120))
    slow = invoke(server, "--input-local-path", "slow", endpoint="slowedp", cwd=workdir)["name"]
    wait_until(lambda: get_job(server, slow)["status"] == "Running", 60, f"job {slow} running")

    rows = bad_rows_job(server, workdir) if have_xgboost() else None

    screenshot = os.environ.get("LOTE_DASHBOARD_SCREENSHOT")
    args = {"loginUrl": server.cli("dashboard").stdout.strip(), "fastJob": fast, "slowJob": slow, "rowsJob": rows,
            "screenshot": str(REPO / screenshot) if screenshot else None}
    proc = subprocess.run([NODE, str(BROWSER_DIR / "dashboard.mjs"), json.dumps(args)], cwd=BROWSER_DIR,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, f"browser script failed:\n{proc.stderr}\n{proc.stdout}\nserver log:\n{server.log()}"
    seen = json.loads(proc.stdout.strip().splitlines()[-1])

    assert seen["landedOn"] == "/" and seen["loginStatus"] == 200
    assert seen["cookies"] == [{"name": f"lote_session_{server.port}", "httpOnly": True, "sameSite": "Strict",
                                "path": "/"}]
    assert sorted(seen["completedFilterShows"]) == sorted([fast] + ([rows] if rows else []))
    assert sorted(seen["endpoints"]) == ["fastedp"] + (["rowsedp"] if rows else []) + ["slowedp"]
    assert ["dep1", "100 %", "default", "azureml:model-dep1:1", "cpu-cluster × 1"] in seen["deploymentRows"], seen
    assert seen["progress"]["after"] > seen["progress"]["before"], seen["progress"]
    assert seen["progress"]["max"] == 120
    assert seen["durationBars"] >= 1
    assert seen["cancelHiddenAfter"] is True
    assert get_job(server, slow)["status"] == "Canceled"

    assert HOSTILE in seen["failedFiles"][0], seen["failedFiles"]
    assert "cannot score" in seen["failedErrors"][0]
    assert seen["failedRows"][0] == "all", "a mini-batch that failed as a whole has no row"
    if rows:
        [[file, row, column]] = seen["badRows"]
        assert file.endswith("/rows/a.csv") and (row, column) == ("4", "hour"), seen["badRows"]
        assert "a.csv: row 4 (line 6), column 'hour': 'abc'" in seen["badRowErrors"][0], seen["badRowErrors"]
    assert seen["injectedElements"] == 0
    output = server.http("GET", f"/api/v1/jobs/{fast}/files")[1]["output_files"]
    status, _, expected = server.request("GET", f"/api/v1/jobs/{fast}/files/{output[0]['path']}")
    assert status == 200
    assert seen["downloaded"] == expected and "a.txt" in seen["downloaded"], seen["downloaded"]
    assert seen["logText"], "the job's log is shown"
    assert "lote dashboard" in seen["loggedOutText"]
    assert seen["cspViolations"] == [] and seen["pageErrors"] == [], seen

    # The link logged one browser in; it is spent.
    status, _, body = visit(server, args["loginUrl"])
    assert status == 410 and "already used" in body
