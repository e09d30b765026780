"""Batch jobs: `lote job cancel` (docs/jobs.md "Lifecycle"): the job ends
Canceled within seconds, its agents and workers are gone, and what was
committed before stays with the job."""

import time

from jobs_e2e import (final_log, get_job, invoke, job_log, job_processes, make_files,
                      mini_batch_report, numbered, pid_alive, simple_endpoint, wait_job,
                      wait_no_job_processes, wait_until)
from lote_e2e import EXIT_PRECONDITION

SLOW_SCORE = """\
import os, time

PIDS = {pids!r}

def init():
    with open(PIDS, "a") as f:
        f.write(f"{{os.getpid()}}\\n")

def run(mini_batch):
    time.sleep(1)
    return [os.path.basename(p) for p in mini_batch]
"""


def read_pids(path):
    with open(path) as f:
        return [int(line) for line in f if line.strip()]


def test_cancel_a_running_job(server, workdir, tmp_path):
    pids = str(tmp_path / "pids.txt")
    simple_endpoint(server, workdir, SLOW_SCORE.format(pids=pids), mini_batch_size=1,
                    max_concurrency_per_instance=2)
    make_files(tmp_path / "in", numbered(30))
    job = invoke(server, "--input-local-path", tmp_path / "in")
    name = job["name"]
    wait_until(lambda: get_job(server, name)["progress"]["mini_batches"]["succeeded"] >= 2,
               30, "two mini-batches to succeed")
    assert job_processes(name), "the job's agent and workers run"
    workers = read_pids(pids)
    assert len(workers) == 2, workers

    t0 = time.monotonic()
    reply = server.cli_json("job", "cancel", "--name", name)
    assert reply["name"] == name and reply["status"] in ("CancelRequested", "Canceled"), reply
    done = wait_job(server, name, until=("Canceled",), timeout=15)
    took = time.monotonic() - t0
    assert took < 8, f"cancel took {took:.1f}s"
    assert done["error"] == "canceled by request"
    assert "ended_at" in done

    # Agents and workers (and anything they started) are gone.
    wait_no_job_processes(name, timeout=5)
    assert [p for p in workers if pid_alive(p)] == []

    # What was committed before the cancel is kept; nothing runs afterwards.
    mb = done["progress"]["mini_batches"]
    assert 2 <= mb["succeeded"] < 30, mb
    assert mb["running"] == 0 and mb["pending"] == 0
    assert done["progress"]["items"]["succeeded"] == mb["succeeded"]
    time.sleep(1.5)
    assert get_job(server, name)["progress"]["mini_batches"]["succeeded"] == mb["succeeded"]
    report = mini_batch_report(server, name)
    assert sum(r["status"] == "RUN_DONE" for r in report) == mb["succeeded"]
    assert "NOT_RUN" in {r["status"] for r in report}
    result = final_log(server, name, "logs/job_result.txt")
    assert "Status: Canceled" in result
    log = job_log(server, name)
    assert "status CancelRequested" in log and "status Canceled" in log
    # No predictions for a canceled job, and no second cancel.
    assert "written" not in done["output"]
    proc = server.cli("job", "cancel", "--name", name, check=False)
    assert proc.returncode == EXIT_PRECONDITION and "Canceled" in proc.stderr
    stream = server.cli("job", "stream", "--name", name, check=False)
    assert stream.returncode != 0 and "Canceled" in stream.stdout


def test_cancel_over_rest_right_after_invoke(server, workdir, tmp_path):
    pids = str(tmp_path / "pids.txt")
    simple_endpoint(server, workdir, SLOW_SCORE.format(pids=pids), mini_batch_size=1)
    make_files(tmp_path / "in", numbered(5))
    job = invoke(server, "--input-local-path", tmp_path / "in")
    status, reply = server.http("POST", f"/api/v1/jobs/{job['name']}/cancel", {})
    assert status == 200 and reply["status"] in ("CancelRequested", "Canceled"), reply
    done = wait_job(server, job["name"], until=("Canceled",), timeout=15)
    assert done["progress"]["items"]["succeeded"] <= 1
    wait_no_job_processes(job["name"], timeout=5)
