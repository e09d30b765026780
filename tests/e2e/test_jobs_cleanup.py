"""Clean-up (docs/jobs.md "Disk space"): an ended job keeps its rows once
(in its output, not also as results files), its uploaded input and staging
are given back when no job needs them, `lote serve --retain-jobs-days`
deletes old ended jobs, `lote system df` says what the home holds; canceled
and not-run mini-batches are counted apart from failed ones; `lote job stream
--user-logs` shows what the scoring scripts print."""

import glob
import json
import os
import subprocess
import time

from jobs_e2e import (ECHO_SCORE, final_log, get_job, invoke, make_files, numbered, output_lines,
                      simple_endpoint, sleepy_echo, wait_job, wait_until)
from lote_e2e import Server


def job_dir(server, name):
    return os.path.join(server.home, "jobs", name)


def upload_folders(server):
    return sorted(glob.glob(os.path.join(server.home, "datastores", "workspaceblobstore", "LocalUpload", "job-*")))


def test_rows_kept_once_and_upload_reclaimed_after_the_job(server, workdir, tmp_path):
    simple_endpoint(server, workdir, mini_batch_size=2)
    make_files(tmp_path / "in", numbered(9))
    job = invoke(server, "--input-local-path", tmp_path / "in")
    name = job["name"]
    assert len(upload_folders(server)) == 1
    done = wait_job(server, name, until=("Completed",))
    # The results, staging and input folders go once the end is recorded.
    wait_until(lambda: not any(os.path.exists(os.path.join(job_dir(server, name), d))
                               for d in ("results", "staging", "input")), 10, "the results to be reclaimed")
    wait_until(lambda: upload_folders(server) == [], 10, "the uploaded input to be removed")
    # The output and the logs stay, and download works.
    assert done["output"]["rows"] == 9
    assert len(output_lines(done)) == 9
    out = tmp_path / "dl"
    server.cli("job", "download", "--name", name, "--download-path", str(out))
    got = glob.glob(str(out / "**" / "predictions.csv"), recursive=True)
    assert got, list(out.rglob("*"))
    with open(got[0]) as f:
        assert len(f.read().splitlines()) == 9
    assert "reclaimed" in server.log()
    # A restart finds nothing to redo and loses nothing.
    again = get_job(server, name)
    assert again["status"] == "Completed" and again["output"]["rows"] == 9


def test_upload_kept_while_another_job_reads_it(server, workdir, tmp_path):
    simple_endpoint(server, workdir, sleepy_echo(0.5), mini_batch_size=1)
    make_files(tmp_path / "in", numbered(6))
    first = invoke(server, "--input-local-path", tmp_path / "in")
    [folder] = upload_folders(server)
    rel = os.path.relpath(folder, os.path.join(server.home, "datastores", "workspaceblobstore")) + "/in"
    second = invoke(server, "--input-datastore", "workspaceblobstore", "--input-path", rel)
    server.cli("job", "cancel", "--name", first["name"])
    wait_job(server, first["name"], until=("Canceled",))
    time.sleep(1.5)
    assert upload_folders(server) == [folder], "the second job still reads it"
    wait_job(server, second["name"], until=("Completed",))
    wait_until(lambda: upload_folders(server) == [], 10, "the upload to go with the last job using it")


def test_a_data_assets_upload_is_never_reclaimed(server, workdir, tmp_path):
    simple_endpoint(server, workdir)
    make_files(tmp_path / "in", numbered(3))
    (workdir / "data.yml").write_text(f"name: mydata\nversion: '1'\ntype: uri_folder\npath: {tmp_path / 'in'}\n")
    server.cli("data", "create", "--file", str(workdir / "data.yml"))
    done = wait_job(server, invoke(server, "--input", "azureml:mydata:1")["name"], until=("Completed",))
    assert done["output"]["rows"] == 3
    time.sleep(1)
    asset = server.cli_json("data", "show", "--name", "mydata", "--version", "1")
    path = os.path.join(server.home, "datastores", "workspaceblobstore", asset["relative_path"])
    assert os.path.isdir(path), asset


CANCEL_SCORE = """\
import os, time

def run(mini_batch):
    time.sleep(2)
    return [os.path.basename(p) for p in mini_batch]
"""


