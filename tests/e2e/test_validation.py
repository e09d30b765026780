"""Bad input: every mistake in a YAML file or a flag gets a clear error that
names the file, the line and the key, a non-zero exit code, and stores nothing."""

import json

import pytest

from lote_e2e import (ADD_DEPLOYMENT_YAML, ENDPOINT_YAML, EXIT_EXISTS, EXIT_INVALID,
                      EXIT_NOT_FOUND, create_compute, write, write_seed)

# Lines of ENDPOINT_YAML, for the expected line numbers below:
#  1 $schema   2 name   3 type   4 auth_mode   5 traffic:   6 autolog-deployment: 100
#  9 - name   10 model:   13 local_path   15 target   16 instance_count
# 17 mini_batch_size   20 max_retries   21 timeout   22 error_threshold   23 logging_level

TWO_DEPLOYMENTS = """\
name: two-edp
type: batch
traffic:
  blue-dep: 100
  green-dep: 100
deployments:
  blue-dep:
    model: azureml:autolog:1
    compute:
      target: azureml:cpu-cluster
  green-dep:
    model: autolog:1
    compute:
      target: cpu-cluster
"""


def variant(old, new, base=ENDPOINT_YAML):
    assert old in base, old
    return base.replace(old, new, 1)


# (id, file text, exit code, the error's "file:line: key" prefix, words of the message)
ENDPOINT_CASES = [
    ("unknown-key", variant("mini_batch_size: 5", "mini_batch_sise: 5"), EXIT_INVALID,
     "endpoint.yml:17: deployments[0].mini_batch_sise:",
     ["unknown key 'mini_batch_sise'", "did you mean 'mini_batch_size'?"]),
    ("unknown-top-key", variant("auth_mode: aad_token", "auth_mod: aad_token"), EXIT_INVALID,
     "endpoint.yml:4: auth_mod:", ["unknown key 'auth_mod' in endpoint", "did you mean 'auth_mode'?"]),
    ("name-underscore", variant("name: mybatchedp", "name: my_batchedp"), EXIT_INVALID,
     "endpoint.yml:2: name:", ["endpoint name 'my_batchedp' is invalid", "letters, digits and '-'"]),
    ("name-2-chars", variant("name: mybatchedp", "name: ab"), EXIT_INVALID,
     "endpoint.yml:2: name:", ["endpoint name 'ab' is invalid", "3 to 32 characters"]),
    ("deployment-name-underscore",
     ENDPOINT_YAML.replace("autolog-deployment", "autolog_deployment"), EXIT_INVALID,
     "endpoint.yml:9: deployments[0].name:", ["deployment name 'autolog_deployment' is invalid"]),
    ("type-online", variant("type: batch", "type: online"), EXIT_INVALID,
     "endpoint.yml:3: type:", ["endpoint type 'online' is not supported"]),
    ("auth-mode", variant("auth_mode: aad_token", "auth_mode: password"), EXIT_INVALID,
     "endpoint.yml:4: auth_mode:", ["auth_mode must be aad_token or key, got 'password'"]),
    ("traffic-50", variant("autolog-deployment: 100", "autolog-deployment: 50"), EXIT_INVALID,
     "endpoint.yml:6: traffic.autolog-deployment:", ["is 50", "only 0 or 100"]),
    ("traffic-two-100", TWO_DEPLOYMENTS, EXIT_INVALID,
     "endpoint.yml:5: traffic.green-dep:",
     ["gives 100 to both 'blue-dep' and 'green-dep'", "at most one"]),
    ("traffic-missing-deployment", variant("  autolog-deployment: 100", "  nope-deployment: 100"),
     EXIT_INVALID, "endpoint.yml:6: traffic.nope-deployment:",
     ["traffic names deployment 'nope-deployment', which this endpoint does not have",
      "deployments: autolog-deployment"]),
    ("mini-batch-size-0", variant("mini_batch_size: 5", "mini_batch_size: 0"), EXIT_INVALID,
     "endpoint.yml:17: deployments[0].mini_batch_size:",
     ["deployment 'autolog-deployment'", "mini_batch_size must be a positive number", "got 0"]),
    ("mini-batch-size-minus-1", variant("mini_batch_size: 5", "mini_batch_size: -1"), EXIT_INVALID,
     "endpoint.yml:17: deployments[0].mini_batch_size:",
     ["mini_batch_size must be a positive number", "got -1"]),
    ("mini-batch-size-unit", variant("mini_batch_size: 5", "mini_batch_size: 64XB"), EXIT_INVALID,
     "endpoint.yml:17: deployments[0].mini_batch_size:", ["such as '64MB'", "got '64XB'"]),
    ("timeout-0", variant("timeout: 30", "timeout: 0"), EXIT_INVALID,
     "endpoint.yml:21: deployments[0].retry_settings.timeout:",
     ["retry_settings.timeout must be > 0 seconds, got 0"]),
    ("max-retries-negative", variant("max_retries: 3", "max_retries: -1"), EXIT_INVALID,
     "endpoint.yml:20: deployments[0].retry_settings.max_retries:", ["must be >= 0, got -1"]),
    ("error-threshold", variant("error_threshold: -1", "error_threshold: -2"), EXIT_INVALID,
     "endpoint.yml:22: deployments[0].error_threshold:", ["must be >= -1, got -2"]),
    ("logging-level", variant("logging_level: info", "logging_level: verbose"), EXIT_INVALID,
     "endpoint.yml:23: deployments[0].logging_level:",
     ["logging_level must be warning, info or debug, got 'verbose'"]),
    ("instance-count-0", variant("instance_count: 2", "instance_count: 0"), EXIT_INVALID,
     "endpoint.yml:16: deployments[0].compute.instance_count:", ["must be >= 1, got 0"]),
    ("instance-count-above-max", variant("instance_count: 2", "instance_count: 6"), EXIT_INVALID,
     "endpoint.yml:16: deployments[0].compute.instance_count:",
     ["instance_count 6 is above compute 'cpu-cluster' max_instances 5"]),
    ("missing-compute", variant("azureml:cpu-cluster", "azureml:gpu-cluster"), EXIT_NOT_FOUND,
     "endpoint.yml:15: deployments[0].compute.target:",
     ["compute 'gpu-cluster' not found", "lote compute create"]),
    ("no-compute", variant("    compute:\n      target: azureml:cpu-cluster\n      instance_count: 2\n", ""),
     EXIT_INVALID, "endpoint.yml:9: deployments[0].compute.target:", ["compute.target is required"]),
    ("missing-model-folder", variant("./autolog", "./no-such-model"), EXIT_NOT_FOUND,
     "endpoint.yml:13: deployments[0].model.local_path:",
     ["model folder", "no-such-model' does not exist"]),
    ("missing-model-ref", variant("    model:\n      name: autolog\n      version: 1\n"
                                  "      local_path: ./autolog\n", "    model: azureml:ghost:3\n"),
     EXIT_NOT_FOUND, "endpoint.yml:10: deployments[0].model:", ["model 'ghost:3' not found"]),
    ("duplicate-deployment",
     variant("deployments:\n", "deployments:\n  - name: autolog-deployment\n"
             "    model: azureml:autolog:1\n    compute: {target: cpu-cluster}\n"),
     EXIT_INVALID, "endpoint.yml:12: deployments[1].name:",
     ["duplicate deployment name 'autolog-deployment'"]),
    ("yaml-illegal-map-value", variant("auth_mode: aad_token", "auth_mode: aad_token: x"),
     EXIT_INVALID, "endpoint.yml:4:", ["illegal map value"]),
    ("yaml-tab", variant("type: batch\n", "type: batch\n\tauth: x\n"), EXIT_INVALID,
     "endpoint.yml:4:", ["tab"]),
    ("yaml-bad-indent", variant("    logging_level: info", "   logging_level: info"), EXIT_INVALID,
     "endpoint.yml:23:", []),
    ("not-a-mapping", "- a\n- b\n", EXIT_INVALID, "endpoint.yml:1:",
     ["endpoint must be a mapping, got a list"]),
    ("empty-file", "", EXIT_INVALID, "endpoint.yml:1:", ["endpoint must be a mapping"]),
]


