"""Helpers for the end-to-end tests of batch jobs (tests/e2e/test_jobs_*.py):
endpoints with tiny scoring scripts, invoking, waiting for a job, reading its
output and logs, a loopback HTTP file server, and finding a job's processes.

Every wait is bounded; a test that times out fails with the job's state and
its event log, so the failure explains itself."""

import csv
import functools
import http.client
import http.server
import io
import json
import os
import pathlib
import subprocess
import threading
import time
import urllib.parse

import pytest

from lote_e2e import create_compute, write

EP = "jobsedp"
DEP = "dep1"
# Debian's interpreter has pandas; the `python3` on PATH may not.
PYTHON = "/usr/bin/python3"
TERMINAL = ("Completed", "Failed", "Canceled")
JOB_TIMEOUT_S = 60

# The simplest scoring script: one row per file, the file's name; it prints,
# so that the job's stdout logs have something to show.
ECHO_SCORE = """\
import os

def init():
    print("echo score ready, model in", os.environ["AZUREML_MODEL_DIR"], flush=True)

def run(mini_batch):
    print("scoring", len(mini_batch), "files", flush=True)
    return [os.path.basename(p) for p in mini_batch]
"""


def sleepy_echo(seconds):
    """Like ECHO_SCORE, but each run() first sleeps `seconds`."""
    return ("import os, time\n\ndef run(mini_batch):\n"
            f"    time.sleep({seconds})\n"
            "    return [os.path.basename(p) for p in mini_batch]\n")


# --- no-code models -------------------------------------------------------------

REPO = pathlib.Path(__file__).resolve().parents[2]


def have_xgboost():
    return subprocess.run([PYTHON, "-c", "import xgboost, pandas"], capture_output=True).returncode == 0


needs_xgboost = pytest.mark.skipif(not have_xgboost(), reason="python3-xgboost is not installed")


def make_native_models(out):
    """tests/native/make_models.py's MLflow XGBoost models and data into `out`
    (mlflow_reg: named columns; data.csv, bad.csv and their expected predictions)."""
    subprocess.run([PYTHON, str(REPO / "tests/native/make_models.py"), str(out)], check=True, capture_output=True)
    return out


# --- endpoints -----------------------------------------------------------------

def deployment_spec(workdir, name, score, python=None, extra_code=None, instance_count=1,
                    **settings):
    """A deployment with its own code folder (score.py = `score`) and a tiny
    model folder, both written under workdir. `settings` override the
    deployment's keys (mini_batch_size, retry_settings, error_threshold, ...)."""
    workdir = str(workdir)
    code = os.path.join(workdir, f"code-{name}")
    write(os.path.join(code, "score.py"), score)
    for rel, text in (extra_code or {}).items():
        write(os.path.join(code, rel), text)
    write(os.path.join(workdir, f"model-{name}", "weights.txt"), "1.0\n")
    spec = {
        "name": name,
        "model": {"name": f"model-{name}", "version": 1, "local_path": f"./model-{name}"},
        "code_configuration": {"code": {"local_path": f"./code-{name}"},
                               "scoring_script": "score.py"},
        "compute": {"target": "azureml:cpu-cluster", "instance_count": instance_count},
        "mini_batch_size": 10,
        "max_concurrency_per_instance": 1,
        "retry_settings": {"max_retries": 3, "timeout": 30},
        "error_threshold": -1,
        "logging_level": "info",
    }
    if python:
        spec["environment"] = {"name": f"env-{name}", "version": 1, "python": python}
    spec.update(settings)
    return spec


def ensure_compute(server, max_instances=4):
    if server.cli("compute", "show", "--name", "cpu-cluster", check=False).returncode != 0:
        create_compute(server, max_instances=max_instances)


