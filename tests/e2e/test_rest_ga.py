"""Azure's GA REST invoke (api-version 2022-05-01 and later) against lote, the
way an Azure client does it: POST <scoring_uri>?api-version=… with an endpoint
token and an InputData/OutputData body in each of its spellings and Uri forms,
then the job followed to completion with that same token (GET job, its log,
its files, the predictions downloaded), all over real HTTP with urllib.
Also: the endpoint token reads only its own endpoint's jobs, and hostile
bodies are 400s naming the field (docs/rest.md, SECURITY.md)."""

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from jobs_e2e import (EP, TERMINAL, create_endpoint, deployment_spec, ECHO_SCORE, job_names,
                      make_files, numbered, put_datastore_file, simple_endpoint)

API = "api-version=2022-05-01"
ARM_WS = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
          "Microsoft.MachineLearningServices/workspaces/ws")


def call(method, url, token, body=None):
    """One HTTP call like an Azure client: returns (status, parsed JSON or raw bytes)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, raw, ctype = resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        status, raw, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
    if "json" in ctype:
        return status, json.loads(raw or b"null")
    return status, raw


def with_api(url):
    return url + ("&" if "?" in url else "?") + API


def endpoint_token(server, endpoint=EP):
    return server.cli("endpoint", "get-token", "--name", endpoint).stdout.strip()


def scoring_uri(server, endpoint=EP):
    return server.cli("endpoint", "show", "--name", endpoint, "--query", "scoring_uri",
                      "-o", "tsv").stdout.strip()


def follow(server, token, name, timeout=60):
    """Polls GET job with the endpoint token until it ends; returns the last answer."""
    url = with_api(f"{server.url}/api/v1/jobs/{name}")
    deadline = time.monotonic() + timeout
    while True:
        status, job = call("GET", url, token)
        assert status == 200, (status, job)
        if job["properties"]["status"] in TERMINAL:
            return job
        assert time.monotonic() < deadline, f"job {name} still {job['status']}:\n{server.log()[-3000:]}"
        time.sleep(0.1)


def read_all(server, token, job):
    """The log, the files list and the predictions, with the endpoint token."""
    base = f"{server.url}/api/v1/jobs/{job['name']}"
    status, log = call("GET", with_api(base + "/log?offset=0"), token)
    assert status == 200 and "created" in log["text"], (status, log)
    status, files = call("GET", with_api(base + "/files"), token)
    assert status == 200 and files["output"] == [job["output"]["file_name"]], (status, files)
    assert files["logs"], files
    rel = urllib.parse.quote(files["output"][0])
    status, body = call("GET", with_api(f"{base}/files/{rel}"), token)
    assert status == 200, (status, body)
    status, log_file = call("GET", with_api(f"{base}/files/{urllib.parse.quote(files['logs'][0])}"), token)
    assert status == 200, (status, log_file)
    return body.decode().splitlines()


def assert_azure_shape(server, job):
    name = job["name"]
    assert job["id"].endswith(f"/providers/Microsoft.MachineLearningServices/workspaces/lote/jobs/{name}"), job
    assert job["id"].startswith("/subscriptions/"), job
    assert job["resourceType"] == "Microsoft.MachineLearningServices/workspaces/jobs", job
    assert job["type"] == "batch", job  # lote's own, as before
    props = job["properties"]
    assert props["status"] == job["status"], job
    assert props["interactionEndpoints"]["Studio"]["endpoint"] == f"{server.url}/jobs/{name}"  # the dashboard
    assert props["interactionEndpoints"]["Tracking"]["endpoint"] == f"{server.url}/api/v1/jobs/{name}/log"
    # lote's own fields are all still there.
    for key in ("endpoint", "deployment", "input", "output", "progress", "created_at",
                "interactionEndpoints"):
        assert key in job, (key, job)


@pytest.fixture
def endpoint(server, workdir):
    simple_endpoint(server, workdir)
    return server


def input_entry(spelling, type_, uri):
    """One named input in each spelling Azure's clients send."""
    return {"REST": {"heart_data": {"JobInputType": type_, "Uri": uri}},
            "camel": {"heart_data": {"jobInputType": type_, "uri": uri, "mode": "ReadOnlyMount"}},
            "sdk": {"heart_data": {"job_input_type": type_, "uri": uri}}}[spelling]


INPUT_KEY = {"REST": "InputData", "camel": "inputData", "sdk": "input_data"}

