"""No-code scoring: an MLflow folder with the xgboost flavor, no score.py."""
import csv
import pathlib
import subprocess

import pytest

from jobs_e2e import make_native_models, needs_xgboost


REPO = pathlib.Path(__file__).resolve().parents[2]


@needs_xgboost
def test_mlflow_xgboost_folder_is_scored_with_no_code(server, tmp_path):
    make_native_models(tmp_path)
    data = tmp_path / "in"
    data.mkdir()
    for name in ("data.csv", "bad.csv"):
        (data / name).write_bytes((tmp_path / name).read_bytes())
    (tmp_path / "ep.yml").write_text(
        "name: xgbep\ntype: batch\ndeployments:\n  - name: xgb\n"
        "    model: {name: xgbreg, version: 1, local_path: ./mlflow_reg}\n"
        "    compute: {target: azureml:cpu-cluster}\n    mini_batch_size: 1\n")
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "4")
    server.cli("endpoint", "create", "--file", str(tmp_path / "ep.yml"))
    job = server.cli("endpoint", "invoke", "--name", "xgbep", "--input-local-path", str(data),
                     "--query", "name", "-o", "tsv").stdout.strip()
    stream = server.cli("job", "stream", "--name", job, check=False)
    assert stream.returncode == 0, stream.stdout + stream.stderr
    shown = server.cli_json("job", "show", "--name", job)
    out = pathlib.Path(shown["output"]["local_path"])
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["file", "row", "prediction"]
    expected = {}
    for name in ("data", "bad"):
        for r in csv.DictReader((tmp_path / f"expected_reg_{name}.csv").open()):
            expected[(f"{name}.csv", r["row"])] = float(r["prediction"])
    got = {(r[0], r[1]): float(r[2]) for r in rows[1:]}
    # Every good row once, in input order (bad.csv sorts first), equal to Booster.predict.
    assert [r[0] for r in rows[1:]] == sorted(r[0] for r in rows[1:])
    assert len(got) == len(rows) - 1
    for key, value in got.items():
        assert abs(value - expected[key]) < 1e-6, key
    assert shown["progress"]["items"]["failed"] == 1
    errors = "".join(p.read_text() for p in (pathlib.Path(server.home) / "jobs" / job / "logs" / "user" / "error").rglob("*.txt"))
    assert "bad.csv: row 16 (line 19), column 'fareAmount': 'abc' is not a number" in errors


def test_unserved_flavor_is_refused_when_the_deployment_is_created(server, tmp_path):
    model = tmp_path / "onnx_model"
    model.mkdir()
    (model / "MLmodel").write_text("flavors:\n  onnx:\n    data: model.onnx\n")
    (model / "model.onnx").write_bytes(b"x")
    (tmp_path / "ep.yml").write_text(
        "name: onnxep\ntype: batch\ndeployments:\n  - name: dep1\n"
        "    model: {name: onnxm, version: 1, local_path: ./onnx_model}\n"
        "    compute: {target: azureml:cpu-cluster}\n")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text("x\n1\n")
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "4")
    proc = server.cli("endpoint", "create", "--file", str(tmp_path / "ep.yml"), check=False)
    assert proc.returncode == 2
    assert "ep.yml:5: deployments[0].model:" in proc.stderr, proc.stderr
    assert "'onnx'" in proc.stderr and "not served" in proc.stderr and "xgboost" in proc.stderr
    assert server.cli_json("endpoint", "list") == []


