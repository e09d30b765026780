"""settings.output_format (docs/parquet.md, "Parquet output"): a no-code
job's predictions written as Parquet that DuckDB reads equal to the CSV
output of the same job, or as JSON Lines; a scoring script may not ask for
it."""
import csv
import json
import math
import pathlib
import subprocess

import pytest

from jobs_e2e import make_native_models, needs_xgboost
from test_parquet import TOOL, needs_duckdb


def duckdb_read(path):
    out = subprocess.run(["node", str(TOOL / "read.mjs"), str(path)], check=True, capture_output=True,
                         text=True, cwd=TOOL)
    return json.loads(out.stdout)


def run(server, endpoint, data, *args):
    job = server.cli("endpoint", "invoke", "--name", endpoint, "--input-local-path", str(data), *args,
                     "--query", "name", "-o", "tsv").stdout.strip()
    stream = server.cli("job", "stream", "--name", job, check=False)
    assert stream.returncode == 0, stream.stdout + stream.stderr
    return server.cli_json("job", "show", "--name", job)


def same_value(text, value):
    if text == "":
        return value is None
    if isinstance(value, bool):
        return text == str(value)
    if isinstance(value, (int, float)):
        return float(text) == float(value) or (math.isnan(float(text)) and value != value)
    return text == value


@needs_xgboost
@needs_duckdb
def test_parquet_and_jsonl_outputs_hold_the_csv_rows(server, tmp_path):
    make_native_models(tmp_path)
    data = tmp_path / "in"
    data.mkdir()
    for name in ("data.csv", "bad.csv"):
        (data / name).write_bytes((tmp_path / name).read_bytes())
    (tmp_path / "ep.yml").write_text(
        "name: pqout\ntype: batch\ndeployments:\n  - name: xgb\n"
        "    model: {name: xgbreg, version: 1, local_path: ./mlflow_reg}\n"
        "    compute: {target: azureml:cpu-cluster}\n"
        "    settings: {mini_batch_size: 1, output_format: parquet}\n")
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "4")
    server.cli("endpoint", "create", "--file", str(tmp_path / "ep.yml"))

    pq = run(server, "pqout", data)
    assert pq["status"] == "Completed"
    pq_path = pathlib.Path(pq["output"]["local_path"])
    assert pq_path.name == "predictions.parquet"
    assert pq["output"]["uri"].endswith("/predictions.parquet")
    assert pq_path.read_bytes()[:4] == b"PAR1"
    # No temporary file is left beside it.
    assert sorted(p.name for p in pq_path.parent.iterdir()) == ["predictions.parquet"]

    as_csv = run(server, "pqout", data, "--set", "output_format=csv")
    csv_path = pathlib.Path(as_csv["output"]["local_path"])
    assert csv_path.name == "predictions.csv"
    rows = list(csv.reader(csv_path.open()))
    assert rows[0] == ["file", "row", "prediction"]
    assert len(rows) > 30

    read = duckdb_read(pq_path)
    assert [c["name"] for c in read["columns"]] == rows[0]
    assert [c["type"] for c in read["columns"]] == ["VARCHAR", "BIGINT", "DOUBLE"]
    assert len(read["rows"]) == len(rows) - 1
    for want, got in zip(rows[1:], read["rows"]):
        assert all(same_value(t, v) for t, v in zip(want, got)), (want, got)

    js = run(server, "pqout", data, "--set", "output_format=jsonl", "--set", "output_file_name=scores.csv")
    js_path = pathlib.Path(js["output"]["local_path"])
    assert js_path.name == "scores.jsonl"
    objects = [json.loads(line) for line in js_path.read_text().splitlines()]
    assert len(objects) == len(rows) - 1
    for want, got in zip(rows[1:], objects):
        assert list(got) == rows[0]
        assert got["file"] == want[0] and got["row"] == int(want[1])
        assert got["prediction"] == float(want[2])

    bad = server.cli("endpoint", "invoke", "--name", "pqout", "--input-local-path", str(data),
                     "--set", "output_format=xlsx", check=False)
    assert bad.returncode != 0
    assert "output_format must be csv, parquet or jsonl, got 'xlsx'" in bad.stderr


