"""az ml's GA command groups and usage habits in the real CLI against a real
server: batch-endpoint / batch-deployment, create-or-update, --set, and
usage errors (tests/compat runs a whole Azure walkthrough)."""

import os
import shutil

from jobs_e2e import race
from lote_e2e import EXIT_INVALID, EXIT_NOT_FOUND, REPO, taxi_example

TAXI = os.path.join(REPO, "examples", "taxi")  # its model and data: taxi_example()

DEPLOYMENT = """\
$schema: https://azuremlschemas.azureedge.net/latest/modelBatchDeployment.schema.json
endpoint_name: ga-ep
name: blue
type: model
model: azureml:taxi@latest
compute: azureml:cpu-cluster
settings:
  mini_batch_size: 2
  output_file_name: predictions.csv
  retry_settings:
    max_retries: 1
    timeout: 60
"""


def setup_endpoint(server, workdir):
    taxi_example()
    shutil.copytree(os.path.join(TAXI, "autolog"), workdir / "model")
    server.cli("compute", "create", "-n", "cpu-cluster", "--type", "amlcompute", "--max-instances", "2",
               "--size", "Standard_DS3_v2")
    server.cli("model", "create", "--name", "taxi", "--type", "mlflow_model", "--path", "model", cwd=workdir)
    (workdir / "endpoint.yml").write_text("name: ga-ep\ndescription: first\nauth_mode: aad_token\n"
                                          "tags:\n  team: ml\n")
    server.cli("batch-endpoint", "create", "-f", "endpoint.yml", cwd=workdir)
    (workdir / "deployment.yml").write_text(DEPLOYMENT)
    server.cli("batch-deployment", "create", "--file", "deployment.yml", "--endpoint-name", "ga-ep",
               "--set-default", cwd=workdir)


def test_bare_groups_print_help_and_unknown_words_suggest(server):
    for args in ((), ("batch-endpoint",), ("batch-deployment",), ("job",)):
        p = server.cli(*args, check=False)
        assert p.returncode == 0, (args, p.stderr)
        assert "Subcommands:" in p.stdout
    p = server.cli("batch-endpoint", "craete", check=False)
    assert p.returncode == EXIT_INVALID
    assert "did you mean 'create'" in p.stderr
    p = server.cli("batch-deployment", "show", "--nmae", "x", "-e", "y", check=False)
    assert p.returncode == EXIT_INVALID
    assert "unknown option '--nmae'" in p.stderr and "did you mean '--name'" in p.stderr
    p = server.cli("job", "show", check=False)  # a missing required option
    assert p.returncode == EXIT_INVALID
    assert "--name is required" in p.stderr


