"""settings.passthrough_columns: no-code deployments copy input columns into
the output beside the predictions (as SageMaker's JoinSource does), by name
or "*", for CSV, JSON Lines and Parquet inputs, in the native worker and the
Python runner's driver; hostile column names and cells come back correctly
quoted; a missing column fails its file, naming it; a score.py deployment
refuses the setting at create."""

import csv
import io
import json
import pathlib
import subprocess

import pytest

from jobs_e2e import (PYTHON, completed, error_logs, invoke, make_native_models, needs_xgboost,
                      output_text, wait_job)
from test_jobs_bytes import FEATURES, create_datastore, feature_rows, have_sklearn

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return make_native_models(tmp_path_factory.mktemp("models"))


def endpoint(server, workdir, models, passthrough, name="ptep", layout=None, extra=""):
    spec = {"name": name, "type": "batch", "deployments": [{
        "name": "xgb",
        "model": {"name": "xgbreg", "version": 1, "local_path": str(models / "mlflow_reg")},
        "compute": {"target": "azureml:cpu-cluster"},
        "settings": {"mini_batch_size": 10}}]}
    if passthrough is not None:
        spec["deployments"][0]["settings"]["passthrough_columns"] = passthrough
    if layout:
        spec["deployments"][0]["settings"]["output_layout"] = layout
    (workdir / f"{name}.yml").write_text(json.dumps(spec))  # JSON is YAML
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "4", check=False)
    server.cli("endpoint", "create", "--file", str(workdir / f"{name}.yml"), cwd=workdir)
    return name


def score(server, ep, store, *extra, until=("Completed",)):
    job = invoke(server, "--input-datastore", f"azureml:{store}", "--input-path", "in", *extra,
                 endpoint=ep)
    return wait_job(server, job["name"], until=until, timeout=120)


def rows_of(job):
    return list(csv.reader(io.StringIO(output_text(job), newline="")))


def write_csv(path, header, rows, line_end="\n"):
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator=line_end)
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode())


@needs_xgboost
def test_named_and_star_columns_of_csv_and_jsonl(server, workdir, tmp_path, models):
    root = tmp_path / "store"
    (root / "in").mkdir(parents=True)
    header = ["tripId"] + FEATURES + ["note"]
    data = [[f"t{i}"] + r for i, r in enumerate(feature_rows(30))]
    write_csv(root / "in" / "a.csv", header, data)
    lines = [json.dumps({"tripId": f"j{i}", **{k: float(v) for k, v in zip(FEATURES, r[:4])},
                         "meta": {"k": [1, 2]}, "flag": i % 2 == 0, "gone": None})
             for i, r in enumerate(feature_rows(12))]
    (root / "in" / "b.jsonl").write_text("\n".join(lines) + "\n\n")
    create_datastore(server, "ptstore", root)
    ep = endpoint(server, workdir, models, ["tripId", "hour"])
    done = completed(server, score(server, ep, "ptstore"))
    rows = rows_of(done)
    assert rows[0] == ["file", "row", "prediction", "tripId", "hour"]
    a = [r for r in rows[1:] if r[0] == "a.csv"]
    assert [r[3:] for r in a] == [[d[0], d[4]] for d in data]
    assert [r[1] for r in a] == [str(i) for i in range(30)]
    b = [r for r in rows[1:] if r[0] == "b.jsonl"]
    assert [r[3] for r in b] == [f"j{i}" for i in range(12)]
    # Whole files and 200-byte ranges give the same rows, keys included.
    ranged = completed(server, score(server, ep, "ptstore", "--mini-batch-size", "200B"))
    assert ranged["progress"]["mini_batches"]["total"] > 4
    assert rows_of(ranged) == rows

    # "*": every input column, in the file's order (CSV only here: one header).
    (root / "in" / "b.jsonl").unlink()
    star = endpoint(server, workdir, models, "*", name="ptstar")
    rows = rows_of(completed(server, score(server, star, "ptstore", "--mini-batch-size", "300B")))
    assert rows[0] == ["file", "row", "prediction"] + header
    assert [r[3:] for r in rows[1:]] == data, "cells as they are, quotes and line ends kept"