def test_a_scoring_script_deployment_cannot_ask_for_parquet(server, tmp_path):
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "score.py").write_text("def init():\n    pass\n\ndef run(b):\n    return b\n")
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "w.txt").write_text("1\n")
    (tmp_path / "ep.yml").write_text(
        "name: pyep\ntype: batch\ndeployments:\n  - name: pydep\n"
        "    model: {name: m, version: 1, local_path: ./model}\n"
        "    code_configuration: {code: {local_path: ./code}, scoring_script: score.py}\n"
        "    compute: {target: azureml:cpu-cluster}\n"
        "    settings:\n      output_format: parquet\n")
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "2")
    r = server.cli("endpoint", "create", "--file", str(tmp_path / "ep.yml"), check=False)
    assert r.returncode != 0
    assert "ep.yml:9" in r.stderr, r.stderr
    assert "output_format parquet is for no-code deployments" in r.stderr


SLOW_MODEL = r'''
import os, pickle, sys
out = sys.argv[1]
os.makedirs(f"{out}/model/code")
open(f"{out}/model/code/slowmodel.py", "w").write(
    "import time\n"
    "class SlowModel:\n"
    "    def predict(self, x):\n"
    "        if (x['fareAmount'] > 1000).any():\n"
    "            time.sleep(120)\n"
    "        return x['fareAmount'] * 2 + 0.25\n")
sys.path.insert(0, f"{out}/model/code")
import slowmodel
pickle.dump(slowmodel.SlowModel(), open(f"{out}/model/model.pkl", "wb"))
open(f"{out}/model/MLmodel", "w").write(
    "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n    code: code\n"
    "  sklearn:\n    pickled_model: model.pkl\n    serialization_format: pickle\n"
    "signature:\n  inputs: '[{\"name\": \"fareAmount\", \"type\": \"double\"}]'\n")
os.makedirs(f"{out}/in")
for i in range(5):
    fare = 5000 if i == 3 else i + 0.5
    open(f"{out}/in/f{i}.csv", "w").write("fareAmount\n" + f"{fare}\n{fare + 1}\n")
'''


@needs_duckdb
def test_a_canceled_job_writes_its_partial_output_as_parquet(server, tmp_path):
    from jobs_e2e import PYTHON, get_job, wait_job, wait_until
    subprocess.run([PYTHON, "-c", SLOW_MODEL, str(tmp_path)], check=True)
    (tmp_path / "ep.yml").write_text(
        "name: pqpart\ntype: batch\ndeployments:\n  - name: slow-dep\n"
        "    model: {name: slowm, version: 1, local_path: ./model}\n"
        "    environment: {python: /usr/bin/python3}\n"
        "    compute: {target: azureml:cpu-cluster}\n"
        "    settings: {mini_batch_size: 1, output_format: parquet}\n")
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "2")
    server.cli("endpoint", "create", "--file", str(tmp_path / "ep.yml"))
    job = server.cli("endpoint", "invoke", "--name", "pqpart", "--input-local-path", str(tmp_path / "in"),
                     "--query", "name", "-o", "tsv").stdout.strip()
    wait_until(lambda: get_job(server, job)["progress"]["mini_batches"]["succeeded"] >= 3, 60,
               "three mini-batches done")
    server.cli("job", "cancel", "-n", job)
    done = wait_job(server, job)
    assert done["status"] == "Canceled"
    assert done["output"]["partial"]["file_name"] == "predictions.partial.parquet"
    partial = pathlib.Path(done["output"]["local_path"]).parent / "predictions.partial.parquet"
    read = duckdb_read(partial)
    assert [c["name"] for c in read["columns"]] == ["file", "row", "prediction"]
    assert read["rows"] == [[f"f{i}.csv", r, (i + 0.5 + r) * 2 + 0.25] for i in range(3) for r in range(2)]
    assert not pathlib.Path(done["output"]["local_path"]).exists()
    assert sorted(p.name for p in partial.parent.iterdir()) == ["predictions.partial.parquet"]
