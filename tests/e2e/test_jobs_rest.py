"""Batch jobs over REST, the way Azure's users invoke: POST <scoring_uri> with
an endpoint token and Azure's 2020-09 or 2022 bodies (docs/rest.md,
REFERENCE.md "REST invoke"), and the choice of deployment."""

import json
import urllib.error
import urllib.request

import pytest

from jobs_e2e import (DEP, ECHO_SCORE, EP, completed, create_endpoint, deployment_spec,
                      get_job, job_names, make_files, numbered, output_lines,
                      put_datastore_file, simple_endpoint, wait_job)
from lote_e2e import EXIT_PRECONDITION

B_SCORE = """\
import os

def run(mini_batch):
    return ["B:" + os.path.basename(p) for p in mini_batch]
"""


def token_and_uri(server, endpoint=EP):
    token = server.cli("endpoint", "get-token", "--name", endpoint).stdout.strip()
    uri = server.cli("endpoint", "show", "--name", endpoint, "--query", "scoring_uri",
                     "-o", "tsv").stdout.strip()
    assert uri == f"{server.url}/api/v1/endpoints/{endpoint}/jobs"
    return token, uri


def post(uri, token, body, headers=None):
    """POST like curl: returns (status, parsed JSON reply)."""
    req = urllib.request.Request(uri, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/json",
                                          **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def accepted(server, status, reply):
    assert status in (200, 201, 202), (status, reply)
    assert isinstance(reply.get("name"), str) and reply["name"], reply
    assert reply["status"] in ("NotStarted", "Preparing", "Running", "Completed"), reply
    assert reply["interactionEndpoints"]["Studio"]["endpoint"].startswith("http"), reply
    assert reply["name"] in reply["interactionEndpoints"]["Studio"]["endpoint"]
    return reply


@pytest.fixture
def endpoint(server, workdir):
    simple_endpoint(server, workdir)
    return server


def test_invoke_2020_dataurl_with_an_endpoint_token(endpoint, file_server):
    server = endpoint
    make_files(file_server.root, ["x.csv"], content=lambda n, i: "a,b\n1,2\n")
    token, uri = token_and_uri(server)
    body = {"properties": {"dataset": {"dataInputType": "DataUrl",
                                       "Path": f"{file_server.url}/x.csv"}}}
    job = accepted(server, *post(uri, token, body))
    done = completed(server, wait_job(server, job["name"]))
    assert done["input"]["description"] == f"{file_server.url}/x.csv"
    assert output_lines(done) == ["x.csv"]
    # The endpoint token may read the job it started (tests/e2e/test_rest_ga.py
    # has the rest), not list or cancel jobs.
    status, reply = server.http("GET", f"/api/v1/jobs/{job['name']}", token=token)
    assert status == 200 and reply["properties"]["status"] == "Completed", reply
    status, _ = server.http("POST", f"/api/v1/jobs/{job['name']}/cancel", token=token)
    assert status == 403
    status, _ = server.http("GET", "/api/v1/jobs", token=token)
    assert status == 403


def test_invoke_2020_with_output_dataset_and_file_name(endpoint, file_server):
    server = endpoint
    names = make_files(f"{file_server.root}/folder", numbered(3))
    token, uri = token_and_uri(server)
    body = {"properties": {
        "dataset": {"dataInputType": "DataUrl", "Path": f"{file_server.url}/folder/"},
        "outputDataset": {
            "datastoreId": "/subscriptions/x/resourceGroups/y/providers/"
                           "Microsoft.MachineLearningServices/workspaces/z/datastores/"
                           "workspaceblobstore",
            "path": "rest-outputs/run1"},
        "outputFileName": "scores.csv"}}
    job = accepted(server, *post(uri, token, body))
    done = completed(server, wait_job(server, job["name"]))
    assert done["output"]["uri"] == \
        "azureml://datastores/workspaceblobstore/paths/rest-outputs/run1/scores.csv"
    assert output_lines(done) == names


def test_invoke_2020_dataset_version(endpoint, tmp_path):
    server = endpoint
    names = make_files(tmp_path / "asset", numbered(4, prefix="v"))
    server.cli_json("data", "create", "--name", "restdata", "--version", "2",
                    "--path", tmp_path / "asset")
    token, uri = token_and_uri(server)
    body = {"properties": {"dataset": {"dataInputType": "DatasetVersion",
                                       "datasetName": "restdata", "datasetVersion": "2"}}}
    job = accepted(server, *post(uri, token, body))
    assert job["input"]["description"] == "azureml:restdata:2"
    done = completed(server, wait_job(server, job["name"]))
    assert output_lines(done) == names
    # An unknown version is refused, and creates no job.
    body["properties"]["dataset"]["datasetVersion"] = "9"
    status, reply = post(uri, token, body)
    assert status == 404 and "restdata" in reply["error"]["message"], reply
    assert job_names(server) == [job["name"]]


def test_invoke_2022_input_and_output_data(endpoint):
    server = endpoint
    names = numbered(3, prefix="g")
    for n in names:
        put_datastore_file(server, "workspaceblobstore", f"inputs/2022/{n}", n)
    token, uri = token_and_uri(server)
    body = {"properties": {
        "InputData": {"heart_dataset": {
            "JobInputType": "UriFolder",
            "Uri": "azureml://datastores/workspaceblobstore/paths/inputs/2022"}},
        "OutputData": {"score": {
            "JobOutputType": "UriFile",
            "Uri": "azureml://datastores/workspaceblobstore/paths/outputs/2022/scores.csv"}}}}
    job = accepted(server, *post(uri, token, body))
    done = completed(server, wait_job(server, job["name"]))
    assert done["input"]["description"] == \
        "azureml://datastores/workspaceblobstore/paths/inputs/2022"
    assert (done["output"]["path"], done["output"]["file_name"]) == ("outputs/2022", "scores.csv")
    assert output_lines(done) == names
    # The same output again: Output already exists (409), no job.
    status, reply = post(uri, token, body)
    assert status == 409 and "Output already exists" in reply["error"]["message"], reply
    assert len(job_names(server)) == 1


def test_invoke_2022_uri_folder_output(endpoint):
    server = endpoint
    put_datastore_file(server, "workspaceblobstore", "inputs/one/a.txt", "a")
    token, uri = token_and_uri(server)
    body = {"properties": {
        "InputData": {"in": {"JobInputType": "UriFolder",
                             "Uri": "azureml://datastores/workspaceblobstore/paths/inputs/one"}},
        "OutputData": {"out": {"JobOutputType": "UriFolder",
                               "Uri": "azureml://datastores/workspaceblobstore/paths/outs/f"}}}}
    done = completed(server, wait_job(server, accepted(server, *post(uri, token, body))["name"]))
    assert done["output"]["uri"] == \
        "azureml://datastores/workspaceblobstore/paths/outs/f/predictions.csv"


def test_invoke_refusals_over_rest(endpoint, file_server):
    server = endpoint
    token, uri = token_and_uri(server)
    cases = [
        ({"properties": {"dataset": {"dataInputType": "DataUrl",
                                     "Path": f"{file_server.url}/missing.csv"}}}, 404),
        ({"properties": {"InputData": {"in": {
            "JobInputType": "UriFolder",
            "Uri": "azureml://datastores/workspaceblobstore/paths/not/there"}}}}, 404),
        ({"properties": {"dataset": {"dataInputType": "Telepathy"}}}, 400),
        ({"properties": {}}, 400),
        ({"input": {"datastore": "workspaceblobstore", "path": "../../etc"}}, 400),
    ]
    for body, want in cases:
        status, reply = post(uri, token, body)
        assert status == want, (body, status, reply)
        assert reply["error"]["message"], reply
    assert job_names(server) == []


def two_deployments(server, workdir, traffic):
    create_endpoint(server, workdir, [deployment_spec(workdir, DEP, ECHO_SCORE),
                                      deployment_spec(workdir, "dep-b", B_SCORE)],
                    traffic=traffic)


def test_model_deployment_header_picks_a_deployment(server, workdir, tmp_path):
    two_deployments(server, workdir, {DEP: 100, "dep-b": 0})
    names = numbered(2)
    for n in names:
        put_datastore_file(server, "workspaceblobstore", f"in/{n}", n)
    token, uri = token_and_uri(server)
    body = {"properties": {"InputData": {"in": {
        "JobInputType": "UriFolder", "Uri": "azureml://datastores/workspaceblobstore/paths/in"}}}}
    default = accepted(server, *post(uri, token, body))
    assert default["deployment"] == DEP
    picked = accepted(server, *post(uri, token, body, {"azureml-model-deployment": "dep-b"}))
    assert picked["deployment"] == "dep-b"
    assert output_lines(completed(server, wait_job(server, default["name"]))) == names
    done_b = completed(server, wait_job(server, picked["name"]))
    assert server.cli_json("job", "show", "--name", picked["name"])["deployment"] == "dep-b"
    assert output_lines(done_b) == [f"B:{n}" for n in names]
    # The CLI's --deployment-name does the same.
    make_files(tmp_path / "in", names)
    job = server.cli_json("endpoint", "invoke", "--name", EP, "--input-local-path",
                          tmp_path / "in", "--deployment-name", "dep-b")
    assert output_lines(completed(server, wait_job(server, job["name"]))) == \
        [f"B:{n}" for n in names]
    # An unknown deployment is refused.
    status, reply = post(uri, token, body, {"azureml-model-deployment": "nope"})
    assert status == 404 and "nope" in reply["error"]["message"], reply


def test_endpoint_without_a_live_deployment_refuses_invoke(server, workdir, tmp_path):
    two_deployments(server, workdir, {DEP: 0, "dep-b": 0})
    ep = server.cli_json("endpoint", "show", "--name", EP)
    assert "deployment_name" not in ep.get("defaults", {}), ep
    make_files(tmp_path / "in", numbered(1))
    proc = server.cli("endpoint", "invoke", "--name", EP, "--input-local-path", tmp_path / "in",
                      check=False)
    assert proc.returncode == EXIT_PRECONDITION, proc.stderr
    assert "no deployment with traffic 100" in proc.stderr
    token, uri = token_and_uri(server)
    put_datastore_file(server, "workspaceblobstore", "in/a.txt", "a")
    body = {"properties": {"InputData": {"in": {
        "JobInputType": "UriFolder", "Uri": "azureml://datastores/workspaceblobstore/paths/in"}}}}
    status, reply = post(uri, token, body)
    assert status == 409 and "no deployment with traffic 100" in reply["error"]["message"]
    assert job_names(server) == []
    # Naming a deployment still works.
    status, reply = post(uri, token, body, {"azureml-model-deployment": "dep-b"})
    job = accepted(server, status, reply)
    assert get_job(server, job["name"])["deployment"] == "dep-b"
    completed(server, wait_job(server, job["name"]))
