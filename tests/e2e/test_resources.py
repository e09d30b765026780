"""The seed's workflow end to end with the real CLI, and the life of every
resource: computes, models, data assets, datastores, endpoints and deployments;
plus the CLI's output formats and --query forms."""

import json
import os
import re

import pytest

from lote_e2e import (SEED_MLMODEL, SEED_PICKLE, EXIT_EXISTS, EXIT_INVALID, EXIT_NOT_FOUND, EXIT_PRECONDITION, SCORE_PY,
                      api_error, create_compute, write, write_autolog, write_seed)

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")

DEPLOYMENT_KEYS = {
    "name", "description", "model", "code_configuration", "environment", "compute",
    "mini_batch_size", "max_concurrency_per_instance", "output_action", "output_file_name",
    "retry_settings", "error_threshold", "logging_level", "environment_variables", "created_at",
    "output_layout",
}


@pytest.fixture
def seed(server, workdir):
    """The seed's files in workdir and its compute on the server."""
    write_seed(workdir)
    create_compute(server)
    return server


def test_seed_workflow(seed, workdir):
    server = seed
    cli = lambda *a, **k: server.cli(*a, cwd=workdir, **k)  # noqa: E731

    # --- endpoint create --file (inline MLflow model, no code) ----------------------
    ep = json.loads(cli("endpoint", "create", "--file", "create-batch-endpoint.yml").stdout)
    assert ep["name"] == "mybatchedp"
    assert ep["type"] == "batch"
    assert ep["auth_mode"] == "aad_token"
    assert ep["description"] == ""
    assert ep["traffic"] == {"autolog-deployment": 100}
    assert ep["defaults"] == {"deployment_name": "autolog-deployment"}
    assert ep["scoring_uri"] == f"{server.url}/api/v1/endpoints/mybatchedp/jobs"
    assert RFC3339.match(ep["created_at"]) and RFC3339.match(ep["updated_at"])
    [autolog] = ep["deployments"]
    assert set(autolog) == DEPLOYMENT_KEYS
    assert autolog == {
        "name": "autolog-deployment", "description": "", "model": "azureml:autolog:1",
        "code_configuration": None, "environment": None,
        "compute": {"target": "azureml:cpu-cluster", "instance_count": 2},
        "mini_batch_size": 5, "max_concurrency_per_instance": 1,
        "output_action": "append_row", "output_file_name": "predictions.csv", "output_layout": "lote",
        "retry_settings": {"max_retries": 3, "timeout": 30}, "error_threshold": -1,
        "logging_level": "info", "environment_variables": {},
        "created_at": autolog["created_at"],
    }
    # The inline model was registered from ./autolog.
    model = server.cli_json("model", "show", "--name", "autolog", "--version", "1")
    assert model["type"] == "mlflow_model" and model["files"] == 2

    # --- show --query, as JSON and bare --------------------------------------------
    q = ("endpoint", "show", "--name", "mybatchedp", "--type", "batch",
         "--query", "deployments[0].name")
    assert cli(*q).stdout == '"autolog-deployment"\n'
    assert cli(*q, "-o", "tsv").stdout == "autolog-deployment\n"

    # --- add the seed's second deployment ------------------------------------------
    ep = json.loads(cli("endpoint", "update", "--name", "mybatchedp", "--type", "batch",
                        "--deployment", "mnist-deployment",
                        "--deployment-file", "add-deployment.yml").stdout)
    assert [d["name"] for d in ep["deployments"]] == ["autolog-deployment", "mnist-deployment"]
    # A new deployment gets no traffic; the live one keeps it.
    assert ep["traffic"] == {"autolog-deployment": 100, "mnist-deployment": 0}
    assert ep["defaults"] == {"deployment_name": "autolog-deployment"}

    mnist = json.loads(cli("endpoint", "show", "--name", "mybatchedp", "--type", "batch", "--query",
                           "deployments[?name=='mnist-deployment'] | [0]").stdout)
    assert set(mnist) == DEPLOYMENT_KEYS
    code = mnist.pop("code_configuration")
    assert code["scoring_script"] == "digit_identification.py"
    # The code folder was uploaded and lives under the server's home now.
    code_dir = os.path.realpath(code["code"])
    assert code_dir.startswith(os.path.realpath(os.path.join(server.home, "code", "mybatchedp")) + "/")
    with open(os.path.join(code_dir, "digit_identification.py")) as f:
        assert f.read() == SCORE_PY
    assert mnist == {
        "name": "mnist-deployment",
        "description": "",
        "model": "azureml:mnist:1",
        "environment": {
            "name": "mnist-env", "version": "1", "path": ".",
            "conda_file": mnist["environment"]["conda_file"],
            # No `python`: only an explicit environment.python picks the interpreter.
            "docker": {"image": "mcr.microsoft.com/azureml/openmpi3.1.2-ubuntu18.04:latest"},
        },
        "compute": {"target": "azureml:cpu-cluster", "instance_count": 1},
        "mini_batch_size": 10,                     # default
        "max_concurrency_per_instance": 1,         # default
        "output_action": "append_row",             # default
        "output_file_name": "mnist-predictions.csv",
        "output_layout": "lote",                   # default
        "retry_settings": {"max_retries": 2, "timeout": 60},
        "error_threshold": 5,
        "logging_level": "debug",                  # DEBUG in the file, stored lower-case
        "environment_variables": {"MNIST_MODE": "fast", "OMP_NUM_THREADS": "1"},
        "created_at": mnist["created_at"],
    }
    assert "conda.yml" in mnist["environment"]["conda_file"] or \
        "python=3.8" in mnist["environment"]["conda_file"]
    # The custom model (no MLmodel) was registered too.
    model = server.cli_json("model", "show", "--name", "mnist")
    assert (model["id"], model["type"]) == ("azureml:mnist:1", "custom_model")
    # REST shows the same deployment.
    status, rest = server.http("GET", "/api/v1/endpoints/mybatchedp/deployments/mnist-deployment")
    assert status == 200
    assert rest["environment_variables"] == {"MNIST_MODE": "fast", "OMP_NUM_THREADS": "1"}
    assert rest["mini_batch_size"] == 10

    # --- switch traffic --------------------------------------------------------------
    ep = json.loads(cli("endpoint", "update", "--name", "mybatchedp", "--type", "batch",
                        "--traffic", "mnist-deployment:100").stdout)
    assert ep["traffic"] == {"autolog-deployment": 0, "mnist-deployment": 100}
    assert ep["defaults"] == {"deployment_name": "mnist-deployment"}
    assert cli("endpoint", "show", "--name", "mybatchedp", "--query", "defaults.deployment_name",
               "-o", "tsv").stdout == "mnist-deployment\n"
    # A multiselect hash keeps the query's key order, for scripts that read tsv columns.
    assert cli("endpoint", "show", "--name", "mybatchedp", "--query",
               "{type: type, name: name}", "-o", "tsv").stdout == "batch\tmybatchedp\n"
    assert list(json.loads(cli("endpoint", "show", "--name", "mybatchedp", "--query",
                               "{z: name, a: type}").stdout)) == ["z", "a"]

    # --- get-token + curl-like invocation --------------------------------------------
    proc = cli("endpoint", "get-token", "--name", "mybatchedp")
    token = proc.stdout
    assert token.endswith("\n") and token.count("\n") == 1
    token = token.strip()
    assert token and not token.startswith('"') and " " not in token
    scoring_uri = cli("endpoint", "show", "--name", "mybatchedp", "--query", "scoring_uri",
                      "-o", "tsv").stdout.strip()
    assert scoring_uri == f"{server.url}/api/v1/endpoints/mybatchedp/jobs"
    path = scoring_uri[len(server.url):]
    # No input: whatever the jobs API answers, it is not an authentication error
    # (and no job starts, so the test stays hermetic).
    invoke = {"properties": {}}
    status, reply = server.http("POST", path, invoke, token=token)
    assert status not in (401, 403, 404), reply
    if isinstance(reply, dict) and "error" in reply:
        assert reply["error"]["code"] not in ("Unauthenticated", "PermissionDenied"), reply
    # Anything else is out of the token's reach.
    for method, other in [("GET", "/api/v1/endpoints/mybatchedp"), ("GET", "/api/v1/endpoints"),
                          ("DELETE", "/api/v1/endpoints/mybatchedp"), ("GET", "/api/v1/models"),
                          ("POST", "/api/v1/endpoints/mybatchedp/token")]:
        status, reply = server.http(method, other, token=token)
        assert status == 403, (method, other, reply)
        assert api_error(reply)["code"] == "PermissionDenied"
    # A second endpoint's token does not open this one.
    cli("endpoint", "create", "--file", "create-batch-endpoint.yml", "--name", "otherbatchedp")
    other = cli("endpoint", "get-token", "--name", "otherbatchedp").stdout.strip()
    assert other != token
    status, reply = server.http("POST", path, invoke, token=other)
    assert status == 403
    assert "may only invoke endpoint 'otherbatchedp'" in api_error(reply)["message"]
    status, reply = server.http("POST", path, invoke, token="garbage")
    assert status == 401 and api_error(reply)["code"] == "Unauthenticated"

    # --- delete; the models stay -----------------------------------------------------
    assert cli("endpoint", "delete", "--name", "mybatchedp", "--type", "batch", "--yes").returncode == 0
    proc = cli("endpoint", "show", "--name", "mybatchedp", check=False)
    assert proc.returncode == EXIT_NOT_FOUND
    assert "endpoint 'mybatchedp' not found" in proc.stderr
    assert cli("endpoint", "list", "--query", "[*].name", "-o", "tsv").stdout == "otherbatchedp\n"
    assert cli("model", "list", "--query", "[*].id", "-o", "tsv").stdout == \
        "azureml:autolog:1\nazureml:mnist:1\n"
    # The deleted endpoint's token starts nothing any more, and its code is gone.
    status, reply = server.http("POST", path, invoke, token=token)
    assert status == 401, reply
    assert "token is for an endpoint 'mybatchedp' that no longer exists" in api_error(reply)["message"]
    assert not os.path.exists(code_dir)


