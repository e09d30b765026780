"""Batch jobs: where the output goes, what it holds and in which order
(docs/jobs.md "Output, exactly once")."""

import csv
import io
import os
import time

from jobs_e2e import (DEP, EP, PYTHON, completed, create_endpoint, deployment_spec, final_log,
                      get_job_file, invoke, invoke_refused, job_files, job_names, make_files,
                      numbered, output_lines, output_text, put_datastore_file, run_job,
                      simple_endpoint, sleepy_echo, wait_job)
from lote_e2e import EXIT_EXISTS


def test_default_output_location(server, workdir, tmp_path):
    simple_endpoint(server, workdir)
    names = make_files(tmp_path / "in", numbered(3))
    done = completed(server, run_job(server, "--input-local-path", tmp_path / "in"))
    name = done["name"]
    out = done["output"]
    assert out["datastore"] == "workspaceblobstore"
    assert out["path"] == f"batch-outputs/{name}"
    assert out["file_name"] == "predictions.csv"
    assert out["uri"] == \
        f"azureml://datastores/workspaceblobstore/paths/batch-outputs/{name}/predictions.csv"
    assert out["local_path"] == os.path.join(
        server.home, "datastores", "workspaceblobstore", "batch-outputs", name, "predictions.csv")
    assert output_lines(done) == names
    # The same file through the datastore API and the job's files.
    status, text = server.http(
        "GET", f"/api/v1/datastores/workspaceblobstore/files/batch-outputs/{name}/predictions.csv")
    assert status == 200 and text.splitlines() == names
    assert job_files(server, name)["output"] == ["predictions.csv"]
    assert get_job_file(server, name, "predictions.csv").splitlines() == names
    # No temporary file is left beside it.
    assert os.listdir(os.path.dirname(out["local_path"])) == ["predictions.csv"]


def test_output_path_and_file_name_and_output_already_exists(server, workdir, tmp_path):
    simple_endpoint(server, workdir)
    names = make_files(tmp_path / "in", numbered(2))
    args = ("--input-local-path", tmp_path / "in",
            "--output-datastore", "azureml:workspaceblobstore", "--output-path", "myout",
            "--set", "output_file_name=mypreds.csv")
    done = completed(server, run_job(server, *args))
    assert done["output"]["uri"] == \
        "azureml://datastores/workspaceblobstore/paths/myout/mypreds.csv"
    assert done["output"]["file_name"] == "mypreds.csv"
    assert done["output"]["local_path"] == os.path.join(
        server.home, "datastores", "workspaceblobstore", "myout", "mypreds.csv")
    assert output_lines(done) == names

    # Again into the same place: refused at once, no job created, file untouched.
    before = output_text(done)
    t0 = time.monotonic()
    proc = invoke_refused(server, *args)
    assert time.monotonic() - t0 < 5
    assert proc.returncode == EXIT_EXISTS, proc.stderr
    assert "Output already exists" in proc.stderr and "mypreds.csv" in proc.stderr
    assert output_text(done) == before
    # Over REST too (409). (The first job's uploaded input went with it: a
    # datastore file of its own here.)
    put_datastore_file(server, "workspaceblobstore", "kept-input/f0000.txt", "f0000.txt\n")
    status, reply = server.http("POST", f"/api/v1/endpoints/{EP}/jobs", {
        "input": {"datastore": "workspaceblobstore", "path": "kept-input"},
        "output": {"datastore": "workspaceblobstore", "path": "myout", "file_name": "mypreds.csv"}})
    assert status == 409 and "Output already exists" in reply["error"]["message"], reply
    assert len(job_names(server)) == 1
    # Another file name in the same folder is fine.
    other = completed(server, run_job(server, *args[:-1], "output_file_name=second.csv"))
    assert output_lines(other) == names


def test_registered_output_datastore(server, workdir, tmp_path):
    simple_endpoint(server, workdir)
    names = make_files(tmp_path / "in", numbered(2))
    (tmp_path / "results").mkdir()
    server.cli_json("datastore", "create", "--name", "resultstore", "--type", "local",
                    "--path", tmp_path / "results")
    done = completed(server, run_job(server, "--input-local-path", tmp_path / "in",
                                     "--output-datastore", "azureml:resultstore",
                                     "--output-path", "run1"))
    assert done["output"]["uri"] == "azureml://datastores/resultstore/paths/run1/predictions.csv"
    with open(tmp_path / "results" / "run1" / "predictions.csv") as f:
        assert f.read().splitlines() == names


# Several rows per file, in an order run() chooses (":b" before ":a"), and
# mini-batches that finish in reverse order: later ones sleep less.
ORDER_SCORE = """\
import os, time

def run(mini_batch):
    first = int(os.path.basename(mini_batch[0])[1:5])
    time.sleep(max(0.0, 0.2 - first * 0.01))
    out = []
    for p in mini_batch:
        n = os.path.basename(p)
        out += [n + ":b", n + ":a"]
    return out
"""


