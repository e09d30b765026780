"""Nothing thrown away: a job canceled or failed midway writes the rows it
committed to the output's .partial file, in input order, and says so."""

import os

from jobs_e2e import get_job, make_files, numbered, simple_endpoint, wait_job, wait_until

SLOW_AFTER_THREE = """\
import os, time

def run(mini_batch):
    out = []
    for p in mini_batch:
        if int(os.path.basename(p)[1:5]) >= 3:
            time.sleep(60)
        out.append(os.path.basename(p))
    return out
"""


def test_a_canceled_job_keeps_its_committed_rows(server, workdir):
    simple_endpoint(server, workdir, score=SLOW_AFTER_THREE, mini_batch_size=1)
    make_files(workdir / "in", numbered(8))
    job = server.cli("endpoint", "invoke", "--name", "jobsedp", "--input-local-path", "in", "--query", "name",
                     "-o", "tsv", cwd=workdir).stdout.strip()
    wait_until(lambda: get_job(server, job)["progress"]["mini_batches"]["succeeded"] >= 3, 60,
               "three mini-batches done")
    server.cli("job", "cancel", "-n", job)
    done = wait_job(server, job)
    assert done["status"] == "Canceled"
    partial = os.path.join(os.path.dirname(done["output"]["local_path"]), "predictions.partial.csv")
    assert os.path.isfile(partial), done
    with open(partial) as f:
        rows = f.read().splitlines()
    assert [r.split(",")[-1] for r in rows] == ["f0000.txt", "f0001.txt", "f0002.txt"], rows
    assert done["error"] == "canceled by request"
    assert done["output"]["partial"]["file_name"] == "predictions.partial.csv"
    assert done["output"]["partial"]["uri"].endswith("/predictions.partial.csv")
    log = server.cli("job", "stream", "-n", job, check=False).stdout
    assert "wrote the 3 rows committed before the job ended to" in log, log
    assert not os.path.exists(done["output"]["local_path"])  # the real output is never half-written
    files = server.cli_json("job", "show", "-n", job)["output"].get("files", [])
    assert any(f.get("name") == "predictions.partial.csv" for f in files), files


def test_a_job_canceled_before_any_result_writes_no_partial_file(server, workdir):
    simple_endpoint(server, workdir, score=SLOW_AFTER_THREE.replace(">= 3", ">= 0"), mini_batch_size=1)
    make_files(workdir / "in", numbered(2))
    job = server.cli("endpoint", "invoke", "--name", "jobsedp", "--input-local-path", "in", "--query", "name",
                     "-o", "tsv", cwd=workdir).stdout.strip()
    wait_until(lambda: get_job(server, job)["status"] == "Running", 60, "running")
    server.cli("job", "cancel", "-n", job)
    done = wait_job(server, job)
    folder = os.path.dirname(done["output"]["local_path"])
    assert not any(n.endswith(".partial.csv") for n in os.listdir(folder))
    assert "partial" not in done["output"]
