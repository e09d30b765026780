"""The job engine under races and faults (docs/jobs.md "What a job promises"):
a cancel is never lost, a stalled input never freezes the other jobs, an
ended job leaves no process behind even when its processes were stopped,
and a job with nothing to score says so."""

import http.server
import os
import pathlib
import signal
import threading
import time

import pytest

from jobs_e2e import (completed, describe, get_job, invoke, job_log, job_processes, make_files,
                      make_native_models, mini_batch_report, needs_xgboost, numbered, output_lines, pid_alive, run_job, simple_endpoint,
                      wait_job, wait_no_job_processes, wait_until)

REPO = pathlib.Path(__file__).resolve().parents[2]


class SlowFolderServer:
    """An HTTP folder (an index page linking `files`) whose file downloads
    answer only once `release` is set (or after `delay` seconds)."""

    def __init__(self, files, delay=None):
        self.release = threading.Event()
        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self.do_GET(head=True)

            def do_GET(self, head=False):
                if self.path == "/data/":
                    body = "".join(f'<a href="{f}">{f}</a>\n' for f in files).encode()
                else:
                    outer.requests += 1
                    if not head:
                        outer.release.wait(delay)
                    body = b"x\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/data/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def slow_folder():
    servers = []

    def make(files, delay=None):
        s = SlowFolderServer(files, delay)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()


def test_a_cancel_while_the_input_is_prepared_is_never_lost(server, workdir, slow_folder):
    simple_endpoint(server, workdir, mini_batch_size=1)
    folder = slow_folder(["a.txt", "b.txt", "c.txt"])
    job = invoke(server, "--input-path", folder.url)
    name = job["name"]
    wait_until(lambda: get_job(server, name)["status"] == "Preparing" and folder.requests > 0, 15,
               "the job to download its input")
    reply = server.cli_json("job", "cancel", "--name", name)
    assert reply["status"] == "CancelRequested", reply
    folder.release.set()  # the download finishes; the job must not run anyway
    done = wait_job(server, name, timeout=30)
    assert done["status"] == "Canceled", describe(server, name)
    assert "status Running" not in job_log(server, name)
    assert done["progress"]["mini_batches"]["succeeded"] == 0


def test_a_stalled_input_does_not_hold_up_other_jobs(server, workdir, slow_folder, tmp_path):
    simple_endpoint(server, workdir, mini_batch_size=1)
    stalled = slow_folder(["a.txt"])  # its download never answers until released
    job_a = invoke(server, "--input-path", stalled.url)["name"]
    wait_until(lambda: stalled.requests > 0, 15, "the stalled download to start")

    make_files(tmp_path / "in", numbered(5))
    t0 = time.monotonic()
    done_b = run_job(server, "--input-local-path", tmp_path / "in", timeout=30)
    completed(server, done_b)
    assert time.monotonic() - t0 < 30
    # The stalled job answers, and can be canceled, meanwhile.
    assert get_job(server, job_a)["status"] == "Preparing"
    assert server.cli_json("job", "cancel", "--name", job_a)["status"] == "CancelRequested"
    # The download is abandoned: the job ends without the stalled host answering.
    t0 = time.monotonic()
    assert wait_job(server, job_a, timeout=30)["status"] == "Canceled", describe(server, job_a)
    assert time.monotonic() - t0 < 10
    assert not stalled.release.is_set()


STUBBORN_SCORE = """\
import os, signal, subprocess, time

def init():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a script that shrugs off SIGTERM
    child = subprocess.Popen(["sleep", "300"], start_new_session=True)  # out of its group
    with open({pids!r}, "a") as f:
        f.write(f"{{child.pid}}\\n")

def run(mini_batch):
    time.sleep(1)
    return [os.path.basename(p) for p in mini_batch]
"""


