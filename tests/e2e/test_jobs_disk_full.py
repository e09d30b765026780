"""A full disk under the server's home: the job fails within a minute, and
"No space left on device" is in `lote job show` and logs/job_result.txt
(before, it failed after minutes of lease expiries pointing at a log that did
not exist). The home is a small tmpfs, which needs root."""

import os
import subprocess
import time

import pytest

from jobs_e2e import describe, invoke, make_files, numbered, simple_endpoint, wait_job
from lote_e2e import Server

# Two rows of 1 MB per file: 40 files are 80 MB of results.
BIG_ROWS = """\
def run(mini_batch):
    return ["x" * 1_000_000 for _ in range(2) for p in mini_batch]
"""


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
                          capture_output=True, text=True)
    return proc.returncode == 0


@pytest.fixture
def small_home(tmp_path):
    home = tmp_path / "small"
    if os.geteuid() != 0 or not mount_tmpfs(home, "24m"):
        pytest.skip("mounting a tmpfs needs root")
    yield home
    subprocess.run(["umount", "-l", str(home)], capture_output=True)


def test_a_full_disk_fails_the_job_at_once_with_the_reason(lote_bin, small_home, tmp_path):
    workdir = tmp_path / "work"
    workdir.mkdir()
    server = Server(lote_bin, small_home / "home")
    try:
        simple_endpoint(server, workdir, score=BIG_ROWS, mini_batch_size=1, max_concurrency_per_instance=2)
        make_files(tmp_path / "in", numbered(40))
        name = invoke(server, "--input-local-path", tmp_path / "in")["name"]
        t0 = time.monotonic()
        done = wait_job(server, name, timeout=90)
        took = time.monotonic() - t0
        assert done["status"] == "Failed", describe(server, name)
        assert "No space left on device" in done["error"], describe(server, name)
        assert took < 60, f"the job took {took:.0f} s to fail"
        result = (small_home / "home" / "jobs" / name / "logs" / "job_result.txt").read_text()
        assert "No space left on device" in result, result
        # The server still answers.
        assert server.http("GET", "/api/v1/jobs")[0] == 200
    finally:
        rc = server.stop()
        assert rc == 0, server.log()
