"""Results by file (docs/agent-api.md): an agent on the server's host writes
each batch of results into the job's staging folder itself and posts only its
name (POST …/tasks/results-file), so the rows never cross the socket. Every
row still arrives exactly once, also when the agent is killed mid-job."""

import os
import pathlib
import signal

from jobs_e2e import (get_job, invoke, job_processes, make_files, numbered, output_lines, simple_endpoint,
                      sleepy_echo, wait_job, wait_until, describe)
from lote_e2e import Server

RESULTS_BODY = "POST /api/v1/jobs/{job}/tasks/results "
RESULTS_FILE = "POST /api/v1/jobs/{job}/tasks/results-file 200"


def _leftovers(home, name):
    root = pathlib.Path(home) / "jobs" / name
    return [p for p in root.rglob("*") if p.name.startswith(("agent-", "claimed-"))] if root.exists() else []


def test_a_local_jobs_results_go_by_file_each_row_once(lote_bin, tmp_path, workdir):
    log_file = tmp_path / "server.log"
    server = Server(lote_bin, tmp_path / "home", extra_args=("--log-file", str(log_file)))
    try:
        simple_endpoint(server, workdir, mini_batch_size=1, max_concurrency_per_instance=2)
        names = make_files(workdir / "in", numbered(30))
        name = invoke(server, "--input-local-path", "in", cwd=workdir)["name"]
        job = wait_job(server, name)
        assert job["status"] == "Completed", describe(server, name)
        rows = [line.split(",")[0] for line in output_lines(job)]
        assert sorted(rows) == sorted(names), rows  # each file's row exactly once
        assert _leftovers(server.home, name) == []
    finally:
        assert server.stop() == 0
    text = log_file.read_text()
    assert RESULTS_FILE in text, text[-3000:]
    assert RESULTS_BODY not in text, text[-3000:]  # no batch went in a request body


def test_a_killed_agents_results_arrive_once(lote_bin, tmp_path, workdir):
    log_file = tmp_path / "server.log"
    server = Server(lote_bin, tmp_path / "home", extra_args=("--log-file", str(log_file)))
    try:
        simple_endpoint(server, workdir, score=sleepy_echo(0.1), mini_batch_size=1, max_concurrency_per_instance=2)
        names = make_files(workdir / "in", numbered(60))
        name = invoke(server, "--input-local-path", "in", cwd=workdir)["name"]
        wait_until(lambda: get_job(server, name)["progress"]["mini_batches"]["succeeded"] >= 5, 60,
                   "some mini-batches to succeed")
        agents = [pid for pid, argv in job_processes(name) if " agent " in f" {argv} "]
        assert agents, job_processes(name)
        for pid in agents:
            os.kill(pid, signal.SIGKILL)
        job = wait_job(server, name, timeout=120)
        assert job["status"] == "Completed", describe(server, name)
        rows = [line.split(",")[0] for line in output_lines(job)]
        assert sorted(rows) == sorted(names), sorted(set(rows) ^ set(names))
        assert len(rows) == len(set(rows))
        assert _leftovers(server.home, name) == []  # the killed agent's files went with staging
    finally:
        assert server.stop() == 0
    text = log_file.read_text()
    assert RESULTS_FILE in text and RESULTS_BODY not in text, text[-3000:]
    assert text.count(f"job={name} started agent for node 0") >= 2, text[-3000:]  # it was killed and restarted
