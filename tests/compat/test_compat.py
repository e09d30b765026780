"""Azure ML's GA batch-endpoint workflow, run unchanged with `lote` in place
of `az ml`: tests/compat/taxi-batch holds the YAML, scoring scripts and the
walkthrough script (deploy-and-run.sh) in today's Azure style."""

import csv
import glob
import json
import os
import re
import shutil
import subprocess

import pytest

from lote_e2e import REPO, taxi_example

SAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "taxi-batch")
FEATURES = ["fareAmount", "paymentType", "passengerCount", "tripDistance", "tripTimeSecs"]


def make_sample(dest):
    """The sample with its model (the taxi example's MLflow XGBoost model)
    and its data (the taxi example's CSVs) beside it."""
    taxi_example()
    shutil.copytree(SAMPLE, dest)
    shutil.copytree(os.path.join(REPO, "examples", "taxi", "autolog"), os.path.join(dest, "model"))
    shutil.copytree(os.path.join(REPO, "examples", "taxi", "data"), os.path.join(dest, "data"))
    return dest


def as_lote(script_path):
    """The one substitution an Azure user makes."""
    with open(script_path) as f:
        text = f.read()
    assert "az ml " in text
    lote_script = script_path + ".lote.sh"
    with open(lote_script, "w") as f:
        f.write(re.sub(r"\baz ml ", "lote ", text))
    return lote_script


def run_script(server, lote_bin, workdir, script):
    env = server.env(PATH=os.path.dirname(lote_bin) + os.pathsep + os.environ.get("PATH", ""),
                     BROWSER="", DISPLAY="")
    return subprocess.run(["bash", script], cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=600)


def model_predictions(data_dir):
    """XGBoost's own predictions, keyed by (file, tripId)."""
    import pandas as pd
    import xgboost as xgb
    booster = xgb.Booster()
    booster.load_model(os.path.join(REPO, "examples", "taxi", "autolog", "model.xgb"))
    out = {}
    for path in sorted(glob.glob(os.path.join(data_dir, "*.csv"))):
        frame = pd.read_csv(path)
        preds = booster.predict(xgb.DMatrix(frame[FEATURES]))
        for trip, p in zip(frame["tripId"], preds):
            out[(os.path.basename(path), trip)] = float(p)
    return out


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def check_run(workdir, expected):
    # The MLflow deployment: lote's CSV, keyed by file and row, one row per input row.
    mlflow = read_csv(os.path.join(workdir, "mlflow-out", "named-outputs", "score", "predictions.csv"))
    assert len(mlflow) == len(expected)
    trips = {}
    for path in glob.glob(os.path.join(workdir, "data", "*.csv")):
        for i, row in enumerate(read_csv(path)):
            trips[(os.path.basename(path), str(i))] = row["tripId"]
    got = {(r["file"], trips[(r["file"], r["row"])]): float(r["tip"]) for r in mlflow}
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-6, abs=1e-6), key

    # The custom script's DataFrame rows, as it returned them.
    custom = read_csv(os.path.join(workdir, "custom-out", "named-outputs", "score", "predictions.csv"))
    assert len(custom) == len(expected)
    for r in custom:
        assert float(r["tip"]) == pytest.approx(expected[(r["file"], r["tripId"])], rel=1e-6, abs=1e-6)

    # The summary_only script's own files are the job's output.
    summaries = sorted(glob.glob(os.path.join(workdir, "summary-out", "named-outputs", "score", "*.summary.json")))
    assert [os.path.basename(p) for p in summaries] == [
        f"taxi-tip-0{i}.summary.json" for i in range(4)]
    for p in summaries:
        with open(p) as f:
            doc = json.load(f)
        assert doc["rows"] == 250


def test_azure_walkthrough_runs_unchanged_twice(server, lote_bin, tmp_path):
    workdir = make_sample(str(tmp_path / "sample"))
    script = as_lote(os.path.join(workdir, "deploy-and-run.sh"))
    expected = model_predictions(os.path.join(workdir, "data"))
    for attempt in (1, 2):  # a script run twice on one server: create updates what exists
        for out in ("mlflow-out", "custom-out", "summary-out"):
            shutil.rmtree(os.path.join(workdir, out), ignore_errors=True)
        proc = run_script(server, lote_bin, workdir, script)
        assert proc.returncode == 0, (f"run {attempt} exited {proc.returncode}\nstdout:\n{proc.stdout}\n"
                                      f"stderr:\n{proc.stderr}\nserver log:\n{server.log()[-4000:]}")
        check_run(workdir, expected)
        assert "Default deployment: taxi-custom-dpl" in proc.stdout
        assert "warning: compute type amlcompute" in proc.stderr
        assert "Job page: http://" in proc.stderr
    # Each run registered a new model version and data version, as az does.
    versions = server.cli_json("model", "list", "--name", "taxi-mlflow")
    assert len(versions) == 4
