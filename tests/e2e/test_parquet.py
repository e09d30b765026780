"""No-code scoring of Parquet files (docs/parquet.md): an MLflow XGBoost
model scores files DuckDB wrote, read by lote's own Parquet reader, and the
predictions equal XGBoost's own on the same rows."""
import csv
import json
import pathlib
import shutil
import subprocess

import pytest

from jobs_e2e import PYTHON, make_native_models, needs_xgboost
from remote_e2e import needs_unshare, remote_compute, start_remote_server


REPO = pathlib.Path(__file__).resolve().parents[2]
TOOL = REPO / "tests" / "parquet_tool"

needs_duckdb = pytest.mark.skipif(
    shutil.which("node") is None or not (TOOL / "node_modules" / "@duckdb").is_dir(),
    reason="node or tests/parquet_tool/node_modules missing (./setup.sh installs them)")

# Rows with nulls in every feature, the features among extra columns and out
# of the model's order; written as CSV (empty cell: null) for DuckDB, and
# the model's predictions on the same values as XGBoost computes them.
MAKE_DATA = r'''
import sys
import numpy as np, pandas as pd, xgboost as xgb
out, model = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(7)
n = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
df = pd.DataFrame({
    "id": np.arange(n),
    "hour": rng.integers(0, 24, n).astype("float64"),
    "note": [f"trip {i}" for i in range(n)],
    "fareAmount": rng.gamma(2.0, 7.5, n).round(3),
    "passengerCount": rng.integers(1, 6, n).astype("float64"),
    "tripDistance": rng.gamma(1.5, 2.0, n).astype("float32").astype("float64"),
})
for c, step in (("hour", 11), ("fareAmount", 13), ("passengerCount", 17), ("tripDistance", 19)):
    df.loc[df.index[::step], c] = np.nan
df.to_csv(f"{out}/rows.csv", index=False, float_format="%.17g", na_rep="")
features = ["fareAmount", "tripDistance", "passengerCount", "hour"]
booster = xgb.Booster(model_file=model)
pred = booster.predict(xgb.DMatrix(df[features].to_numpy(np.float64), missing=np.nan, feature_names=features))
pd.DataFrame({"prediction": pred.astype("float64")}).to_csv(f"{out}/expected.csv", index=False, float_format="%.17g")
'''

# DuckDB writes the Parquet files: integers, a FLOAT, a DECIMAL, strings and
# nulls; ZSTD in row groups of 2048 rows, and SNAPPY with v2 pages (delta and
# byte-stream-split encodings); a file that lacks a feature.
WRITE_PARQUET = r'''
import { DuckDBInstance } from '@duckdb/node-api';
import { writeFileSync } from 'node:fs';
const dir = process.argv.at(-1);
const db = await (await DuckDBInstance.create(':memory:')).connect();
await db.run(`CREATE TABLE t AS SELECT * FROM read_csv('${dir}/rows.csv', header = true, columns = {
  'id': 'BIGINT', 'hour': 'DOUBLE', 'note': 'VARCHAR', 'fareAmount': 'DECIMAL(12,3)',
  'passengerCount': 'DOUBLE', 'tripDistance': 'FLOAT'})`);
const cols = `note, CAST(hour AS INTEGER) AS hour, tripDistance, id,
              CAST(passengerCount AS BIGINT) AS passengerCount, fareAmount`;
await db.run(`COPY (SELECT ${cols} FROM t ORDER BY id) TO '${dir}/in/a.parquet'
              (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 2048)`);
await db.run(`COPY (SELECT ${cols} FROM t ORDER BY id) TO '${dir}/in/b.parquet'
              (FORMAT parquet, COMPRESSION snappy, PARQUET_VERSION V2)`);
await db.run(`COPY (SELECT id, hour, fareAmount, passengerCount FROM t ORDER BY id LIMIT 10)
              TO '${dir}/in/missing.parquet' (FORMAT parquet)`);
// Where a.parquet's first tripDistance chunk is, for the test to break it.
const r = await db.runAndReadAll(`SELECT data_page_offset, total_compressed_size FROM
  parquet_metadata('${dir}/in/a.parquet') WHERE row_group_id = 0 AND path_in_schema = 'tripDistance'`);
const [off, size] = r.getRows()[0].map(Number);
writeFileSync(`${dir}/chunk.json`, JSON.stringify({ offset: off, size }));
'''