def test_endpoint_create_flags_and_inline_model_reuse(seed, workdir):
    server = seed
    ep = server.cli_json("endpoint", "create", "--file", "create-batch-endpoint.yml",
                         "--name", "renamed-edp", "--type", "batch", cwd=workdir)
    assert ep["name"] == "renamed-edp"
    # Same files again: the registered autolog:1 is reused, not re-registered.
    ep = server.cli_json("endpoint", "create", "--file", "create-batch-endpoint.yml", cwd=workdir)
    assert ep["deployments"][0]["model"] == "azureml:autolog:1"
    assert server.cli("model", "list", "--query", "[*].id", "-o", "tsv").stdout == "azureml:autolog:1\n"
    # Creating an existing endpoint again is refused.
    proc = server.cli("endpoint", "create", "--file", "create-batch-endpoint.yml", cwd=workdir,
                      check=False)
    assert proc.returncode == EXIT_EXISTS
    assert "endpoint 'mybatchedp' already exists" in proc.stderr
    # Other files under the same inline name:version are refused (versions are immutable).
    write(workdir / "autolog" / "MLmodel", "flavors:\n  sklearn: {}\n")
    proc = server.cli("endpoint", "create", "--file", "create-batch-endpoint.yml",
                      "--name", "third-edp", cwd=workdir, check=False)
    assert proc.returncode == EXIT_EXISTS
    assert "create-batch-endpoint.yml:10" in proc.stderr
    assert "model 'autolog:1' is already registered with different files" in proc.stderr
    assert "immutable" in proc.stderr
    assert sorted(server.cli("endpoint", "list", "--query", "[*].name", "-o", "tsv")
                  .stdout.splitlines()) == ["mybatchedp", "renamed-edp"]
    # --type other than batch is refused.
    proc = server.cli("endpoint", "show", "--name", "mybatchedp", "--type", "online", check=False)
    assert proc.returncode == EXIT_INVALID


