"""Tests for the Python runner's built-in driver "mlflow_sklearn"
(python/lote_drivers/mlflow_sklearn.py, python/lote_drivers/tabular.py).

Each test trains a small scikit-learn model on synthetic taxi trips (the
seed's six columns), writes it as an MLflow model folder by hand (MLmodel in
MLflow's layout: the python_function and sklearn flavors, a signature whose
inputs and outputs are JSON strings), and drives the real runner over the
worker protocol, as `lote agent` does.

    /usr/bin/python3 -m pytest tests/python -q

Skipped where the interpreter running pytest lacks scikit-learn, pandas or
PyYAML (the driver needs all three).
"""

import csv
import importlib.util
import io
import json
import os
import pickle
import sys
import types

import pytest

pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")
pytest.importorskip("yaml")
sklearn = pytest.importorskip("sklearn")

import numpy as np  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LinearRegression  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder  # noqa: E402

from test_lote_runner import RUNNER, workers  # noqa: E402,F401  (workers: a fixture)

sys.path.insert(0, os.path.dirname(RUNNER))
from lote_drivers import sources, tabular  # noqa: E402

HAS_CLOUDPICKLE = importlib.util.find_spec("cloudpickle") is not None

SIGNATURE = [("fareAmount", "float"), ("paymentType", "integer"), ("passengerCount", "integer"),
             ("tripDistance", "float"), ("tripTimeSecs", "integer"), ("pickupTimeBin", "string")]
INPUTS = [name for name, _ in SIGNATURE]
NUMERIC = INPUTS[:-1]
BINS = ["morning", "afternoon", "evening", "night"]
DTYPES = {"fareAmount": "float64", "paymentType": "int64", "passengerCount": "int64",
          "tripDistance": "float64", "tripTimeSecs": "int64", "pickupTimeBin": object}


# --------------------------------------------------------------------------
# Models, model folders and data


def trips(n, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "fareAmount": rng.uniform(3, 60, n).round(2),
        "paymentType": rng.integers(1, 3, n),
        "passengerCount": rng.integers(1, 6, n),
        "tripDistance": rng.uniform(0.2, 20, n).round(2),
        "tripTimeSecs": rng.integers(60, 3600, n),
        "pickupTimeBin": rng.choice(BINS, n),
    })


def _features():
    return ColumnTransformer([
        ("bins", OneHotEncoder(handle_unknown="ignore"), ["pickupTimeBin"]),
        ("numbers", "passthrough", NUMERIC),
    ])


def _tips(df):
    noise = np.random.default_rng(1).normal(0, 0.5, len(df))
    return 0.15 * df["fareAmount"] * (df["paymentType"] == 1) + 0.1 * df["passengerCount"] + noise


@pytest.fixture(scope="module")
def regressor():
    df = trips(300)
    return Pipeline([("features", _features()), ("model", LinearRegression())]).fit(df, _tips(df))


@pytest.fixture(scope="module")
def classifier():
    df = trips(300)
    labels = np.where(_tips(df) > 2, "tipped", "no tip")
    model = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0)
    return Pipeline([("features", _features()), ("model", model)]).fit(df, labels)


@pytest.fixture(scope="module")
def two_outputs():
    df = trips(300)
    y = np.column_stack([_tips(df), df["fareAmount"] + _tips(df)])
    return Pipeline([("features", _features()), ("model", LinearRegression())]).fit(df, y)


def _json_columns(columns):
    return json.dumps([{"name": n, "type": t} if n else {"type": t} for n, t in columns])


def write_model(folder, model, fmt="pickle", inputs=SIGNATURE, outputs=((None, "double"),),
                sklearn_flavor=True, extra_sklearn="", dump=None):
    """An MLflow model folder as mlflow.sklearn.log_model writes it."""
    folder.mkdir(parents=True)
    with open(folder / "model.pkl", "wb") as f:
        (dump or pickle.dump)(model, f)
    sk = f"""\
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: {fmt}
    sklearn_version: {sklearn.__version__}
{extra_sklearn}""" if sklearn_flavor else ""
    signature = ""
    if inputs is not None:
        signature = (f"signature:\n  inputs: '{_json_columns(inputs)}'\n"
                     f"  outputs: '{_json_columns(outputs)}'\n  params: null\n")
    (folder / "MLmodel").write_text(f"""\
artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.11.2
{sk}mlflow_version: 2.9.2
model_size_bytes: 4100
model_uuid: 2b7b3f9c1f0a4d3e9a3b8a1e5c6d7f80
run_id: 5c0d1a2b3c4d5e6f7a8b9c0d1e2f3a4b
{signature}utc_time_created: '2024-02-01 10:00:00.000000'
""")
    return folder