@needs_xgboost
@needs_duckdb
def test_mlflow_xgboost_scores_parquet_files_with_no_code(server, tmp_path):
    make_native_models(tmp_path)
    (tmp_path / "in").mkdir()
    subprocess.run([PYTHON, "-c", MAKE_DATA, str(tmp_path), str(tmp_path / "mlflow_reg" / "model.xgb")],
                   check=True)
    # Run from tests/parquet_tool, whose node_modules holds the pinned DuckDB.
    subprocess.run(["node", "--input-type=module", "-e", WRITE_PARQUET, "--", str(tmp_path)], check=True,
                   cwd=TOOL)
    # Corrupt files fail only themselves, with a clear error: one cut short,
    # one with a page that does not decompress (a feature's ZSTD page zeroed
    # after its header).
    good = (tmp_path / "in" / "a.parquet").read_bytes()
    (tmp_path / "in" / "cut.parquet").write_bytes(good[: len(good) // 2])
    chunk = json.loads((tmp_path / "chunk.json").read_text())
    broken = bytearray(good)
    start, end = chunk["offset"] + 40, chunk["offset"] + chunk["size"] - 8
    broken[start:end] = bytes(end - start)
    (tmp_path / "in" / "zeroed.parquet").write_bytes(bytes(broken))
    (tmp_path / "ep.yml").write_text(
        "name: pqep\ntype: batch\ndeployments:\n  - name: xgb\n"
        "    model: {name: xgbreg, version: 1, local_path: ./mlflow_reg}\n"
        "    compute: {target: azureml:cpu-cluster}\n    mini_batch_size: 1\n")
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "4")
    server.cli("endpoint", "create", "--file", str(tmp_path / "ep.yml"))
    job = server.cli("endpoint", "invoke", "--name", "pqep", "--input-local-path", str(tmp_path / "in"),
                     "--query", "name", "-o", "tsv").stdout.strip()
    stream = server.cli("job", "stream", "--name", job, check=False)
    assert stream.returncode == 0, stream.stdout + stream.stderr
    shown = server.cli_json("job", "show", "--name", job)
    rows = list(csv.reader(pathlib.Path(shown["output"]["local_path"]).open()))
    assert rows[0] == ["file", "row", "prediction"]
    expected = [float(r["prediction"]) for r in csv.DictReader((tmp_path / "expected.csv").open())]
    for name in ("a.parquet", "b.parquet"):
        got = [r for r in rows[1:] if r[0] == name]
        # Every row once, in file order (a.parquet's three row groups in turn).
        assert [int(r[1]) for r in got] == list(range(len(expected))), name
        for r, e in zip(got, expected):
            assert abs(float(r[2]) - e) < 1e-6, (name, r)
    assert not [r for r in rows[1:] if r[0] == "missing.parquet"]
    assert not [r for r in rows[1:] if r[0] in ("cut.parquet", "zeroed.parquet")]
    assert shown["progress"]["items"]["failed"] == 3
    errors = "".join(p.read_text() for p in
                     (pathlib.Path(server.home) / "jobs" / job / "logs" / "user" / "error").rglob("*.txt"))
    assert "missing.parquet: no column 'tripDistance'" in errors, errors
    assert "cut.parquet: not a Parquet file: bad magic" in errors, errors
    assert "zeroed.parquet: row group 0: column 'tripDistance': page 0 at chunk byte 0: ZSTD data" in errors, errors


# One file of many row groups (ZSTD, 2048 rows each), and two whose footer
# cannot be read.
WRITE_BIG = r"""
import { DuckDBInstance } from '@duckdb/node-api';
const dir = process.argv.at(-1);
const db = await (await DuckDBInstance.create(':memory:')).connect();
await db.run(`COPY (SELECT * FROM read_csv('${dir}/rows.csv', header = true, columns = {
  'id': 'BIGINT', 'hour': 'DOUBLE', 'note': 'VARCHAR', 'fareAmount': 'DOUBLE',
  'passengerCount': 'DOUBLE', 'tripDistance': 'FLOAT'}) ORDER BY id) TO '${dir}/in/big.parquet'
  (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 2048)`);
"""


def score_big_file(server, tmp_path, n, add_files=None):
    """Writes in/big.parquet (n rows, 2048-row groups), then add_files(in),
    and scores the folder with mini_batch_size 64KB; returns (job show,
    output rows, error logs)."""
    make_native_models(tmp_path)
    (tmp_path / "in").mkdir(exist_ok=True)
    subprocess.run([PYTHON, "-c", MAKE_DATA, str(tmp_path), str(tmp_path / "mlflow_reg" / "model.xgb"), str(n)],
                   check=True)
    subprocess.run(["node", "--input-type=module", "-e", WRITE_BIG, "--", str(tmp_path)], check=True, cwd=TOOL)
    if add_files:
        add_files(tmp_path / "in")
    (tmp_path / "ep.yml").write_text(
        "name: pqsplit\ntype: batch\ndeployments:\n  - name: xgb\n"
        "    model: {name: xgbreg, version: 1, local_path: ./mlflow_reg}\n"
        "    compute: {target: azureml:cpu-cluster, instance_count: 2}\n"
        "    max_concurrency_per_instance: 2\n    mini_batch_size: 64KB\n")
    server.cli("endpoint", "create", "--file", str(tmp_path / "ep.yml"))
    job = server.cli("endpoint", "invoke", "--name", "pqsplit", "--input-local-path", str(tmp_path / "in"),
                     "--query", "name", "-o", "tsv").stdout.strip()
    stream = server.cli("job", "stream", "--name", job, check=False)
    assert stream.returncode == 0, stream.stdout + stream.stderr
    shown = server.cli_json("job", "show", "--name", job)
    rows = list(csv.reader(pathlib.Path(shown["output"]["local_path"]).open()))
    errors = "".join(p.read_text() for p in
                     (pathlib.Path(server.home) / "jobs" / job / "logs" / "user" / "error").rglob("*.txt"))
    return shown, rows, errors


def check_big_rows(tmp_path, rows, n):
    got = [r for r in rows[1:] if r[0] == "big.parquet"]
    # Each row exactly once, in file order, numbered in the whole file.
    assert [int(r[1]) for r in got] == list(range(n))
    expected = [float(r["prediction"]) for r in csv.DictReader((tmp_path / "expected.csv").open())]
    for r, e in zip(got, expected):
        assert abs(float(r[2]) - e) < 1e-6, r


# A remote agent fetches only the spans of the file a row-group item needs
# (its column chunks and the footer, into a sparse file) and scores only its
# row groups (without them it would score the file once per item).
@needs_unshare
@needs_xgboost
@needs_duckdb
def test_remote_agents_score_row_groups_of_a_large_parquet_file(lote_bin, tmp_path):
    node, server = start_remote_server(lote_bin, tmp_path)
    try:
        remote_compute(server)
        shown, rows, errors = score_big_file(server, tmp_path, 30000)
        assert shown["progress"]["mini_batches"]["total"] >= 5, shown["progress"]
        assert rows[0] == ["file", "row", "prediction"]
        check_big_rows(tmp_path, rows, 30000)
        assert len(rows) == 1 + 30000, errors
    finally:
        node.release()
        rc = server.stop()
        node.close()
    assert rc == 0


@needs_xgboost
@needs_duckdb
def test_large_parquet_file_is_split_into_row_group_mini_batches(server, tmp_path):
    n = 30000

    def corrupt_files(folder):
        # A footer that says it is longer than the file, and a file with no
        # Parquet magic at all: each fails alone, with the reader's error.
        big = (folder / "big.parquet").read_bytes()
        (folder / "footer.parquet").write_bytes(big[:-8] + (10**8).to_bytes(4, "little") + b"PAR1")
        (folder / "text.parquet").write_bytes(b"a,b\n" * 40000)

    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "4")
    shown, rows, errors = score_big_file(server, tmp_path, n, corrupt_files)
    # big.parquet (~15 row groups) in several mini-batches, each corrupt file in one.
    assert shown["progress"]["mini_batches"]["total"] >= 5, shown["progress"]
    assert rows[0] == ["file", "row", "prediction"]
    check_big_rows(tmp_path, rows, n)
    assert len(rows) == 1 + n
    assert shown["progress"]["items"]["failed"] == 2
    assert "footer.parquet: truncated footer" in errors, errors
    assert "text.parquet: not a Parquet file: bad magic" in errors, errors