@needs_xgboost
def test_jsonl_values_are_their_text_and_star_takes_the_first_object(server, workdir, tmp_path,
                                                                    models):
    root = tmp_path / "store"
    (root / "in").mkdir(parents=True)
    objs = [{"id": i, **{k: float(v) for k, v in zip(FEATURES, r[:4])},
             "meta": {"k": [1, "x,y"]}, "flag": i % 2 == 0, "gone": None, "s": 'say "hi"\n'}
            for i, r in enumerate(feature_rows(10))]
    (root / "in" / "b.jsonl").write_text("\n" + "\n".join(json.dumps(o) for o in objs))
    create_datastore(server, "ptstore", root)
    ep = endpoint(server, workdir, models, "*")
    rows = rows_of(completed(server, score(server, ep, "ptstore")))
    assert rows[0] == ["file", "row", "prediction"] + list(objs[0])
    first = dict(zip(rows[0], rows[1]))
    assert first["id"] == "0" and first["flag"] == "true" and first["gone"] == ""
    assert json.loads(first["meta"]) == {"k": [1, "x,y"]}
    assert first["s"] == 'say "hi"\n'
    assert len(rows) == 11


@needs_xgboost
def test_a_missing_passthrough_column_fails_its_file_naming_it(server, workdir, tmp_path, models):
    root = tmp_path / "store"
    (root / "in").mkdir(parents=True)
    write_csv(root / "in" / "a.csv", ["tripId"] + FEATURES, [[f"t{i}"] + r[:4] for i, r in
                                                              enumerate(feature_rows(5))])
    write_csv(root / "in" / "b.csv", FEATURES, [r[:4] for r in feature_rows(5)])
    (root / "in" / "c.jsonl").write_text(json.dumps(dict(zip(FEATURES, [1.0, 2.0, 3.0, 4.0]))) + "\n")
    create_datastore(server, "ptstore", root)
    ep = endpoint(server, workdir, models, ["tripId"])
    done = score(server, ep, "ptstore", until=("Completed", "Failed"))
    rows = rows_of(done)
    assert [r[0] for r in rows[1:]] == ["a.csv"] * 5
    errors = error_logs(server, done["name"])
    assert "b.csv': passthrough column 'tripId' is missing; the file's columns: fareAmount" in errors, errors
    assert "c.jsonl: row 0 (line 1), passthrough key 'tripId' is missing" in errors, errors


@needs_xgboost
def test_hostile_column_names_and_cells_round_trip(server, workdir, tmp_path, models):
    root = tmp_path / "store"
    (root / "in").mkdir(parents=True)
    hostile = ['a,b', 'say "x"', 'two\nlines', 'caf\xe9', 'row', 'prediction']
    head = ",".join('"' + h.replace('"', '""') + '"' for h in hostile[:3])
    head = (head + ',caf\xe9,row,prediction,' + ",".join(FEATURES)).encode("latin-1")
    body = b""
    for i, r in enumerate(feature_rows(6)):
        cells = [f'"{i},x"', f'"q""{i}"""', f'"l\r\n{i}"', f"\xe9{i}".encode("latin-1").decode("latin-1"),
                 str(i), f"p{i}"] + r[:4]
        body += ",".join(cells).encode("latin-1") + b"\r\n"
    (root / "in" / "h.csv").write_bytes(head + b"\r\n" + body)
    create_datastore(server, "ptstore", root)
    ep = endpoint(server, workdir, models, "*")
    done = completed(server, score(server, ep, "ptstore"))
    raw = pathlib.Path(done["output"]["local_path"]).read_bytes()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8", "surrogateescape"), newline="")))
    # Clashing names get "input."; a name that is not UTF-8 is shown escaped.
    assert rows[0] == ["file", "row", "prediction", "a,b", 'say "x"', "two\nlines", "caf\\xe9",
                       "input.row", "input.prediction"] + FEATURES
    for i, r in enumerate(rows[1:]):
        assert r[3:6] == [f"{i},x", f'q"{i}"', f"l\r\n{i}"]
        assert r[6] == f"\udce9{i}", "the cell's bytes as they are"
        assert r[7:9] == [str(i), f"p{i}"]
    assert len(rows) == 7