def test_deployment_delete_and_traffic_rules(seed, workdir):
    server = seed
    server.cli("endpoint", "create", "--file", "create-batch-endpoint.yml", cwd=workdir)
    server.cli("endpoint", "update", "--name", "mybatchedp", "--deployment-file",
               "add-deployment.yml", cwd=workdir)
    # The live deployment cannot be deleted.
    proc = server.cli("endpoint", "delete", "--name", "mybatchedp", "--deployment",
                      "autolog-deployment", "--yes", check=False)
    assert proc.returncode == EXIT_PRECONDITION
    assert "deployment 'autolog-deployment' has traffic 100" in proc.stderr
    # A deployment with 0 can.
    ep = server.cli_json("endpoint", "delete", "--name", "mybatchedp", "--deployment",
                         "mnist-deployment", "--yes")
    assert [d["name"] for d in ep["deployments"]] == ["autolog-deployment"]
    assert ep["traffic"] == {"autolog-deployment": 100}
    # Traffic switched off entirely: no default deployment.
    ep = server.cli_json("endpoint", "update", "--name", "mybatchedp",
                         "--traffic", "autolog-deployment:0")
    assert ep["traffic"] == {"autolog-deployment": 0}
    assert ep["defaults"] == {}
    proc = server.cli("endpoint", "delete", "--name", "mybatchedp", "--deployment", "nope-dep",
                      "--yes", check=False)
    assert proc.returncode == EXIT_NOT_FOUND
    assert "nope-dep" in proc.stderr
    # The description can be updated on its own.
    ep = server.cli_json("endpoint", "update", "--name", "mybatchedp", "--description", "taxi tips")
    assert ep["description"] == "taxi tips"
    assert ep["traffic"] == {"autolog-deployment": 0}


def test_replacing_a_deployment_drops_its_old_code(seed, workdir):
    server = seed
    server.cli("endpoint", "create", "--file", "create-batch-endpoint.yml", cwd=workdir)
    query = ("endpoint", "show", "--name", "mybatchedp", "--query",
             "deployments[?name=='mnist-deployment'] | [0]")
    server.cli("endpoint", "update", "--name", "mybatchedp", "--deployment-file",
               "add-deployment.yml", cwd=workdir)
    first = json.loads(server.cli(*query).stdout)
    write(workdir / "mnist" / "code" / "digit_identification.py", SCORE_PY + "# v2\n")
    server.cli("endpoint", "update", "--name", "mybatchedp", "--deployment-file",
               "add-deployment.yml", cwd=workdir)
    second = json.loads(server.cli(*query).stdout)
    new_dir = second["code_configuration"]["code"]
    with open(os.path.join(new_dir, "digit_identification.py")) as f:
        assert f.read().endswith("# v2\n")
    assert not os.path.exists(first["code_configuration"]["code"])
    assert os.listdir(os.path.join(server.home, "code", "mybatchedp")) == [os.path.basename(new_dir)]


