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
