"""Progress in the terminal: `job stream` prints a progress line every ~2 s
while the job runs (a bar redrawn in place on a terminal), `invoke --stream`
invokes and follows, and `job list|show -o table` have progress columns."""

import os
import pty
import select
import subprocess
import time

from jobs_e2e import make_files, numbered, simple_endpoint, sleepy_echo, wait_job
from lote_e2e import EXIT_INVALID


def slow_job_endpoint(server, workdir, files=8, seconds=0.8):
    simple_endpoint(server, workdir, score=sleepy_echo(seconds), mini_batch_size=1)
    make_files(workdir / "in", numbered(files))


def test_stream_prints_progress_lines_when_not_a_terminal(server, workdir):
    slow_job_endpoint(server, workdir)
    proc = server.cli("endpoint", "invoke", "--name", "jobsedp", "--input-local-path", "in", "--stream",
                      cwd=workdir, timeout=120)
    lines = proc.stdout.splitlines()
    progress = [ln for ln in lines if ln.startswith("Running: ") and "mini-batches" in ln]
    assert progress, proc.stdout
    assert any("/8 mini-batches" in ln and "items" in ln and "items/s" in ln for ln in progress), progress
    assert "\r" not in proc.stdout and "\x1b[" not in proc.stdout  # no bar drawing into a pipe
    assert len(progress) == len(set(progress))  # a line only when something changed
    assert "Completed" in lines[-3] or any(ln.startswith("Job ") and "Completed" in ln for ln in lines)
    assert "started" in proc.stderr


def test_stream_draws_one_bar_on_a_terminal(server, workdir):
    slow_job_endpoint(server, workdir)
    job = server.cli("endpoint", "invoke", "--name", "jobsedp", "--input-local-path", "in", "--query", "name",
                     "-o", "tsv", cwd=workdir).stdout.strip()
    pid, fd = pty.fork()
    if pid == 0:  # the child: `lote job stream` on a pseudo-terminal
        env = server.env(COLUMNS="100")
        os.execve(server.lote_bin, [server.lote_bin, "job", "stream", "-n", job], env)
    out = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out
    text = out.decode(errors="replace")
    assert "\r\x1b[K[" in text and "#" in text and "mini-batches" in text, text
    assert "Running: " not in text  # the plain lines are for pipes
    assert text.rstrip().splitlines()[-3].startswith("Job ") or "Completed" in text


def test_job_list_filters_and_table(server, workdir):
    slow_job_endpoint(server, workdir, files=2, seconds=0.1)
    names = []
    for _ in range(3):
        names.append(server.cli("endpoint", "invoke", "--name", "jobsedp", "--input-local-path", "in",
                                "--query", "name", "-o", "tsv", cwd=workdir).stdout.strip())
    for n in names:
        wait_job(server, n)
    listed = server.cli_json("job", "list", "--status", "completed", "--endpoint-name", "jobsedp")
    assert sorted(j["name"] for j in listed) == sorted(names)
    assert server.cli_json("job", "list", "--status", "Failed") == []
    assert len(server.cli_json("job", "list", "--max-results", "2")) == 2
    p = server.cli("job", "list", "--status", "runing", check=False)
    assert p.returncode == EXIT_INVALID and "did you mean 'Running'" in p.stderr
    table = server.cli("job", "list", "-o", "table").stdout.splitlines()
    assert table[0].split()[:5] == ["Name", "Status", "Endpoint", "Deployment", "Mini_batches"]
    assert all(" 2/2 " in row and "100%" in row for row in table[2:]), table
    shown = server.cli("job", "show", "-n", names[0], "-o", "table").stdout.splitlines()
    assert len(shown) == 3 and names[0] in shown[2]