# --- models -------------------------------------------------------------------------

def test_model_lifecycle(server, workdir):
    write_autolog(workdir / "autolog")
    write(workdir / "model.json", '{"learner": {}}\n')

    m = server.cli_json("model", "create", "--name", "autolog", "--version", "1",
                        "--path", "autolog", cwd=workdir)
    assert m["name"] == "autolog" and m["version"] == "1" and m["id"] == "azureml:autolog:1"
    assert m["type"] == "mlflow_model"
    assert m["files"] == 2 and m["bytes"] == len(SEED_MLMODEL) + len(SEED_PICKLE)
    assert SHA256.match(m["sha256"]) and RFC3339.match(m["created_at"])
    assert m["description"] == ""
    # Stored as Azure lays it out: <path>/<the folder registered from>/….
    assert m["folder"] == "autolog"
    with open(os.path.join(m["path"], "autolog", "MLmodel")) as f:
        assert f.read().startswith("flavors:")
    assert os.path.realpath(m["path"]).startswith(os.path.realpath(server.home) + "/")

    # name:version is immutable.
    proc = server.cli("model", "create", "--name", "autolog", "--version", "1", "--path", "autolog",
                      cwd=workdir, check=False)
    assert proc.returncode == EXIT_EXISTS
    assert "model 'autolog:1' already exists" in proc.stderr and "immutable" in proc.stderr
    # Without --version: the next integer; identical files, identical sha256.
    m2 = server.cli_json("model", "create", "--name", "autolog", "--path", "autolog",
                         "--description", "again", cwd=workdir)
    assert (m2["version"], m2["id"], m2["description"]) == ("2", "azureml:autolog:2", "again")
    assert m2["sha256"] == m["sha256"]
    # A single file, with an explicit type.
    x = server.cli_json("model", "create", "--name", "xgb", "--path", "model.json",
                        "--type", "xgboost", cwd=workdir)
    assert (x["version"], x["type"], x["files"]) == ("1", "xgboost", 1)
    c = server.cli_json("model", "create", "--name", "plain", "--path", "model.json", cwd=workdir)
    assert c["type"] == "custom_model"
    # From a YAML file: paths are relative to the file.
    write(workdir / "yaml" / "model.yml",
          "$schema: https://azuremlschemas.azureedge.net/latest/model.schema.json\n"
          "name: from-yaml\nversion: 7\nlocal_path: ../autolog\ndescription: by file\n")
    y = server.cli_json("model", "create", "--file", "yaml/model.yml", cwd=workdir)
    assert (y["id"], y["type"], y["description"]) == ("azureml:from-yaml:7", "mlflow_model", "by file")

    # show: latest without --version, a given one with it.
    assert server.cli_json("model", "show", "--name", "autolog")["version"] == "2"
    assert server.cli_json("model", "show", "--name", "autolog", "--version", "1")["sha256"] == m["sha256"]
    assert server.cli("model", "list", "--name", "autolog", "--query", "[*].version",
                      "-o", "tsv").stdout == "1\n2\n"
    assert len(server.cli_json("model", "list")) == 5
    proc = server.cli("model", "show", "--name", "autolog", "--version", "9", check=False)
    assert proc.returncode == EXIT_NOT_FOUND and "model 'autolog:9' not found" in proc.stderr

    # delete; a deleted version is gone, the others stay.
    assert server.cli("model", "delete", "--name", "autolog", "--version", "2", "--yes").stdout == ""
    proc = server.cli("model", "show", "--name", "autolog", "--version", "2", check=False)
    assert proc.returncode == EXIT_NOT_FOUND
    proc = server.cli("model", "delete", "--name", "autolog", "--version", "2", "--yes", check=False)
    assert proc.returncode == EXIT_NOT_FOUND
    assert server.cli_json("model", "show", "--name", "autolog")["version"] == "1"

    # Bad inputs.
    proc = server.cli("model", "create", "--name", "ghost", "--path", "nothing-here",
                      cwd=workdir, check=False)
    assert proc.returncode == EXIT_NOT_FOUND and "nothing-here" in proc.stderr
    proc = server.cli("model", "create", "--name", "bad type", "--path", "autolog",
                      cwd=workdir, check=False)
    assert proc.returncode == EXIT_INVALID and "bad type" in proc.stderr
    proc = server.cli("model", "create", "--name", "typed", "--path", "autolog",
                      "--type", "onnx", cwd=workdir, check=False)
    assert proc.returncode == EXIT_INVALID
    assert "mlflow_model, custom_model, triton_model, xgboost or torchscript" in proc.stderr
    assert len(server.cli_json("model", "list")) == 4