def test_canceled_and_not_run_counted_apart_from_failed(server, workdir, tmp_path):
    simple_endpoint(server, workdir, CANCEL_SCORE, mini_batch_size=1, max_concurrency_per_instance=2)
    make_files(tmp_path / "in", numbered(12))
    name = invoke(server, "--input-local-path", tmp_path / "in")["name"]
    wait_until(lambda: get_job(server, name)["progress"]["mini_batches"]["running"] >= 1, 30, "a running mini-batch")
    server.cli("job", "cancel", "--name", name)
    done = wait_job(server, name, until=("Canceled",))
    mb = done["progress"]["mini_batches"]
    assert mb["failed"] == 0 and done["progress"]["items"]["failed"] == 0, mb
    assert mb["canceled"] >= 1 and mb["not_run"] >= 1, mb
    assert mb["succeeded"] + mb["canceled"] + mb["not_run"] == mb["total"] == 12, mb
    assert mb["pending"] == 0 and mb["running"] == 0, mb
    table = server.cli("job", "show", "--name", name, "-o", "table").stdout
    assert "mb_canceled" in table.lower() and "mb_not_run" in table.lower(), table
    stream = server.cli("job", "stream", "--name", name, check=False)
    assert f"{mb['canceled']} canceled, {mb['not_run']} not run" in stream.stdout, stream.stdout
    assert "canceled while running" in stream.stdout, stream.stdout
    result = final_log(server, name, "logs/job_result.txt")
    assert f"0 failed, {mb['canceled']} canceled, {mb['not_run']} not run" in result, result
    status, _, text = server.request("GET", "/metrics")
    assert status == 200
    assert 'lote_mini_batches_total{outcome="canceled"}' in text, text[:2000]
    assert 'lote_mini_batches_total{outcome="not_run"}' in text


PRINTING_SCORE = """\
import os, sys

def init():
    print("PRINTED-IN-INIT", flush=True)

def run(mini_batch):
    for p in mini_batch:
        print("PRINTED-FOR", os.path.basename(p), flush=True)
    print("TO-STDERR", file=sys.stderr, flush=True)
    return [os.path.basename(p) for p in mini_batch]
"""


def test_stream_user_logs_shows_what_score_py_prints(server, workdir, tmp_path):
    ep = simple_endpoint(server, workdir, PRINTING_SCORE, mini_batch_size=1)
    make_files(tmp_path / "in", numbered(3))
    name = invoke(server, "--input-local-path", tmp_path / "in")["name"]
    live = server.cli("job", "stream", "--name", name, "--user-logs", timeout=120)
    out = live.stdout
    assert "PRINTED-IN-INIT" in out, out
    for n in numbered(3):
        assert f"PRINTED-FOR {n}" in out, out
    assert any(line.startswith("[node0/process") and "PRINTED-FOR" in line for line in out.splitlines()), out
    assert any("stderr]" in line and "TO-STDERR" in line for line in out.splitlines()), out
    # Without the flag: unchanged, no script output.
    plain = server.cli("job", "stream", "--name", name).stdout
    assert "PRINTED-FOR" not in plain
    # An ended job: the same lines again.
    again = server.cli("job", "stream", "--name", name, "--user-logs").stdout
    assert again.count("PRINTED-FOR") == 3, again
    # Invoke and stream in one step, with the scripts' output too.
    both = server.cli("endpoint", "invoke", "--name", ep, "--input-local-path", tmp_path / "in",
                      "--stream", "--user-logs", timeout=120).stdout
    assert both.count("PRINTED-FOR") == 3, both
    refused = server.cli("endpoint", "invoke", "--name", ep, "--input-local-path", tmp_path / "in",
                         "--user-logs", check=False)
    assert refused.returncode == 2 and "--user-logs is for --stream" in refused.stderr, refused


def test_system_df_matches_du(server, workdir, tmp_path):
    simple_endpoint(server, workdir)
    make_files(tmp_path / "in", numbered(5), content=lambda n, i: "x" * 1000 + "\n")
    name = invoke(server, "--input-local-path", tmp_path / "in")["name"]
    wait_job(server, name, until=("Completed",))
    df = server.cli_json("system", "df")
    cats = {c["category"]: c for c in df["categories"]}
    for key in ("jobs.results", "jobs.logs", "jobs.staging", "uploads", "models", "code", "data_assets",
                "datastore", "store"):
        assert key in cats, df
    assert df["jobs"]["count"] == 1
    du = int(subprocess.run(["du", "-sb", os.path.join(server.home, "jobs")], capture_output=True,
                            text=True, check=True).stdout.split()[0])
    # du counts folders too (4 KiB each): roughly, not to the byte.
    assert abs(df["jobs"]["bytes"] - du) < 200 * 1024, (df["jobs"], du)
    code_du = int(subprocess.run(["du", "-sb", "--exclude=*/", os.path.join(server.home, "code")],
                                 capture_output=True, text=True).stdout.split()[0] or 0)
    assert cats["code"]["bytes"] <= code_du + 1, (cats["code"], code_du)
    assert cats["store"]["bytes"] >= os.path.getsize(os.path.join(server.home, "metadata.db"))
    assert df["biggest_jobs"][0]["name"] == name
    table = server.cli("system", "df", "-o", "table").stdout
    assert "jobs.logs" in table and name in table, table


