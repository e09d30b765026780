#!/usr/bin/python3
"""Generates the XGBoost models, MLflow folders, CSV inputs and expected
predictions that tests/unit/native_*_test.cc score with lote's native worker.

    /usr/bin/python3 tests/native/make_models.py OUT_DIR

Needs python3-xgboost, python3-pandas and python3-numpy (Debian). Fixed seed:
the same files every run. No mlflow package: the MLmodel files are written by
hand in the format MLflow 2.x writes.

OUT_DIR/
  reg/model.{json,ubj,xgb}      XGBRegressor booster, 4 features, feature names saved
  clf/model.{json,ubj,xgb}      3-class XGBClassifier booster (multi:softprob)
  mlflow_reg/{MLmodel,model.xgb}  MLflow xgboost flavor, named-column signature
  mlflow_clf/{MLmodel,model.xgb}  the same for the classifier
  data.csv        the features among extra columns, shuffled order, quoted
                  fields (commas, quotes, a line end), empty cells and NaN
  data_crlf.csv   data.csv with CRLF line ends
  plain.csv       1000 rows without quoted line ends (for byte ranges)
  bad.csv         data.csv with 'abc' in fareAmount of data row 16 (0-based)
  expected_<model>_<csv>.csv   row,prediction[_k]... from Booster.predict on
                  the rows pandas reads (bad rows left out), repr of the float
"""

import csv
import io
import json
import os
import sys

import numpy as np
import pandas as pd
import xgboost as xgb

FEATURES = ["fareAmount", "tripDistance", "passengerCount", "hour"]
SEED = 20240601


def make_frame(rng, n):
    df = pd.DataFrame({
        "fareAmount": rng.gamma(2.0, 7.5, n).round(3),
        "tripDistance": rng.gamma(1.5, 2.0, n).round(4),
        "passengerCount": rng.integers(1, 7, n).astype(float),
        "hour": rng.integers(0, 24, n).astype(float),
    })
    return df


def train(rng):
    x = make_frame(rng, 2000)
    y_reg = 2.5 + 0.8 * x.fareAmount + 1.3 * x.tripDistance - 0.2 * x.hour + rng.normal(0, 1, len(x))
    # Missing values in training so the trees learn default directions.
    x_missing = x.copy()
    mask = rng.random(x.shape) < 0.05
    x_missing = x_missing.mask(mask)
    reg = xgb.XGBRegressor(n_estimators=25, max_depth=4, learning_rate=0.2, random_state=0,
                           n_jobs=1)
    reg.fit(x_missing, y_reg)
    y_clf = np.digitize(x.fareAmount + 2 * x.tripDistance, [12.0, 22.0])
    clf = xgb.XGBClassifier(n_estimators=15, max_depth=3, learning_rate=0.3, random_state=0,
                            n_jobs=1)
    clf.fit(x_missing, y_clf)
    return reg, clf


def save_all_formats(booster, folder):
    os.makedirs(folder, exist_ok=True)
    for name in ("model.json", "model.ubj", "model.xgb"):
        booster.save_model(os.path.join(folder, name))


def write_mlmodel(folder, booster, model_class, outputs):
    os.makedirs(folder, exist_ok=True)
    booster.save_model(os.path.join(folder, "model.xgb"))
    inputs = json.dumps([{"name": f, "type": "double"} for f in FEATURES])
    text = f"""artifact_path: model
flavors:
  python_function:
    data: model.xgb
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.xgboost
    python_version: 3.11.2
  xgboost:
    code: null
    data: model.xgb
    model_class: {model_class}
    model_format: xgb
    xgb_version: {xgb.__version__}
mlflow_version: 2.3.2
model_uuid: 6f1c0e4b9d8a4d3e8f3b2a1c0d9e8f7a
run_id: 0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e
signature:
  inputs: '{inputs}'
  outputs: '{json.dumps(outputs)}'
utc_time_created: '2024-06-01 12:00:00.000000'
"""
    with open(os.path.join(folder, "MLmodel"), "w") as f:
        f.write(text)


