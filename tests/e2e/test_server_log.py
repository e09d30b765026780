"""The server's own log: every job transition, agents, and one access line
per request (method, route, status, duration, token kind, never the token),
to --log-file at --log-level."""

import os

from jobs_e2e import make_files, numbered, run_job, simple_endpoint
from lote_e2e import Server


def test_server_log_has_transitions_agents_and_access_lines(lote_bin, tmp_path, workdir):
    log_file = tmp_path / "server.log"
    server = Server(lote_bin, tmp_path / "home", extra_args=("--log-file", str(log_file)))
    try:
        simple_endpoint(server, workdir, mini_batch_size=1)
        make_files(workdir / "in", numbered(2))
        job = run_job(server, "--input-local-path", "in", cwd=workdir)
        name = job["name"] if isinstance(job, dict) else job
        token = server.cli("endpoint", "get-token", "--name", "jobsedp").stdout.strip()
        server.http("GET", "/api/v1/computes", token=token)  # refused: logged as an endpoint token's 403
    finally:
        assert server.stop() == 0
    text = log_file.read_text()
    for line in (f"job={name} status Preparing", f"job={name} status Running", f"job={name} status Finalizing",
                 f"job={name} status Completed", f"job={name} started agent for node 0"):
        assert line in text, (line, text[-3000:])
    assert "POST /api/v1/endpoints/{name}/jobs 201" in text, text[-3000:]
    assert "GET /api/v1/computes 403" in text and "token=endpoint" in text
    assert "token=admin" in text
    assert server.admin_token not in text and token not in text
    assert "SIGKILL" not in text and "SIGTERM" not in text  # a job that ends normally kills nothing
    for line in text.splitlines():
        assert line[:4].isdigit() and "Z " in line[:30], line  # "2026-11-28T14:20:01.123Z info  ..."


def test_log_level_warning_drops_access_lines(lote_bin, tmp_path):
    log_file = tmp_path / "server.log"
    server = Server(lote_bin, tmp_path / "home", extra_args=("--log-file", str(log_file), "--log-level", "warning"))
    try:
        server.cli("compute", "list")
    finally:
        assert server.stop() == 0
    assert "GET /api/v1/computes" not in (log_file.read_text() if os.path.exists(log_file) else "")
    bad = Server.__new__(Server)  # a bad level stops the server at start with a usage error
    import subprocess
    p = subprocess.run([lote_bin, "serve", "--home", str(tmp_path / "h2"), "--port", "0", "--log-level", "loud"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "--log-level" in p.stderr
    del bad
