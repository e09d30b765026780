"""Batch jobs: watching them — `job show`, `job list --endpoint`, `job stream`,
`job download` and the logs in Azure's layout (docs/jobs.md "Logs")."""

import csv
import io
import os
import re
import time

import pytest

from jobs_e2e import (DEP, ECHO_SCORE, EP, completed, create_endpoint, deployment_spec, final_log,
                      get_job, get_job_file, invoke, job_files, make_files, numbered, output_lines,
                      run_job, simple_endpoint, sleepy_echo, wait_job, wait_until)
from lote_e2e import EXIT_NOT_FOUND, EXIT_PRECONDITION

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

PRINTING_SCORE = """\
import os, sys, time

def init():
    print("hello from init", flush=True)

def run(mini_batch):
    time.sleep(0.1)
    for p in mini_batch:
        print("scoring", os.path.basename(p))
    print("a warning on stderr", file=sys.stderr)
    return [os.path.basename(p) for p in mini_batch]
"""


def test_job_show_fields(server, workdir, tmp_path):
    simple_endpoint(server, workdir, PRINTING_SCORE, mini_batch_size=2)
    make_files(tmp_path / "in", numbered(5))
    job = invoke(server, "--input-local-path", tmp_path / "in")
    name = job["name"]
    assert re.fullmatch(rf"{EP}-\d{{8}}-\d{{6}}-[0-9a-f]+", name), name
    assert job["status"] in ("NotStarted", "Preparing", "Running")
    done = wait_job(server, name)
    shown = server.cli_json("job", "show", "--name", name)
    assert shown["status"] == "Completed", shown
    assert (shown["name"], shown["type"], shown["endpoint"], shown["deployment"]) == \
        (name, "batch", EP, DEP)
    assert shown["model"] == "azureml:model-dep1:1"
    assert shown["input"]["description"].startswith(
        "azureml://datastores/workspaceblobstore/paths/LocalUpload/")
    out = shown["output"]
    assert out["uri"] == ("azureml://datastores/workspaceblobstore/paths/"
                          f"batch-outputs/{name}/predictions.csv")
    assert out["local_path"].endswith(f"/batch-outputs/{name}/predictions.csv")
    assert os.path.isfile(out["local_path"])
    progress = shown["progress"]
    assert progress["mini_batches"] == {"total": 3, "succeeded": 3, "failed": 0, "retried": 0,
                                        "running": 0, "pending": 0, "canceled": 0, "not_run": 0}
    assert progress["items"] == {"succeeded": 5, "failed": 0}
    assert progress["elapsed_s"] > 0 and progress["items_per_s"] > 0
    assert "eta_s" not in progress  # only while running
    for key in ("created_at", "started_at", "ended_at"):
        assert RFC3339.match(shown[key]), (key, shown[key])
    assert shown["created_at"] <= shown["started_at"] <= shown["ended_at"]
    assert "error" not in shown
    assert shown["interactionEndpoints"]["Studio"]["endpoint"].endswith(f"/jobs/{name}")
    # --query and -o tsv, as for every command.
    status = server.cli("job", "show", "--name", name, "--query", "status", "-o", "tsv")
    assert status.stdout.strip() == "Completed"
    total = server.cli("job", "show", "--name", name, "--query",
                       "progress.mini_batches.total", "-o", "tsv")
    assert total.stdout.strip() == "3"
    assert done["status"] == "Completed"


def test_job_show_while_running_reports_progress(server, workdir, tmp_path):
    slow = sleepy_echo(0.3)
    simple_endpoint(server, workdir, slow, mini_batch_size=1)
    make_files(tmp_path / "in", numbered(12))
    job = invoke(server, "--input-local-path", tmp_path / "in")
    running = wait_until(
        lambda: (lambda j: j if j["status"] == "Running"
                 and j["progress"]["mini_batches"]["succeeded"] >= 2 else None)(
            get_job(server, job["name"])), 30, "two mini-batches done")
    mb = running["progress"]["mini_batches"]
    assert mb["total"] == 12
    assert mb["succeeded"] + mb["running"] + mb["pending"] + mb["failed"] == 12
    assert mb["running"] <= 1
    assert running["progress"]["items"]["succeeded"] == mb["succeeded"]
    assert "started_at" in running and "ended_at" not in running
    overview = wait_until(lambda: get_job_file(server, job["name"],
                                               "logs/job_progress_overview.txt"),
                          5, "logs/job_progress_overview.txt")
    assert "Status: Running" in overview and "12 total" in overview
    done = completed(server, wait_job(server, job["name"]))
    assert done["progress"]["mini_batches"]["succeeded"] == 12
    # (Rewritten a moment after the status changes: see the race test below.)
    overview = wait_until(
        lambda: (lambda t: t if t and "Status: Completed" in t else None)(
            get_job_file(server, job["name"], "logs/job_progress_overview.txt")),
        5, "the final progress overview")
    assert "Items: 12 succeeded, 0 failed" in overview


