"""A no-code MLflow sklearn deployment (the Python runner) scores Parquet
and JSON Lines files (docs/parquet.md, "The Python runner"): a Parquet file
DuckDB wrote, cut by row groups into several mini-batches, and a JSON Lines
file cut into byte ranges with a bad line; every row once, in order, equal
to scikit-learn's own predictions; the output as Parquet, read by DuckDB."""
import csv
import json
import pathlib
import subprocess

import pytest

from jobs_e2e import PYTHON
from test_nocode import have_sklearn
from test_parquet import TOOL, needs_duckdb
from test_parquet_output import duckdb_read

TRAIN = r'''
import json, os, pickle, sys
import numpy as np, pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline
out = sys.argv[1]
n = 5 * 2048 + 300
rng = np.random.default_rng(0)
df = pd.DataFrame({"id": np.arange(n), "note": [f"trip {i}" for i in range(n)],
                   "fareAmount": rng.gamma(2.0, 7.5, n).round(3),
                   "tripDistance": rng.gamma(1.5, 2.0, n).round(2)})
df.loc[df.index[::13], "fareAmount"] = np.nan
features = ["fareAmount", "tripDistance"]
m = Pipeline([("f", ColumnTransformer([("n", "passthrough", features)])),
              ("m", HistGradientBoostingRegressor(max_iter=20, random_state=0))])
m.fit(df[features], df["fareAmount"].fillna(4) * 0.3 + df["tripDistance"])
os.makedirs(f"{out}/model")
pickle.dump(m, open(f"{out}/model/model.pkl", "wb"))
sig = json.dumps([{"name": "fareAmount", "type": "double"}, {"name": "tripDistance", "type": "double"}])
open(f"{out}/model/MLmodel", "w").write(
    "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n"
    "  sklearn:\n    pickled_model: model.pkl\n    serialization_format: pickle\n"
    f"signature:\n  inputs: '{sig}'\n")
os.makedirs(f"{out}/in")
df.to_csv(f"{out}/rows.csv", index=False, float_format="%.17g", na_rep="")
with open(f"{out}/in/trips.jsonl", "w") as f:
    for i, rec in enumerate(df.to_dict("records")):
        rec = {k: (None if isinstance(v, float) and v != v else v) for k, v in rec.items()}
        f.write(json.dumps(rec) + "\n")
        if i == 5000:
            f.write('{"fareAmount": 1, "tripDistance": oops}\n')
pd.DataFrame({"p": m.predict(df[features])}).to_csv(f"{out}/expected.csv", index=False, float_format="%.17g")
'''

WRITE = r'''
import { DuckDBInstance } from '@duckdb/node-api';
const dir = process.argv.at(-1);
const db = await (await DuckDBInstance.create(':memory:')).connect();
await db.run(`COPY (SELECT * FROM read_csv('${dir}/rows.csv', header = true, columns = {
  'id': 'BIGINT', 'note': 'VARCHAR', 'fareAmount': 'DOUBLE', 'tripDistance': 'DOUBLE'}) ORDER BY id)
  TO '${dir}/in/trips.parquet' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 2048)`);
'''


@pytest.mark.skipif(not have_sklearn(), reason="python3-sklearn is not installed")
@needs_duckdb
def test_sklearn_no_code_scores_parquet_and_jsonl(server, tmp_path):
    subprocess.run([PYTHON, "-c", TRAIN, str(tmp_path)], check=True)
    subprocess.run(["node", "--input-type=module", "-e", WRITE, "--", str(tmp_path)], check=True, cwd=TOOL)
    (tmp_path / "ep.yml").write_text(
        "name: skcol\ntype: batch\ndeployments:\n  - name: sklearn-dep\n"
        "    model: {name: skm, version: 1, local_path: ./model}\n"
        "    environment: {python: /usr/bin/python3}\n"
        "    compute: {target: azureml:cpu-cluster}\n"
        "    settings: {mini_batch_size: 40KB, max_concurrency_per_instance: 2, output_format: parquet}\n")
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "2")
    server.cli("endpoint", "create", "--file", str(tmp_path / "ep.yml"))
    job = server.cli("endpoint", "invoke", "--name", "skcol", "--input-local-path", str(tmp_path / "in"),
                     "--query", "name", "-o", "tsv").stdout.strip()
    assert server.cli("job", "stream", "--name", job, check=False).returncode == 0
    shown = server.cli_json("job", "show", "--name", job)
    assert shown["status"] == "Completed", shown
    # Several mini-batches: the Parquet file by row groups, the JSON Lines by byte ranges.
    assert shown["progress"]["mini_batches"]["total"] > 4, shown["progress"]
    assert shown["progress"]["items"]["failed"] == 1
    out = pathlib.Path(shown["output"]["local_path"])
    assert out.name == "predictions.parquet"
    read = duckdb_read(out)
    assert [c["name"] for c in read["columns"]] == ["file", "row", "prediction"]
    expected = [float(r["p"]) for r in csv.DictReader((tmp_path / "expected.csv").open())]

    pq = [r for r in read["rows"] if r[0] == "trips.parquet"]
    assert [int(r[1]) for r in pq] == list(range(len(expected)))  # every row once, in order
    for r, e in zip(pq, expected):
        assert abs(r[2] - e) < 1e-6, r

    js = [r for r in read["rows"] if r[0] == "trips.jsonl"]
    raw = (tmp_path / "in" / "trips.jsonl").read_bytes()
    starts = [0] + [i + 1 for i, c in enumerate(raw) if c == 10][:-1]
    bad = raw.index(b"oops")
    # Keyed by row number in the file, as a whole file is, though cut into
    # byte ranges; the bad line is a row that failed.
    good = [i for i, s in enumerate(starts) if not s <= bad < raw.index(b"\n", s)]
    assert len(good) == len(starts) - 1
    assert [r[1] for r in js] == good
    for r, e in zip(js, expected):
        assert abs(r[2] - e) < 1e-6, r
    errors = "".join(p.read_text() for p in
                     (pathlib.Path(server.home) / "jobs" / job / "logs" / "user" / "error").rglob("*.txt"))
    bad_row = starts.index(raw.rindex(b"\n", 0, bad) + 1)  # no blank lines: line = row + 1
    assert f"trips.jsonl: row {bad_row} (line {bad_row + 1}), not valid JSON (" in errors
