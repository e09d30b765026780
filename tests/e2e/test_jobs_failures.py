"""Batch jobs: failed attempts and their retries, error_threshold, timeouts,
crashed workers, bad run() results, init() failures (docs/jobs.md "Failures
and retries"), and how each is explained in the job and its logs."""

import os
import time

import pytest

from jobs_e2e import (completed, error_logs, final_log, get_job_file, invoke, job_log, make_files,
                      mini_batch_report, output_lines, pid_alive, run_job, simple_endpoint,
                      wait_job)
from lote_e2e import Server

RAISE_SCORE = """\
import os, time

def run(mini_batch):
    out = []
    for p in mini_batch:
        n = os.path.basename(p)
        if n == "bad.txt":
            raise ValueError("cannot score " + n)
        time.sleep(0.05)
        out.append(n)
    return out
"""

FILES = ["a.txt", "b.txt", "bad.txt", "c.txt", "d.txt"]


def report_row(report, **match):
    rows = [r for r in report if all(r[k] == v for k, v in match.items())]
    assert len(rows) == 1, (match, report)
    return rows[0]


def stream(server, name):
    return server.cli("job", "stream", "--name", name, check=False, timeout=90)


def test_exception_is_retried_then_ignored_with_threshold_minus_one(server, workdir, tmp_path):
    simple_endpoint(server, workdir, RAISE_SCORE, mini_batch_size=1,
                    retry_settings={"max_retries": 2, "timeout": 30}, error_threshold=-1)
    make_files(tmp_path / "in", FILES)
    done = completed(server, run_job(server, "--input-local-path", tmp_path / "in"))
    name = done["name"]
    assert output_lines(done) == ["a.txt", "b.txt", "c.txt", "d.txt"]
    assert done["progress"]["items"] == {"succeeded": 4, "failed": 1}
    mb = done["progress"]["mini_batches"]
    assert (mb["total"], mb["succeeded"], mb["failed"], mb["retried"]) == (5, 4, 1, 2)

    # The bad file's mini-batch (the third) was tried 1 + max_retries times.
    report = mini_batch_report(server, name)
    bad = report_row(report, mini_batch_id="3")
    assert (bad["attempts"], bad["status"], bad["items"], bad["succeeded"], bad["failed"]) == \
        ("3", "RUN_EXCEPTION", "1", "0", "1")
    assert "ValueError: cannot score bad.txt" in bad["error"]
    assert all(r["status"] == "RUN_DONE" and r["attempts"] == "1"
               for r in report if r["mini_batch_id"] != "3"), report

    # Every failed attempt, with the file, the error and the traceback.
    errors = get_job_file(server, name, "logs/user/error/node0/process000.txt")
    assert errors is not None, error_logs(server, name)
    for attempt in (1, 2, 3):
        assert f"mini-batch 3  attempt {attempt}" in errors, errors
    assert errors.count("RUN_EXCEPTION") == 3
    assert "bad.txt" in errors
    assert "run() raised ValueError: cannot score bad.txt" in errors
    assert "Traceback (most recent call last)" in errors
    assert 'raise ValueError("cannot score " + n)' in errors  # the user's own line
    assert "score.py" in errors and "lote_runner.py" not in errors

    log = job_log(server, name)
    assert "mini-batch 3 attempt 1" in log and "RUN_EXCEPTION" in log
    assert "will be retried" in log and "failed for good" in log
    result = final_log(server, name, "logs/job_result.txt")
    assert "Status: Completed" in result and "Items: 4 succeeded, 1 failed" in result
    proc = stream(server, name)
    assert proc.returncode == 0, proc.stderr
    assert "RUN_EXCEPTION" in proc.stdout