def test_model_delete_refused_while_deployed(seed, workdir):
    server = seed
    server.cli("endpoint", "create", "--file", "create-batch-endpoint.yml", cwd=workdir)
    proc = server.cli("model", "delete", "--name", "autolog", "--version", "1", "--yes", check=False)
    assert proc.returncode == EXIT_PRECONDITION
    assert ("model 'autolog:1' is used by deployment 'autolog-deployment' of endpoint "
            "'mybatchedp'") in proc.stderr
    assert server.cli_json("model", "show", "--name", "autolog", "--version", "1")["version"] == "1"
    server.cli("endpoint", "delete", "--name", "mybatchedp", "--yes")
    server.cli("model", "delete", "--name", "autolog", "--version", "1", "--yes")
    assert server.cli_json("model", "list") == []


# --- data assets and datastores -------------------------------------------------------

def read_datastore_file(server, datastore, rel):
    status, body = server.http("GET", f"/api/v1/datastores/{datastore}/files/{rel}")
    assert status == 200, body
    return body


def test_data_from_a_local_folder(server, workdir):
    write(workdir / "taxi" / "part-1.csv", "a,b\n1,2\n")
    write(workdir / "taxi" / "nested" / "part-2.csv", "a,b\n3,4\n")
    d = server.cli_json("data", "create", "--name", "taxi", "--path", "taxi",
                        "--description", "tips", cwd=workdir)
    assert (d["name"], d["version"], d["id"]) == ("taxi", "1", "azureml:taxi:1")
    assert d["type"] == "uri_folder"
    assert d["datastore"] == "workspaceblobstore"
    assert re.match(r"^LocalUpload/[0-9a-f]+/taxi$", d["relative_path"]), d
    assert d["path"] == "azureml://datastores/workspaceblobstore/paths/" + d["relative_path"]
    assert d["description"] == "tips" and RFC3339.match(d["created_at"])
    # The files were uploaded, folders included.
    assert read_datastore_file(server, "workspaceblobstore", d["relative_path"] + "/part-1.csv") == "a,b\n1,2\n"
    assert read_datastore_file(server, "workspaceblobstore",
                               d["relative_path"] + "/nested/part-2.csv") == "a,b\n3,4\n"
    # Next version, then show/list/delete.
    d2 = server.cli_json("data", "create", "--name", "taxi", "--path", "taxi", cwd=workdir)
    assert d2["version"] == "2" and d2["relative_path"] != d["relative_path"]
    assert server.cli_json("data", "show", "--name", "taxi")["version"] == "2"
    assert server.cli("data", "list", "--name", "taxi", "--query", "[*].id", "-o", "tsv").stdout == \
        "azureml:taxi:1\nazureml:taxi:2\n"
    proc = server.cli("data", "create", "--name", "taxi", "--version", "1", "--path", "taxi",
                      cwd=workdir, check=False)
    assert proc.returncode == EXIT_EXISTS and "data asset 'taxi:1' already exists" in proc.stderr
    server.cli("data", "delete", "--name", "taxi", "--version", "1", "--yes")
    proc = server.cli("data", "show", "--name", "taxi", "--version", "1", check=False)
    assert proc.returncode == EXIT_NOT_FOUND and "data asset 'taxi:1' not found" in proc.stderr
    proc = server.cli("data", "create", "--name", "taxi", "--path", "missing-folder",
                      cwd=workdir, check=False)
    assert proc.returncode == EXIT_NOT_FOUND and "missing-folder" in proc.stderr


def test_data_from_a_local_file(server, workdir):
    write(workdir / "taxi-tip-data.csv", "a,b\n1,2\n")
    d = server.cli_json("data", "create", "--name", "tips", "--path", "taxi-tip-data.csv",
                        cwd=workdir)
    assert d["type"] == "uri_file"
    assert re.match(r"^LocalUpload/[0-9a-f]+/taxi-tip-data.csv$", d["relative_path"]), d
    assert read_datastore_file(server, "workspaceblobstore", d["relative_path"]) == "a,b\n1,2\n"


def test_data_from_a_local_file_with_explicit_type(server, workdir):
    write(workdir / "taxi-tip-data.csv", "a,b\n1,2\n")
    d = server.cli_json("data", "create", "--name", "tips", "--path", "taxi-tip-data.csv",
                        "--type", "uri_file", cwd=workdir)
    assert d["type"] == "uri_file"
    assert re.match(r"^LocalUpload/[0-9a-f]+/taxi-tip-data.csv$", d["relative_path"]), d
    assert read_datastore_file(server, "workspaceblobstore", d["relative_path"]) == "a,b\n1,2\n"


def test_failed_data_create_stores_nothing(server, workdir):
    write(workdir / "taxi-tip-data.csv", "a,b\n1,2\n")
    proc = server.cli("data", "create", "--name", "tips", "--path", "taxi-tip-data.csv",
                      "--type", "uri_folder", cwd=workdir, check=False)
    assert proc.returncode == EXIT_INVALID
    assert "is a file" in proc.stderr
    assert server.cli_json("data", "list") == []
    root = os.path.join(server.home, "datastores", "workspaceblobstore")
    leftovers = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]
    assert leftovers == []


