"""Scripts written for Azure run unchanged (issue 11, deliverables 3 and 5):
the model folder is laid out as Azure lays it out, files a script writes under
AZUREML_BI_OUTPUT_PATH are the job's output, an inline Azure environment never
switches the interpreter, and `output_layout: azure` writes predictions.csv
as Azure's MLflow driver does."""

import csv
import io
import json
import os
import pathlib
import urllib.parse

from jobs_e2e import (EP, PYTHON, completed, create_endpoint, deployment_spec, describe,
                      get_job, get_job_file, job_files, make_files, output_text, run_job,
                      wait_job)
from lote_e2e import Server, write

# What Azure's samples do in init(): the model is the one folder under
# AZUREML_MODEL_DIR, named as the folder it was registered from.
GLOB_SCORE = """\
import glob, os

def init():
    global weight
    root = os.environ["AZUREML_MODEL_DIR"]
    found = glob.glob(root + "/*/")[0]
    joined = os.path.join(root, "model")
    assert os.path.samefile(found, joined), (found, joined)
    with open(os.path.join(joined, "weights.txt")) as f:
        weight = f.read().strip()

def run(mini_batch):
    return [f"{os.path.basename(p)} {weight}" for p in mini_batch]
"""

FILE_SCORE = """\
import os

def init():
    global size
    path = os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl")
    size = os.path.getsize(path)

def run(mini_batch):
    return [f"{os.path.basename(p)} {size}" for p in mini_batch]
"""


def folder_model_deployment(workdir, name, score, model_dir="model", **settings):
    spec = deployment_spec(workdir, name, score, python=PYTHON, **settings)
    write(os.path.join(str(workdir), model_dir, "weights.txt"), "0.25\n")
    spec["model"] = {"name": f"m-{name}", "version": 1, "local_path": f"./{model_dir}"}
    return spec


def test_a_folder_model_appears_as_its_folder_under_azureml_model_dir(server, workdir, tmp_path):
    create_endpoint(server, workdir, [folder_model_deployment(workdir, "dep1", GLOB_SCORE)])
    make_files(tmp_path / "in", ["a.txt", "b.txt"])
    job = completed(server, run_job(server, "--input-local-path", str(tmp_path / "in")))
    assert sorted(output_text(job).splitlines()) == ["a.txt 0.25", "b.txt 0.25"], output_text(job)
    model = server.cli_json("model", "show", "--name", "m-dep1")
    assert model["folder"] == "model"
    assert (pathlib.Path(model["path"]) / "model" / "weights.txt").is_file()


def test_a_file_model_appears_as_that_file_under_azureml_model_dir(server, workdir, tmp_path):
    spec = deployment_spec(workdir, "dep1", FILE_SCORE, python=PYTHON)
    write(os.path.join(str(workdir), "model.pkl"), "x" * 17)
    spec["model"] = {"name": "filemodel", "version": 1, "local_path": "./model.pkl"}
    create_endpoint(server, workdir, [spec])
    make_files(tmp_path / "in", ["a.txt"])
    job = completed(server, run_job(server, "--input-local-path", str(tmp_path / "in")))
    assert "a.txt 17" in output_text(job), output_text(job)
    assert "folder" not in server.cli_json("model", "show", "--name", "filemodel")


def test_a_model_stored_before_keeps_its_files_at_the_root(server, workdir, tmp_path):
    # A model registered without its folder's name (as every model was
    # before): the script that read AZUREML_MODEL_DIR/weights.txt still runs.
    status, up = server.http("POST", "/api/v1/uploads", {})
    assert status in (200, 201), up
    status, _ = server.http("PUT", f"/api/v1/uploads/{up['upload_id']}/files/weights.txt", raw="0.5\n")
    assert status in (200, 201)
    status, model = server.http("POST", "/api/v1/models", {"name": "oldm", "upload_id": up["upload_id"]})
    assert status in (200, 201), model
    assert "folder" not in model
    old_score = ("import os\n\ndef init():\n    global w\n"
                 "    w = open(os.path.join(os.environ['AZUREML_MODEL_DIR'], 'weights.txt')).read().strip()\n\n"
                 "def run(mini_batch):\n    return [w for _ in mini_batch]\n")
    spec = deployment_spec(workdir, "dep1", old_score, python=PYTHON)
    spec["model"] = "azureml:oldm:1"
    create_endpoint(server, workdir, [spec])
    make_files(tmp_path / "in", ["a.txt"])
    job = completed(server, run_job(server, "--input-local-path", str(tmp_path / "in")))
    assert "0.5" in output_text(job)