def test_exception_fails_the_job_with_threshold_zero(server, workdir, tmp_path):
    simple_endpoint(server, workdir, RAISE_SCORE, mini_batch_size=1)
    names = ["a.txt", "bad.txt"] + [f"z{i:02d}.txt" for i in range(12)]
    make_files(tmp_path / "in", names)
    done = run_job(server, "--input-local-path", tmp_path / "in",
                   "--set", "error_threshold=0", "--set", "retry_settings.max_retries=1",
                   until=("Failed",))
    name = done["name"]
    assert done["error"] == "error_threshold exceeded: 1 failed items > error_threshold 0"
    result = final_log(server, name, "logs/job_result.txt")
    assert "Status: Failed" in result
    assert "Reason: error_threshold exceeded: 1 failed items > error_threshold 0" in result
    report = mini_batch_report(server, name)
    bad = report_row(report, mini_batch_id="2")
    assert (bad["attempts"], bad["status"]) == ("2", "RUN_EXCEPTION")
    # The job stopped early: what had not run is marked so.
    statuses = [r["status"] for r in report]
    assert "NOT_RUN" in statuses, report
    assert statuses.count("RUN_DONE") < 13
    errors = error_logs(server, name)
    assert "bad.txt" in errors and "Traceback" in errors and "ValueError" in errors
    proc = stream(server, name)
    assert proc.returncode != 0
    assert "Failed" in proc.stdout and "error_threshold exceeded" in proc.stdout
    shown = server.cli_json("job", "show", "--name", name)
    assert shown["status"] == "Failed" and "error_threshold" in shown["error"]


def test_error_threshold_counts_items_not_mini_batches(server, workdir, tmp_path):
    simple_endpoint(server, workdir, RAISE_SCORE, mini_batch_size=5)
    make_files(tmp_path / "in", FILES)
    # One mini-batch of 5 files fails: 5 failed items, threshold 4 is exceeded.
    failed = run_job(server, "--input-local-path", tmp_path / "in",
                     "--set", "error_threshold=4", "--set", "retry_settings.max_retries=0",
                     until=("Failed",))
    assert failed["error"] == "error_threshold exceeded: 5 failed items > error_threshold 4"


PARTIAL_SCORE = """\
import os

def run(mini_batch):
    # Azure: what run() returns are the successful items; the rest failed.
    return [os.path.basename(p) for p in mini_batch if "skip" not in p]
"""


@pytest.mark.parametrize("threshold,status", [(-1, "Completed"), (1, "Completed"), (0, "Failed")])
def test_fewer_results_than_files_count_as_failed_items(server, workdir, tmp_path, threshold,
                                                       status):
    simple_endpoint(server, workdir, PARTIAL_SCORE, mini_batch_size=3)
    make_files(tmp_path / "in", ["a.txt", "b-skip.txt", "c.txt", "d.txt"])
    done = run_job(server, "--input-local-path", tmp_path / "in",
                   "--set", f"error_threshold={threshold}", until=(status,))
    report = mini_batch_report(server, done["name"])
    assert (report[0]["succeeded"], report[0]["failed"], report[0]["status"]) == \
        ("2", "1", "RUN_DONE")
    if status == "Completed":
        assert done["progress"]["items"] == {"succeeded": 3, "failed": 1}
        assert [(r["succeeded"], r["failed"]) for r in report] == [("2", "1"), ("1", "0")]
        assert output_lines(done) == ["a.txt", "c.txt", "d.txt"]
    else:
        assert done["error"] == "error_threshold exceeded: 1 failed items > error_threshold 0"
        assert done["progress"]["items"]["succeeded"] >= 2


SLEEPY_SCORE = """\
import os, subprocess, time

PIDS = {pids!r}

def run(mini_batch):
    out = []
    for p in mini_batch:
        n = os.path.basename(p)
        if n == "slow.txt":
            child = subprocess.Popen(["sleep", "300"])
            with open(PIDS, "a") as f:
                f.write(f"{{os.getpid()}} {{child.pid}}\\n")
            time.sleep(300)
        out.append(n)
    return out
"""