def write_csv(path, df, extra=True, order_seed=3):
    """df with extra columns, in a shuffled column order."""
    df = df.copy()
    if extra:
        df.insert(0, "tripId", [f"t{i:04d}" for i in range(len(df))])
        df["vendorID"] = 2
    cols = list(df.columns)
    np.random.default_rng(order_seed).shuffle(cols)
    df[cols].to_csv(path, index=False)
    return str(path)


def start(workers, model_dir, options=None, env=None):
    w = workers(env=env)
    msg = w.init(None, script=None, model_dir=str(model_dir),
                 options=dict({"driver": "mlflow_sklearn"}, **(options or {})))
    assert msg == {"type": "ready"}, msg
    return w


def init_failed(workers, model_dir, options=None, env=None):
    w = workers(env=env)
    msg = w.init(None, script=None, model_dir=str(model_dir),
                 options=dict({"driver": "mlflow_sklearn"}, **(options or {})))
    assert msg["type"] == "init_failed", msg
    assert w.finish(close=False)[0] == 1
    return msg


def run_items(w, items, mini_batch=1):
    w.send({"type": "run", "mini_batch": mini_batch, "attempt": 1, "items": items})
    msg, payload = w.recv()
    assert msg["type"] == "result", msg
    return msg, payload


def rows(payload):
    return list(csv.reader(io.StringIO(payload.decode("utf-8"))))


def expected(model, df):
    return model.predict(df[INPUTS].astype(DTYPES))


# --------------------------------------------------------------------------
# Scoring


def test_predicts_what_the_model_predicts(workers, tmp_path, regressor):
    model_dir = write_model(tmp_path / "model", regressor)
    a, b = trips(40, seed=7), trips(25, seed=8)
    paths = [write_csv(tmp_path / "a.csv", a), write_csv(tmp_path / "b.csv", b, order_seed=4)]
    with open(paths[0]) as f:
        assert f.readline().split(",")[:3] != INPUTS[:3]  # the columns really are shuffled
    w = start(workers, model_dir)
    msg, payload = w.run(paths, mini_batch=3)
    assert (msg["mini_batch"], msg["succeeded"], msg["failed"]) == (3, 65, 0)
    assert msg["item_errors"] == []
    assert msg["header"] == "file,row,prediction"
    got = rows(payload)
    assert [r[:2] for r in got] == ([["a.csv", str(i)] for i in range(40)]
                                    + [["b.csv", str(i)] for i in range(25)])
    want = np.concatenate([expected(regressor, a), expected(regressor, b)])
    assert [float(r[2]) for r in got] == pytest.approx(want, rel=0, abs=1e-6)
    # printed as Python prints the float: exactly the same value
    assert [r[2] for r in got] == [repr(float(v)) for v in want]
    assert w.shutdown()[0] == 0


def test_classifier_labels_named_by_the_signature(workers, tmp_path, classifier):
    model_dir = write_model(tmp_path / "model", classifier, outputs=(("tipClass", "string"),))
    df = trips(30, seed=9)
    w = start(workers, model_dir)
    msg, payload = w.run([write_csv(tmp_path / "t.csv", df)])
    assert (msg["succeeded"], msg["failed"], msg["header"]) == (30, 0, "file,row,tipClass")
    assert [r[2] for r in rows(payload)] == list(expected(classifier, df))
    assert w.shutdown()[0] == 0


@pytest.mark.parametrize("outputs, header", [
    (((None, "double"),), "file,row,prediction_0,prediction_1"),
    ((("tip", "double"), ("total", "double")), "file,row,tip,total"),
])
def test_two_outputs_per_row(workers, tmp_path, two_outputs, outputs, header):
    model_dir = write_model(tmp_path / "model", two_outputs, outputs=outputs)
    df = trips(12, seed=10)
    w = start(workers, model_dir)
    msg, payload = w.run([write_csv(tmp_path / "t.csv", df)])
    assert (msg["succeeded"], msg["header"]) == (12, header)
    got = np.array([[float(v) for v in r[2:]] for r in rows(payload)])
    assert got == pytest.approx(expected(two_outputs, df), rel=0, abs=1e-6)
    assert w.shutdown()[0] == 0