def create_endpoint(server, workdir, deployments, name=EP, traffic=None):
    """Creates the compute (once) and an endpoint from Azure's YAML (written as
    JSON, which YAML reads too). Returns the endpoint as `endpoint create` prints it."""
    ensure_compute(server)
    spec = {"name": name, "type": "batch", "auth_mode": "aad_token", "deployments": deployments}
    if traffic is not None:
        spec["traffic"] = traffic
    path = write(os.path.join(str(workdir), f"{name}.yml"), json.dumps(spec, indent=2))
    return json.loads(server.cli("endpoint", "create", "--file", path, cwd=workdir).stdout)


def simple_endpoint(server, workdir, score=ECHO_SCORE, name=EP, **settings):
    """An endpoint with one deployment (DEP, traffic 100) running `score`."""
    create_endpoint(server, workdir, [deployment_spec(workdir, DEP, score, **settings)], name=name)
    return name


# --- input files -----------------------------------------------------------------

def make_files(folder, names, content=None):
    """Writes one small file per name into folder (created); returns the names."""
    folder = str(folder)
    os.makedirs(folder, exist_ok=True)
    for i, n in enumerate(names):
        write(os.path.join(folder, n), content(n, i) if content else f"{n}\n")
    return list(names)


def numbered(n, prefix="f", ext=".txt"):
    return [f"{prefix}{i:04d}{ext}" for i in range(n)]


def put_datastore_file(server, datastore, rel, data):
    status, reply = server.http("PUT", f"/api/v1/datastores/{datastore}/files/{rel}",
                                raw=data.encode() if isinstance(data, str) else data)
    assert status in (200, 201), (status, reply)


# --- jobs ------------------------------------------------------------------------

def invoke(server, *args, endpoint=EP, cwd=None):
    """`lote endpoint invoke`; returns the job it printed (fails the test on a
    non-zero exit)."""
    proc = server.cli("endpoint", "invoke", "--name", endpoint, *args, "-o", "json", cwd=cwd)
    job = json.loads(proc.stdout)
    assert isinstance(job.get("name"), str) and job["name"], job
    return job


def invoke_refused(server, *args, endpoint=EP, cwd=None):
    """An invoke that must fail at once without creating a job: returns the
    finished process (its exit code and stderr) after checking `job list`."""
    before = job_names(server)
    t0 = time.monotonic()
    proc = server.cli("endpoint", "invoke", "--name", endpoint, *args, check=False, cwd=cwd)
    took = time.monotonic() - t0
    assert proc.returncode != 0, f"invoke {args} was accepted: {proc.stdout}"
    assert proc.stderr.strip(), "a refused invoke says why on stderr"
    assert job_names(server) == before, "a refused invoke created a job"
    assert took < 15, f"refusing the invoke took {took:.1f}s"
    return proc


def job_names(server):
    status, jobs = server.http("GET", "/api/v1/jobs")
    assert status == 200, jobs
    return [j["name"] for j in jobs]


def get_job(server, name):
    status, job = server.http("GET", f"/api/v1/jobs/{name}")
    assert status == 200, (status, job)
    return job


def job_log(server, name):
    status, reply = server.http("GET", f"/api/v1/jobs/{name}/log?offset=0")
    return reply.get("text", "") if status == 200 and isinstance(reply, dict) else repr(reply)


def describe(server, name):
    """The job and its event log, for assertion messages."""
    try:
        job = get_job(server, name)
    except BaseException as e:  # noqa: BLE001 - only for a message
        job = f"<cannot read job: {e}>"
    return f"job: {json.dumps(job, indent=1)}\nlog:\n{job_log(server, name)}"


def wait_job(server, name, until=TERMINAL, timeout=JOB_TIMEOUT_S, poll=0.1):
    """Polls the job until its status is in `until`; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        job = get_job(server, name)
        if job["status"] in until:
            return job
        if job["status"] in TERMINAL or time.monotonic() > deadline:
            pytest.fail(f"job {name} did not reach {until} within {timeout}s\n"
                        f"{describe(server, name)}\nserver log:\n{server.log()[-4000:]}")
        time.sleep(poll)


def wait_until(predicate, timeout, what, poll=0.05):
    """Polls predicate() until it returns something truthy; returns that."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(poll)