def test_output_is_in_input_order_with_several_workers(server, workdir, tmp_path):
    simple_endpoint(server, workdir, ORDER_SCORE, mini_batch_size=2, instance_count=2,
                    max_concurrency_per_instance=2)
    names = make_files(tmp_path / "in", numbered(20))
    done = completed(server, run_job(server, "--input-local-path", tmp_path / "in"))
    assert done["progress"]["mini_batches"]["total"] == 10
    assert output_lines(done) == [f"{n}:{s}" for n in names for s in ("b", "a")]
    # succeeded counts what run() returned (two per file), as in Azure.
    assert done["progress"]["items"] == {"succeeded": 40, "failed": 0}


LIST_SCORE = """\
import os

def run(mini_batch):
    out = []
    for p in mini_batch:
        n = os.path.basename(p)
        out.append(n)
        out.append(42)                       # not a string: written with str()
        out.append("two\\nlines of " + n)     # a newline: one quoted field
    return out
"""


def test_list_results_one_per_line(server, workdir, tmp_path):
    simple_endpoint(server, workdir, LIST_SCORE, mini_batch_size=1)
    make_files(tmp_path / "in", ["a.txt", "b.txt"])
    done = completed(server, run_job(server, "--input-local-path", tmp_path / "in"))
    assert output_text(done) == ('a.txt\n42\n"two\nlines of a.txt"\n'
                                 'b.txt\n42\n"two\nlines of b.txt"\n')
    # A CSV reader sees one record per element.
    records = list(csv.reader(io.StringIO(output_text(done))))
    assert records == [["a.txt"], ["42"], ["two\nlines of a.txt"],
                       ["b.txt"], ["42"], ["two\nlines of b.txt"]]
    # run() returned 3 elements per file of 1: succeeded counts what it returned.
    assert done["progress"]["items"]["succeeded"] == 6


DATAFRAME_SCORE = """\
import os
import pandas as pd

def run(mini_batch):
    names = [os.path.basename(p) for p in mini_batch]
    return pd.DataFrame({
        "file": names,
        "note": ['He said "hi", then left' for _ in names],
        "score": [float(len(n)) for n in names],
    })
"""


def test_dataframe_results_are_csv_with_one_header(server, workdir, tmp_path):
    simple_endpoint(server, workdir, DATAFRAME_SCORE, python=PYTHON, mini_batch_size=1,
                    max_concurrency_per_instance=2)
    names = make_files(tmp_path / "in", ["a.txt", "bb.txt", "ccc.txt"])
    done = completed(server, run_job(server, "--input-local-path", tmp_path / "in"))
    text = output_text(done)
    assert text.splitlines()[0] == "file,note,score"
    assert text.count("file,note,score") == 1
    assert text.splitlines()[1] == 'a.txt,"He said ""hi"", then left",5.0'
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["file", "note", "score"]] + [
        [n, 'He said "hi", then left', f"{float(len(n))}"] for n in names]


def test_summary_only_writes_no_predictions(server, workdir, tmp_path):
    create_endpoint(server, workdir, [deployment_spec(workdir, DEP, LIST_SCORE,
                                                      output_action="summary_only")])
    make_files(tmp_path / "in", numbered(3))
    done = completed(server, run_job(server, "--input-local-path", tmp_path / "in"))
    assert done["settings"]["output_action"] == "summary_only"
    assert done["progress"]["items"]["succeeded"] == 9
    assert not os.path.exists(done["output"]["local_path"])
    assert not os.path.exists(os.path.dirname(done["output"]["local_path"])) or \
        os.listdir(os.path.dirname(done["output"]["local_path"])) == []
    assert "written" not in done["output"]
    assert job_files(server, done["name"])["output"] == []
    assert final_log(server, done["name"], "logs/job_result.txt") is not None


def test_summary_only_as_a_per_job_override(server, workdir, tmp_path):
    simple_endpoint(server, workdir)
    make_files(tmp_path / "in", numbered(2))
    done = completed(server, run_job(server, "--input-local-path", tmp_path / "in",
                                     "--set", "output_action=summary_only"))
    assert not os.path.exists(done["output"]["local_path"])
    assert done["progress"]["items"]["succeeded"] == 2


def test_output_file_appearing_while_the_job_runs_is_left_alone(server, workdir, tmp_path):
    slow = sleepy_echo(0.5)
    simple_endpoint(server, workdir, slow, mini_batch_size=1)
    make_files(tmp_path / "in", numbered(4))
    job = invoke(server, "--input-local-path", tmp_path / "in")
    dest = job["output"]["local_path"]
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "w") as f:
        f.write("someone else's file\n")
    done = wait_job(server, job["name"])
    assert done["status"] == "Failed"
    assert "appeared" in done["error"] and "predictions.csv" in done["error"]
    with open(dest) as f:
        assert f.read() == "someone else's file\n"