@pytest.mark.parametrize("threshold,status", [(-1, "Completed"), (0, "Failed")])
def test_run_past_the_timeout_is_killed_and_retried(server, workdir, tmp_path, threshold,
                                                    status):
    pids = str(tmp_path / "pids.txt")
    simple_endpoint(server, workdir, SLEEPY_SCORE.format(pids=pids), mini_batch_size=1,
                    error_threshold=threshold, retry_settings={"max_retries": 1, "timeout": 2})
    make_files(tmp_path / "in", ["a.txt", "slow.txt", "z.txt"])
    t0 = time.monotonic()
    job = invoke(server, "--input-local-path", tmp_path / "in")
    done = wait_job(server, job["name"], until=(status,), timeout=40)
    took = time.monotonic() - t0
    # Two attempts of 2 s each, far less than the 300 s the script sleeps.
    assert 4 <= took < 25, took
    name = done["name"]
    slow = report_row(mini_batch_report(server, name), mini_batch_id="2")
    assert (slow["attempts"], slow["status"]) == ("2", "RUN_TIMEOUT"), slow
    assert "did not finish within 2 s" in slow["error"]
    assert 1500 <= int(slow["elapsed_ms"]) < 10000, slow
    errors = error_logs(server, name)
    assert errors.count("RUN_TIMEOUT") == 2 and "slow.txt" in errors
    # The worker and what it started were killed (its whole process group).
    with open(pids) as f:
        started = [int(p) for line in f for p in line.split()]
    assert len(started) == 4, started
    deadline = time.monotonic() + 5
    while any(pid_alive(p) for p in started) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [p for p in started if pid_alive(p)] == []
    if status == "Completed":
        assert output_lines(done) == ["a.txt", "z.txt"]
        assert done["progress"]["items"] == {"succeeded": 2, "failed": 1}
    else:
        assert "error_threshold exceeded" in done["error"]


CRASH_SCORE = """\
import os, signal

def run(mini_batch):
    out = []
    for p in mini_batch:
        n = os.path.basename(p)
        if n == "crash.txt":
            print("about to crash in", os.getpid(), flush=True)
            {crash}
        out.append(n)
    return out
"""


@pytest.mark.parametrize("crash,how", [
    ("os._exit(3)", "worker exited with code 3"),
    ("os.kill(os.getpid(), signal.SIGSEGV)", "worker killed by signal 11 (SIGSEGV)"),
])
def test_worker_that_dies_is_replaced_and_its_mini_batch_retried(server, workdir, tmp_path,
                                                                 crash, how):
    simple_endpoint(server, workdir, CRASH_SCORE.format(crash=crash), mini_batch_size=1,
                    retry_settings={"max_retries": 1, "timeout": 30})
    make_files(tmp_path / "in", ["a.txt", "crash.txt", "z1.txt", "z2.txt"])
    done = completed(server, run_job(server, "--input-local-path", tmp_path / "in"))
    name = done["name"]
    # The other files were scored by fresh workers.
    assert output_lines(done) == ["a.txt", "z1.txt", "z2.txt"]
    assert done["progress"]["items"] == {"succeeded": 3, "failed": 1}
    row = report_row(mini_batch_report(server, name), mini_batch_id="2")
    assert (row["attempts"], row["status"]) == ("2", "RUN_CRASH"), row
    assert how in row["error"], row
    errors = error_logs(server, name)
    assert errors.count("RUN_CRASH") == 2 and how in errors and "crash.txt" in errors
    printed = get_job_file(server, name, "logs/user/stdout/node0/process000.stdout.txt")
    crashed_pids = {line.split()[-1] for line in printed.splitlines()
                    if line.startswith("about to crash")}
    assert len(crashed_pids) == 2, printed  # each attempt on its own worker
    assert how in job_log(server, name)


@pytest.mark.parametrize("value,type_name", [("None", "NoneType"), ("{'a': 1}", "dict"),
                                             ("'a string'", "str")])
def test_run_returning_something_else_fails_the_attempt(server, workdir, tmp_path, value,
                                                        type_name):
    score = ("import os\n\ndef run(mini_batch):\n"
             "    if any('odd' in p for p in mini_batch):\n"
             f"        return {value}\n"
             "    return [os.path.basename(p) for p in mini_batch]\n")
    simple_endpoint(server, workdir, score, mini_batch_size=1,
                    retry_settings={"max_retries": 0, "timeout": 30})
    make_files(tmp_path / "in", ["a.txt", "odd.txt", "z.txt"])
    done = completed(server, run_job(server, "--input-local-path", tmp_path / "in"))
    text = f"run() must return a list or a pandas DataFrame; it returned {type_name}"
    row = report_row(mini_batch_report(server, done["name"]), mini_batch_id="2")
    assert (row["attempts"], row["status"]) == ("1", "RUN_EXCEPTION")
    assert text in row["error"], row
    errors = error_logs(server, done["name"])
    assert text in errors and "odd.txt" in errors
    assert output_lines(done) == ["a.txt", "z.txt"]