def test_a_bad_folder_name_is_refused(server):
    status, up = server.http("POST", "/api/v1/uploads", {})
    server.http("PUT", f"/api/v1/uploads/{up['upload_id']}/files/w.txt", raw="1\n")
    for bad in ("..", "a/b", "", "."):
        status, reply = server.http("POST", "/api/v1/models",
                                    {"name": "badf", "upload_id": up["upload_id"], "folder": bad})
        assert status == 400, (bad, reply)
        assert reply["error"]["field"] == "folder", reply


SUMMARY_SCORE = """\
import os

def run(mini_batch):
    out = os.environ["AZUREML_BI_OUTPUT_PATH"]
    os.makedirs(os.path.join(out, "parts"), exist_ok=True)
    for p in mini_batch:
        name = os.path.basename(p)
        with open(os.path.join(out, "parts", name + ".out"), "w") as f:
            f.write(name.upper())
    with open(os.path.join(out, "summary.txt"), "a") as f:
        f.write(f"{len(mini_batch)}\\n")
    # A link out of the output folder is not an output, nor served.
    link = os.path.join(out, "passwd")
    if not os.path.lexists(link):
        os.symlink("/etc/passwd", link)
    return [name for name in mini_batch]
"""


def test_files_a_script_writes_are_the_jobs_output(server, workdir, tmp_path):
    spec = deployment_spec(workdir, "dep1", SUMMARY_SCORE, python=PYTHON, output_action="summary_only",
                           mini_batch_size=2)
    create_endpoint(server, workdir, [spec])
    make_files(tmp_path / "in", ["a.txt", "b.txt", "c.txt"])
    job = completed(server, run_job(server, "--input-local-path", str(tmp_path / "in")))
    name = job["name"]
    files = job_files(server, name)
    assert files["output"] == ["parts/a.txt.out", "parts/b.txt.out", "parts/c.txt.out", "summary.txt"], files
    sizes = {f["name"]: f["size"] for f in files["output_files"]}
    assert sizes == {"parts/a.txt.out": 5, "parts/b.txt.out": 5, "parts/c.txt.out": 5, "summary.txt": 4}, files
    assert get_job_file(server, name, "parts/b.txt.out") == "B.TXT"
    assert get_job_file(server, name, "outputs/summary.txt") == "2\n1\n" or \
        sorted(get_job_file(server, name, "outputs/summary.txt").split()) == ["1", "2"]
    for rel in ("passwd", "outputs/passwd", "outputs/../../../etc/passwd", "../passwd"):
        status, _ = server.http("GET", f"/api/v1/jobs/{name}/files/{urllib.parse.quote(rel)}")
        assert status in (400, 404), (rel, status)
    shown = server.cli_json("job", "show", "--name", name)
    assert [f["name"] for f in shown["output"]["files"]] == files["output"], shown["output"]
    # `lote job download` fetches them too.
    dest = tmp_path / "dl"
    server.cli("job", "download", "--name", name, "--download-path", str(dest))
    assert (dest / name / "parts" / "c.txt.out").read_text() == "C.TXT"
    assert not (dest / name / "passwd").exists()