# (case id, body spelling, JobInputType, how the Uri is written)
FORMS = [
    ("datastore-short", "REST", "UriFolder", "azureml://datastores/workspaceblobstore/paths/ga/in"),
    ("datastore-long", "camel", "uri_folder",
     "azureml://subscriptions/s/resourcegroups/rg/workspaces/ws/datastores/workspaceblobstore/paths/ga/in"),
    ("datastore-arm-id", "sdk", "UriFolder", ARM_WS + "/datastores/workspaceblobstore/paths/ga/in"),
    ("data-latest", "REST", "UriFolder", "azureml:gadata@latest"),
    ("data-version", "camel", "uri_folder", "azureml:gadata:1"),
    ("data-arm-id", "REST", "UriFolder", ARM_WS + "/data/gadata/versions/1"),
    ("https-folder-no-slash", "REST", "UriFolder", "{www}/data/mnist/sample"),
    ("https-folder-slash", "sdk", "uri_folder", "{www}/data/mnist/sample/"),
    ("https-file", "camel", "UriFile", "{www}/data/mnist/sample/f0001.txt"),
]


@pytest.mark.parametrize("case,spelling,type_,uri", FORMS, ids=[f[0] for f in FORMS])
def test_ga_body_followed_with_the_endpoint_token(endpoint, file_server, tmp_path, case, spelling,
                                                  type_, uri):
    server = endpoint
    names = numbered(3)
    for n in names:
        put_datastore_file(server, "workspaceblobstore", f"ga/in/{n}", n)
    make_files(tmp_path / "asset", names)
    server.cli_json("data", "create", "--name", "gadata", "--version", "1", "--path", tmp_path / "asset")
    make_files(f"{file_server.root}/data/mnist/sample", names)
    uri = uri.format(www=file_server.url)
    token = endpoint_token(server)
    body = {"properties": {INPUT_KEY[spelling]: input_entry(spelling, type_, uri)}}
    status, job = call("POST", with_api(scoring_uri(server)), token, body)
    assert status in (200, 201, 202), (status, job)
    assert job["properties"]["status"] in ("NotStarted", "Preparing", "Running", "Completed"), job
    assert_azure_shape(server, job)
    done = follow(server, token, job["name"])
    assert done["properties"]["status"] == "Completed", (done, server.log()[-3000:])
    assert_azure_shape(server, done)
    lines = read_all(server, token, done)
    want = ["f0001.txt"] if type_ == "UriFile" else names
    # A folder URL without its '/' is a folder: its files scored, not its HTML listing.
    assert lines == want, (case, lines)


def test_ga_output_data_and_settings(endpoint):
    server = endpoint
    names = numbered(5)
    for n in names:
        put_datastore_file(server, "workspaceblobstore", f"ga/in/{n}", n)
    token = endpoint_token(server)
    body = {"properties": {
        "InputData": {"heart_data": {"JobInputType": "UriFolder",
                                     "Uri": "azureml://datastores/workspaceblobstore/paths/ga/in"}},
        "OutputData": {"score": {"JobOutputType": "UriFolder",
                                 "Uri": ARM_WS + "/datastores/workspaceblobstore/paths/ga/out/run1"}},
        "outputFileName": "scores.csv", "miniBatchSize": 2,
        "retrySettings": {"maxRetries": 1, "timeout": "PT45S"}}}
    status, job = call("POST", with_api(scoring_uri(server)), token, body)
    assert status == 201, (status, job)
    assert (job["settings"]["mini_batch_size"], job["settings"]["max_retries"],
            job["settings"]["timeout_s"]) == (2, 1, 45), job
    done = follow(server, token, job["name"])
    assert done["properties"]["status"] == "Completed", done
    assert done["output"]["uri"] == "azureml://datastores/workspaceblobstore/paths/ga/out/run1/scores.csv"
    assert done["properties"]["outputs"]["score"]["uri"] == \
        "azureml://datastores/workspaceblobstore/paths/ga/out/run1/"
    assert done["progress"]["mini_batches"]["total"] == 3, done
    assert read_all(server, token, done) == names
    # The file is in the datastore where the Uri said.
    status, raw = server.http("GET", "/api/v1/datastores/workspaceblobstore/files/ga/out/run1/scores.csv")
    assert status == 200, (status, raw)