@pytest.fixture
def seed(server, workdir):
    write_seed(workdir)
    create_compute(server)
    return server


def assert_nothing_stored(server):
    assert server.cli("endpoint", "list").stdout.strip() == "[]"
    status, body = server.http("GET", "/api/v1/endpoints")
    assert (status, body) == (200, [])


@pytest.mark.parametrize("text,code,prefix,words",
                         [pytest.param(*c[1:], id=c[0]) for c in ENDPOINT_CASES])
def test_bad_endpoint_file(seed, workdir, text, code, prefix, words):
    write(workdir / "endpoint.yml", text)
    proc = seed.cli("endpoint", "create", "--file", "endpoint.yml", cwd=workdir, check=False)
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.startswith("lote: error: " + prefix), proc.stderr
    for w in words:
        assert w in proc.stderr, (w, proc.stderr)
    assert proc.stderr.count("\n") == 1, proc.stderr  # one clear line, no stack trace
    assert_nothing_stored(seed)


@pytest.mark.parametrize("case", [
    "unknown-key", "traffic-50", "mini-batch-size-0", "yaml-illegal-map-value",
    "missing-compute",
    "instance-count-above-max",
])
def test_refused_endpoint_registers_no_model(seed, workdir, case):
    text = next(c[1] for c in ENDPOINT_CASES if c[0] == case)
    write(workdir / "endpoint.yml", text)
    proc = seed.cli("endpoint", "create", "--file", "endpoint.yml", cwd=workdir, check=False)
    assert proc.returncode != 0
    assert_nothing_stored(seed)
    assert json.loads(seed.cli("model", "list").stdout) == []