def test_files_beside_the_predictions_are_listed_with_them(server, workdir, tmp_path):
    score = ("import os\n\ndef run(mini_batch):\n"
             "    out = os.environ['AZUREML_BI_OUTPUT_PATH']\n"
             "    open(os.path.join(out, 'side.json'), 'w').write('{}')\n"
             "    os.makedirs(os.path.join(out, 'logs'), exist_ok=True)\n"
             "    open(os.path.join(out, 'logs', 'mine.txt'), 'w').write('mine')\n"
             "    return [os.path.basename(p) for p in mini_batch]\n")
    create_endpoint(server, workdir, [deployment_spec(workdir, "dep1", score, python=PYTHON)])
    make_files(tmp_path / "in", ["a.txt"])
    job = completed(server, run_job(server, "--input-local-path", str(tmp_path / "in")))
    files = job_files(server, job["name"])
    assert files["output"] == ["outputs/logs/mine.txt", "predictions.csv", "side.json"], files
    assert get_job_file(server, job["name"], "outputs/logs/mine.txt") == "mine"
    assert get_job_file(server, job["name"], "side.json") == "{}"
    assert "a.txt" in get_job_file(server, job["name"], "predictions.csv")


INTERPRETER_SCORE = """\
import os, sys

def run(mini_batch):
    return [f"{os.environ.get('VIA_WRAPPER', 'direct')}" for _ in mini_batch]
"""


def test_an_inline_environment_keeps_the_servers_interpreter(lote_bin, workdir, tmp_path):
    # LOTE_PYTHON is a wrapper that marks what it runs; an inline Azure
    # environment (name, image, conda_file) must not switch to `python3`.
    wrapper = tmp_path / "server-python"
    wrapper.write_text(f"#!/bin/sh\nVIA_WRAPPER=server exec {PYTHON} \"$@\"\n")
    wrapper.chmod(0o755)
    srv = Server(lote_bin, tmp_path / "home", env={"LOTE_PYTHON": str(wrapper)})
    try:
        spec = deployment_spec(workdir, "dep1", INTERPRETER_SCORE)
        write(os.path.join(str(workdir), "environment", "conda.yaml"), "name: sk\ndependencies: [python=3.11]\n")
        spec["environment"] = {"name": "sklearn-env",
                               "image": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
                               "conda_file": "environment/conda.yaml"}
        explicit = deployment_spec(workdir, "dep2", INTERPRETER_SCORE, python=PYTHON)
        create_endpoint(srv, workdir, [spec, explicit], traffic={"dep1": 100, "dep2": 0})
        make_files(tmp_path / "in", ["a.txt"])
        job = completed(srv, run_job(srv, "--input-local-path", str(tmp_path / "in")))
        assert output_text(job).splitlines()[-1] == "server", output_text(job)
        shown = srv.cli_json("job", "show", "--name", job["name"])
        assert shown["environment"]["image"].startswith("mcr.microsoft.com/"), shown
        assert "python=3.11" in json.dumps(shown["environment"]["conda_file"]), shown["environment"]
        interp = shown["interpreter"]
        assert interp["source"] == "server" and interp["python"] == str(wrapper), interp
        assert interp["version"].startswith("3."), interp
        assert interp["path"] == os.path.realpath(PYTHON) or interp["path"].startswith("/usr/bin/python3"), interp
        assert any("image is recorded but not used" in n for n in shown["notes"]), shown["notes"]

        job2 = completed(srv, run_job(srv, "--input-local-path", str(tmp_path / "in"),
                                      "--deployment-name", "dep2"))
        assert output_text(job2).splitlines()[-1] == "direct", output_text(job2)
        shown2 = srv.cli_json("job", "show", "--name", job2["name"])
        assert shown2["interpreter"]["source"] == "environment.python", shown2["interpreter"]
    finally:
        assert srv.stop() == 0, srv.log()


# --- output_layout: azure -----------------------------------------------------

from test_nocode import SKLEARN_TRAIN, have_sklearn  # noqa: E402
from jobs_e2e import make_native_models, needs_xgboost  # noqa: E402
import pytest  # noqa: E402
import subprocess  # noqa: E402