def test_job_list_by_endpoint(server, workdir, tmp_path):
    simple_endpoint(server, workdir)
    create_endpoint(server, workdir, [deployment_spec(workdir, "other-dep", ECHO_SCORE)],
                    name="otheredp")
    make_files(tmp_path / "in", numbered(2))
    first = invoke(server, "--input-local-path", tmp_path / "in")
    other = invoke(server, "--input-local-path", tmp_path / "in", endpoint="otheredp")
    time.sleep(1.1)  # job names and created_at have one-second resolution
    second = invoke(server, "--input-local-path", tmp_path / "in")
    for j in (first, other, second):
        wait_job(server, j["name"])
    mine = server.cli_json("job", "list", "--endpoint", EP)
    assert [j["name"] for j in mine] == [second["name"], first["name"]]  # newest first
    assert all(j["endpoint"] == EP and "progress" in j for j in mine)
    theirs = server.cli_json("job", "list", "--endpoint", "otheredp")
    assert [j["name"] for j in theirs] == [other["name"]]
    everything = server.cli_json("job", "list")
    assert {j["name"] for j in everything} == {first["name"], second["name"], other["name"]}
    assert server.cli_json("job", "list", "--endpoint", "nosuchedp") == []
    names = server.cli("job", "list", "--endpoint", EP, "--query", "[].name", "-o", "tsv")
    assert names.stdout.split() == [second["name"], first["name"]]


def test_job_stream_follows_the_log_and_exits_0_when_completed(server, workdir, tmp_path):
    slow = sleepy_echo(0.2)
    simple_endpoint(server, workdir, slow, mini_batch_size=1)
    make_files(tmp_path / "in", numbered(6))
    job = invoke(server, "--input-local-path", tmp_path / "in")
    t0 = time.monotonic()
    proc = server.cli("job", "stream", "--name", job["name"], check=False, timeout=90)
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - t0 >= 0.5  # it followed the job, not a snapshot
    out = proc.stdout
    assert f"job {job['name']} created" in out
    assert "planned 6 files" in out and "into 6 mini-batches" in out
    assert "status Running" in out and "status Completed" in out
    assert out.index("status Running") < out.index("status Completed")
    assert f"Job {job['name']}: Completed" in out
    assert "6 succeeded, 0 failed" in out
    assert f"batch-outputs/{job['name']}/predictions.csv" in out
    assert get_job(server, job["name"])["status"] == "Completed"
    # Streaming a finished job prints the whole log again and exits at once.
    again = server.cli("job", "stream", "--name", job["name"], check=False, timeout=30)
    assert again.returncode == 0 and "status Completed" in again.stdout


def test_job_stream_exits_non_zero_when_failed(server, workdir, tmp_path):
    score = "def run(mini_batch):\n    raise KeyError('no such column')\n"
    simple_endpoint(server, workdir, score, retry_settings={"max_retries": 0, "timeout": 30})
    make_files(tmp_path / "in", numbered(2))
    job = invoke(server, "--input-local-path", tmp_path / "in")
    proc = server.cli("job", "stream", "--name", job["name"], check=False, timeout=90)
    assert proc.returncode not in (0, None), proc.stdout
    assert "status Failed" in proc.stdout
    assert f"Job {job['name']}: Failed" in proc.stdout and "no item succeeded" in proc.stdout
    assert "KeyError" in proc.stdout  # the failed attempt is in the job log


def test_job_commands_on_a_missing_job(server):
    for cmd in ("show", "stream", "cancel"):
        proc = server.cli("job", cmd, "--name", "no-such-job", check=False)
        assert proc.returncode == EXIT_NOT_FOUND, (cmd, proc.returncode, proc.stderr)
        assert "no-such-job" in proc.stderr