def test_missing_and_unreadable_files(seed, workdir):
    proc = seed.cli("endpoint", "create", "--file", "no-such-file.yml", cwd=workdir, check=False)
    assert proc.returncode == EXIT_NOT_FOUND
    assert proc.stderr == "lote: error: file 'no-such-file.yml' does not exist\n"
    proc = seed.cli("endpoint", "create", "--file", ".", cwd=workdir, check=False)
    assert proc.returncode != 0
    assert "is a directory, expected a YAML file" in proc.stderr
    proc = seed.cli("endpoint", "update", "--name", "mybatchedp", "--deployment-file",
                    "no-such-file.yml", cwd=workdir, check=False)
    assert proc.returncode == EXIT_NOT_FOUND
    proc = seed.cli("endpoint", "create", cwd=workdir, check=False)
    assert proc.returncode != 0 and "--file" in proc.stderr
    assert_nothing_stored(seed)


def test_duplicate_yaml_key(seed, workdir):
    write(workdir / "endpoint.yml",
          variant("  autolog-deployment: 100\n", "  autolog-deployment: 100\n  autolog-deployment: 0\n"))
    proc = seed.cli("endpoint", "create", "--file", "endpoint.yml", cwd=workdir, check=False)
    assert proc.returncode == EXIT_INVALID
    assert "endpoint.yml:7:" in proc.stderr and "traffic.autolog-deployment" in proc.stderr
    assert "duplicate key 'autolog-deployment' (first at line 6)" in proc.stderr
    assert_nothing_stored(seed)


# --- updates: a refused change leaves the endpoint as it was ----------------------------

@pytest.fixture
def live(seed, workdir):
    seed.cli("endpoint", "create", "--file", "create-batch-endpoint.yml", cwd=workdir)
    seed.cli("endpoint", "update", "--name", "mybatchedp", "--deployment-file",
             "add-deployment.yml", cwd=workdir)
    seed.before = json.loads(seed.cli("endpoint", "show", "--name", "mybatchedp").stdout)
    return seed


def assert_unchanged(server):
    after = json.loads(server.cli("endpoint", "show", "--name", "mybatchedp").stdout)
    assert after == server.before


@pytest.mark.parametrize("traffic,words", [
    ("mnist-deployment:50", ["--traffic 'mnist-deployment:50' is invalid", "only 0 or 100"]),
    ("nope-deployment:100", ["traffic.nope-deployment:",
                             "traffic names deployment 'nope-deployment', which this endpoint "
                             "does not have"]),
    ("mnist-deployment:100,autolog-deployment:100",
     ["gives 100 to both 'autolog-deployment' and 'mnist-deployment'"]),
    ("mnist-deployment", ["--traffic"]),
    ("mnist-deployment:abc", ["--traffic"]),
])
def test_bad_traffic_flag(live, traffic, words):
    proc = live.cli("endpoint", "update", "--name", "mybatchedp", "--traffic", traffic, check=False)
    assert proc.returncode == EXIT_INVALID, proc.stderr
    for w in words:
        assert w in proc.stderr, (w, proc.stderr)
    assert_unchanged(live)