def test_data_from_an_https_url_is_not_fetched(server):
    # .invalid never resolves: creating the asset must not try to reach it.
    url = "https://data.invalid/sampledata/nytaxi/"
    d = server.cli_json("data", "create", "--name", "nytaxi", "--path", url)
    assert (d["path"], d["type"], d["id"]) == (url, "uri_folder", "azureml:nytaxi:1")
    assert "datastore" not in d and "relative_path" not in d
    # Over REST a URL to a file is a uri_file.
    status, d = server.http("POST", "/api/v1/data",
                            {"name": "tipfile", "path": "https://data.invalid/taxi-tip-data.csv"})
    assert status == 201, d
    assert (d["type"], d["path"]) == ("uri_file", "https://data.invalid/taxi-tip-data.csv")
    assert "datastore" not in d


def test_data_from_an_https_file_url_is_a_uri_file(server):
    url = "https://data.invalid/sampledata/nytaxi/taxi-tip-data.csv"
    d = server.cli_json("data", "create", "--name", "tips", "--path", url)
    assert (d["path"], d["type"]) == (url, "uri_file")


def test_data_in_a_datastore(server, tmp_path):
    store = tmp_path / "store"
    write(store / "inputs" / "x.csv", "x\n1\n")
    server.cli("datastore", "create", "--name", "mystore", "--path", store)
    d = server.cli_json("data", "create", "--name", "inputs", "--datastore", "azureml:mystore",
                        "--path", "inputs")
    assert (d["type"], d["datastore"], d["relative_path"]) == ("uri_folder", "mystore", "inputs")
    assert d["path"] == "azureml://datastores/mystore/paths/inputs"
    proc = server.cli("data", "create", "--name", "escape", "--datastore", "mystore",
                      "--path", "../outside", check=False)
    assert proc.returncode == EXIT_INVALID and "'..'" in proc.stderr
    proc = server.cli("data", "create", "--name", "absent", "--datastore", "mystore",
                      "--path", "no/such/folder", check=False)
    assert proc.returncode == EXIT_NOT_FOUND
    assert "'no/such/folder' does not exist in datastore 'mystore'" in proc.stderr
    assert [x["id"] for x in server.cli_json("data", "list")] == ["azureml:inputs:1"]


def test_datastore_lifecycle(server, tmp_path):
    default = server.cli_json("datastore", "show", "--name", "workspaceblobstore")
    assert default["is_default"] is True and default["type"] == "local"
    assert os.path.realpath(default["path"]) == \
        os.path.realpath(os.path.join(server.home, "datastores", "workspaceblobstore"))

    folder = tmp_path / "shared-mount"
    folder.mkdir()
    write(folder / "keep.txt", "kept\n")
    ds = server.cli_json("datastore", "create", "--name", "nfs-store", "--path", folder,
                         "--description", "a shared mount")
    assert ds == {"name": "nfs-store", "type": "local", "path": os.path.realpath(folder),
                  "is_default": False, "mounted_on_nodes": False, "description": "a shared mount",
                  "created_at": ds["created_at"]}
    assert server.cli_json("datastore", "show", "--name", "nfs-store") == ds
    # A shared mount at the same path on every node: remote agents read it directly.
    mounted = server.cli_json("datastore", "create", "--name", "nfs-nodes", "--path", folder, "--mounted-on-nodes")
    assert mounted["mounted_on_nodes"] is True
    server.cli("datastore", "delete", "--name", "nfs-nodes", "--yes")
    rows = server.cli("datastore", "list", "--query", "[*].[name, is_default]", "-o", "tsv").stdout
    assert sorted(rows.splitlines()) == ["nfs-store\tfalse", "workspaceblobstore\ttrue"]
    # Files are reachable through it.
    assert read_datastore_file(server, "nfs-store", "keep.txt") == "kept\n"

    proc = server.cli("datastore", "create", "--name", "nfs-store", "--path", folder, check=False)
    assert proc.returncode == EXIT_EXISTS and "datastore 'nfs-store' already exists" in proc.stderr
    proc = server.cli("datastore", "create", "--name", "gone-store", "--path", tmp_path / "nope",
                      check=False)
    assert proc.returncode == EXIT_INVALID and "is not an existing folder" in proc.stderr

    # Refused while a data asset points into it.
    server.cli("data", "create", "--name", "kept", "--datastore", "nfs-store", "--path", "keep.txt",
               "--type", "uri_file")
    proc = server.cli("datastore", "delete", "--name", "nfs-store", "--yes", check=False)
    assert proc.returncode == EXIT_PRECONDITION
    assert "datastore 'nfs-store' is used by data asset 'azureml:kept:1'" in proc.stderr
    server.cli("data", "delete", "--name", "kept", "--version", "1", "--yes")
    server.cli("datastore", "delete", "--name", "nfs-store", "--yes")
    proc = server.cli("datastore", "show", "--name", "nfs-store", check=False)
    assert proc.returncode == EXIT_NOT_FOUND and "datastore 'nfs-store' not found" in proc.stderr
    assert (folder / "keep.txt").read_text() == "kept\n"  # unregistered, not erased

    # The default one stays.
    proc = server.cli("datastore", "delete", "--name", "workspaceblobstore", "--yes", check=False)
    assert proc.returncode == EXIT_PRECONDITION
    assert "datastore 'workspaceblobstore' is the default datastore and cannot be deleted" in proc.stderr
    assert server.cli("datastore", "list", "--query", "[*].name", "-o", "tsv").stdout == \
        "workspaceblobstore\n"


