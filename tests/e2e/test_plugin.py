"""The example native plugin (examples/plugin) scores a batch job."""
import os
import pathlib
import shutil

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def plugin_library(lote_bin):
    lib = pathlib.Path(lote_bin).parent / "examples" / "plugin" / "liblote_example_plugin.so"
    if not lib.exists():
        pytest.fail(f"the example plugin was not built next to {lote_bin}: {lib}")
    return lib


def test_example_plugin_scores_a_job(server, tmp_path, lote_bin):
    example = REPO / "examples" / "plugin"
    work = tmp_path / "plugin"
    shutil.copytree(example / "model", work / "model")
    (work / "code").mkdir()
    shutil.copy(plugin_library(lote_bin), work / "code" / "libmyscorer.so")
    text = (example / "endpoint.yml").read_text().replace("local_path: ./           ", "local_path: ./code       ")
    (work / "endpoint.yml").write_text(text)
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "4")
    server.cli("endpoint", "create", "--file", str(work / "endpoint.yml"))
    job = server.cli("endpoint", "invoke", "--name", "rowsumbatchedp", "--input-local-path",
                     str(example / "data"), "--query", "name", "-o", "tsv").stdout.strip()
    server.cli("job", "stream", "--name", job, check=False)
    shown = server.cli_json("job", "show", "--name", job)
    assert shown["status"] == "Completed", shown
    rows = pathlib.Path(shown["output"]["local_path"]).read_text().splitlines()
    assert rows[0] == "file,row,row_sum"
    assert rows[1].startswith("trips.csv,0,")
    assert all(r.startswith("trips.csv,") for r in rows[1:])
    # broken.csv has a non-numeric cell: that file fails, the job goes on.
    assert shown["progress"]["items"]["failed"] == 1
    errors = "".join(p.read_text() for p in
                     (pathlib.Path(server.home) / "jobs" / job / "logs" / "user" / "error").rglob("*.txt"))
    assert "broken.csv" in errors