# Lines of ADD_DEPLOYMENT_YAML: 1 name, 5 model local_path, 8 code local_path,
# 9 scoring_script, 14 conda_file, 22 instance_count, 23 output_file_name,
# 25 max_retries, 26 timeout, 27 error_threshold, 28 logging_level
DEPLOYMENT_CASES = [
    ("mini-batch-size-0", ("error_threshold: 5", "error_threshold: 5\nmini_batch_size: 0"),
     EXIT_INVALID, "dep.yml:28: mini_batch_size:", ["got 0"]),
    ("timeout-0", ("timeout: 60", "timeout: 0"), EXIT_INVALID,
     "dep.yml:26: retry_settings.timeout:", ["must be > 0 seconds, got 0"]),
    ("instance-count-above-max", ("instance_count: 1", "instance_count: 9"), EXIT_INVALID,
     "dep.yml:22: compute.instance_count:", ["instance_count 9 is above compute 'cpu-cluster' "
                                             "max_instances 5"]),
    ("unknown-key", ("logging_level: DEBUG", "loging_level: DEBUG"), EXIT_INVALID,
     "dep.yml:28: loging_level:", ["did you mean 'logging_level'?"]),
    ("missing-code-folder", ("./mnist/code/", "./mnist/no-code/"), EXIT_NOT_FOUND,
     "dep.yml:8: code_configuration.code.local_path:", ["code folder", "does not exist"]),
    ("missing-scoring-script", ("digit_identification.py", "missing.py"), EXIT_NOT_FOUND,
     "dep.yml:9: code_configuration.scoring_script:", ["scoring_script 'missing.py' is not a file"]),
    ("missing-model-folder", ("./mnist/model/", "./mnist/no-model/"), EXIT_NOT_FOUND,
     "dep.yml:5: model.local_path:", ["does not exist"]),
    ("output-file-path", ("output_file_name: mnist-predictions.csv", "output_file_name: ../x.csv"),
     EXIT_INVALID, "dep.yml:23: output_file_name:", ["must be a file name, not a path"]),
    ("bad-name", ("name: mnist-deployment", "name: mnist_deployment"), EXIT_INVALID,
     "dep.yml:1: name:", ["deployment name 'mnist_deployment' is invalid"]),
    pytest.param(
        "missing-conda-file", ("file:./mnist/environment/conda.yml", "file:./mnist/environment/nope.yml"),
        EXIT_NOT_FOUND, "dep.yml:14: environment.conda_file:", ["nope.yml", "does not exist"],
        id="missing-conda-file",
    ),
]


@pytest.mark.parametrize("case,change,code,prefix,words",
                         [c if hasattr(c, "marks") else pytest.param(*c, id=c[0])
                          for c in DEPLOYMENT_CASES])
def test_bad_deployment_file(live, workdir, case, change, code, prefix, words):
    write(workdir / "dep.yml", variant(*change, base=ADD_DEPLOYMENT_YAML))
    proc = live.cli("endpoint", "update", "--name", "mybatchedp", "--deployment-file", "dep.yml",
                    cwd=workdir, check=False)
    assert proc.returncode == code, proc.stderr
    assert proc.stderr.startswith("lote: error: " + prefix), proc.stderr
    for w in words:
        assert w in proc.stderr, (w, proc.stderr)
    assert_unchanged(live)


def test_deployment_name_must_match_the_flag(live, workdir):
    proc = live.cli("endpoint", "update", "--name", "mybatchedp", "--deployment", "other-dep",
                    "--deployment-file", "add-deployment.yml", cwd=workdir, check=False)
    assert proc.returncode == EXIT_INVALID
    assert "add-deployment.yml:1: name:" in proc.stderr
    assert "'mnist-deployment'" in proc.stderr.replace('"', "'") and "'other-dep'" in proc.stderr
    assert_unchanged(live)


def test_update_of_a_missing_endpoint(seed, workdir):
    proc = seed.cli("endpoint", "update", "--name", "ghost-edp", "--traffic", "a-dep:100",
                    check=False)
    assert proc.returncode == EXIT_NOT_FOUND and "endpoint 'ghost-edp' not found" in proc.stderr
    proc = seed.cli("endpoint", "update", "--name", "ghost-edp", "--deployment-file",
                    "add-deployment.yml", cwd=workdir, check=False)
    assert proc.returncode == EXIT_NOT_FOUND and "endpoint 'ghost-edp' not found" in proc.stderr
    assert_nothing_stored(seed)


def test_create_twice_is_already_exists(seed, workdir):
    seed.cli("endpoint", "create", "--file", "create-batch-endpoint.yml", cwd=workdir)
    proc = seed.cli("endpoint", "create", "--file", "create-batch-endpoint.yml", cwd=workdir,
                    check=False)
    assert proc.returncode == EXIT_EXISTS
    assert "endpoint 'mybatchedp' already exists" in proc.stderr


def test_rest_validation_names_the_field(server):
    """The server validates the same canonical shape with the field in the error."""
    create_compute(server)
    cases = [
        ({"name": "a_b", "type": "batch"}, "name", "endpoint name 'a_b' is invalid"),
        ({"name": "ok-edp", "type": "batch", "traffic": {"x-dep": 50}}, "traffic",
         "only 0 or 100"),
        ({"name": "ok-edp", "type": "batch", "colour": "red"}, "colour", "unknown key 'colour'"),
    ]
    for body, field, words in cases:
        status, reply = server.http("POST", "/api/v1/endpoints", body)
        assert status == 400, (body, reply)
        err = reply["error"]
        assert err["code"] == "InvalidArgument"
        assert err.get("field", "").startswith(field), (body, err)
        assert words in err["message"], (body, err)
    status, reply = server.http("POST", "/api/v1/computes",
                                {"name": "cpu-two", "type": "local", "min_instances": 3,
                                 "max_instances": 2})
    assert status == 400 and reply["error"]["field"] == "max_instances"
    assert server.http("GET", "/api/v1/endpoints") == (200, [])
