"""lote job delete: an ended job's record and folder go; its output
location's files stay; a live job is refused; racing deletes delete once."""

import os

from jobs_e2e import (get_job, make_files, numbered, race, run_job, simple_endpoint, sleepy_echo, wait_job,
                      wait_until)
from lote_e2e import EXIT_NOT_FOUND, EXIT_PRECONDITION


def test_delete_an_ended_job_keeps_its_output(server, workdir):
    simple_endpoint(server, workdir)
    make_files(workdir / "in", numbered(3))
    job = run_job(server, "--input-local-path", "in", cwd=workdir)
    name, output = job["name"], job["output"]["local_path"]
    folder = os.path.join(server.home, "jobs", name)
    assert os.path.isdir(folder) and os.path.isfile(output)
    p = server.cli("job", "delete", "-n", name, check=False)  # no terminal, no --yes: refused
    assert p.returncode == 2 and "--yes" in p.stderr
    server.cli("job", "delete", "-n", name, "--yes")
    assert not os.path.exists(folder)
    assert os.path.isfile(output)  # the output location is the user's
    assert server.cli("job", "show", "-n", name, check=False).returncode == EXIT_NOT_FOUND
    assert name not in [j["name"] for j in server.cli_json("job", "list")]
    assert not [n for n in os.listdir(os.path.join(server.home, "jobs")) if n.startswith(".deleted-")]
    assert server.cli("job", "delete", "-n", name, "--yes", check=False).returncode == EXIT_NOT_FOUND


def test_a_live_job_is_not_deleted(server, workdir):
    simple_endpoint(server, workdir, score=sleepy_echo(30), mini_batch_size=1)
    make_files(workdir / "in", numbered(2))
    job = server.cli("endpoint", "invoke", "--name", "jobsedp", "--input-local-path", "in", "--query", "name",
                     "-o", "tsv", cwd=workdir).stdout.strip()
    wait_until(lambda: get_job(server, job)["status"] == "Running", 60, "running")
    p = server.cli("job", "delete", "-n", job, "--yes", check=False)
    assert p.returncode == EXIT_PRECONDITION and "cancel it first" in p.stderr
    assert get_job(server, job)["status"] == "Running"
    server.cli("job", "cancel", "-n", job)
    wait_job(server, job)
    wait_until(lambda: server.cli("job", "delete", "-n", job, "--yes", check=False).returncode == 0, 30,
               "the canceled job deleted")


def test_racing_deletes_delete_once(server, workdir):
    simple_endpoint(server, workdir)
    make_files(workdir / "in", numbered(2))
    name = run_job(server, "--input-local-path", "in", cwd=workdir)["name"]
    codes = race(6, lambda: server.http("DELETE", f"/api/v1/jobs/{name}")[0])
    assert codes.count(204) == 1 and all(c in (204, 404) for c in codes), codes
    # an endpoint token may not delete
    token = server.cli("endpoint", "get-token", "--name", "jobsedp").stdout.strip()
    other = run_job(server, "--input-local-path", "in", cwd=workdir)["name"]
    assert server.http("DELETE", f"/api/v1/jobs/{other}", token=token)[0] == 403
