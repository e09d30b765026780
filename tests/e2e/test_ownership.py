"""Who owns what (issue 9): one server per home, a store that belongs to its
home, endpoint tokens bound to the endpoint they were issued for, and
deletes that ask (and refuse while jobs are live unless --force)."""

import os
import pty
import select
import subprocess
import time

from jobs_e2e import (EP, completed, invoke, make_files, run_job, simple_endpoint, sleepy_echo,
                      wait_job)
from lote_e2e import (EXIT_INVALID, EXIT_PRECONDITION, START_TIMEOUT_S, Server, _clean_env,
                      api_error, create_compute)


def start_second(lote_bin, home, timeout=START_TIMEOUT_S + 5):
    """`lote serve` on a home that may be taken: returns the finished process."""
    return subprocess.run([lote_bin, "serve", "--home", str(home), "--port", "0"], env=_clean_env(),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


# --- one server per home ------------------------------------------------------------

def test_a_second_server_on_the_same_home_exits_naming_the_first(server, lote_bin):
    info_path = os.path.join(server.home, "server.json")
    with open(info_path, "rb") as f:
        before = f.read()
    mtime = os.stat(info_path).st_mtime_ns
    proc = start_second(lote_bin, server.home)
    assert proc.returncode == EXIT_PRECONDITION, (proc.returncode, proc.stdout, proc.stderr)
    assert f"is in use by another lote serve (pid {server.proc.pid}, {server.url})" in proc.stderr, proc.stderr
    assert "listening" not in proc.stdout
    # The first server's server.json is untouched, and it still answers.
    with open(info_path, "rb") as f:
        assert f.read() == before
    assert os.stat(info_path).st_mtime_ns == mtime
    assert server.http("GET", "/api/v1/health")[0] == 200
    assert server.proc.poll() is None


def test_the_home_is_free_again_once_its_server_is_killed(restartable_server, lote_bin):
    rs = restartable_server
    rs.kill()  # SIGKILL: no cleanup ran; the kernel drops the lock
    srv = rs.start()
    assert srv.http("GET", "/api/v1/health")[0] == 200
    proc = start_second(lote_bin, rs.home)
    assert proc.returncode == EXIT_PRECONDITION and f"pid {srv.proc.pid}" in proc.stderr, proc.stderr


def test_an_empty_store_next_to_content_is_refused(restartable_server, lote_bin, workdir):
    rs = restartable_server
    create_compute(rs.server)
    home = rs.home
    assert rs.server.stop() == 0
    rs.killed = True  # stopped by hand; the fixture must not stop it again
    db = os.path.join(home, "metadata.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    open(db, "w").close()  # 0 bytes, next to admin_token, signing_key, datastores/
    proc = start_second(lote_bin, home)
    assert proc.returncode == EXIT_PRECONDITION, (proc.returncode, proc.stderr)
    assert f"metadata store '{db}' is empty (0 bytes)" in proc.stderr, proc.stderr
    assert "admin_token" in proc.stderr and "move the home aside" in proc.stderr
    assert os.path.getsize(db) == 0, "the refused server wrote into the store"
    assert not os.path.exists(os.path.join(home, "server.json"))
    # Someone else's file in its place: refused too.
    with open(db, "w") as f:
        f.write("not a database\n" * 10)
    proc = start_second(lote_bin, home)
    assert proc.returncode == EXIT_PRECONDITION and "is not an SQLite database" in proc.stderr, proc.stderr


def test_a_fresh_home_starts(lote_bin, tmp_path):
    srv = Server(lote_bin, tmp_path / "fresh")
    try:
        assert srv.http("GET", "/api/v1/health")[0] == 200
        assert os.path.exists(os.path.join(srv.home, "server.lock"))
    finally:
        assert srv.stop() == 0


# --- tokens bound to the endpoint ----------------------------------------------------

def test_an_endpoint_token_dies_with_its_endpoint(server, workdir):
    simple_endpoint(server, workdir, mini_batch_size=2)
    status, reply = server.http("POST", f"/api/v1/endpoints/{EP}/token", raw=b"{}")
    assert status == 200
    old = reply["accessToken"]
    body = {"input": {"datastore": "workspaceblobstore", "path": "nothing-needed"}}
    # Valid now: the request passes authentication (and fails on its input).
    status, reply = server.http("POST", f"/api/v1/endpoints/{EP}/jobs", body=body, token=old)
    assert status == 404, reply
    server.cli("endpoint", "delete", "--name", EP, "--yes")
    simple_endpoint(server, workdir, mini_batch_size=2)  # the same name again
    status, reply = server.http("POST", f"/api/v1/endpoints/{EP}/jobs", body=body, token=old)
    assert status == 401, reply
    assert f"token is for an endpoint '{EP}' that no longer exists" in api_error(reply)["message"]
    # A new token works.
    status, reply = server.http("POST", f"/api/v1/endpoints/{EP}/token", raw=b"{}")
    status, reply = server.http("POST", f"/api/v1/endpoints/{EP}/jobs", body=body, token=reply["accessToken"])
    assert status == 404, reply


def test_a_token_with_non_canonical_base64_is_refused(server, workdir):
    simple_endpoint(server, workdir, mini_batch_size=2)
    status, reply = server.http("POST", f"/api/v1/endpoints/{EP}/token", raw=b"{}")
    token = reply["accessToken"]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    accepted = []
    for c in alphabet:
        variant = token[:-1] + c
        status, _ = server.http("GET", f"/api/v1/endpoints/{EP}", token=variant)
        if status != 401:  # 403: authenticated, then not allowed to read
            accepted.append(c)
    assert accepted == [token[-1]], accepted
    for variant in (token + "=", token + "==", token.replace(".", ".=", 1)):
        assert server.http("GET", "/api/v1/health", token=variant)[0] == 200  # health needs none
        assert server.http("POST", f"/api/v1/endpoints/{EP}/jobs", body={}, token=variant)[0] == 401


# --- deletes ask ---------------------------------------------------------------------

def run_in_pty(server, args, answer):
    """Runs the CLI with a terminal as stdin, types `answer` once the question
    shows on stderr. Returns (exit code, stderr)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([server.lote_bin, *args], env=server.env(), stdin=slave,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(slave)
    err = b""
    deadline = time.monotonic() + 20
    while b"[y/N]" not in err and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], 0.5)
        if ready:
            chunk = os.read(proc.stderr.fileno(), 4096)
            if not chunk:
                break
            err += chunk
    os.write(master, answer.encode())
    out, rest = proc.communicate(timeout=30)
    os.close(master)
    return proc.returncode, (err + rest).decode()


def endpoint_exists(server, name=EP):
    return server.http("GET", f"/api/v1/endpoints/{name}")[0] == 200


def test_delete_without_yes_and_no_terminal_refuses(server, workdir):
    simple_endpoint(server, workdir, mini_batch_size=2)
    server.cli("datastore", "create", "--name", "extra", "--type", "local", "--path", str(workdir))
    for args, what in ((["endpoint", "delete", "--name", EP], f"endpoint '{EP}'"),
                       (["endpoint", "delete", "--name", EP, "--deployment", "dep1"], "deployment 'dep1'"),
                       (["compute", "delete", "--name", "cpu-cluster"], "compute 'cpu-cluster'"),
                       (["model", "delete", "--name", "model-dep1", "--version", "1"], "model 'model-dep1'"),
                       (["data", "delete", "--name", "nope", "--version", "1"], "data asset 'nope'"),
                       (["datastore", "delete", "--name", "extra"], "datastore 'extra'")):
        proc = server.cli(*args, check=False)  # stdin is /dev/null
        assert proc.returncode == EXIT_INVALID, (args, proc.returncode, proc.stderr)
        assert f"not deleting {what}" in proc.stderr and "pass --yes" in proc.stderr, (args, proc.stderr)
    assert endpoint_exists(server)
    assert server.http("GET", "/api/v1/computes/cpu-cluster")[0] == 200
    assert server.http("GET", "/api/v1/datastores/extra")[0] == 200


def test_delete_asks_on_a_terminal(server, workdir):
    simple_endpoint(server, workdir, mini_batch_size=2)
    rc, err = run_in_pty(server, ["endpoint", "delete", "--name", EP], "n\n")
    assert f"Delete endpoint '{EP}' and its deployments? [y/N]" in err, err
    assert rc == EXIT_PRECONDITION and "not deleted" in err, (rc, err)
    assert endpoint_exists(server)
    rc, err = run_in_pty(server, ["endpoint", "delete", "--name", EP], "y\n")
    assert rc == 0, (rc, err)
    assert not endpoint_exists(server)


def test_deleting_an_endpoint_with_a_live_job_needs_force(server, workdir, tmp_path):
    simple_endpoint(server, workdir, sleepy_echo(60), mini_batch_size=1)
    make_files(tmp_path / "in", ["a.txt", "b.txt"])
    job = invoke(server, "--input-local-path", tmp_path / "in")
    wait_job(server, job["name"], until=("Running",))
    proc = server.cli("endpoint", "delete", "--name", EP, "--yes", check=False)
    assert proc.returncode == EXIT_PRECONDITION, (proc.returncode, proc.stderr)
    assert f"has 1 live job: {job['name']} (Running)" in proc.stderr and "--force" in proc.stderr, proc.stderr
    assert endpoint_exists(server)
    status, reply = server.http("DELETE", f"/api/v1/endpoints/{EP}")
    assert status == 409 and job["name"] in api_error(reply)["message"], (status, reply)
    status, reply = server.http("DELETE", f"/api/v1/endpoints/{EP}?force=maybe")
    assert status == 400, (status, reply)
    assert wait_job(server, job["name"], until=("Running",))["status"] == "Running"
    # --force cancels the job, then deletes.
    proc = server.cli("endpoint", "delete", "--name", EP, "--yes", "--force", check=False)
    assert proc.returncode == 0, proc.stderr
    assert not endpoint_exists(server)
    done = wait_job(server, job["name"], until=("Canceled",), timeout=60)
    assert done["status"] == "Canceled"


def test_force_deletes_through_rest_and_ended_jobs_do_not_block(server, workdir, tmp_path):
    simple_endpoint(server, workdir, mini_batch_size=2)
    make_files(tmp_path / "in", ["a.txt"])
    completed(server, run_job(server, "--input-local-path", tmp_path / "in"))
    # A Completed job does not hold the endpoint.
    proc = server.cli("endpoint", "delete", "--name", EP, "--yes", check=False)
    assert proc.returncode == 0, proc.stderr
    simple_endpoint(server, workdir, sleepy_echo(60), mini_batch_size=1)
    job = invoke(server, "--input-local-path", tmp_path / "in")
    wait_job(server, job["name"], until=("Running",))
    status, reply = server.http("DELETE", f"/api/v1/endpoints/{EP}?force=true")
    assert status == 204, (status, reply)
    assert wait_job(server, job["name"], until=("Canceled",), timeout=60)["status"] == "Canceled"