def _nocode_job(server, tmp_path, model_yaml, extra_yaml, data):
    (tmp_path / "dep.yml").write_text(
        "name: azep\ntype: batch\ndeployments:\n  - name: dep1\n"
        f"    model: {model_yaml}\n"
        "    environment: {python: /usr/bin/python3}\n"
        "    compute: {target: azureml:cpu-cluster}\n" + extra_yaml)
    if server.cli("compute", "show", "--name", "cpu-cluster", check=False).returncode != 0:
        server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "4")
    server.cli("endpoint", "create", "--file", str(tmp_path / "dep.yml"))
    job = server.cli("endpoint", "invoke", "--name", "azep", "--input-local-path", str(data),
                     "--query", "name", "-o", "tsv").stdout.strip()
    done = wait_job(server, job)
    completed(server, done)
    return done


@pytest.mark.skipif(not have_sklearn(), reason="python3-sklearn is not installed")
def test_azure_output_layout_writes_rows_as_azures_mlflow_driver(server, tmp_path):
    subprocess.run([PYTHON, "-c", SKLEARN_TRAIN, str(tmp_path)], check=True)
    done = _nocode_job(server, tmp_path, "{name: autolog, version: 1, local_path: ./model}",
                       "    output_layout: azure\n", tmp_path / "in")
    text = output_text(done)
    expected = [float(r["p"]) for r in csv.DictReader((tmp_path / "expected.csv").open())]
    # What Azure's sample reads: pd.read_csv(..., names=["row", "prediction", "file"]).
    import pandas as pd
    score = pd.read_csv(io.StringIO(text), names=["row", "prediction", "file"])
    assert list(score["row"]) == list(range(7)), text
    assert list(score["file"]) == ["a.csv"] * 7
    for got, want in zip(score["prediction"], expected):
        assert abs(got - want) < 1e-6
    assert not text.startswith("row") and not text.startswith("file"), text
    assert server.cli_json("job", "show", "--name", done["name"])["settings"]["output_layout"] == "azure"


@pytest.mark.skipif(not have_sklearn(), reason="python3-sklearn is not installed")
def test_output_layout_key_is_checked(server, tmp_path):
    subprocess.run([PYTHON, "-c", SKLEARN_TRAIN, str(tmp_path)], check=True)
    (tmp_path / "dep.yml").write_text(
        "name: azep\ntype: batch\ndeployments:\n  - name: dep1\n"
        "    model: {name: autolog, version: 1, local_path: ./model}\n"
        "    compute: {target: azureml:cpu-cluster}\n    output_layout: excel\n")
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "4")
    proc = server.cli("endpoint", "create", "--file", str(tmp_path / "dep.yml"), check=False)
    assert proc.returncode == 2, proc.stderr
    assert "dep.yml:7: deployments[0].output_layout: deployment 'dep1': output_layout must be lote or azure, got 'excel'" \
        in proc.stderr, proc.stderr


@needs_xgboost
def test_azure_output_layout_in_the_native_worker(server, tmp_path):
    make_native_models(tmp_path)
    data = tmp_path / "in"
    data.mkdir()
    (data / "data.csv").write_bytes((tmp_path / "data.csv").read_bytes())
    done = _nocode_job(server, tmp_path, "{name: xgbreg, version: 1, local_path: ./mlflow_reg}",
                       "    output_layout: azure\n", data)
    rows = list(csv.reader(io.StringIO(output_text(done))))
    expected = {r["row"]: float(r["prediction"])
                for r in csv.DictReader((tmp_path / "expected_reg_data.csv").open())}
    assert len(rows) == len(expected)
    for row, pred, name in rows:
        assert name == "data.csv"
        assert abs(float(pred) - expected[row]) < 1e-6


# --- remote agents: what their workers write is shipped back ------------------

from remote_e2e import needs_unshare, remote_compute, start_remote_server  # noqa: E402
from jobs_e2e import wait_until  # noqa: E402