def test_stopped_agents_and_workers_are_gone_when_their_job_ends(server, workdir, tmp_path):
    pids_file = tmp_path / "children.txt"
    simple_endpoint(server, workdir, score=STUBBORN_SCORE.format(pids=str(pids_file)), mini_batch_size=1,
                    max_concurrency_per_instance=2)
    make_files(tmp_path / "in", numbered(40))
    name = invoke(server, "--input-local-path", tmp_path / "in")["name"]
    wait_until(lambda: get_job(server, name)["progress"]["mini_batches"]["succeeded"] >= 1, 30,
               "a mini-batch to succeed")
    procs = job_processes(name)
    assert len(procs) >= 3, procs  # the agent and two workers (and their children)
    children = [int(x) for x in pids_file.read_text().split()]
    assert len(children) == 2, children
    time.sleep(1)  # the control plane has seen the workers' children
    for pid, _ in procs:
        os.kill(pid, signal.SIGSTOP)
    try:
        server.cli_json("job", "cancel", "--name", name)
        assert wait_job(server, name, timeout=20)["status"] == "Canceled"
        wait_no_job_processes(name, timeout=15)
        assert [p for p, _ in procs if pid_alive(p)] == []
        wait_until(lambda: not any(pid_alive(p) for p in children), 15, "the scripts' children to be gone")
    finally:
        for pid in [p for p, _ in procs] + children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@needs_xgboost
def test_a_job_with_no_items_completes_and_says_why(server, tmp_path):
    make_native_models(tmp_path)
    data = tmp_path / "in"
    data.mkdir()
    header = (tmp_path / "data.csv").read_text().splitlines()[0]
    (data / "empty.csv").write_text(header + "\n")  # a header and no row
    (tmp_path / "ep.yml").write_text(
        "name: xgbep\ntype: batch\ndeployments:\n  - name: xgb\n"
        "    model: {name: xgbreg, version: 1, local_path: ./mlflow_reg}\n"
        "    compute: {target: azureml:cpu-cluster}\n    mini_batch_size: 1\n")
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "4")
    server.cli("endpoint", "create", "--file", str(tmp_path / "ep.yml"))
    job = server.cli("endpoint", "invoke", "--name", "xgbep", "--input-local-path", str(data),
                     "--query", "name", "-o", "tsv").stdout.strip()
    done = wait_job(server, job, timeout=60)
    assert done["status"] == "Completed", describe(server, job)
    assert done["output"]["rows"] == 0
    log = job_log(server, job)
    assert "the input held no items to score" in log, log
    result = (pathlib.Path(server.home) / "jobs" / job / "logs" / "job_result.txt").read_text()
    assert "Status: Completed" in result
    assert "logs/user/error" not in result


COLUMNS_BY_FILE = """\
import os
import pandas as pd

def run(mini_batch):
    name = os.path.basename(mini_batch[0])
    if name.startswith("list"):
        return [name]
    column = "score" if name.startswith("b") else "prediction"
    return pd.DataFrame({"file": [name], column: [1.0]})
"""


def test_rows_under_another_header_fail_their_mini_batch_not_the_csv(server, workdir, tmp_path):
    simple_endpoint(server, workdir, score=COLUMNS_BY_FILE, python="/usr/bin/python3", mini_batch_size=1,
                    max_concurrency_per_instance=1)
    make_files(tmp_path / "in", ["a1.txt", "a2.txt", "b1.txt"])
    done = wait_job(server, invoke(server, "--input-local-path", tmp_path / "in")["name"], timeout=60)
    assert done["status"] == "Completed", describe(server, done["name"])
    lines = output_lines(done)
    assert lines == ["file,prediction", "a1.txt,1.0", "a2.txt,1.0"], lines
    report = mini_batch_report(server, done["name"])
    assert [r["status"] for r in report] == ["RUN_DONE", "RUN_DONE", "RUN_HEADER_MISMATCH"], report
    assert "'file,score' differ from the output's 'file,prediction'" in report[2]["error"]


def test_a_list_batch_then_a_dataframe_batch_never_puts_a_header_mid_file(server, workdir, tmp_path):
    simple_endpoint(server, workdir, score=COLUMNS_BY_FILE, python="/usr/bin/python3", mini_batch_size=1,
                    max_concurrency_per_instance=1)
    make_files(tmp_path / "in", ["list1.txt", "list2.txt", "zz.txt"])
    done = wait_job(server, invoke(server, "--input-local-path", tmp_path / "in")["name"], timeout=60)
    assert done["status"] == "Completed", describe(server, done["name"])
    assert output_lines(done) == ["list1.txt", "list2.txt"]
    assert done["progress"]["mini_batches"]["failed"] == 1

