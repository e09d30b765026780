"""Output that joins back to the input: the rows of a file scored in byte
ranges (mini_batch_size "200B") are keyed by their row number in the file,
exactly as when the file is scored whole — in the native worker (MLflow
XGBoost) and in the Python runner's driver (MLflow scikit-learn), for the
inputs where counting rows is tricky: a byte order mark, CRLF, quoted line
ends, blank lines (empty, spaces, tabs), no line end at the end, a bad row
(its error names the same row and line both ways), JSON Lines with blank
lines."""

import json
import re
import subprocess

import pytest

from jobs_e2e import PYTHON, completed, error_logs, needs_xgboost
from test_jobs_bytes import (FEATURES, NOTES, create_datastore, have_sklearn, models,  # noqa: F401
                             nocode_endpoint, output_rows, run)


def tricky_csv(columns, rows, bad_row=None):
    """CSV bytes with a BOM, CRLF line ends, quoted line ends, blank lines of
    every kind and no line end at the end; rows[bad_row]'s first cell is
    not a number."""
    def field(v):
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\r\n') else v
    out = "\ufeff\r\n" + ",".join(columns) + "\r\n"
    for i, r in enumerate(rows):
        if i == bad_row:
            r = ["abc"] + r[1:]
        out += ",".join(field(v) for v in r)
        if i + 1 < len(rows):
            out += "\r\n" if i % 2 else "\n"
        if i % 7 == 3:
            out += ["\n", "  \r\n", "\t\n", "\r\n"][i % 4]
    return out.encode()


def rows_for(columns, n):
    rows = []
    for i in range(n):
        values = {"fareAmount": f"{3 + (i * 7) % 40}.5", "tripDistance": f"{0.5 + (i % 13)}",
                  "passengerCount": str(1 + i % 5), "hour": str(i % 24),
                  "note": f"{NOTES[i % len(NOTES)]}\r\n#{i}"}
        rows.append([values[c] for c in columns])
    return rows


def scored(server, endpoint, store, *extra):
    job = completed(server, run(server, endpoint, "--input-datastore", f"azureml:{store}",
                                "--input-path", "in", *extra))
    rows = output_rows(job)
    return job, rows


def row_errors(server, job):
    """The row errors' "<file>: row N (line L)" parts, sorted."""
    return sorted(set(re.findall(r"[\w.]+: row \d+ \(line \d+\)", error_logs(server, job["name"]))))


def expect_same_keys(server, endpoint, store, n_rows, bad=True):
    whole, whole_rows = scored(server, endpoint, store)
    ranged, ranged_rows = scored(server, endpoint, store, "--mini-batch-size", "200B")
    assert ranged["progress"]["mini_batches"]["total"] > 3, "the files were split"
    assert whole_rows[0][:2] == ["file", "row"]
    assert ranged_rows == whole_rows, "ranges key their rows as the whole file does"
    assert len(whole_rows) == 1 + n_rows
    assert ranged["progress"]["items"] == whole["progress"]["items"]
    if bad:
        errors = row_errors(server, whole)
        assert errors and errors == row_errors(server, ranged), error_logs(server, ranged["name"])
    return whole_rows


@needs_xgboost
def test_native_ranges_key_rows_as_the_whole_file(server, workdir, tmp_path, models):  # noqa: F811
    endpoint = nocode_endpoint(server, workdir, models)
    root = tmp_path / "store"
    (root / "in").mkdir(parents=True)
    columns = FEATURES + ["note"]
    (root / "in" / "a.csv").write_bytes(tricky_csv(columns, rows_for(columns, 40), bad_row=17))
    lines = [json.dumps(dict(zip(FEATURES, map(float, r)))) for r in rows_for(FEATURES, 30)]
    text = ""
    for i, line in enumerate(lines):
        text += line + ("\r\n" if i % 3 else "\n")
        if i % 5 == 2:
            text += ["\n", " \t\r\n", "  \n"][i % 3]
    (root / "in" / "b.jsonl").write_bytes(text.rstrip("\n").encode())
    create_datastore(server, "keystore", root)
    rows = expect_same_keys(server, endpoint, "keystore", 39 + 30)
    assert [r[1] for r in rows[1:] if r[0] == "a.csv"] == [str(i) for i in range(40) if i != 17]
    assert [r[1] for r in rows[1:] if r[0] == "b.jsonl"] == [str(i) for i in range(30)]


@pytest.mark.skipif(not have_sklearn(), reason="python3-sklearn is not installed")
def test_python_ranges_key_rows_as_the_whole_file(server, workdir, tmp_path):
    from test_nocode import SKLEARN_TRAIN
    subprocess.run([PYTHON, "-c", SKLEARN_TRAIN, str(tmp_path)], check=True)
    (workdir / "sk.yml").write_text(
        "name: skep\ntype: batch\ndeployments:\n  - name: dep1\n"
        f"    model: {{name: autolog, version: 1, local_path: {tmp_path / 'model'}}}\n"
        f"    environment: {{python: {PYTHON}}}\n"
        "    compute: {target: azureml:cpu-cluster}\n")
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "4")
    server.cli("endpoint", "create", "--file", str(workdir / "sk.yml"), cwd=workdir)
    root = tmp_path / "store"
    (root / "in").mkdir(parents=True)
    columns = ["fareAmount", "note", "tripDistance"]
    (root / "in" / "a.csv").write_bytes(tricky_csv(columns, rows_for(columns, 40), bad_row=17))
    create_datastore(server, "keystore", root)
    rows = expect_same_keys(server, "skep", "keystore", 39)
    assert [r[1] for r in rows[1:]] == [str(i) for i in range(40) if i != 17]


@needs_xgboost
@pytest.mark.skipif(not have_sklearn(), reason="python3-sklearn is not installed")
def test_native_and_python_number_the_same_rows_alike(server, workdir, tmp_path, models):  # noqa: F811
    """The same tricky file, scored in 200-byte ranges by the native worker
    and by the Python driver: the same row keys, and the bad row named alike."""
    endpoint = nocode_endpoint(server, workdir, models)
    from test_nocode import SKLEARN_TRAIN
    subprocess.run([PYTHON, "-c", SKLEARN_TRAIN, str(tmp_path)], check=True)
    (workdir / "sk.yml").write_text(
        "name: skep\ntype: batch\ndeployments:\n  - name: dep1\n"
        f"    model: {{name: autolog, version: 1, local_path: {tmp_path / 'model'}}}\n"
        f"    environment: {{python: {PYTHON}}}\n"
        "    compute: {target: azureml:cpu-cluster}\n")
    server.cli("endpoint", "create", "--file", str(workdir / "sk.yml"), cwd=workdir)
    root = tmp_path / "store"
    (root / "in").mkdir(parents=True)
    columns = FEATURES + ["note"]
    (root / "in" / "a.csv").write_bytes(tricky_csv(columns, rows_for(columns, 40), bad_row=17))
    create_datastore(server, "keystore", root)
    native, native_rows = scored(server, endpoint, "keystore", "--mini-batch-size", "200B")
    python, python_rows = scored(server, "skep", "keystore", "--mini-batch-size", "200B")
    assert [r[:2] for r in native_rows[1:]] == [r[:2] for r in python_rows[1:]]
    assert len(native_rows) == 40
    assert row_errors(server, native) == row_errors(server, python) != []