@needs_xgboost
def test_per_job_set_and_azure_layout(server, workdir, tmp_path, models):
    root = tmp_path / "store"
    (root / "in").mkdir(parents=True)
    write_csv(root / "in" / "a.csv", ["tripId"] + FEATURES, [[f"t{i}"] + r[:4] for i, r in
                                                              enumerate(feature_rows(5))])
    create_datastore(server, "ptstore", root)
    ep = endpoint(server, workdir, models, None, layout="azure")
    rows = rows_of(completed(server, score(server, ep, "ptstore", "--set",
                                           "passthrough_columns=tripId,hour")))
    # Azure's layout: row,<prediction>,file, then the passthrough columns.
    assert [(r[0], r[2], r[3]) for r in rows] == [(str(i), "a.csv", f"t{i}") for i in range(5)]


def test_score_py_refuses_passthrough_at_create(server, workdir):
    (workdir / "score.py").write_text("def init():\n    pass\n\ndef run(b):\n    return b\n")
    (workdir / "ep.yml").write_text(
        "name: spep\ntype: batch\ndeployments:\n  - name: dep1\n"
        "    model: {name: m, version: 1, local_path: .}\n"
        "    code_configuration: {code: ., scoring_script: score.py}\n"
        "    compute: {target: azureml:cpu-cluster}\n"
        "    settings:\n      passthrough_columns: [tripId]\n")
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "4", check=False)
    proc = server.cli("endpoint", "create", "--file", str(workdir / "ep.yml"), cwd=workdir,
                      check=False)
    assert proc.returncode != 0
    assert "passthrough_columns" in proc.stderr and "writes its own rows" in proc.stderr, proc.stderr
    assert "ep.yml:9" in proc.stderr, proc.stderr
    bad = workdir / "bad.yml"
    bad.write_text((workdir / "ep.yml").read_text()
                   .replace("    code_configuration: {code: ., scoring_script: score.py}\n", "")
                   .replace("[tripId]", "[tripId, '']"))
    proc = server.cli("endpoint", "create", "--file", str(bad), cwd=workdir, check=False)
    assert proc.returncode != 0
    assert "bad.yml:8" in proc.stderr and "a column name is empty" in proc.stderr, proc.stderr


@pytest.mark.skipif(not have_sklearn(), reason="python3-sklearn is not installed")
def test_python_driver_copies_named_and_star_columns(server, workdir, tmp_path):
    from test_nocode import SKLEARN_TRAIN
    subprocess.run([PYTHON, "-c", SKLEARN_TRAIN, str(tmp_path)], check=True)
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "4", check=False)
    for name, passthrough in (("skone", '["tripId", "a,b"]'), ("skstar", '"*"')):
        (workdir / f"{name}.yml").write_text(
            f"name: {name}\ntype: batch\ndeployments:\n  - name: dep1\n"
            f"    model: {{name: autolog, version: 1, local_path: {tmp_path / 'model'}}}\n"
            f"    environment: {{python: {PYTHON}}}\n"
            "    compute: {target: azureml:cpu-cluster}\n"
            f"    settings: {{passthrough_columns: {passthrough}}}\n")
        server.cli("endpoint", "create", "--file", str(workdir / f"{name}.yml"), cwd=workdir)
    root = tmp_path / "store"
    (root / "in").mkdir(parents=True)
    header = ["tripId", "fareAmount", "a,b", "tripDistance", "prediction"]
    data = [[f"t{i}", f"{3 + i}.5", f'x "{i}"\r\ny', f"{1 + i % 4}.25", f"p{i}"] for i in range(40)]
    write_csv(root / "in" / "a.csv", header, data)
    create_datastore(server, "ptstore", root)
    rows = rows_of(completed(server, score(server, "skone", "ptstore")))
    assert rows[0] == ["file", "row", "prediction", "tripId", "a,b"]
    assert [r[3:] for r in rows[1:]] == [[d[0], d[2]] for d in data]
    ranged = rows_of(completed(server, score(server, "skone", "ptstore", "--mini-batch-size", "300B")))
    assert ranged == rows
    rows = rows_of(completed(server, score(server, "skstar", "ptstore")))
    assert rows[0] == ["file", "row", "prediction", "tripId", "fareAmount", "a,b", "tripDistance",
                       "input.prediction"]
    assert [r[3:] for r in rows[1:]] == data