@pytest.mark.parametrize("output", [
    {"path": "azureml://datastores/workspaceblobstore/paths/cli/out"},
    {"datastore": "azureml:workspaceblobstore", "path": "azureml://datastores/workspaceblobstore/paths/cli/out"},
    {"uri": "azureml://datastores/workspaceblobstore/paths/cli/out"},
], ids=["path", "path-and-datastore", "uri"])
def test_output_path_as_a_datastore_uri_goes_into_the_datastore(endpoint, output):
    """`--output-path azureml://datastores/<ds>/paths/<p>` as the CLI sends it
    in lote's own body: written into that datastore path, never into a folder
    named 'azureml:'."""
    server = endpoint
    put_datastore_file(server, "workspaceblobstore", "in/a.txt", "a")
    body = {"input": {"uri": "azureml://datastores/workspaceblobstore/paths/in", "type": "uri_folder"},
            "output": output}
    status, job = server.http("POST", f"/api/v1/endpoints/{EP}/jobs?{API}", body)
    assert status == 201, (status, job)
    assert (job["output"]["datastore"], job["output"]["path"]) == ("workspaceblobstore", "cli/out"), job
    done = follow(server, server.admin_token, job["name"])
    assert done["status"] == "Completed", done
    local = done["output"]["local_path"]
    assert "azureml:" not in local, local
    status, raw = server.http("GET", "/api/v1/datastores/workspaceblobstore/files/cli/out/predictions.csv")
    assert status == 200 and raw is not None, (status, raw)
    for root, dirs, _ in os.walk(str(server.home)):
        assert not [d for d in dirs if d.startswith("azureml:")], (root, dirs)


def test_endpoint_token_reads_only_its_own_endpoints_jobs(server, workdir):
    create_endpoint(server, workdir, [deployment_spec(workdir, "dep-a", ECHO_SCORE)], name="ep-a")
    create_endpoint(server, workdir, [deployment_spec(workdir, "dep-b", ECHO_SCORE)], name="ep-b")
    put_datastore_file(server, "workspaceblobstore", "in/a.txt", "a")
    body = {"properties": {"InputData": {"in": {
        "JobInputType": "UriFolder", "Uri": "azureml://datastores/workspaceblobstore/paths/in"}}}}
    token_a, token_b = endpoint_token(server, "ep-a"), endpoint_token(server, "ep-b")
    status, job = call("POST", with_api(scoring_uri(server, "ep-a")), token_a, body)
    assert status == 201, job
    done = follow(server, token_a, job["name"])
    assert read_all(server, token_a, done) == ["a.txt"]
    base = f"{server.url}/api/v1/jobs/{job['name']}"
    # Another endpoint's token: answered exactly as for a job that does not exist.
    _, missing = call("GET", f"{server.url}/api/v1/jobs/no-such-job", token_b)
    for path in ("", "/log", "/files", "/files/predictions.csv", "/files/logs/job_result.txt"):
        status, reply = call("GET", base + path, token_b)
        assert status == 404, (path, status, reply)
        assert reply["error"]["message"] == f"job '{job['name']}' not found", reply
    assert missing["error"]["message"] == "job 'no-such-job' not found", missing
    # Not to list, cancel, or call the agent API, even for its own job.
    for method, path in (("GET", "/api/v1/jobs"), ("GET", "/api/v1/jobs?endpoint=ep-a"),
                         ("POST", f"/api/v1/jobs/{job['name']}/cancel"),
                         ("GET", f"/api/v1/jobs/{job['name']}/agent-config"),
                         ("GET", "/api/v1/endpoints/ep-a"),
                         ("DELETE", f"/api/v1/jobs/{job['name']}")):
        status, reply = call(method, server.url + path, token_a)
        assert status in (403, 405), (method, path, status, reply)
        assert status != 405 or method == "DELETE", (method, path, status)
    # The endpoint deleted and made again under the same name: the old token
    # is refused, and a new one does not read the old endpoint's jobs.
    status, reply = server.http("DELETE", "/api/v1/endpoints/ep-a")
    assert status in (200, 204), (status, reply)
    create_endpoint(server, workdir, [deployment_spec(workdir, "dep-a", ECHO_SCORE)], name="ep-a")
    status, reply = call("GET", base, token_a)
    assert status == 401, (status, reply)
    status, reply = call("GET", base, endpoint_token(server, "ep-a"))
    assert status == 404 and reply["error"]["message"] == f"job '{job['name']}' not found", reply
    # The admin still reads it.
    status, reply = server.http("GET", f"/api/v1/jobs/{job['name']}")
    assert status == 200 and reply["status"] == "Completed", reply