def test_missing_column_fails_only_that_file(workers, tmp_path, regressor):
    model_dir = write_model(tmp_path / "model", regressor)
    good = trips(10, seed=11)
    bad = trips(5, seed=12).drop(columns=["tripDistance"])
    paths = [write_csv(tmp_path / "bad.csv", bad, extra=False),
             write_csv(tmp_path / "good.csv", good)]
    w = start(workers, model_dir)
    msg, payload = w.run(paths)
    assert (msg["succeeded"], msg["failed"]) == (10, 1)
    [err] = msg["item_errors"]
    assert err["item"] == paths[0]
    assert err["error"].startswith("bad.csv: missing column 'tripDistance'; the file's columns: ")
    assert sorted(err["error"].split(": ")[-1].split(", ")) == sorted(bad.columns)
    assert {r[0] for r in rows(payload)} == {"good.csv"}
    assert msg["header"] == "file,row,prediction"
    assert w.shutdown()[0] == 0


def test_malformed_cells_fail_only_their_rows(workers, tmp_path, regressor):
    model_dir = write_model(tmp_path / "model", regressor)
    df = trips(8, seed=13)
    text = df.astype(str)
    text.loc[2, "passengerCount"] = "two"
    text.loc[3, "paymentType"] = "1.5"
    text.loc[5, "tripTimeSecs"] = ""          # missing in an integer column
    text.loc[6, "fareAmount"] = "12,50"       # quoted in the file; not a number
    text.loc[7, "tripTimeSecs"] = " 300 "     # spaces around a number are fine
    path = tmp_path / "cells.csv"
    text.to_csv(path, index=False)
    w = start(workers, model_dir)
    msg, payload = w.run([str(path)])
    assert (msg["succeeded"], msg["failed"]) == (4, 4)
    assert msg["item_errors"] == [
        {"item": str(path), "row": "2", "column": "passengerCount",
         "error": "cells.csv: row 2 (line 4), column 'passengerCount': 'two' is not an integer"},
        {"item": str(path), "row": "3", "column": "paymentType",
         "error": "cells.csv: row 3 (line 5), column 'paymentType': '1.5' is not an integer"},
        {"item": str(path), "row": "5", "column": "tripTimeSecs",
         "error": "cells.csv: row 5 (line 7), column 'tripTimeSecs': "
                  "missing value (an integer column)"},
        {"item": str(path), "row": "6", "column": "fareAmount",
         "error": "cells.csv: row 6 (line 8), column 'fareAmount': '12,50' is not a number"},
    ]
    got = rows(payload)
    assert [r[1] for r in got] == ["0", "1", "4", "7"]
    df.loc[7, "tripTimeSecs"] = 300
    want = expected(regressor, df.iloc[[0, 1, 4, 7]])
    assert [float(r[2]) for r in got] == pytest.approx(want, rel=0, abs=1e-6)
    assert w.shutdown()[0] == 0


def test_row_errors_are_listed_up_to_a_limit(workers, tmp_path, regressor):
    model_dir = write_model(tmp_path / "model", regressor)
    text = trips(130, seed=14).astype(str)
    text["passengerCount"] = "many"
    text.loc[0, "passengerCount"] = "2"
    path = tmp_path / "many.csv"
    text.to_csv(path, index=False)
    w = start(workers, model_dir)
    msg, payload = w.run([str(path)])
    assert (msg["succeeded"], msg["failed"]) == (1, 129)
    errors = msg["item_errors"]
    assert len(errors) == tabular.MAX_ROW_ERRORS_PER_ITEM + 1
    assert errors[-1] == {"item": str(path), "error": "many.csv: 29 more bad rows (not listed)"}
    assert w.shutdown()[0] == 0


def test_a_failing_predict_fails_its_file_with_the_traceback(workers, tmp_path, regressor):
    model_dir = write_model(tmp_path / "model", regressor)
    df = trips(5, seed=15).astype(str)
    df.loc[1, "tripDistance"] = "NaN"  # a float column may hold NaN; LinearRegression refuses it
    nan_path = tmp_path / "nan.csv"
    df.to_csv(nan_path, index=False)
    ok = write_csv(tmp_path / "ok.csv", trips(3, seed=16))
    w = start(workers, model_dir)
    msg, payload = w.run([str(nan_path), ok])
    assert (msg["succeeded"], msg["failed"]) == (3, 1)
    [err] = msg["item_errors"]
    assert err["item"] == str(nan_path)
    assert err["error"].startswith("nan.csv: the model's predict failed: ValueError: ")
    assert "NaN" in err["error"]
    assert "Traceback" in err["traceback"]
    assert len(rows(payload)) == 3
    assert w.shutdown()[0] == 0