@needs_xgboost
def test_parquet_columns_are_rendered_as_text(server, workdir, tmp_path, models):
    from test_parquet import MAKE_DATA, TOOL, WRITE_PARQUET, needs_duckdb
    if needs_duckdb.args[0]:
        pytest.skip(needs_duckdb.kwargs["reason"])
    (tmp_path / "in").mkdir()
    subprocess.run([PYTHON, "-c", MAKE_DATA, str(tmp_path), str(models / "mlflow_reg" / "model.xgb"),
                    "3000"], check=True)
    subprocess.run(["node", "--input-type=module", "-e", WRITE_PARQUET, "--", str(tmp_path)],
                   check=True, cwd=TOOL)
    root = tmp_path / "store"
    (root / "in").mkdir(parents=True)
    (root / "in" / "a.parquet").write_bytes((tmp_path / "in" / "a.parquet").read_bytes())
    create_datastore(server, "ptstore", root)
    want = list(csv.DictReader((tmp_path / "rows.csv").open()))

    ep = endpoint(server, workdir, models, ["id", "note", "fareAmount", "hour"])
    for extra in ((), ("--mini-batch-size", "20KB")):  # whole, and in row groups
        done = completed(server, score(server, ep, "ptstore", *extra))
        rows = rows_of(done)
        assert rows[0] == ["file", "row", "prediction", "id", "note", "fareAmount", "hour"]
        assert len(rows) == 1 + len(want)
        for r, w in zip(rows[1:], want):
            assert r[3] == w["id"] and r[4] == w["note"], (r, w)
            assert (r[5] == "") == (w["fareAmount"] == ""), (r, w)
            if r[5]:
                assert abs(float(r[5]) - float(w["fareAmount"])) < 1e-9, (r, w)
            assert r[6] == (str(int(float(w["hour"]))) if w["hour"] else ""), (r, w)
    star = endpoint(server, workdir, models, "*", name="ptstar")
    rows = rows_of(completed(server, score(server, star, "ptstore")))
    assert rows[0] == ["file", "row", "prediction", "note", "hour", "tripDistance", "id",
                       "passengerCount", "fareAmount"]
    assert [r[3] for r in rows[1:4]] == ["trip 0", "trip 1", "trip 2"]


DUCKDB_FROM_CSV = r'''
import { DuckDBInstance } from '@duckdb/node-api';
const [src, dest] = process.argv.slice(-2);
const db = await (await DuckDBInstance.create(':memory:')).connect();
await db.run(`COPY (SELECT * FROM read_csv('${src}', header = true, columns = {
  'tripId': 'VARCHAR', 'fareAmount': 'DOUBLE', 'n': 'BIGINT', 'tripDistance': 'DOUBLE'}))
  TO '${dest}' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 16)`);
'''