def test_api_version_is_accepted_on_every_route(endpoint):
    server = endpoint
    for path in ("/api/v1/health", f"/api/v1/endpoints/{EP}", "/api/v1/endpoints", "/api/v1/jobs",
                 "/api/v1/computes", "/api/v1/datastores"):
        for api in ("api-version=2022-05-01", "api-version=2023-10-01&$top=5", "api-version="):
            status, reply = server.http("GET", f"{path}?{api}")
            assert status == 200, (path, api, status, reply)
    status, reply = server.http("POST", f"/api/v1/endpoints/{EP}/token?{API}")
    assert status == 200 and reply["accessToken"], reply


GOOD_INPUT = {"JobInputType": "UriFolder", "Uri": "azureml://datastores/workspaceblobstore/paths/in"}

HOSTILE = [
    ({"properties": {"InputData": {"in": {"JobInputType": "MLTable", "Uri": "azureml:t:1"}}}},
     "properties.InputData.in.JobInputType", "'MLTable' is not supported"),
    ({"properties": {"InputData": {"in": {"JobInputType": "Literal", "Value": "append"}}}},
     "properties.InputData.in.JobInputType", "'Literal' is not supported"),
    ({"properties": {"inputData": {"in": {"jobInputType": ["UriFolder"], "uri": "https://h/x"}}}},
     "properties.inputData.in.jobInputType", "must be a string"),
    ({"properties": {"InputData": {"in": {"JobInputType": "UriFolder", "Uri": 12}}}},
     "properties.InputData.in.Uri", "must be a string"),
    ({"properties": {"InputData": {"in": {"JobInputType": "UriFolder"}}}},
     "properties.InputData.in.Uri", "has no Uri"),
    ({"properties": {"InputData": {"in": {"JobInputType": "UriFolder", "Uri": "file:///etc"}}}},
     "properties.InputData.in.Uri", "must be an http(s) URL"),
    ({"properties": {"InputData": {"in": {"JobInputType": "UriFile", "Uri": "https://h/dir/"}}}},
     "properties.InputData.in.Uri", "ends with '/'"),
    ({"properties": {"InputData": {"a": GOOD_INPUT, "b": GOOD_INPUT}}},
     "properties.InputData", "exactly one named input"),
    ({"properties": {"InputData": [GOOD_INPUT]}}, "properties.InputData", "exactly one named input"),
    ({"properties": {"InputData": {"in": GOOD_INPUT},
                     "OutputData": {"o": {"JobOutputType": "UriFolder", "Uri": "https://h/out"}}}},
     "properties.OutputData.o.Uri", "not a datastore path"),
    ({"properties": {"InputData": {"in": GOOD_INPUT},
                     "OutputData": {"o": {"JobOutputType": "MLFlowModel",
                                          "Uri": "azureml://datastores/workspaceblobstore/paths/o"}}}},
     "properties.OutputData.o.JobOutputType", "'MLFlowModel' is not supported"),
    ({"properties": {"InputData": {"in": GOOD_INPUT}, "miniBatchSize": "ten"}},
     "properties.miniBatchSize", "must be an integer"),
    ({"properties": {"InputData": {"in": GOOD_INPUT}, "retrySettings": {"timeout": "soon"}}},
     "properties.retrySettings.timeout", "ISO 8601"),
    ({"properties": "InputData"}, "properties", "must be an object"),
    ({"properties": {}}, "properties", "must hold 'InputData'"),
    ({"input": {"uri": "https://h/x", "type": "mltable"}}, "input.type", "is not supported"),
    ({"input": {"uri": "https://h/x"}, "output": {"uri": "https://h/out"}}, "output.uri",
     "must be azureml://datastores"),
]


def test_hostile_ga_bodies_are_400_naming_the_field(endpoint):
    server = endpoint
    put_datastore_file(server, "workspaceblobstore", "in/a.txt", "a")
    token = endpoint_token(server)
    uri = with_api(scoring_uri(server))
    for body, field, says in HOSTILE:
        status, reply = call("POST", uri, token, body)
        assert status == 400, (body, status, reply)
        assert reply["error"]["field"] == field, (body, reply)
        assert says in reply["error"]["message"], (body, reply)
    # Not JSON, and JSON nested past any sane depth: 400 too.
    for raw in (b"{\"properties\": ", b"[" * 100_000 + b"]" * 100_000):
        req = urllib.request.Request(uri, data=raw, method="POST",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=30)
        assert err.value.code == 400
    assert job_names(server) == []