# --- computes ---------------------------------------------------------------------------

def test_compute_lifecycle(seed, workdir):
    server = seed
    c = server.cli_json("compute", "show", "--name", "cpu-cluster")
    assert c == {"name": "cpu-cluster", "type": "local", "min_instances": 0, "max_instances": 5,
                 "description": "", "agent_access": "auto", "created_at": c["created_at"]}
    # The seed's own command line: amlcompute is read as local.
    aml = server.cli_json("compute", "create", "--name", "aml-cluster", "--type", "amlcompute",
                          "--min-instances", "0", "--max-instances", "2")
    assert aml["type"] == "local"
    # As az: creating what exists updates it (a setup script can run twice).
    again = server.cli_json("compute", "create", "--name", "cpu-cluster", "--type", "local",
                            "--max-instances", "6")
    assert again["max_instances"] == 6 and again["created_at"] == c["created_at"]

    # update
    c = server.cli_json("compute", "update", "--name", "cpu-cluster", "--max-instances", "8",
                        "--description", "eight")
    assert (c["min_instances"], c["max_instances"], c["description"]) == (0, 8, "eight")
    assert RFC3339.match(c["updated_at"])
    proc = server.cli("compute", "update", "--name", "cpu-cluster", "--min-instances", "9",
                      check=False)
    assert proc.returncode == EXIT_INVALID
    assert "must be >= min_instances (9)" in proc.stderr
    proc = server.cli("compute", "update", "--name", "no-cluster", "--max-instances", "2", check=False)
    assert proc.returncode == EXIT_NOT_FOUND and "compute 'no-cluster' not found" in proc.stderr

    # A compute used by a deployment can neither shrink below it nor go away.
    server.cli("endpoint", "create", "--file", "create-batch-endpoint.yml", cwd=workdir)
    proc = server.cli("compute", "update", "--name", "cpu-cluster", "--max-instances", "1", check=False)
    assert proc.returncode == EXIT_PRECONDITION
    assert "below the instance_count of deployment 'autolog-deployment'" in proc.stderr
    proc = server.cli("compute", "delete", "--name", "cpu-cluster", "--yes", check=False)
    assert proc.returncode == EXIT_PRECONDITION
    assert ("compute 'cpu-cluster' is used by deployment 'autolog-deployment' of endpoint "
            "'mybatchedp'") in proc.stderr
    assert server.cli_json("compute", "show", "--name", "cpu-cluster")["max_instances"] == 8

    server.cli("endpoint", "delete", "--name", "mybatchedp", "--yes")
    assert server.cli("compute", "delete", "--name", "cpu-cluster", "--yes").stdout == ""
    proc = server.cli("compute", "show", "--name", "cpu-cluster", check=False)
    assert proc.returncode == EXIT_NOT_FOUND
    assert server.cli("compute", "list", "--query", "[*].name", "-o", "tsv").stdout == "aml-cluster\n"


def test_compute_bad_inputs(server):
    cases = [
        (["--name", "c_x", "--type", "local", "--max-instances", "2"], "compute name 'c_x' is invalid"),
        (["--name", "cx", "--type", "local", "--max-instances", "2"], "compute name 'cx' is invalid"),
        (["--name", "k8s-cluster", "--type", "kubernetes", "--max-instances", "2"],
         "compute type 'kubernetes' is not supported"),
        (["--name", "slurm-cluster", "--type", "slurm", "--time-limit", "2 hours"],
         "time_limit '2 hours' is not a Slurm time"),
        (["--name", "slurm-cluster", "--type", "slurm", "--sbatch-arg", "--job-name=x"],
         "sbatch argument '--job-name=x' is set by lote itself"),
        (["--name", "local-cluster", "--partition", "debug"],
         "partition is only for a compute of type slurm"),
        (["--name", "inverted", "--type", "local", "--min-instances", "3", "--max-instances", "2"],
         "max_instances (2) must be >= min_instances (3)"),
        (["--name", "empty-cluster", "--type", "local", "--max-instances", "0"],
         "max_instances must be >= 1, got 0"),
    ]
    for args, words in cases:
        proc = server.cli("compute", "create", *args, check=False)
        assert proc.returncode == EXIT_INVALID, (args, proc.stderr)
        assert words in proc.stderr, (args, proc.stderr)
    assert server.cli_json("compute", "list") == []


# --- output formats and --query ----------------------------------------------------------

