"""A real Slurm cluster on this host for end-to-end tests: scripts/slurm-local
started in a temporary folder (removed afterwards) on ports of its own, so
that it touches neither /etc/slurm nor a cluster the user brought up with the
script's defaults.

The `slurm_cluster` fixture (session-wide, registered in conftest.py) starts it
once and stops it at the end; it skips the test when the Slurm and MUNGE
daemons are not installed (`apt-get install slurm-wlm munge`, setup.sh does)
or when not running as root (the daemons run as root). A cluster that is
installed but fails to start fails the test: that is a bug, not a skip.

Every Slurm command must be run with `cluster.env` (it holds SLURM_CONF).
"""

import os
import random
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from lote_e2e import REPO

SCRIPT = os.path.join(REPO, "scripts", "slurm-local")
DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo")
NODES = 2
UP_TIMEOUT_S = 60
# squeue's states (%T) of a job that has not finished yet.
ACTIVE_STATES = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED",
                 "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD", "REQUEUE_FED",
                 "REQUEUE_HOLD"}


def _port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def _free_port_base(count):
    """A port P such that P..P+count-1 are free now (slurmctld's, then each
    node's slurmd's), away from Slurm's 6817/6818 and the script's 16817."""
    rng = random.Random()
    for _ in range(100):
        base = rng.randrange(20000, 30000)
        if all(_port_free(base + i) for i in range(count)):
            return base
    raise RuntimeError(f"no {count} consecutive free ports found in 20000-30000")


def skip_reason():
    """Why this host cannot run the cluster, or None when it can."""
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"  # as the script's
    missing = [d for d in DAEMONS if shutil.which(d, path=path) is None]
    if missing:
        return (f"Slurm is not installed (no {', '.join(missing)}): "
                f"apt-get install slurm-wlm munge")
    if os.geteuid() != 0:
        return "the local Slurm cluster's daemons need root"
    return None


class SlurmCluster:
    """A running scripts/slurm-local cluster: nodes node1..nodeN in partition
    `debug`, its state and logs under `.dir`."""

    def __init__(self, state_dir, nodes=NODES):
        self.dir = str(state_dir)
        self.nodes = [f"node{i}" for i in range(1, nodes + 1)]
        self.conf = os.path.join(self.dir, "slurm.conf")
        self.env = {**os.environ, "SLURM_CONF": self.conf}
        self._script_env = {**self.env, "LOTE_SLURM_DIR": self.dir, "LOTE_SLURM_NODES": str(nodes),
                            "LOTE_SLURM_PORT": str(_free_port_base(nodes + 1))}

    def script(self, command, timeout=UP_TIMEOUT_S):
        return subprocess.run([SCRIPT, command], env=self._script_env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)

    def up(self):
        proc = self.script("up")
        if proc.returncode != 0:
            pytest.fail(f"`scripts/slurm-local up` exited {proc.returncode}\n"
                        f"stdout: {proc.stdout}\nstderr: {proc.stderr}")

    def down(self):
        return self.script("down")

    def run(self, args, check=True, cwd=None, timeout=60):
        """Runs a Slurm command (sbatch, squeue, ...) against this cluster."""
        proc = subprocess.run([str(a) for a in args], env=self.env, cwd=cwd, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            pytest.fail(f"`{' '.join(map(str, args))}` exited {proc.returncode}\n"
                        f"stdout: {proc.stdout}\nstderr: {proc.stderr}\n"
                        f"logs: {os.path.join(self.dir, 'log')}")
        return proc

    def sbatch(self, args, cwd=None, timeout=60):
        """Submits with --parsable; returns the job id (an array's is its base id)."""
        out = self.run(["sbatch", "--parsable", *args], cwd=cwd, timeout=timeout).stdout.strip()
        return out.split(";")[0]

    def wait(self, job, timeout=60):
        """Polls squeue until no task of `job` is pending or running; returns
        {"<id>" or "<id>_<task>": final state} ("COMPLETED", "FAILED", ...).
        Finished jobs stay in `squeue -t all` for MinJobAge (30 s) at least.
        Faster than `sbatch --wait`, which polls every 2 to 10 s."""
        deadline = time.monotonic() + timeout
        while True:
            out = self.run(["squeue", "-h", "-t", "all", "-j", job, "-o", "%i %T"]).stdout
            states = dict(line.split() for line in out.splitlines() if line.strip())
            if states and all(s not in ACTIVE_STATES for s in states.values()):
                return states
            if time.monotonic() > deadline:
                pytest.fail(f"job {job} not finished after {timeout} s: {states}; "
                            f"logs: {os.path.join(self.dir, 'log')}")
            time.sleep(0.1)


@pytest.fixture(scope="session")
def slurm_cluster():
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    # Not under pytest's tmp_path: munged refuses a socket in a folder that
    # not everyone may enter, and pytest's are 0700.
    state_dir = tempfile.mkdtemp(prefix="lote-slurm-")
    os.chmod(state_dir, 0o755)
    cluster = SlurmCluster(state_dir)
    try:
        cluster.up()
        yield cluster
    finally:
        proc = cluster.down()
        assert proc.returncode == 0, (f"`scripts/slurm-local down` exited {proc.returncode}\n"
                                      f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
        shutil.rmtree(state_dir, ignore_errors=True)