def test_byte_range_items(workers, tmp_path, regressor):
    model_dir = write_model(tmp_path / "model", regressor)
    df = trips(9, seed=17)
    df.loc[4, "pickupTimeBin"] = "late,\nnight"  # quoted, with a line break inside
    path = tmp_path / "big.csv"
    write_csv(path, df)
    data = path.read_bytes()
    # a blank line between rows 6 and 7, and a bad cell in row 8
    lines = data.splitlines(keepends=True)
    header = lines[0].decode().rstrip("\n")
    rows_of_file = lines[1:5] + [lines[5] + lines[6]] + lines[7:9] + [b"\n"] + lines[9:]
    cols = header.split(",")
    bad = rows_of_file[-1].decode().rstrip("\n").split(",")
    bad[cols.index("paymentType")] = "card"
    rows_of_file[-1] = (",".join(bad) + "\n").encode()
    data = lines[0] + b"".join(rows_of_file)
    path.write_bytes(data)
    starts = [len(lines[0]) + sum(len(r) for r in rows_of_file[:i])
              for i in range(len(rows_of_file))]
    row_starts = [s for i, s in enumerate(starts) if rows_of_file[i] != b"\n"]
    assert len(row_starts) == 9

    # two ranges, split between rows 5 and 6 (the multi-line row is row 4)
    split = row_starts[6]
    items = [{"path": str(path), "offset": len(lines[0]), "length": split - len(lines[0]),
              "header": header},
             {"path": str(path), "offset": split, "length": len(data) - split, "header": header}]
    w = start(workers, model_dir)
    msg, payload = run_items(w, items)
    assert (msg["succeeded"], msg["failed"]) == (8, 1)
    assert msg["item_errors"] == [{
        "item": str(path), "row": f"@{row_starts[8]}", "column": "paymentType",
        "error": f"big.csv: row at byte {row_starts[8]}, column 'paymentType': "
                 "'card' is not an integer"}]
    got = rows(payload)
    assert [r[:2] for r in got] == [["big.csv", f"@{s}"] for s in row_starts[:8]]
    want = expected(regressor, df.iloc[:8])
    assert [float(r[2]) for r in got] == pytest.approx(want, rel=0, abs=1e-6)
    # each row key is where its line starts in the file
    for r in got:
        offset = int(r[1][1:])
        assert offset == 0 or data[offset - 1:offset] == b"\n"

    # the whole file gives the same predictions, keyed by row number
    msg, payload = w.run([str(path)])
    assert (msg["succeeded"], msg["failed"]) == (8, 1)
    assert msg["item_errors"][0]["error"] == (
        "big.csv: row 8 (line 12), column 'paymentType': 'card' is not an integer")
    assert [r[2] for r in rows(payload)] == [r[2] for r in got]
    assert w.shutdown()[0] == 0


def test_a_byte_range_needs_the_header(workers, tmp_path, regressor):
    model_dir = write_model(tmp_path / "model", regressor)
    path = write_csv(tmp_path / "t.csv", trips(3))
    w = start(workers, model_dir)
    msg, _ = run_items(w, [{"path": path, "offset": 10, "length": 20}])
    assert (msg["succeeded"], msg["failed"]) == (0, 1)
    assert msg["item_errors"] == [{"item": path,
                                   "error": "t.csv: a byte range needs the file's header line"}]
    assert w.shutdown()[0] == 0


def test_unreadable_and_empty_files_fail_alone(workers, tmp_path, regressor):
    model_dir = write_model(tmp_path / "model", regressor)
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text(",".join(INPUTS) + "\n")
    (tmp_path / "wide.csv").write_text(",".join(INPUTS) + "\n1,1,1,1,1,night\n1,1,1,1,1,night,7\n")
    ok = write_csv(tmp_path / "ok.csv", trips(2))
    w = start(workers, model_dir)
    msg, payload = w.run([str(tmp_path / "nope.csv"), str(tmp_path / "empty.csv"),
                          str(tmp_path / "header.csv"), str(tmp_path / "wide.csv"), ok])
    assert (msg["succeeded"], msg["failed"]) == (2, 3)
    errors = [e["error"] for e in msg["item_errors"]]
    assert errors[:2] == [
        "nope.csv: cannot read: No such file or directory",
        "empty.csv: the file is empty (no header line)",
    ]
    assert errors[2].startswith("wide.csv: not valid CSV: ParserError: ")
    assert "Expected 6 fields in line 3, saw 7" in errors[2]
    assert len(rows(payload)) == 2
    assert w.shutdown()[0] == 0


