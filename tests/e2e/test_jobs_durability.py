"""Batch jobs survive the control plane (docs/jobs.md "Durability"): when
`lote serve` dies, even by SIGKILL, its agents and workers exit by
themselves; when it starts again on the same home, the job goes on from the
committed mini-batches and its output holds every item exactly once."""

import signal

import pytest

from jobs_e2e import (get_job, invoke, job_log, job_processes, make_files, mini_batch_report,
                      numbered, output_lines, pid_alive, simple_endpoint, wait_job,
                      wait_no_job_processes, wait_until)

DURABLE_SCORE = """\
import os, time

TALLY = {tally!r}
PIDS = {pids!r}

def init():
    with open(PIDS, "a") as f:
        f.write(f"{{os.getpid()}}\\n")

def run(mini_batch):
    time.sleep(0.2)
    names = [os.path.basename(p) for p in mini_batch]
    with open(TALLY, "a") as f:   # every run() that got this far, restarts included
        f.write("".join(n + "\\n" for n in names))
    return names
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_job_survives_a_control_plane_restart(restartable_server, workdir, tmp_path, sig):
    server = restartable_server.server
    tally, pids = str(tmp_path / "tally.txt"), str(tmp_path / "pids.txt")
    simple_endpoint(server, workdir, DURABLE_SCORE.format(tally=tally, pids=pids),
                    mini_batch_size=1, max_concurrency_per_instance=2)
    names = make_files(tmp_path / "in", numbered(40))
    job = invoke(server, "--input-local-path", tmp_path / "in")
    name = job["name"]
    before = wait_until(
        lambda: (lambda j: j if j["progress"]["mini_batches"]["succeeded"] >= 6 else None)(
            get_job(server, name)), 30, "six mini-batches to succeed")
    assert before["status"] == "Running"
    assert job_processes(name)

    rc = restartable_server.kill(sig)
    assert rc == (-signal.SIGKILL if sig == signal.SIGKILL else 0), rc
    # The agents and their workers notice and exit by themselves.
    wait_no_job_processes(name, timeout=5)
    with open(pids) as f:
        first_workers = [int(p) for p in f.read().split()]
    assert first_workers and not [p for p in first_workers if pid_alive(p)]

    server = restartable_server.start()
    done = wait_job(server, name, timeout=60)
    assert done["status"] == "Completed", job_log(server, name)
    assert done["progress"]["items"] == {"succeeded": 40, "failed": 0}
    assert done["progress"]["mini_batches"]["succeeded"] == 40
    # Every item exactly once, in input order.
    assert output_lines(done) == names
    # Only what had no committed rows ran again: at most the two in flight.
    with open(tally) as f:
        scored = f.read().split()
    assert set(scored) == set(names)
    assert len(scored) <= 40 + 2, sorted(n for n in set(scored) if scored.count(n) > 1)
    # Released leases did not count as attempts.
    report = mini_batch_report(server, name)
    assert len(report) == 40
    assert all(r["status"] == "RUN_DONE" and r["attempts"] == "1" for r in report), report
    assert "control plane restarted; resuming" in job_log(server, name)
