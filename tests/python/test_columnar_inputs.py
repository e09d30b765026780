"""The mlflow_sklearn driver on Parquet and JSON Lines items
(python/lote_drivers/columnar.py): Parquet files written by DuckDB (the
independent reference) in every codec, with nulls and several row groups,
decoded by `lote parquet decode`; JSON Lines with a bad line; predictions
equal scikit-learn's own on the same rows.

Needs the lote binary ($LOTE_BIN, else build/lote) and, for the Parquet
tests, node with tests/parquet_tool's node_modules (./setup.sh).
"""

import json
import os
import pathlib
import shutil
import subprocess

import pytest

pytest.importorskip("yaml")
pd = pytest.importorskip("pandas")
pytest.importorskip("sklearn")

import numpy as np  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.ensemble import HistGradientBoostingRegressor  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from test_lote_runner import workers  # noqa: E402,F401  (a fixture)
from test_sklearn_driver import rows, run_items, start, write_model  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
TOOL = REPO / "tests" / "parquet_tool"
LOTE = os.environ.get("LOTE_BIN") or str(REPO / "build" / "lote")
ENV = {"LOTE_BIN": LOTE}

needs_lote = pytest.mark.skipif(not os.access(LOTE, os.X_OK), reason="no lote binary (build it, or set LOTE_BIN)")
needs_duckdb = pytest.mark.skipif(
    shutil.which("node") is None or not (TOOL / "node_modules" / "@duckdb").is_dir(),
    reason="node or tests/parquet_tool/node_modules missing (./setup.sh installs them)")

SIGNATURE = [("fareAmount", "double"), ("tripDistance", "float"), ("passengerCount", "long"),
             ("vendor", "string")]
FEATURES = [name for name, _ in SIGNATURE[:3]]


def data(n, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "id": np.arange(n),
        "fareAmount": rng.gamma(2.0, 7.5, n).round(3),
        "note": [f"trip, \"{i}\"" for i in range(n)],
        "tripDistance": rng.gamma(1.5, 2.0, n).astype("float32").astype("float64"),
        "passengerCount": rng.integers(1, 6, n),
        "vendor": rng.choice(["a", "b"], n),
    })
    df.loc[df.index[::13], "fareAmount"] = np.nan
    df.loc[df.index[::17], "tripDistance"] = np.nan
    return df


@pytest.fixture(scope="module")
def model():
    """The numeric features (NaN is a missing value to it); vendor dropped."""
    df = data(400, seed=1)
    pipe = Pipeline([("features", ColumnTransformer([("num", "passthrough", FEATURES)])),
                     ("model", HistGradientBoostingRegressor(max_iter=20, random_state=0))])
    return pipe.fit(df[[n for n, _ in SIGNATURE]], df["fareAmount"].fillna(3) * 0.2 + df["passengerCount"])


def model_dir(tmp_path, model):
    return write_model(tmp_path / "model", model, inputs=SIGNATURE)


def duckdb_parquet(tmp_path, df, name, options):
    csv_path = tmp_path / (name + ".csv")
    df.to_csv(csv_path, index=False, float_format="%.17g", na_rep="")
    out = tmp_path / (name + ".parquet")
    types = {"id": "BIGINT", "fareAmount": "DOUBLE", "tripDistance": "FLOAT", "passengerCount": "INTEGER"}
    columns = ", ".join(f"'{c}': '{types.get(c, 'VARCHAR')}'" for c in df.columns)
    script = f"""
import {{ DuckDBInstance }} from '@duckdb/node-api';
const db = await (await DuckDBInstance.create(':memory:')).connect();
await db.run("SET threads = 1");
await db.run(`COPY (SELECT * FROM read_csv('{csv_path}', header = true, columns = {{{columns}}})
  ORDER BY id) TO '{out}' (FORMAT parquet, {options})`);
"""
    subprocess.run(["node", "--input-type=module", "-e", script], check=True, cwd=TOOL)
    return out


def expected(model, df):
    x = df[[n for n, _ in SIGNATURE]].copy()
    x["tripDistance"] = x["tripDistance"].astype("float32").astype("float64")
    return model.predict(x)


@needs_lote
@needs_duckdb
@pytest.mark.parametrize("options", [
    "COMPRESSION zstd, ROW_GROUP_SIZE 2048",
    "COMPRESSION snappy, PARQUET_VERSION V2, ROW_GROUP_SIZE 2048",
    "COMPRESSION gzip",
    "COMPRESSION uncompressed, PARQUET_VERSION V2",
])
def test_parquet_files_score_as_sklearn_predicts(workers, tmp_path, model, options):
    df = data(5000, seed=2)
    path = duckdb_parquet(tmp_path, df, "trips", options)
    w = start(workers, model_dir(tmp_path, model), env=ENV)
    msg, payload = w.run([path])
    assert (msg["succeeded"], msg["failed"]) == (5000, 0), msg
    got = rows(payload)
    assert [r[:2] for r in got] == [["trips.parquet", str(i)] for i in range(5000)]
    for r, e in zip(got, expected(model, df)):
        assert abs(float(r[2]) - e) < 1e-6, r