def test_options_columns_select_without_a_signature(workers, tmp_path, regressor):
    model_dir = write_model(tmp_path / "model", regressor, inputs=None)
    df = trips(6, seed=18)
    w = start(workers, model_dir, options={"columns": INPUTS})
    msg, payload = w.run([write_csv(tmp_path / "t.csv", df)])
    assert (msg["succeeded"], msg["failed"]) == (6, 0)
    assert [float(r[2]) for r in rows(payload)] == pytest.approx(
        expected(regressor, df), rel=0, abs=1e-6)
    assert w.shutdown()[0] == 0


# --------------------------------------------------------------------------
# Serialization formats


def test_cloudpickle_format(workers, tmp_path, regressor):
    """serialization_format: cloudpickle (MLflow's default) loads with
    cloudpickle when it is installed, else with pickle.load, which reads
    cloudpickle's output of importable classes."""
    dump = None
    if HAS_CLOUDPICKLE:
        import cloudpickle
        dump = cloudpickle.dump
    model_dir = write_model(tmp_path / "model", regressor, fmt="cloudpickle", dump=dump)
    df = trips(7, seed=19)
    w = start(workers, model_dir)
    msg, payload = w.run([write_csv(tmp_path / "t.csv", df)])
    assert (msg["succeeded"], msg["failed"]) == (7, 0)
    assert [float(r[2]) for r in rows(payload)] == pytest.approx(
        expected(regressor, df), rel=0, abs=1e-6)
    assert w.shutdown()[0] == 0


def _made_by_fake_cloudpickle():
    raise AssertionError("never called: the worker cannot import cloudpickle")


class _NeedsCloudpickle:
    def __reduce__(self):
        return _made_by_fake_cloudpickle, ()


@pytest.mark.skipif(HAS_CLOUDPICKLE, reason="cloudpickle is installed")
def test_a_model_that_needs_cloudpickle_names_it(workers, tmp_path, monkeypatch):
    # What cloudpickle writes for a function defined at runtime: a reference
    # to cloudpickle's own code, which pickle.load must import.
    fake = types.ModuleType("cloudpickle")
    fake._made_by_fake_cloudpickle = _made_by_fake_cloudpickle
    monkeypatch.setattr(_made_by_fake_cloudpickle, "__module__", "cloudpickle")
    monkeypatch.setattr(_made_by_fake_cloudpickle, "__qualname__", "_made_by_fake_cloudpickle")
    monkeypatch.setitem(sys.modules, "cloudpickle", fake)
    model_dir = write_model(tmp_path / "model", _NeedsCloudpickle(), fmt="cloudpickle")
    msg = init_failed(workers, model_dir)
    assert msg["error"] == (
        f"cannot load {model_dir}/model.pkl: it was saved with cloudpickle, which this "
        "environment lacks (install the cloudpickle package), and pickle.load failed: "
        "ModuleNotFoundError: No module named 'cloudpickle'")


# --------------------------------------------------------------------------
# Failures of init


def test_init_needs_pyyaml(workers, tmp_path, regressor):
    hide = tmp_path / "hide" / "yaml"
    hide.mkdir(parents=True)
    (hide / "__init__.py").write_text("raise ImportError(\"No module named 'yaml'\")\n")
    model_dir = write_model(tmp_path / "model", regressor)
    msg = init_failed(workers, model_dir, env={"PYTHONPATH": str(tmp_path / "hide")})
    assert msg["error"] == ("the mlflow_sklearn driver needs PyYAML (python3-yaml): "
                            "ImportError: No module named 'yaml'")


def _no_mlmodel(d, model):
    d.mkdir()


def _xgboost_only(d, model):
    d.mkdir()
    (d / "MLmodel").write_text("flavors:\n  xgboost:\n    data: model.xgb\n")


def _skops(d, model):
    write_model(d, model, fmt="skops")


def _no_pickle(d, model):
    write_model(d, model)
    (d / "model.pkl").unlink()


