"""A real Slurm cluster for the slurm section: scripts/slurm-local (two nodes,
partition `debug`) started in a temporary folder on free ports, so that it
touches neither /etc/slurm nor a cluster someone else brought up, and brought
down (folder removed) when the section ends, fails or is interrupted, like the
servers (stop_all). The same approach as tests/e2e/slurm_local.py, without
pytest.

Every Slurm command, and the lote server, needs `env` (it holds SLURM_CONF)."""

import datetime
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "scripts", "slurm-local")
TOOLS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo")
UP_TIMEOUT_S = 60
DOWN_TIMEOUT_S = 60

_live = set()  # clusters not down yet, for stop_all() on any exit


def stop_all():
    for cluster in list(_live):
        cluster.down()


def skip_reason():
    """Why this host cannot run the cluster, or None when it can."""
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"  # as the script's
    missing = [t for t in TOOLS if shutil.which(t, path=path) is None]
    if missing:
        return f"Slurm is not installed (no {', '.join(missing)}): apt-get install slurm-wlm munge"
    if os.geteuid() != 0:
        return "the local Slurm cluster's daemons need root"
    return None


def _port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def _free_port_base(count):
    """P such that P..P+count-1 are free now (slurmctld's port, then one per
    slurmd), away from Slurm's 6817/6818, the script's default 16817 and the
    kernel's ephemeral ports (32768 and up): the range tests/e2e/slurm_local.py uses."""
    rng = random.Random()
    for _ in range(100):
        base = rng.randrange(20000, 30000)
        if all(_port_free(base + i) for i in range(count)):
            return base
    raise RuntimeError(f"no {count} consecutive free ports found in 20000-30000")


def _log_time(stamp):
    """A Slurm log line's `[2026-11-28T10:31:50.878]` (local time) as epoch seconds."""
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f").timestamp()


class Cluster:
    """scripts/slurm-local in its own folder: nodes node1..nodeN in partition `debug`."""

    def __init__(self, nodes=2, keep=False):
        # Not under bench's scratch folder: munged refuses a socket in a folder
        # that not everyone may enter, and mkdtemp's are 0700.
        self.dir = tempfile.mkdtemp(prefix="lote-bench-slurm-")
        os.chmod(self.dir, 0o755)
        self.nodes = [f"node{i}" for i in range(1, nodes + 1)]
        self.keep = keep
        self.port = _free_port_base(nodes + 1)
        self.env = {"SLURM_CONF": os.path.join(self.dir, "slurm.conf")}
        self._script_env = {**os.environ, **self.env, "LOTE_SLURM_DIR": self.dir,
                            "LOTE_SLURM_NODES": str(nodes), "LOTE_SLURM_PORT": str(self.port)}
        self._up = False

    def _script(self, command, timeout):
        # A session of its own: a second Ctrl-C must not stop `down` half-way.
        return subprocess.run([SCRIPT, command], env=self._script_env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout, start_new_session=True)

    def up(self):
        _live.add(self)  # before starting: a failed or interrupted `up` is brought down too
        self._up = True
        proc = self._script("up", UP_TIMEOUT_S)
        if proc.returncode != 0:
            raise RuntimeError(f"`scripts/slurm-local up` exited {proc.returncode}: "
                               f"{(proc.stderr or proc.stdout).strip()}")

    def down(self):
        """Cancels every job, stops the daemons, removes the folder (kept with --keep)."""
        if self not in _live:
            return
        _live.discard(self)
        try:
            proc = self._script("down", DOWN_TIMEOUT_S)
            if proc.returncode != 0:
                print(f"bench: `scripts/slurm-local down` exited {proc.returncode}: "
                      f"{(proc.stderr or proc.stdout).strip()}; its folder is kept: {self.dir}", flush=True)
                return
        except subprocess.TimeoutExpired:
            print(f"bench: `scripts/slurm-local down` took over {DOWN_TIMEOUT_S} s; folder kept: {self.dir}",
                  flush=True)
            return
        if self.keep:
            print(f"bench: Slurm cluster folder kept: {self.dir}", flush=True)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def run(self, *args, timeout=30):
        proc = subprocess.run(list(map(str, args)), env={**os.environ, **self.env}, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"`{' '.join(map(str, args))}` exited {proc.returncode}: {proc.stderr.strip()}")
        return proc.stdout

    def wait_idle(self, timeout_s=30, settle_s=0.1):
        """Until no job is queued or running and every node is idle, then settle_s
        more: each node has one CPU, so a job invoked while the last one's
        agents are still being canceled would wait for them in the queue."""
        deadline = time.monotonic() + timeout_s
        while True:
            jobs = self.run("squeue", "-h", "-o", "%i %T").split("\n")
            nodes = self.run("sinfo", "-h", "-N", "-o", "%N %T").split()[1::2]
            if not any(j.strip() for j in jobs) and nodes and all(s == "idle" for s in nodes):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Slurm cluster is not idle after {timeout_s} s: "
                                   f"jobs {jobs}, nodes {nodes}")
            time.sleep(0.05)
        time.sleep(settle_s)

    def timeline(self, slurm_ids):
        """Epoch seconds of what slurmctld's and the slurmds' logs say about
        these Slurm jobs, the earliest over them: submitted (sbatch reached
        slurmctld), allocated (the scheduler gave it a node) and launched (a
        slurmd started its batch script). Missing when not logged."""
        ids = "|".join(map(re.escape, map(str, slurm_ids)))
        if not ids:
            return {}
        patterns = {
            "submitted": re.compile(rf"^\[([^\]]+)\] _slurm_rpc_submit_batch_job: JobId=({ids}) "),
            "allocated": re.compile(rf"^\[([^\]]+)\] (?:sched|backfill): (?:Allocate|Started) JobId=({ids}) "),
            "launched": re.compile(rf"^\[([^\]]+)\] Launching batch job ({ids}) "),
        }
        logs = [os.path.join(self.dir, "log", "slurmctld.log")]
        logs += [os.path.join(self.dir, "log", f"slurmd-{n}.log") for n in self.nodes]
        out = {}
        for path in logs:
            try:
                with open(path, errors="replace") as f:
                    for line in f:
                        for what, pattern in patterns.items():
                            m = pattern.match(line)
                            if m:
                                t = _log_time(m.group(1))
                                out[what] = min(out.get(what, t), t)
            except OSError:
                continue
        return out