def run_job(server, *args, endpoint=EP, until=("Completed",), timeout=JOB_TIMEOUT_S, cwd=None):
    """Invokes and waits for the job to end with a status in `until`."""
    job = invoke(server, *args, endpoint=endpoint, cwd=cwd)
    return wait_job(server, job["name"], until=until, timeout=timeout)


def completed(server, job):
    """Asserts a finished job Completed (with its log in the message)."""
    assert job["status"] == "Completed", describe(server, job["name"])
    return job


def get_job_file(server, name, rel):
    """A job's file (output or logs/...) through the REST API, as text; None when 404."""
    path = f"/api/v1/jobs/{name}/files/" + urllib.parse.quote(rel)
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {server.admin_token}"})
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    if resp.status == 404:
        return None
    assert resp.status == 200, (resp.status, body[:500])
    return body.decode()


def job_files(server, name):
    status, files = server.http("GET", f"/api/v1/jobs/{name}/files")
    assert status == 200, files
    return files


def output_text(job):
    """The predictions file of a finished job (the server is local: read it)."""
    with open(job["output"]["local_path"], newline="") as f:
        return f.read()


def output_lines(job):
    return output_text(job).splitlines()


def final_log(server, name, rel, timeout=5):
    """A log file a finished job writes at its end (logs/job_result.txt, the
    mini-batch report). Waits a little for it: the job may be seen ended a
    moment before they are written (test_logs_are_final_when_the_job_is_seen_terminal
    holds lote to better)."""
    deadline = time.monotonic() + timeout
    while True:
        text = get_job_file(server, name, rel)
        if text is not None:
            return text
        if time.monotonic() > deadline:
            pytest.fail(f"no {rel} {timeout}s after the job ended\n{describe(server, name)}")
        time.sleep(0.05)


def mini_batch_report(server, name):
    """logs/sys/job_report/processed_mini-batches.csv as a list of dicts."""
    text = final_log(server, name, "logs/sys/job_report/processed_mini-batches.csv")
    return list(csv.DictReader(io.StringIO(text)))


def error_logs(server, name):
    """Every logs/user/error/... file of the job, concatenated (name: text)."""
    files = [f for f in job_files(server, name)["logs"] if f.startswith("logs/user/error/")]
    return "\n".join(f"--- {f}\n{get_job_file(server, name, f)}" for f in sorted(files))


# --- processes -----------------------------------------------------------------------

def _read_proc(pid, what):
    try:
        with open(f"/proc/{pid}/{what}", "rb") as f:
            return f.read()
    except OSError:
        return b""


def _is_zombie(pid):
    stat = _read_proc(pid, "stat").decode(errors="replace")
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]


def job_processes(job_name):
    """Live processes that belong to a job: its agents (`lote agent ... --job J`)
    and its workers and whatever they started (LOTE_JOB=J in the environment)."""
    found = []
    marker = f"LOTE_JOB={job_name}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        argv = _read_proc(entry, "cmdline").split(b"\0")
        is_agent = b"agent" in argv and job_name.encode() in argv
        is_worker = marker in _read_proc(entry, "environ").split(b"\0")
        if (is_agent or is_worker) and not _is_zombie(entry):
            found.append((int(entry), b" ".join(argv).decode(errors="replace")))
    return found


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def wait_no_job_processes(job_name, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        left = job_processes(job_name)
        if not left:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"processes of job {job_name} still alive after {timeout}s: {left}")
        time.sleep(0.1)


# --- a loopback HTTP file server ---------------------------------------------------------

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class FileServer:
    """Serves a folder on 127.0.0.1 (a free port) from a thread, like
    `python3 -m http.server --bind 127.0.0.1`."""

    def __init__(self, root):
        self.root = str(root)
        os.makedirs(self.root, exist_ok=True)
        handler = functools.partial(_QuietHandler, directory=self.root)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def race(n, fn):
    """Runs fn() on n threads started together; returns their results."""
    import threading
    start = threading.Barrier(n)
    results = [None] * n

    def run(i):
        start.wait()
        results[i] = fn()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