SKLEARN_TRAIN = r'''
import json, os, pickle, sys
import numpy as np, pandas as pd
from sklearn.linear_model import LinearRegression
out = sys.argv[1]
rng = np.random.default_rng(0)
X = pd.DataFrame({"fareAmount": rng.uniform(3, 50, 50), "tripDistance": rng.uniform(0.5, 15, 50)})
m = LinearRegression().fit(X, 0.1 * X.fareAmount + 0.05 * X.tripDistance)
os.makedirs(f"{out}/model")
pickle.dump(m, open(f"{out}/model/model.pkl", "wb"))
sig = json.dumps([{"name": "fareAmount", "type": "double"}, {"name": "tripDistance", "type": "double"}])
open(f"{out}/model/MLmodel", "w").write(
    "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n"
    "  sklearn:\n    pickled_model: model.pkl\n    serialization_format: pickle\n"
    f"signature:\n  inputs: '{sig}'\n")
os.makedirs(f"{out}/in")
X.iloc[:7].assign(extra="x")[["extra", "tripDistance", "fareAmount"]].to_csv(f"{out}/in/a.csv", index=False)
pd.DataFrame({"p": m.predict(X.iloc[:7])}).to_csv(f"{out}/expected.csv", index=False)
'''


def have_sklearn():
    return subprocess.run(["/usr/bin/python3", "-c", "import sklearn, pandas, yaml"],
                          capture_output=True).returncode == 0


@pytest.mark.skipif(not have_sklearn(), reason="python3-sklearn is not installed")
def test_mlflow_sklearn_folder_is_scored_with_no_code(server, tmp_path):
    subprocess.run(["/usr/bin/python3", "-c", SKLEARN_TRAIN, str(tmp_path)], check=True)
    (tmp_path / "ep.yml").write_text(
        "name: skep\ntype: batch\ndeployments:\n  - name: autolog-deployment\n"
        "    model: {name: autolog, version: 1, local_path: ./model}\n"
        "    environment: {python: /usr/bin/python3}\n"
        "    compute: {target: azureml:cpu-cluster}\n")
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "4")
    server.cli("endpoint", "create", "--file", str(tmp_path / "ep.yml"))
    job = server.cli("endpoint", "invoke", "--name", "skep", "--input-local-path",
                     str(tmp_path / "in"), "--query", "name", "-o", "tsv").stdout.strip()
    assert server.cli("job", "stream", "--name", job, check=False).returncode == 0
    out = pathlib.Path(server.cli_json("job", "show", "--name", job)["output"]["local_path"])
    rows = list(csv.reader(out.open()))
    expected = [float(r["p"]) for r in csv.DictReader((tmp_path / "expected.csv").open())]
    assert rows[0] == ["file", "row", "prediction"]
    assert [r[:2] for r in rows[1:]] == [["a.csv", str(i)] for i in range(7)]
    for r, e in zip(rows[1:], expected):
        assert abs(float(r[2]) - e) < 1e-6


def test_a_corrupt_xgboost_model_is_refused_when_the_deployment_is_created(server, tmp_path):
    # libxgboost loads the booster at creation, so a broken file is refused then.
    for folder, files in {"plain": {"model.json": "{\"learner\": not json"},
                          "mlflow": {"MLmodel": "flavors:\n  xgboost:\n    data: model.xgb\n",
                                     "model.xgb": "not a booster"}}.items():
        (tmp_path / folder).mkdir()
        for name, text in files.items():
            (tmp_path / folder / name).write_text(text)
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "4")
    for folder, model_type, file in (("plain", "xgboost", "model.json"),
                                     ("mlflow", "mlflow_model", "model.xgb")):
        (tmp_path / "ep.yml").write_text(
            f"name: {folder}ep\ntype: batch\ndeployments:\n  - name: dep1\n"
            f"    model: {{name: {folder}, version: 1, local_path: ./{folder}, type: {model_type}}}\n"
            "    compute: {target: azureml:cpu-cluster}\n")
        proc = server.cli("endpoint", "create", "--file", str(tmp_path / "ep.yml"), check=False)
        assert proc.returncode == 2, proc.stderr
        assert (f"deployments[0].model: deployment 'dep1': model 'azureml:{folder}:1': "
                "XGBoost model '") in proc.stderr, proc.stderr
        assert f"/{file}': cannot load: " in proc.stderr, proc.stderr
    assert server.cli_json("endpoint", "list") == []