def test_retention_deletes_old_ended_jobs_never_running_ones(lote_bin, tmp_path):
    # 0.00005 days = 4.3 s: the sweep looks every second at this retention.
    srv = Server(lote_bin, tmp_path / "home", extra_args=("--retain-jobs-days", "0.00005"))
    try:
        workdir = tmp_path / "work"
        workdir.mkdir()
        simple_endpoint(srv, workdir, sleepy_echo(1), mini_batch_size=1)
        make_files(tmp_path / "quick", numbered(1))
        make_files(tmp_path / "slow", numbered(12))
        quick = invoke(srv, "--input-local-path", tmp_path / "quick")["name"]
        wait_job(srv, quick, until=("Completed",))
        slow = invoke(srv, "--input-local-path", tmp_path / "slow")["name"]
        out_dir = get_job(srv, quick)["output"]["local_path"]
        wait_until(lambda: srv.request("GET", f"/api/v1/jobs/{quick}")[0] == 404, 20,
                   "the ended job to be deleted")
        assert not os.path.exists(os.path.join(srv.home, "jobs", quick))
        assert os.path.exists(out_dir), "the output location's files are never deleted"
        # The running job outlives the retention: only an end starts its clock.
        wait_until(lambda: get_job(srv, slow)["status"] == "Running", 30, "the slow job to run")
        time.sleep(6)
        job = get_job(srv, slow)
        assert job["status"] == "Running", job
        assert os.path.isdir(os.path.join(srv.home, "jobs", slow))
        srv.cli("job", "cancel", "--name", slow)
        log = srv.log()
        assert f"job={quick} deleted" in log, log
    finally:
        srv.stop()


def test_kill_9_around_finalization_loses_and_duplicates_no_row(restartable_server, workdir, tmp_path):
    server = restartable_server.server
    simple_endpoint(server, workdir, mini_batch_size=1, max_concurrency_per_instance=4)
    names = make_files(tmp_path / "in", numbered(300))
    name = invoke(server, "--input-local-path", tmp_path / "in")["name"]
    # Killed as soon as the job is seen finalizing (or just ended): whichever
    # side of the assembly and the clean-up the kill lands on, a restart must
    # give every row exactly once.
    seen = None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        status, _, job = server.request("GET", f"/api/v1/jobs/{name}")
        if status == 200 and job["status"] in ("Finalizing", "Completed"):
            seen = job["status"]
            break
        time.sleep(0.002)
    assert seen, "the job never reached Finalizing"
    restartable_server.kill()
    print(f"killed while {seen}")
    server = restartable_server.start()
    done = wait_job(server, name, until=("Completed",))
    assert output_lines(done) == names, f"killed while {seen}"
    assert done["output"]["rows"] == 300
    wait_until(lambda: not os.path.exists(os.path.join(job_dir(server, name), "results")), 10,
               "the results to be reclaimed after the restart")

    # A crash between recording the end and removing the results: the next
    # start removes them, and the output is not touched.
    restartable_server.kill()
    left = os.path.join(job_dir(server, name), "results")
    os.makedirs(left)
    with open(os.path.join(left, "batch-0123456789abcdef.rows"), "w") as f:
        f.write("left,over\n")
    server = restartable_server.start()
    wait_until(lambda: not os.path.exists(left), 10, "leftover results to be removed at start")
    again = get_job(server, name)
    assert again["status"] == "Completed" and output_lines(again) == names


def test_results_kept_when_the_output_could_not_be_written(server, workdir, tmp_path):
    simple_endpoint(server, workdir, sleepy_echo(0.3), mini_batch_size=1)
    make_files(tmp_path / "in", numbered(4))
    job = invoke(server, "--input-local-path", tmp_path / "in")
    dest = job["output"]["local_path"]
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "w") as f:
        f.write("someone else's file\n")
    done = wait_job(server, job["name"])
    assert done["status"] == "Failed" and "appeared" in done["error"], done
    # Its rows are in no output: the results folder is their only copy.
    wait_until(lambda: not os.path.exists(os.path.join(job_dir(server, job["name"]), "staging")), 10,
               "the staging folder to be reclaimed")
    results = os.path.join(job_dir(server, job["name"]), "results")
    assert os.path.isdir(results) and os.listdir(results), "the committed rows are kept"
    assert "keeps its results folder" in server.log()