def _bad_signature(d, model):
    write_model(d, model)
    text = (d / "MLmodel").read_text().replace('inputs: \'[{"name"', "inputs: '[{name")
    (d / "MLmodel").write_text(text)


def _bad_yaml(d, model):
    d.mkdir()
    (d / "MLmodel").write_text("flavors: [unclosed\n")


def _not_a_pickle(d, model):
    write_model(d, model)
    (d / "model.pkl").write_bytes(b"not a pickle")


def _no_predict_fn(d, model):
    write_model(d, model)
    text = (d / "MLmodel").read_text().replace("predict_fn: predict", "predict_fn: predict_fancy")
    (d / "MLmodel").write_text(text)


@pytest.mark.parametrize("make, error", [
    (_no_mlmodel, "model folder '{d}' holds no MLmodel file"),
    (_xgboost_only, "model folder '{d}' is not an MLflow sklearn model: its MLmodel flavor(s) "
                    "'xgboost'; the mlflow_sklearn driver scores the sklearn flavor (or "
                    "python_function with loader_module mlflow.sklearn)"),
    (_skops, "{d}/MLmodel: flavors.sklearn.serialization_format: 'skops' is not supported "
             "(the mlflow_sklearn driver loads pickle and cloudpickle)"),
    (_no_pickle, "{d}/MLmodel: flavors.sklearn: 'model.pkl' does not exist in '{d}'"),
    (_bad_signature, "{d}/MLmodel: signature.inputs: not valid JSON: "),
    (_bad_yaml, "{d}/MLmodel: not valid YAML: "),
    (_not_a_pickle, "cannot load {d}/model.pkl (pickle): UnpicklingError: "),
    (_no_predict_fn, "{d}/model.pkl: the model (Pipeline) has no predict_fancy() method"),
])
def test_init_failures_name_the_problem(workers, tmp_path, regressor, make, error):
    d = tmp_path / "model"
    make(d, regressor)
    msg = init_failed(workers, d)
    assert msg["error"].startswith(error.format(d=d)), msg["error"]


def test_a_model_saved_by_another_scikit_learn_warns(workers, tmp_path, regressor):
    d = tmp_path / "model"
    write_model(d, regressor)
    text = (d / "MLmodel").read_text().replace(f"sklearn_version: {sklearn.__version__}",
                                               "sklearn_version: 0.24.2")
    (d / "MLmodel").write_text(text)
    w = start(workers, d)
    code, _, stderr = w.shutdown()
    assert code == 0
    assert (f"the model was saved with scikit-learn 0.24.2; this environment has "
            f"{sklearn.__version__}") in stderr


def test_python_function_flavor_alone(workers, tmp_path, regressor):
    """A model folder whose only flavor is python_function with loader_module
    mlflow.sklearn: the pickle is python_function.model_path."""
    d = write_model(tmp_path / "model", regressor, sklearn_flavor=False)
    df = trips(4, seed=20)
    w = start(workers, d)
    msg, payload = w.run([write_csv(tmp_path / "t.csv", df)])
    assert (msg["succeeded"], msg["failed"]) == (4, 0)
    assert w.shutdown()[0] == 0


# --------------------------------------------------------------------------
# Casting cells read as text


def test_cast_booleans_datetimes_and_integers():
    text = pd.Series(["true", " False", "1", "0", "yes", np.nan], dtype=object)
    values, bad = tabular._cast(text, "bool")
    assert list(values[:4]) == [True, False, True, False]
    assert bad == [(4, "'yes' is not a boolean"), (5, "missing value (a boolean column)")]

    text = pd.Series(["2024-02-01 10:00", "soon", np.nan], dtype=object)
    values, bad = tabular._cast(text, "datetime")
    assert values[0] == pd.Timestamp("2024-02-01 10:00") and pd.isna(values[2])
    assert bad == [(1, "'soon' is not a date-time")]

    big = "9007199254740993"  # 2**53 + 1: not a double
    text = pd.Series([big, "-4", "2.0", "1e400", "9223372036854775808", "1_000"], dtype=object)
    values, bad = tabular._cast(text, "int")
    assert values.dtype == np.int64 and list(values[:3]) == [2 ** 53 + 1, -4, 2]
    assert [i for i, _ in bad] == [3, 4, 5]

    text = pd.Series(["1e400", "-inf", " 2.5 ", "1_0", "x" * 80], dtype=object)
    values, bad = tabular._cast(text, "float")
    assert list(values[:3]) == [float("inf"), float("-inf"), 2.5]
    assert bad[0] == (3, "'1_0' is not a number")
    assert bad[1] == (4, "'" + "x" * 64 + "…' is not a number")


