"""No-code scoring of TorchScript models (model.type: torchscript) by the
native worker through lote's libtorch module, against torch's own outputs."""
import csv
import pathlib
import shutil
import subprocess

import pytest

from jobs_e2e import error_logs, final_log
from lote_e2e import EXIT_INVALID, EXIT_PRECONDITION, Server

REPO = pathlib.Path(__file__).resolve().parents[2]


def torch_module(lote_bin):
    return pathlib.Path(lote_bin).parent / "liblote_torch.so"


@pytest.fixture(scope="module")
def models(lote_bin, tmp_path_factory):
    """tests/native/make_torch_models.py's models, data and expected outputs."""
    if not torch_module(lote_bin).exists():
        pytest.skip(f"lote was built without libtorch (no {torch_module(lote_bin)})")
    if subprocess.run(["/usr/bin/python3", "-c", "import torch"], capture_output=True).returncode:
        pytest.skip("/usr/bin/python3 has no torch (python3-torch)")
    out = tmp_path_factory.mktemp("torch-models")
    subprocess.run(["/usr/bin/python3", str(REPO / "tests/native/make_torch_models.py"), str(out)],
                   check=True, capture_output=True)
    return out


def endpoint_yaml(name, deployments):
    text = f"name: {name}\ntype: batch\ndeployments:\n"
    for dep, model_dir in deployments:
        text += (f"  - name: {dep}\n"
                 f"    model: {{name: {name}-{dep}, version: 1, local_path: {model_dir}, "
                 f"type: torchscript}}\n"
                 f"    compute: {{target: azureml:cpu-cluster}}\n"
                 f"    mini_batch_size: 1\n"
                 f"    error_threshold: 1\n")
    return text


def create(server, work, name, deployments, check=True):
    if server.cli("compute", "show", "--name", "cpu-cluster", check=False).returncode:
        server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "2")
    (work / "ep.yml").write_text(endpoint_yaml(name, deployments))
    return server.cli("endpoint", "create", "--file", str(work / "ep.yml"), check=check)


def run(server, endpoint, data, *args):
    job = server.cli("endpoint", "invoke", "--name", endpoint, "--input-local-path", str(data),
                     *args, "--query", "name", "-o", "tsv").stdout.strip()
    server.cli("job", "stream", "--name", job, check=False, timeout=120)
    return server.cli_json("job", "show", "--name", job)


def expected_rows(models, model, stems):
    rows = []
    for stem in stems:
        for r in csv.DictReader((models / f"expected_{model}_{stem}.csv").open()):
            rows.append([f"{stem}.csv", r.pop("row")] + [float(v) for v in r.values()])
    return rows


def assert_predictions(shown, header, expected):
    out = pathlib.Path(shown["output"]["local_path"])
    rows = list(csv.reader(out.open()))
    assert rows[0] == header
    got = rows[1:]
    assert [r[:2] for r in got] == [r[:2] for r in expected]  # every good row, in input order
    for g, e in zip(got, expected):
        assert len(g) == len(e), g
        for lote_value, torch_value in zip(g[2:], e[2:]):
            assert abs(float(lote_value) - torch_value) <= 1e-6 * max(1.0, abs(torch_value)), g


def test_torchscript_models_are_scored_with_no_code(server, models, tmp_path):
    data = tmp_path / "in"
    data.mkdir()
    for stem in ("features", "features_bad"):
        shutil.copy(models / f"{stem}.csv", data / f"{stem}.csv")
    create(server, tmp_path, "torchep", [("mlp", models / "mlp"), ("reg", models / "reg")])

    # Three class scores per row; a malformed cell fails its row only.
    shown = run(server, "torchep", data, "--deployment-name", "mlp")
    assert shown["status"] == "Completed", shown
    assert_predictions(shown, ["file", "row", "prediction_0", "prediction_1", "prediction_2"],
                       expected_rows(models, "mlp", ["features", "features_bad"]))
    assert shown["progress"]["items"] == {**shown["progress"]["items"],
                                          "succeeded": 79, "failed": 1}
    assert ("features_bad.csv: row 7 (line 9), column 'f1': 'abc' is not a number"
            in error_logs(server, shown["name"]))

    # One output per row ([rows]) is the prediction column.
    shown = run(server, "torchep", data, "--deployment-name", "reg")
    assert shown["status"] == "Completed", shown
    assert_predictions(shown, ["file", "row", "prediction"],
                       expected_rows(models, "reg", ["features", "features_bad"]))

    # The bad row counts against error_threshold (1 here): two bad rows fail the job.
    shutil.copy(models / "features_bad.csv", data / "more_bad.csv")
    shown = run(server, "torchep", data, "--deployment-name", "reg")
    assert shown["status"] == "Failed", shown
    assert "error_threshold" in final_log(server, shown["name"], "logs/job_result.txt")