def test_job_download_in_azure_layout(server, workdir, tmp_path):
    simple_endpoint(server, workdir, PRINTING_SCORE, mini_batch_size=2)
    names = make_files(tmp_path / "in", numbered(3))
    done = completed(server, run_job(server, "--input-local-path", tmp_path / "in"))
    name = done["name"]
    final_log(server, name, "logs/job_result.txt")  # (see the next test)
    dest = tmp_path / "downloaded"
    proc = server.cli("job", "download", "--name", name, "--output-dir", dest)
    root = dest / name
    assert str(root) in proc.stdout
    with open(root / "predictions.csv") as f:
        assert f.read().splitlines() == names
    logs = root / "logs"
    for rel in ("job_progress_overview.txt", "job_result.txt", "lote_job.txt",
                "user/stdout/node0/process000.stdout.txt",
                "user/stdout/node0/process000.stderr.txt",
                "sys/node/node0/agent.txt",
                "sys/job_report/processed_mini-batches.csv"):
        assert (logs / rel).is_file(), (rel, sorted(str(p.relative_to(root))
                                                    for p in root.rglob("*")))
    stdout = (logs / "user/stdout/node0/process000.stdout.txt").read_text()
    assert stdout.count("hello from init") == 1  # init() once per worker
    for n in names:
        assert f"scoring {n}" in stdout
    assert "a warning on stderr" in (logs / "user/stdout/node0/process000.stderr.txt").read_text()
    result = (logs / "job_result.txt").read_text()
    assert f"Job: {name}" in result and "Status: Completed" in result
    assert "Items: 3 succeeded, 0 failed" in result
    overview = (logs / "job_progress_overview.txt").read_text()
    assert "Status: Completed" in overview and "Mini-batches: 2 total, 2 succeeded" in overview
    report = list(csv.DictReader(io.StringIO(
        (logs / "sys/job_report/processed_mini-batches.csv").read_text())))
    assert [(r["mini_batch_id"], r["items"], r["succeeded"], r["status"]) for r in report] == \
        [("1", "2", "2", "RUN_DONE"), ("2", "1", "1", "RUN_DONE")]
    assert all(r["worker"] == "node0/process000" and RFC3339.match(r["start_time"])
               for r in report)
    # Only final files: no temporaries.
    assert not [p for p in root.rglob("*") if ".tmp" in p.name]
    # The same file list over REST.
    files = job_files(server, name)
    assert files["output"] == ["predictions.csv"]
    assert "logs/job_result.txt" in files["logs"]
    assert output_lines(done) == names


def test_logs_are_final_when_the_job_is_seen_terminal(server, workdir, tmp_path):
    """A client that sees Completed (and downloads at once) gets job_result.txt
    and the mini-batch report, not temporary files."""
    simple_endpoint(server, workdir, mini_batch_size=1)
    make_files(tmp_path / "in", numbered(3))
    job = invoke(server, "--input-local-path", tmp_path / "in")
    deadline = time.monotonic() + 60
    while get_job(server, job["name"])["status"] != "Completed":
        assert time.monotonic() < deadline
    logs = job_files(server, job["name"])["logs"]
    assert "logs/job_result.txt" in logs, logs
    assert "logs/sys/job_report/processed_mini-batches.csv" in logs, logs
    assert not [f for f in logs if ".tmp" in f], logs


def test_job_file_list_never_shows_temporary_files(server, workdir, tmp_path):
    simple_endpoint(server, workdir, sleepy_echo(0.3), mini_batch_size=1)
    make_files(tmp_path / "in", numbered(12))
    job = invoke(server, "--input-local-path", tmp_path / "in")
    temporary = set()
    deadline = time.monotonic() + 60
    while get_job(server, job["name"])["status"] not in ("Completed", "Failed"):
        assert time.monotonic() < deadline
        temporary.update(f for f in job_files(server, job["name"])["logs"] if ".tmp" in f)
    assert temporary == set()


def test_cancel_is_refused_once_the_job_ended(server, workdir, tmp_path):
    simple_endpoint(server, workdir)
    make_files(tmp_path / "in", numbered(1))
    done = completed(server, run_job(server, "--input-local-path", tmp_path / "in"))
    proc = server.cli("job", "cancel", "--name", done["name"], check=False)
    assert proc.returncode == EXIT_PRECONDITION, proc.stderr
    assert "Completed" in proc.stderr
    assert get_job(server, done["name"])["status"] == "Completed"


def test_job_files_stay_inside_the_job(server, workdir, tmp_path):
    simple_endpoint(server, workdir)
    make_files(tmp_path / "in", numbered(1))
    done = completed(server, run_job(server, "--input-local-path", tmp_path / "in"))
    base = f"/api/v1/jobs/{done['name']}/files/"
    for rel in ("logs/../../../admin_token", "logs/%2e%2e/%2e%2e/%2e%2e/admin_token",
                "logs/../code/score.py", "..%2f..%2fadmin_token", "/etc/passwd",
                "logs/../../../metadata.db"):
        status, _, body = server.request("GET", base + rel)
        assert status in (400, 403, 404), (rel, status)
        assert server.admin_token not in str(body)


def test_job_download_of_a_failed_job_fetches_its_logs(server, workdir, tmp_path):
    score = "def run(mini_batch):\n    raise OSError('disk on fire')\n"
    simple_endpoint(server, workdir, score, retry_settings={"max_retries": 0, "timeout": 30})
    make_files(tmp_path / "in", numbered(2))
    done = run_job(server, "--input-local-path", tmp_path / "in", until=("Failed",))
    final_log(server, done["name"], "logs/job_result.txt")
    proc = server.cli("job", "download", "--name", done["name"], "--output-dir",
                      tmp_path / "dl")
    assert proc.returncode == 0, proc.stderr
    root = tmp_path / "dl" / done["name"]
    assert not (root / "predictions.csv").exists()
    assert "Status: Failed" in (root / "logs" / "job_result.txt").read_text()
    assert "disk on fire" in (root / "logs/user/error/node0/process000.txt").read_text()