def test_predictions_print_as_python_prints_them():
    assert tabular.format_values(np.array([0.1, 1e20, float("nan")])) == ["0.1", "1e+20", "nan"]
    widened = repr(float(np.float32(0.1)))  # 0.10000000149011612, as the native worker prints
    assert tabular.format_values(np.array([0.1], dtype=np.float32)) == [widened]
    assert tabular.format_values(np.array([3, -2])) == ["3", "-2"]
    assert tabular.format_values(np.array([True, False])) == ["True", "False"]
    assert tabular.format_values(np.array(["a,b", 'say "hi"', "plain"], dtype=object)) == [
        '"a,b"', '"say ""hi"""', "plain"]


# --------------------------------------------------------------------------
# Where rows start (the byte offsets of byte-range rows)


@pytest.mark.parametrize("data, starts", [
    (b"", []),
    (b"a\nb\n", [(0, 1), (2, 2)]),
    (b"a\nb", [(0, 1), (2, 2)]),
    (b"a\r\n\r\n  \n\tb\r\n", [(0, 1), (8, 4)]),
    (b'"x\ny",1\n2,"p""q\n"\n3\n', [(0, 1), (8, 3), (18, 5)]),
    (b'a"b,c\nd\n', [(0, 1), (6, 2)]),  # a quote inside a field opens nothing
    (b'"never closed\nx\n', [(0, 1)]),
])
def test_record_starts(data, starts):
    assert tabular.record_starts(data) == starts


# --------------------------------------------------------------------------
# Names are bytes; a huge line fails its file


def _b64(raw):
    import base64
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_file_whose_name_is_not_utf8(workers, tmp_path, regressor):
    model_dir = write_model(tmp_path / "model", regressor)
    df = trips(6, seed=21)
    ok = write_csv(tmp_path / "ok.csv", df)
    data = open(ok, "rb").read()
    raw = os.fsencode(str(tmp_path)) + b"/caf\xe9.csv"
    with open(raw, "wb") as f:
        f.write(data)
    shown = str(tmp_path) + "/caf\\xe9.csv"
    body = data.index(b"\n") + 1
    header = data[:body - 1]
    w = start(workers, model_dir)
    msg, payload = run_items(w, [
        {"path": shown, "path_b64": _b64(raw)},
        {"path": shown, "path_b64": _b64(raw), "offset": body, "length": len(data) - body,
         "header": header.decode()},
        {"path": shown}])
    assert (msg["succeeded"], msg["failed"]) == (12, 1)
    assert msg["item_errors"] == [{"item": shown,
                                   "error": "caf\\xe9.csv: cannot read: No such file or directory"}]
    got = rows(payload)
    assert {r[0] for r in got} == {"caf\\xe9.csv"}, "the file column shows the name readably"
    assert [r[1] for r in got[:6]] == [str(i) for i in range(6)]
    assert got[6][1] == f"@{body}"
    assert w.shutdown()[0] == 0


def test_a_line_over_the_limit_fails_its_file_once(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_RECORD_BYTES", 1000)
    huge = tmp_path / "huge.csv"
    huge.write_bytes(b"a,b\n1,2\n" + b"9" * 5000 + b"\n3,4\n")
    ok = tmp_path / "ok.csv"
    ok.write_bytes(b"a,b\n1,2\n3,4\n")
    scorer = tabular.TabularScorer(None, lambda x: np.zeros(len(x)))
    data = huge.read_bytes()
    out = scorer.run([{"path": str(huge)}, {"path": str(ok)},
                      {"path": str(huge), "offset": 8, "length": len(data) - 8, "header": "a,b"},
                      {"path": str(huge), "offset": 8, "length": 4, "header": "h" * 2000}])
    assert (out.succeeded, out.failed) == (2, 3)
    assert [e["error"] for e in out.item_errors] == [
        "huge.csv: the record at line 3 is longer than 1000 bytes, the limit for one CSV record",
        "huge.csv: the record at byte 8 is longer than 1000 bytes, the limit for one CSV record",
        "huge.csv: the header record is longer than 1000 bytes, the limit for one CSV record",
    ]
    assert out.payload == b"ok.csv,0,0.0\nok.csv,1,0.0\n"