def test_job_where_every_item_fails_is_failed(server, workdir, tmp_path):
    score = "def run(mini_batch):\n    raise RuntimeError('model is broken')\n"
    simple_endpoint(server, workdir, score, mini_batch_size=1,
                    retry_settings={"max_retries": 0, "timeout": 30})
    make_files(tmp_path / "in", ["a.txt", "b.txt", "c.txt"])
    done = run_job(server, "--input-local-path", tmp_path / "in", until=("Failed",))
    assert done["error"].startswith("no item succeeded (3 failed)"), done["error"]
    assert done["progress"]["items"] == {"succeeded": 0, "failed": 3}
    assert done["progress"]["mini_batches"]["failed"] == 3
    assert not os.path.exists(done["output"]["local_path"])
    assert "written" not in done["output"]
    result = final_log(server, done["name"], "logs/job_result.txt")
    assert "Status: Failed" in result and "no item succeeded" in result
    assert error_logs(server, done["name"]).count("run() raised RuntimeError: model is broken") == 3
    proc = stream(server, done["name"])
    assert proc.returncode != 0 and "no item succeeded" in proc.stdout


INIT_FAILS_SCORE = """\
import os

def init():
    print("loading model", flush=True)
    raise RuntimeError("model file weights.bin is missing")

def run(mini_batch):
    return [os.path.basename(p) for p in mini_batch]
"""


@pytest.fixture(scope="module")
def init_failed_job(lote_bin, tmp_path_factory):
    """One job whose init() raises (the agent restarts its worker a few times
    before it gives up), shared by the tests below. Yields (server, job,
    seconds it took to fail)."""
    tmp = tmp_path_factory.mktemp("init-fails")
    server = Server(lote_bin, tmp / "home")
    try:
        (tmp / "work").mkdir()
        simple_endpoint(server, tmp / "work", INIT_FAILS_SCORE)
        make_files(tmp / "in", ["a.txt", "b.txt"])
        t0 = time.monotonic()
        done = run_job(server, "--input-local-path", tmp / "in", until=("Failed",), timeout=90)
        yield server, done, time.monotonic() - t0
    finally:
        rc = server.stop()
    assert rc == 0, server.log()


def test_init_raising_fails_the_job_and_logs_why(init_failed_job):
    server, done, took = init_failed_job
    name = done["name"]
    assert done["status"] == "Failed" and done["error"], done
    # A deterministic init() error gives up after a few worker restarts, not
    # after every agent restart too (that took 35 s).
    assert took < 30, f"init() failing took {took:.0f}s to fail the job"
    assert done["progress"]["items"]["succeeded"] == 0
    errors = error_logs(server, name)
    assert "INIT_FAILED" in errors
    assert "init() failed: RuntimeError: model file weights.bin is missing" in errors
    assert 'raise RuntimeError("model file weights.bin is missing")' in errors  # traceback
    printed = get_job_file(server, name, "logs/user/stdout/node0/process000.stdout.txt")
    assert "loading model" in printed
    assert "init() failed" in get_job_file(server, name, "logs/sys/node/node0/agent.txt")
    assert "Status: Failed" in final_log(server, name, "logs/job_result.txt")
    proc = server.cli("job", "stream", "--name", name, check=False)
    assert proc.returncode != 0 and "Failed" in proc.stdout


def test_init_failure_reason_reaches_the_job(init_failed_job):
    server, done, _ = init_failed_job
    why = "init() failed: RuntimeError: model file weights.bin is missing"
    assert why in done["error"]
    assert why in final_log(server, done["name"], "logs/job_result.txt")
    assert why in job_log(server, done["name"])