def test_ga_endpoint_and_deployment_lifecycle(server, workdir):
    setup_endpoint(server, workdir)
    ep = server.cli_json("batch-endpoint", "show", "-n", "ga-ep")
    assert ep["defaults"]["deployment_name"] == "blue"
    assert ep["tags"] == {"team": "ml"}
    compute = server.cli_json("compute", "show", "-n", "cpu-cluster")
    assert compute["size"] == "Standard_DS3_v2" and compute["type"] == "local"

    dep = server.cli_json("batch-deployment", "show", "--name", "blue", "--endpoint-name", "ga-ep")
    assert dep["mini_batch_size"] == 2 and dep["retry_settings"]["max_retries"] == 1
    # create again: updates (a script can run twice)
    (workdir / "endpoint.yml").write_text("name: ga-ep\ndescription: second\n")
    server.cli("batch-endpoint", "create", "-n", "ga-ep", "-f", "endpoint.yml", cwd=workdir)
    assert server.cli_json("batch-endpoint", "show", "-n", "ga-ep")["description"] == "second"
    server.cli("compute", "create", "-n", "cpu-cluster", "--type", "amlcompute", "--max-instances", "3")
    assert server.cli_json("compute", "show", "-n", "cpu-cluster")["max_instances"] == 3
    server.cli("batch-deployment", "create", "-f", "deployment.yml", "-e", "ga-ep", "-n", "green",
               "--set", "settings.mini_batch_size=7", cwd=workdir)
    green = server.cli_json("batch-deployment", "show", "-n", "green", "-e", "ga-ep")
    assert green["mini_batch_size"] == 7
    names = server.cli("batch-deployment", "list", "-e", "ga-ep", "--query", "[].name", "-o", "tsv").stdout.split()
    assert sorted(names) == ["blue", "green"]

    # update with --set, and the default switched
    server.cli("batch-deployment", "update", "-n", "green", "-e", "ga-ep", "--set", "settings.max_concurrency_per_instance=2")
    assert server.cli_json("batch-deployment", "show", "-n", "green", "-e", "ga-ep")["max_concurrency_per_instance"] == 2
    server.cli("batch-endpoint", "update", "--name", "ga-ep", "--set", "defaults.deployment_name=green")
    assert server.cli("batch-endpoint", "show", "--name", "ga-ep", "--query", "defaults.deployment_name",
                      "-o", "tsv").stdout.strip() == "green"
    p = server.cli("batch-endpoint", "update", "--name", "ga-ep", "--set", "auth_mode=key", check=False)
    assert p.returncode == EXIT_INVALID and "defaults.deployment_name" in p.stderr

    # not found, with the deployments it has
    p = server.cli("batch-deployment", "show", "-n", "gren", "-e", "ga-ep", check=False)
    assert p.returncode == EXIT_NOT_FOUND
    assert "did you mean 'green'" in p.stderr and "blue" in p.stderr
    p = server.cli("batch-deployment", "create", "-f", "deployment.yml", "-e", "nope", cwd=workdir, check=False)
    assert p.returncode == EXIT_NOT_FOUND and "batch-endpoint create" in p.stderr

    server.cli("batch-deployment", "delete", "-n", "blue", "-e", "ga-ep", "--yes")
    names = server.cli("batch-deployment", "list", "-e", "ga-ep", "--query", "[].name", "-o", "tsv").stdout.split()
    assert names == ["green"]
    server.cli("batch-endpoint", "delete", "-n", "ga-ep", "--yes")
    assert server.cli("batch-endpoint", "show", "-n", "ga-ep", check=False).returncode == EXIT_NOT_FOUND


def test_ga_yaml_errors_name_file_and_line(server, workdir):
    setup_endpoint(server, workdir)
    bad = DEPLOYMENT.replace("  mini_batch_size: 2", "  mini_batch_size: lots")
    (workdir / "bad.yml").write_text(bad)
    p = server.cli("batch-deployment", "create", "-f", "bad.yml", "-e", "ga-ep", cwd=workdir, check=False)
    assert p.returncode == EXIT_INVALID
    assert "bad.yml:8: settings.mini_batch_size" in p.stderr, p.stderr
    (workdir / "pipe.yml").write_text(DEPLOYMENT.replace("type: model", "type: pipeline"))
    p = server.cli("batch-deployment", "create", "-f", "pipe.yml", "-e", "ga-ep", cwd=workdir, check=False)
    assert p.returncode == EXIT_INVALID
    assert "pipe.yml:4: type" in p.stderr and "pipeline component" in p.stderr
    (workdir / "unk.yml").write_text(DEPLOYMENT + "  mini_batch_sise: 3\n")
    p = server.cli("batch-deployment", "create", "-f", "unk.yml", "-e", "ga-ep", cwd=workdir, check=False)
    assert p.returncode == EXIT_INVALID
    assert "unk.yml:" in p.stderr and "did you mean 'mini_batch_size'" in p.stderr