@needs_lote
@needs_duckdb
def test_row_group_items_hold_every_row_once_in_order(workers, tmp_path, model):
    df = data(5 * 2048 + 300, seed=3)  # DuckDB's row groups hold whole 2048-row vectors
    path = duckdb_parquet(tmp_path, df, "big", "COMPRESSION zstd, ROW_GROUP_SIZE 2048")
    w = start(workers, model_dir(tmp_path, model), env=ENV)
    got = []
    for first, count in ((0, 2), (2, 1), (3, 3)):
        msg, payload = run_items(w, [{"path": str(path), "row_group": first, "row_groups": count}])
        assert msg["failed"] == 0, msg
        got += rows(payload)
    assert [int(r[1]) for r in got] == list(range(len(df)))
    for r, e in zip(got, expected(model, df)):
        assert abs(float(r[2]) - e) < 1e-6, r
    # Row groups the file does not have: the item fails, naming the file.
    msg, _ = run_items(w, [{"path": str(path), "row_group": 9, "row_groups": 2}])
    assert (msg["succeeded"], msg["failed"]) == (0, 1)
    assert msg["item_errors"][0]["error"] == "big.parquet: row groups 9..10 asked for, but the file has 6"


@needs_lote
@needs_duckdb
def test_a_missing_column_or_a_corrupt_file_fails_only_its_item(workers, tmp_path, model):
    df = data(50, seed=4)
    good = duckdb_parquet(tmp_path, df, "good", "COMPRESSION snappy")
    lacking = duckdb_parquet(tmp_path, df.rename(columns={"tripDistance": "distance"}), "lacking",
                             "COMPRESSION snappy")
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(good.read_bytes()[:200])
    w = start(workers, model_dir(tmp_path, model), env=ENV)
    msg, payload = w.run([lacking, cut, good])
    assert (msg["succeeded"], msg["failed"]) == (50, 2), msg
    errors = {e["item"]: e["error"] for e in msg["item_errors"]}
    assert errors[str(lacking)].startswith("lacking.parquet: missing column 'tripDistance'; the file's columns: id, ")
    assert errors[str(cut)].startswith("cut.parquet: ")
    assert {r[0] for r in rows(payload)} == {"good.parquet"}


def test_without_the_lote_binary_a_parquet_item_says_what_is_needed(workers, tmp_path, model):
    (tmp_path / "x.parquet").write_bytes(b"PAR1")
    w = start(workers, model_dir(tmp_path, model), env={"LOTE_BIN": "/nonexistent", "PATH": "/usr/bin:/bin"})
    msg, _ = w.run([tmp_path / "x.parquet"])
    assert msg["item_errors"][0]["error"].startswith("x.parquet: reading Parquet needs the lote executable")


def jsonl_text(df, bad_at=()):
    lines = []
    for i, rec in enumerate(df.to_dict("records")):
        rec = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in rec.items()}
        lines.append(json.dumps(rec))
        if i in bad_at:
            lines.append('{"fareAmount": 1, "tripDistance": ')  # not valid JSON
            lines.append("")  # a blank line is not a row
    return "\n".join(lines) + "\n"


def test_jsonl_whole_files_and_byte_ranges(workers, tmp_path, model):
    df = data(200, seed=5)
    df["passengerCount"] = df["passengerCount"].astype(int)
    text = jsonl_text(df, bad_at=(10,))
    path = tmp_path / "trips.jsonl"
    path.write_text(text)
    w = start(workers, model_dir(tmp_path, model), env=ENV)
    msg, payload = w.run([path])
    assert (msg["succeeded"], msg["failed"]) == (200, 1), msg
    assert msg["item_errors"][0]["error"].startswith("trips.jsonl: row 11 (line 12), not valid JSON (")
    assert msg["item_errors"][0]["row"] == "11"
    got = rows(payload)
    keys = [int(r[1]) for r in got]
    assert keys == list(range(11)) + list(range(12, 201))
    want = expected(model, df)
    for r, e in zip(got, want):
        assert abs(float(r[2]) - e) < 1e-6, r

    # Byte ranges at line ends: every row once, keyed by its byte offset.
    raw = text.encode()
    cut = raw.index(b"\n", len(raw) // 2) + 1
    got = []
    for offset, length in ((0, cut), (cut, len(raw) - cut)):
        msg, payload = run_items(w, [{"path": str(path), "offset": offset, "length": length}])
        got += rows(payload)
    starts = [0] + [i + 1 for i, c in enumerate(raw) if c == 10][:-1]
    good = [s for s in starts if raw[s:s + 2] == b'{"' and not raw[s:].startswith(b'{"fareAmount": 1, "tripD')]
    assert [r[1] for r in got] == [f"@{s}" for s in good]
    for r, e in zip(got, want):
        assert abs(float(r[2]) - e) < 1e-6, r


def test_jsonl_cells_of_the_wrong_type_fail_their_rows(workers, tmp_path, model):
    path = tmp_path / "x.ndjson"
    path.write_text(
        '{"fareAmount": 5.5, "tripDistance": 1, "passengerCount": 2, "vendor": "a"}\n'
        '{"fareAmount": "5", "tripDistance": 1, "passengerCount": 2, "vendor": "a"}\n'
        '{"fareAmount": 5, "passengerCount": 2, "vendor": "a"}\n'
        '{"fareAmount": 5, "tripDistance": null, "passengerCount": 2.5, "vendor": "a"}\n'
        '[1, 2]\n'
        '{"fareAmount": null, "tripDistance": true, "passengerCount": 3, "vendor": "b", "more": 1}\n')
    w = start(workers, model_dir(tmp_path, model), env=ENV)
    msg, payload = w.run([path])
    assert (msg["succeeded"], msg["failed"]) == (2, 4), msg
    assert [e["error"] for e in msg["item_errors"]] == [
        "x.ndjson: row 1 (line 2), key 'fareAmount': a string, not a number",
        "x.ndjson: row 2 (line 3), key 'tripDistance' is missing",
        "x.ndjson: row 3 (line 4), key 'passengerCount': 2.5 is not an integer",
        "x.ndjson: row 4 (line 5), not a JSON object (an array)",
    ]
    assert [r[1] for r in rows(payload)] == ["0", "5"]
