"""A real `lote serve` for the benchmarks: its own temporary home, a free
loopback port, the admin token; the CLI and REST to drive it; and a clean
stop that also ends every agent and worker it started."""

import http.client
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.parse

START_TIMEOUT_S = 15
STOP_TIMEOUT_S = 10

_live = set()  # servers not stopped yet, for stop_all() on any exit


def stop_all():
    for server in list(_live):
        server.stop()


class JobFailed(RuntimeError):
    pass


def _descendants(root):
    """Pids of every live descendant of `root` (walks /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def proc_status_kb(pid, key):
    """A `VmHWM`-style field of /proc/<pid>/status, in kB (None when gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class Server:
    """`lote serve --home <tmp> --port 0`, started in its own session."""

    def __init__(self, lote_bin, workdir, name="serve", env=None):
        """env: more environment for the server (SLURM_CONF for a Slurm compute)."""
        self.lote_bin = os.path.abspath(lote_bin)
        self.home = tempfile.mkdtemp(prefix=f"{name}-", dir=workdir)
        self.log_path = self.home + ".log"
        self._log = open(self.log_path, "wb")
        env = {**{k: v for k, v in os.environ.items() if k not in ("LOTE_HOME", "LOTE_ENDPOINT", "LOTE_TOKEN")},
               **(env or {})}
        self.proc = subprocess.Popen([lote_bin, "serve", "--home", self.home, "--port", "0"], env=env,
                                     stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        _live.add(self)
        self.pid = self.proc.pid
        info_path = os.path.join(self.home, "server.json")
        deadline = time.monotonic() + START_TIMEOUT_S
        info = None
        while info is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"lote serve did not start (exit {self.proc.returncode}); see {self.log_path}")
            try:
                with open(info_path) as f:
                    info = json.load(f)
                if info.get("pid") != self.pid:
                    info = None
            except (OSError, ValueError):
                info = None
            if info is None:
                time.sleep(0.02)
        parsed = urllib.parse.urlsplit(info["url"])
        self.host, self.port = parsed.hostname, parsed.port
        with open(os.path.join(self.home, "admin_token")) as f:
            self.token = f.read().strip()

    # --- process -------------------------------------------------------------
    def wait_idle(self, timeout_s=10, settle_s=0.15):
        """Waits until the server has no agents (or workers) left, then settle_s more.

        Every timed job starts on a quiet server: lote's scheduler thread stops
        a finished job's agent in LocalLauncher::Stop, which polls every
        100 ms, and a job invoked meanwhile waits for it (not counted here)."""
        deadline = time.monotonic() + timeout_s
        while _descendants(self.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(settle_s)

    def rss_kb(self, key="VmHWM"):
        return proc_status_kb(self.pid, key)

    def stop(self):
        """SIGTERM, then SIGKILL for whatever the server started and left behind."""
        if self not in _live:
            return
        _live.discard(self)
        started = _descendants(self.pid) if self.proc.poll() is None else []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.proc.wait()
        for pid in started:  # agents and workers run in process groups of their own
            try:
                os.killpg(pid, signal.SIGKILL) if os.getpgid(pid) == pid else os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self._log.close()

    # --- CLI and REST -----------------------------------------------------------
    def cli(self, *args, cwd=None):
        env = {k: v for k, v in os.environ.items() if k not in ("LOTE_ENDPOINT", "LOTE_TOKEN")}
        env["LOTE_HOME"] = self.home
        proc = subprocess.run([self.lote_bin, *map(str, args)], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"`lote {' '.join(map(str, args))}` exited {proc.returncode}: "
                               f"{proc.stderr.strip() or proc.stdout.strip()}")
        return proc.stdout

    def request(self, method, path, body=None):
        """One request on a fresh connection; returns the parsed JSON body.

        Not kept alive on purpose: lote's server writes a response's headers
        and body in two sends without TCP_NODELAY, so on a reused connection
        the body waits for the client's delayed ACK (~40 ms a request). A new
        connection is in quick-ACK mode and answers in about a millisecond."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self.token}", "Connection": "close"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
        finally:
            conn.close()
        if resp.status >= 300:
            raise RuntimeError(f"{method} {path}: HTTP {resp.status}: {payload.decode(errors='replace')}")
        return json.loads(payload) if payload.strip() else None

    def create_datastore(self, name, path):
        self.cli("datastore", "create", "--name", name, "--type", "local", "--path", path, "-o", "none")

    def create_compute(self, name="cpu-cluster"):
        self.cli("compute", "create", "--name", name, "--type", "local", "--min-instances", "0",
                 "--max-instances", "4", "-o", "none")

    def create_slurm_compute(self, name, partition, max_instances=4, sbatch_args=()):
        """A compute of type slurm; the server checks it with `sbatch --test-only`."""
        self.cli("compute", "create", "--name", name, "--type", "slurm", "--partition", partition,
                 "--max-instances", max_instances, *(f"--sbatch-arg={a}" for a in sbatch_args), "-o", "none")

    def create_endpoint(self, yml_text, workdir):
        path = os.path.join(workdir, "endpoint.yml")
        with open(path, "w") as f:
            f.write(yml_text)
        self.cli("endpoint", "create", "--file", path, "-o", "none", cwd=workdir)

    # --- jobs ------------------------------------------------------------------
    def invoke(self, endpoint, datastore, path, overrides=None):
        body = {"input": {"datastore": datastore, "path": path}}
        if overrides:
            body["set"] = overrides
        return self.request("POST", f"/api/v1/endpoints/{endpoint}/jobs", body)["name"]

    def job(self, name):
        return self.request("GET", f"/api/v1/jobs/{urllib.parse.quote(name)}")

    def run_job(self, endpoint, datastore, path, overrides=None, poll_s=0.005, deadline_s=None,
                on_status=None, on_poll=None):
        """Invokes and waits until the job ends.

        Returns (seconds from just before the POST to when Completed was first
        seen, the final job, {status: seconds when first seen}).
        on_status(status, seconds) is called when a status is first seen.
        With on_poll, GET /jobs/{name} is polled every poll_s and on_poll(job,
        seconds) called after every poll; without it the job's event log
        (logs/lote_job.txt, where the server writes each "status X" as it
        happens) is watched with stat() instead, so that the observer costs the
        server nothing: 200 GETs a second took ~5 % of the CPU the job shares
        with them. Past deadline_s the job is canceled and the result has
        "partial": True (the counters say how far it got). Raises JobFailed
        otherwise."""
        self.wait_idle()
        start = time.monotonic()
        name = self.invoke(endpoint, datastore, path, overrides)
        seen = {"invoked": time.monotonic() - start}
        if on_poll is None:
            return self._wait_by_events(name, start, seen, poll_s, deadline_s, on_status)
        while True:
            job = self.job(name)
            now = time.monotonic() - start
            status = job["status"]
            if status not in seen:
                seen[status] = now
                if on_status:
                    on_status(status, now)
            on_poll(job, now)
            if status == "Completed":
                return now, job, seen
            if status in ("Failed", "Canceled"):
                raise JobFailed(f"job {name} {status}: {job.get('error', '')}")
            if deadline_s is not None and now > deadline_s:
                return now, self._cancel(name), seen
            time.sleep(poll_s)

    def _cancel(self, name):
        self.request("POST", f"/api/v1/jobs/{urllib.parse.quote(name)}/cancel")
        job = self.job(name)
        job["partial"] = True
        return job

    def _wait_by_events(self, name, start, seen, poll_s, deadline_s, on_status):
        """run_job's wait without polling the server: see run_job."""
        events = os.path.join(self.job_dir(name), "logs", "lote_job.txt")
        offset, pending = 0, b""
        while True:
            now = time.monotonic() - start
            try:
                size = os.stat(events).st_size
            except FileNotFoundError:
                size = 0
            if size > offset:
                with open(events, "rb") as f:
                    f.seek(offset)
                    chunk = f.read(size - offset)
                offset += len(chunk)
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    words = line.decode(errors="replace").split(" ")
                    if len(words) < 3 or words[1] != "status":
                        continue
                    status = words[2]
                    if status not in seen:
                        seen[status] = now
                        if on_status:
                            on_status(status, now)
                    if status == "Completed":
                        return now, self.job(name), seen
                    if status in ("Failed", "Canceled"):
                        job = self.job(name)
                        raise JobFailed(f"job {name} {status}: {job.get('error', '')}")
            if deadline_s is not None and now > deadline_s:
                return now, self._cancel(name), seen
            time.sleep(poll_s)

    def job_dir(self, name):
        return os.path.join(self.home, "jobs", name)