def test_invoke_ga_flags(server, workdir):
    setup_endpoint(server, workdir)
    shutil.copytree(os.path.join(TAXI, "data"), workdir / "data")
    job = server.cli("batch-endpoint", "invoke", "-n", "ga-ep", "--input", "data", "--input-type", "uri_folder",
                     "--output-path", "azureml://datastores/workspaceblobstore/paths/ga/out",
                     "--set", "output_file_name=scores.csv", "--query", "name", "-o", "tsv",
                     cwd=workdir).stdout.strip()
    server.cli("job", "stream", "-n", job, timeout=120)
    shown = server.cli_json("job", "show", "-n", job)
    assert shown["output"]["uri"] == "azureml://datastores/workspaceblobstore/paths/ga/out/scores.csv"
    assert os.path.isfile(os.path.join(server.home, "datastores", "workspaceblobstore", "ga", "out", "scores.csv"))
    assert not os.path.exists(os.path.join(server.home, "datastores", "workspaceblobstore", "azureml:"))
    server.cli("job", "download", "--name", job, "--output-name", "score", "--download-path", "dl", cwd=workdir)
    assert (workdir / "dl" / "named-outputs" / "score" / "scores.csv").is_file()
    p = server.cli("job", "download", "--name", job, "--output-name", "scores", "--download-path", "dl",
                   cwd=workdir, check=False)
    assert p.returncode == EXIT_NOT_FOUND and "'score'" in p.stderr
    jobs = server.cli("batch-deployment", "list-jobs", "-n", "blue", "-e", "ga-ep", "--query", "[].name",
                      "-o", "tsv").stdout.split()
    assert jobs == [job]
    # wrong forms are refused before anything starts
    p = server.cli("batch-endpoint", "invoke", "-n", "ga-ep", "--input", "data", "--input-type", "uri_file",
                   cwd=workdir, check=False)
    assert p.returncode == EXIT_INVALID and "is a folder" in p.stderr
    p = server.cli("batch-endpoint", "invoke", "-n", "ga-ep", "--input", "data",
                   "--output-path", "azureml://datastores/workspaceblobstore", cwd=workdir, check=False)
    assert p.returncode == EXIT_INVALID and "azureml://datastores/<datastore>/paths/<path>" in p.stderr


def test_job_name_is_chosen_once(server, workdir):
    setup_endpoint(server, workdir)
    shutil.copytree(os.path.join(TAXI, "data"), workdir / "data")
    job = server.cli("batch-endpoint", "invoke", "-n", "ga-ep", "--input", "data", "--job-name", "nightly_2026.11.28",
                     "--query", "name", "-o", "tsv", cwd=workdir).stdout.strip()
    assert job == "nightly_2026.11.28"
    server.cli("job", "stream", "-n", job, timeout=120)
    before = server.cli_json("job", "show", "-n", job)
    p = server.cli("batch-endpoint", "invoke", "-n", "ga-ep", "--input", "data", "--job-name", job,
                   cwd=workdir, check=False)
    assert p.returncode == 4 and "already exists" in p.stderr
    after = server.cli_json("job", "show", "-n", job)
    assert after["status"] == "Completed" and after["output"] == before["output"]
    for bad in ("-x", "a/b", "x" * 300):
        p = server.cli("batch-endpoint", "invoke", "-n", "ga-ep", "--input", "data", "--job-name", bad,
                       cwd=workdir, check=False)
        assert p.returncode == 2, (bad, p.stderr)


def test_racing_invokes_for_one_job_name_make_one_job(server, workdir):
    setup_endpoint(server, workdir)
    shutil.copytree(os.path.join(TAXI, "data"), workdir / "data")
    server.cli("data", "create", "--name", "taxi-data", "--path", "data", cwd=workdir)
    body = {"input": {"data": "azureml:taxi-data@latest"}, "name": "the-one"}
    statuses = race(8, lambda: server.http("POST", "/api/v1/endpoints/ga-ep/jobs", body)[0])
    assert sorted(statuses) == [201] + [409] * 7 or sorted(statuses) == [200] + [409] * 7, statuses
    server.cli("job", "stream", "-n", "the-one", timeout=120)
    rows = server.cli_json("job", "show", "-n", "the-one")["output"]["rows"]
    assert rows == 1000