@pytest.fixture
def two_computes(server):
    create_compute(server, "cpu-cluster", 5)
    server.cli("compute", "create", "--name", "gpu-cluster", "--type", "local",
               "--min-instances", "1", "--max-instances", "2", "--description", "two gpus")
    return server


def test_output_formats(two_computes):
    server = two_computes
    show = ("compute", "show", "--name", "gpu-cluster")
    # json (the default): the canonical document.
    doc = json.loads(server.cli(*show).stdout)
    assert doc["name"] == "gpu-cluster" and doc["max_instances"] == 2
    assert json.loads(server.cli(*show, "-o", "json").stdout) == doc
    # yaml: one key per line, strings that look like other types are quoted.
    yml = server.cli(*show, "-o", "yaml").stdout.splitlines()
    assert "name: gpu-cluster" in yml
    assert "max_instances: 2" in yml and "min_instances: 1" in yml
    assert "description: two gpus" in yml
    assert f'created_at: "{doc["created_at"]}"' in yml or f"created_at: {doc['created_at']}" in yml or \
        f"created_at: '{doc['created_at']}'" in yml
    # tsv: values only, tab-separated, in key order.
    assert server.cli(*show, "-o", "tsv").stdout == \
        f"auto\t{doc['created_at']}\ttwo gpus\t2\t1\tgpu-cluster\tlocal\n"
    # table: a header, a dashed rule, one row per item.
    lines = server.cli("compute", "list", "-o", "table").stdout.splitlines()
    assert len(lines) == 4, lines
    # Column titles are the keys with a capital first letter, as az does.
    assert lines[0].split() == ["Agent_access", "Created_at", "Description", "Max_instances", "Min_instances",
                                "Name", "Type"]
    assert set(lines[1]) <= {"-", " "} and "-" in lines[1]
    assert "cpu-cluster" in lines[2] and "gpu-cluster" in lines[3]
    assert "two gpus" in lines[3]
    # Unknown format.
    proc = server.cli(*show, "-o", "xml", check=False)
    assert proc.returncode == EXIT_INVALID
    assert "unknown output format 'xml'" in proc.stderr and "json" in proc.stderr


def test_query_forms(two_computes):
    server = two_computes

    def q(cmd, query, fmt="json"):
        return server.cli(*cmd, "--query", query, "-o", fmt).stdout

    show = ("compute", "show", "--name", "gpu-cluster")
    lst = ("compute", "list")
    # a.b
    assert q(show, "name") == '"gpu-cluster"\n'
    assert q(show, "max_instances", "tsv") == "2\n"
    # a[0] and a[0].b
    assert json.loads(q(lst, "[0]"))["name"] == "cpu-cluster"
    assert q(lst, "[0].name", "tsv") == "cpu-cluster\n"
    assert q(lst, "[1].max_instances", "tsv") == "2\n"
    # [*].name
    assert json.loads(q(lst, "[*].name")) == ["cpu-cluster", "gpu-cluster"]
    assert q(lst, "[*].name", "tsv") == "cpu-cluster\ngpu-cluster\n"
    # [?name=='x']
    filtered = json.loads(q(lst, "[?name=='gpu-cluster']"))
    assert [c["name"] for c in filtered] == ["gpu-cluster"]
    assert json.loads(q(lst, "[?max_instances > `3`].name")) == ["cpu-cluster"]
    assert json.loads(q(lst, "[?name=='none']")) == []
    # {n: name, t: type}
    assert json.loads(q(show, "{n: name, t: type}")) == {"n": "gpu-cluster", "t": "local"}
    assert q(show, "{n: name, t: type}", "tsv") == "gpu-cluster\tlocal\n"
    assert json.loads(q(lst, "[*].{n: name, max: max_instances}")) == [
        {"n": "cpu-cluster", "max": 5}, {"n": "gpu-cluster", "max": 2}]
    # [name, type]
    assert json.loads(q(show, "[name, type]")) == ["gpu-cluster", "local"]
    assert q(lst, "[*].[name, max_instances]", "tsv") == "cpu-cluster\t5\ngpu-cluster\t2\n"
    table = q(lst, "[*].{n: name, t: type}", "table").splitlines()
    assert len(table) == 4 and "cpu-cluster" in table[2] and "gpu-cluster" in table[3]
    # A missing key is null, which prints nothing (as az does), not an error.
    assert q(show, "no_such_key") == ""
    assert q(show, "no_such_key", "tsv") == ""
    # A syntax error is a clear invalid argument.
    proc = server.cli(*show, "--query", "[?name==", check=False)
    assert proc.returncode == EXIT_INVALID
    assert "invalid query" in proc.stderr


def test_output_none_prints_nothing(server):
    proc = server.cli("compute", "create", "--name", "cpu-cluster", "-o", "none")
    assert proc.returncode == 0 and proc.stdout == ""
    assert server.cli_json("compute", "show", "--name", "cpu-cluster")["name"] == "cpu-cluster"