def write_data(rng, out):
    n = 200
    df = make_frame(rng, n)
    cells = {c: [repr(float(v)) if float(v) != int(v) else str(int(v)) for v in df[c]]
             for c in FEATURES}
    # Missing values: empty cells and NaN spellings.
    for c, spellings in zip(FEATURES, (["", "NaN"], ["nan", ""], ["", "NA"], ["NaN", ""])):
        for k, i in enumerate(rng.choice(n, 6, replace=False)):
            cells[c][i] = spellings[k % 2]
    ids = [str(1000 + i) for i in range(n)]
    notes = [f"trip {i}" for i in range(n)]
    notes[3] = 'says "hi", twice'
    notes[7] = "two\nlines"
    notes[11] = "comma, inside"
    header = ["id", "hour", "note", "fareAmount", "vendor", "passengerCount", "tripDistance"]
    vendor = [rng.choice(["CMT", "VTS"]) for _ in range(n)]

    def render(rows, newline):
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator=newline, quoting=csv.QUOTE_MINIMAL)
        w.writerow(header)
        for r in rows:
            w.writerow(r)
        return buf.getvalue()

    rows = []
    for i in range(n):
        rows.append([ids[i], cells["hour"][i], notes[i], cells["fareAmount"][i], vendor[i],
                     cells["passengerCount"][i], cells["tripDistance"][i]])
    text = render(rows, "\n")
    # Quote a few numeric cells, as RFC 4180 allows.
    text = text.replace("\n1005,", '\n"1005",', 1)
    lines = text.split("\n")
    lines[21] = ",".join('"' + c + '"' if j in (1, 3) else c
                         for j, c in enumerate(lines[21].split(",")))
    text = "\n".join(lines)
    files = {"data.csv": text, "data_crlf.csv": text.replace("\n", "\r\n")}
    bad = [list(r) for r in rows]
    bad[16][3] = "abc"
    files["bad.csv"] = render(bad, "\n")
    big = make_frame(rng, 1000)
    big.insert(1, "extra", rng.normal(0, 1, 1000).round(2))
    big = big[["hour", "extra", "tripDistance", "passengerCount", "fareAmount"]]
    big.loc[big.index[::37], "tripDistance"] = np.nan
    files["plain.csv"] = big.to_csv(index=False, lineterminator="\n", float_format="%.17g")
    for name, content in files.items():
        with open(os.path.join(out, name), "w", newline="") as f:
            f.write(content)
    return list(files)


MISSING = {"", "NA", "nan", "NaN"}


def cell_value(text):
    """A cell as lote reads it: missing spellings are NaN, else Python's
    correctly rounded float(); None when it is not a number."""
    text = text.strip()
    if text in MISSING:
        return np.nan
    try:
        return float(text)
    except ValueError:
        return None


def expected(booster, csv_path, out_path):
    df = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    values = [[cell_value(t) for t in df[f]] for f in FEATURES]
    good = pd.Series([all(col[i] is not None for col in values) for i in range(len(df))])
    x = pd.DataFrame({f: [np.nan if v is None else v for v in col]
                      for f, col in zip(FEATURES, values)}, dtype=np.float64)
    rows = np.flatnonzero(good.to_numpy())
    pred = booster.predict(xgb.DMatrix(x[good].astype(np.float64).to_numpy(), missing=np.nan,
                                       feature_names=FEATURES))
    pred = pred.reshape(len(rows), -1)
    with open(out_path, "w") as f:
        cols = ["prediction"] if pred.shape[1] == 1 else [f"prediction_{k}" for k in
                                                          range(pred.shape[1])]
        f.write(",".join(["row"] + cols) + "\n")
        for r, p in zip(rows, pred):
            f.write(",".join([str(r)] + [repr(float(v)) for v in p]) + "\n")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(SEED)
    reg, clf = train(rng)
    save_all_formats(reg.get_booster(), os.path.join(out, "reg"))
    save_all_formats(clf.get_booster(), os.path.join(out, "clf"))
    write_mlmodel(os.path.join(out, "mlflow_reg"), reg.get_booster(),
                  "xgboost.sklearn.XGBRegressor", [{"type": "float"}])
    write_mlmodel(os.path.join(out, "mlflow_clf"), clf.get_booster(),
                  "xgboost.sklearn.XGBClassifier", [{"type": "tensor", "tensor-spec":
                                                     {"dtype": "float32", "shape": [-1, 3]}}])
    for name in write_data(rng, out):
        stem = name[:-4]
        expected(reg.get_booster(), os.path.join(out, name),
                 os.path.join(out, f"expected_reg_{stem}.csv"))
        expected(clf.get_booster(), os.path.join(out, name),
                 os.path.join(out, f"expected_clf_{stem}.csv"))


if __name__ == "__main__":
    main()