# The Python runner's driver passes columns through from Parquet (decoded
# whole, not just the model's columns) and JSON Lines as the native worker
# does: a JSON Lines row without a named key fails alone.
@pytest.mark.skipif(not have_sklearn(), reason="python3-sklearn is not installed")
def test_python_driver_copies_columns_of_parquet_and_jsonl(server, workdir, tmp_path):
    from test_nocode import SKLEARN_TRAIN
    from test_parquet import TOOL, needs_duckdb
    subprocess.run([PYTHON, "-c", SKLEARN_TRAIN, str(tmp_path)], check=True)
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "4", check=False)
    for name, passthrough in (("skcols", '["tripId", "n"]'), ("skall", '"*"')):
        (workdir / f"{name}.yml").write_text(
            f"name: {name}\ntype: batch\ndeployments:\n  - name: dep1\n"
            f"    model: {{name: autolog, version: 1, local_path: {tmp_path / 'model'}}}\n"
            f"    environment: {{python: {PYTHON}}}\n"
            "    compute: {target: azureml:cpu-cluster}\n"
            f"    settings: {{passthrough_columns: {passthrough}}}\n")
        server.cli("endpoint", "create", "--file", str(workdir / f"{name}.yml"), cwd=workdir)
    data = [[f"t,{i}", f"{3 + i}.5", str(10 ** 12 + i), f"{1 + i % 4}.25"] for i in range(40)]
    header = ["tripId", "fareAmount", "n", "tripDistance"]

    jroot = tmp_path / "jstore"
    (jroot / "in").mkdir(parents=True)
    lines = []
    for i, d in enumerate(data):
        obj = {"tripId": d[0], "fareAmount": float(d[1]), "n": int(d[2]), "tripDistance": float(d[3])}
        if i == 5:
            del obj["tripId"]
        lines.append(json.dumps(obj))
    (jroot / "in" / "a.jsonl").write_text("\n".join(lines) + "\n")
    create_datastore(server, "jptstore", jroot)
    done = score(server, "skcols", "jptstore", until=("Completed", "Failed"))
    rows = rows_of(done)
    assert rows[0] == ["file", "row", "prediction", "tripId", "n"]
    assert [r[1] for r in rows[1:]] == [str(i) for i in range(40) if i != 5]
    assert [r[3:] for r in rows[1:]] == [[d[0], d[2]] for i, d in enumerate(data) if i != 5]
    assert done["progress"]["items"]["failed"] == 1, done["progress"]
    assert "row 5 (line 6), passthrough key 'tripId' is missing" in error_logs(server, done["name"])
    # In byte ranges, the same rows and keys.
    ranged = score(server, "skcols", "jptstore", "--mini-batch-size", "400B",
                   until=("Completed", "Failed"))
    assert rows_of(ranged) == rows

    if needs_duckdb.args[0]:
        pytest.skip(needs_duckdb.kwargs["reason"])
    proot = tmp_path / "pstore"
    (proot / "in").mkdir(parents=True)
    write_csv(tmp_path / "src.csv", header, data)
    subprocess.run(["node", "--input-type=module", "-e", DUCKDB_FROM_CSV, "--",
                    str(tmp_path / "src.csv"), str(proot / "in" / "a.parquet")], check=True, cwd=TOOL)
    create_datastore(server, "pptstore", proot)
    for extra in ((), ("--mini-batch-size", "600B")):  # whole, and in row groups
        rows = rows_of(completed(server, score(server, "skcols", "pptstore", *extra)))
        assert rows[0] == ["file", "row", "prediction", "tripId", "n"]
        assert [r[3:] for r in rows[1:]] == [[d[0], d[2]] for d in data]
    rows = rows_of(completed(server, score(server, "skall", "pptstore")))
    assert rows[0] == ["file", "row", "prediction"] + header
    assert [r[3] for r in rows[1:]] == [d[0] for d in data]
    assert [float(r[4]) for r in rows[1:]] == [float(d[1]) for d in data]