REMOTE_WRITER = """\
import os

def run(mini_batch):
    out = os.environ["AZUREML_BI_OUTPUT_PATH"]
    os.makedirs(os.path.join(out, "per-file"), exist_ok=True)
    for p in mini_batch:
        name = os.path.basename(p)
        with open(os.path.join(out, "per-file", name + ".txt"), "w") as f:
            f.write("seen " + name)
    # The assembled output's name is lote's: refused, and kept on the node.
    with open(os.path.join(out, "predictions.csv"), "w") as f:
        f.write("mine")
    return [os.path.basename(p) for p in mini_batch]
"""


@needs_unshare
def test_files_remote_workers_write_are_shipped_into_the_output(lote_bin, workdir, tmp_path):
    node, srv = start_remote_server(lote_bin, tmp_path)
    try:
        remote_compute(srv)
        create_endpoint(srv, workdir, [deployment_spec(workdir, "dep1", REMOTE_WRITER, python=PYTHON)])
        make_files(tmp_path / "in", ["a.txt", "b.txt"])
        job = completed(srv, run_job(srv, "--input-local-path", str(tmp_path / "in")))
        name = job["name"]
        want = ["per-file/a.txt.txt", "per-file/b.txt.txt", "predictions.csv"]
        # Shipped when the node's workers end, which may be just after the job.
        wait_until(lambda: job_files(srv, name)["output"] == want, 15, "the node's files shipped")
        assert get_job_file(srv, name, "per-file/b.txt.txt") == "seen b.txt"
        assert sorted(output_text(job).splitlines()) == ["a.txt", "b.txt"], "lote's output, not the script's"
        log = get_job_file(srv, name, "logs/sys/node/node0/agent.txt") or ""
        wait_until(lambda: "stays on this node" in (get_job_file(srv, name, "logs/sys/node/node0/agent.txt") or ""),
                   15, "the agent's warning shipped")
        log = get_job_file(srv, name, "logs/sys/node/node0/agent.txt")
        assert "output file predictions.csv (" in log and "is the job's output file" in log, log
        assert "shipped 2 file(s)" in log, log
    finally:
        node.release()
        rc = srv.stop()
        node.close()
        assert rc == 0, srv.log()


@pytest.mark.skipif(not have_sklearn(), reason="python3-sklearn is not installed")
def test_nocode_models_in_either_layout_are_scored(server, tmp_path):
    # The same MLflow folder registered as the CLI does now (its folder kept,
    # as Azure) and as lote did before (files at the root): both score alike.
    subprocess.run([PYTHON, "-c", SKLEARN_TRAIN, str(tmp_path)], check=True)
    status, up = server.http("POST", "/api/v1/uploads", {})
    for f in sorted((tmp_path / "model").iterdir()):
        st, _ = server.http("PUT", f"/api/v1/uploads/{up['upload_id']}/files/{f.name}", raw=f.read_bytes())
        assert st in (200, 201)
    status, old = server.http("POST", "/api/v1/models", {"name": "oldsk", "upload_id": up["upload_id"]})
    assert status in (200, 201) and "folder" not in old, old
    assert (pathlib.Path(old["path"]) / "MLmodel").is_file()
    server.cli("model", "create", "--name", "newsk", "--path", str(tmp_path / "model"))
    new = server.cli_json("model", "show", "--name", "newsk")
    assert (pathlib.Path(new["path"]) / "model" / "MLmodel").is_file() and new["sha256"] == old["sha256"]
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "4")
    outputs = []
    for model in ("oldsk", "newsk"):
        (tmp_path / f"{model}.yml").write_text(
            f"name: {model}ep\ntype: batch\ndeployments:\n  - name: dep1\n"
            f"    model: azureml:{model}:1\n"
            "    environment: {python: /usr/bin/python3}\n"
            "    compute: {target: azureml:cpu-cluster}\n")
        server.cli("endpoint", "create", "--file", str(tmp_path / f"{model}.yml"))
        job = server.cli("endpoint", "invoke", "--name", f"{model}ep", "--input-local-path",
                         str(tmp_path / "in"), "--query", "name", "-o", "tsv").stdout.strip()
        outputs.append(output_text(completed(server, wait_job(server, job))))
    assert outputs[0] == outputs[1] and outputs[0].startswith("file,row,prediction\n"), outputs