def test_a_file_that_is_not_torchscript_is_refused_at_creation(server, models, tmp_path):
    cases = {"state": "it was written by torch.save (a state dict or a pickled module), "
                      "not torch.jit.save",
             "junk": "torch.jit.save writes a zip archive, and this file is not one"}
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "model.pt").write_bytes(b"\x80\x02 not a model at all")
    for name, why in cases.items():
        model_dir = models / name if name == "state" else tmp_path / name
        proc = create(server, tmp_path, f"{name}ep", [("dep1", model_dir)], check=False)
        assert proc.returncode == EXIT_INVALID, proc.stderr
        assert "deployments[0].model:" in proc.stderr, proc.stderr
        assert "model.pt' is not a TorchScript model: " + why in proc.stderr, proc.stderr
    assert server.cli_json("endpoint", "list") == []


def test_a_model_that_torch_cannot_load_fails_the_job_with_the_reason(server, models, tmp_path):
    # Laid out like torch.jit.save's zip, so only libtorch finds it broken.
    create(server, tmp_path, "fakeep", [("dep1", models / "fake")])
    data = tmp_path / "in"
    data.mkdir()
    shutil.copy(models / "features.csv", data)
    shown = run(server, "fakeep", data)
    assert shown["status"] == "Failed", shown
    result = final_log(server, shown["name"], "logs/job_result.txt")
    assert "model.pt' cannot be loaded: " in result, result


def test_without_the_libtorch_module_torchscript_is_refused(lote_bin, tmp_path, monkeypatch):
    monkeypatch.setenv("LOTE_TORCH_MODULE", "/nonexistent")
    server = Server(lote_bin, tmp_path / "home")
    try:
        (tmp_path / "model").mkdir()
        (tmp_path / "model" / "model.pt").write_bytes(b"never read")
        proc = create(server, tmp_path, "notorch", [("dep1", tmp_path / "model")], check=False)
        assert proc.returncode == EXIT_PRECONDITION, proc.stderr
        assert ("TorchScript models need lote's libtorch module, which this build lacks "
                "(LOTE_TORCH_MODULE names '/nonexistent', which does not exist); install "
                "Debian's libtorch-dev and rebuild with ./setup.sh") in proc.stderr, proc.stderr
    finally:
        assert server.stop() == 0, server.log()


def test_the_torchscript_example_scores_every_row(server, models, tmp_path):
    example = REPO / "examples" / "torchscript"
    work = tmp_path / "example"
    subprocess.run(["/usr/bin/python3", str(example / "make_example.py"), str(work)],
                   check=True, capture_output=True)
    shutil.copy(example / "endpoint.yml", work / "endpoint.yml")
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "2")
    server.cli("endpoint", "create", "--file", str(work / "endpoint.yml"))
    shown = run(server, "tripclassbatchedp", work / "data")
    assert shown["status"] == "Completed", shown
    rows = list(csv.reader(pathlib.Path(shown["output"]["local_path"]).open()))
    assert rows[0] == ["file", "row", "prediction_0", "prediction_1", "prediction_2"]
    assert [r[:2] for r in rows[1:]] == [[f"trips-{i:02d}.csv", str(j)]
                                         for i in range(4) for j in range(250)]
    for r in rows[1:]:
        assert abs(sum(float(v) for v in r[2:]) - 1.0) < 1e-5  # softmax scores
