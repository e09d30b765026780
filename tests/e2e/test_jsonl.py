"""No-code scoring of JSON Lines files (src/native/jsonl_reader.h): an
MLflow XGBoost model scores .jsonl and .ndjson files by key, equal to
XGBoost's own predictions; a bad line fails only its row, and a byte
mini_batch_size cuts a large file at line ends."""
import csv
import json
import pathlib

from jobs_e2e import PYTHON, make_native_models, needs_xgboost
import subprocess

# Rows with the features among extra keys, in shuffled key order, nulls,
# booleans and integers; some bad lines; XGBoost's predictions of the good
# rows, by line.
MAKE_DATA = r'''
import json, sys
import numpy as np, xgboost as xgb
out, model, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
features = ["fareAmount", "tripDistance", "passengerCount", "hour"]
rng = np.random.default_rng(11)
lines, good = [], []
for i in range(n):
    row = {"id": i, "note": f"trip {i}",
           "fareAmount": float(np.float64(rng.gamma(2.0, 7.5)).round(3)),
           "tripDistance": float(rng.gamma(1.5, 2.0)),
           "passengerCount": int(rng.integers(1, 7)),
           "hour": None if i % 13 == 0 else int(rng.integers(0, 24))}
    if i % 17 == 0:
        row["passengerCount"] = bool(i % 2)
    keys = list(row)
    rng.shuffle(keys)
    text = json.dumps({k: row[k] for k in keys})
    if i in (5, 900):
        text = text[:-3]                      # cut short: not valid JSON
    elif i == 40:
        text = text.replace('"hour"', '"Hour"')  # hour missing
    elif i == 77:
        row["fareAmount"] = "12.5"
        text = json.dumps(row)                # a string where a number belongs
    else:
        good.append((i, [np.nan if row[f] is None else float(row[f]) for f in features]))
    lines.append(text)
    if i % 100 == 50:
        lines.append("")                      # blank lines are not rows
with open(f"{out}/in/a.jsonl", "w") as f:
    f.write("\n".join(lines) + "\n")
with open(f"{out}/in/b.ndjson", "w") as f:
    f.write("\r\n".join(lines))               # CRLF, no final line end
booster = xgb.Booster(model_file=model)
x = np.array([v for _, v in good], dtype=np.float64)
pred = booster.predict(xgb.DMatrix(x, missing=np.nan, feature_names=features))
json.dump({"rows": [i for i, _ in good], "pred": [float(p) for p in pred]}, open(f"{out}/expected.json", "w"))
'''


def score(server, tmp_path, name, mini_batch_size):
    (tmp_path / "ep.yml").write_text(
        f"name: {name}\ntype: batch\ndeployments:\n  - name: xgb\n"
        "    model: {name: xgbreg, version: 1, local_path: ./mlflow_reg}\n"
        "    compute: {target: azureml:cpu-cluster, instance_count: 2}\n"
        f"    mini_batch_size: {mini_batch_size}\n    error_threshold: -1\n")
    server.cli("endpoint", "create", "--file", str(tmp_path / "ep.yml"))
    job = server.cli("endpoint", "invoke", "--name", name, "--input-local-path", str(tmp_path / "in"),
                     "--query", "name", "-o", "tsv").stdout.strip()
    stream = server.cli("job", "stream", "--name", job, check=False)
    assert stream.returncode == 0, stream.stdout + stream.stderr
    shown = server.cli_json("job", "show", "--name", job)
    rows = list(csv.reader(pathlib.Path(shown["output"]["local_path"]).open()))
    errors = "".join(p.read_text() for p in
                     (pathlib.Path(server.home) / "jobs" / job / "logs" / "user" / "error").rglob("*.txt"))
    return shown, rows, errors


@needs_xgboost
def test_mlflow_xgboost_scores_json_lines_with_no_code(server, tmp_path):
    make_native_models(tmp_path)
    (tmp_path / "in").mkdir()
    n = 3000
    subprocess.run([PYTHON, "-c", MAKE_DATA, str(tmp_path), str(tmp_path / "mlflow_reg" / "model.xgb"), str(n)],
                   check=True)
    expected = json.loads((tmp_path / "expected.json").read_text())
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "4")

    # Whole files: rows numbered in the file (blank lines are not rows).
    shown, rows, errors = score(server, tmp_path, "jlwhole", 10)
    assert rows[0] == ["file", "row", "prediction"]
    for name in ("a.jsonl", "b.ndjson"):
        got = [r for r in rows[1:] if r[0] == name]
        assert [int(r[1]) for r in got] == expected["rows"], name
        for r, e in zip(got, expected["pred"]):
            assert abs(float(r[2]) - e) < 1e-6, (name, r)
    # Four bad lines in each file fail only their rows, each named.
    assert shown["progress"]["items"]["failed"] == 8, shown["progress"]
    assert "a.jsonl: row 5 (line 6), not valid JSON" in errors, errors
    assert "a.jsonl: row 40 (line 41), key 'hour' is missing" in errors, errors
    assert "a.jsonl: row 77 (line 79), key 'fareAmount': a string, not a number" in errors, errors
    assert "b.ndjson: row 900 (line 910), not valid JSON" in errors, errors

    # A byte mini_batch_size: many ranges, cut at line ends; each good row
    # once, in order, keyed by its row number in the file as when whole.
    shown, rows, errors = score(server, tmp_path, "jlrange", "20KB")
    assert shown["progress"]["mini_batches"]["total"] > 10, shown["progress"]
    for name in ("a.jsonl", "b.ndjson"):
        got = [r for r in rows[1:] if r[0] == name]
        assert [int(r[1]) for r in got] == expected["rows"], name
        for r, e in zip(got, expected["pred"]):
            assert abs(float(r[2]) - e) < 1e-6, (name, r)
    assert shown["progress"]["items"]["failed"] == 8, shown["progress"]
    assert "a.jsonl: row 40 (line 41), key 'hour' is missing" in errors, errors
    assert "b.ndjson: row 900 (line 910), not valid JSON" in errors, errors
