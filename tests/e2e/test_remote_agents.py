"""Agents that need only a URL and a token (docs/agent-api.md, "Access"):
with remote access an agent fetches the job's model, code and runner by
hash, each mini-batch's input items through the control plane, and ships
its logs back. Each test's agents run in a mount namespace in which the
server's home, every input and lote's python folder are hidden under empty
tmpfs mounts (remote_e2e.py), so a job that completes proves they were not
read from the server's disk."""

import csv
import hashlib
import io
import json
import os
import pathlib
import shutil
import subprocess

import pytest

from jobs_e2e import (PYTHON, create_endpoint, deployment_spec, error_logs, final_log, get_job_file,
                      invoke, make_files, mini_batch_report, output_text, wait_job, wait_until)
from lote_e2e import Server, api_error, create_compute
from remote_e2e import needs_unshare, remote_compute, start_remote_server

pytestmark = needs_unshare


@pytest.fixture
def remote(lote_bin, tmp_path):
    """(node, server): a server whose agents are remote nodes."""
    node, server = start_remote_server(lote_bin, tmp_path)
    remote_compute(server)
    yield node, server
    node.release()
    rc = server.stop()
    node.close()
    assert rc == 0, f"lote serve exited {rc!r} on SIGTERM; log:\n{server.log()}"


HELPER = "def tag(line, weight):\n    return f'{line}:{weight}'\n"

REMOTE_SCORE = """\
import glob
import os
import helper

def init():
    global WEIGHT
    home = os.environ["SERVER_HOME"]
    # This node sees nothing of the server's disk.
    assert not os.path.exists(home), f"the server's home {home} is visible"
    # As on Azure: the model is the one folder under AZUREML_MODEL_DIR.
    model_dir = glob.glob(os.environ["AZUREML_MODEL_DIR"] + "/*/")[0]
    WEIGHT = open(os.path.join(model_dir, "weights.txt")).read().strip()
    print("remote score ready, model in", model_dir, flush=True)

def run(mini_batch):
    rows = []
    for path in mini_batch:
        with open(path) as f:
            lines = f.read().splitlines()
        rows += [helper.tag(line, WEIGHT) for line in lines[1:] if line]
    return rows
"""


def rows_file(n, start=0):
    return "id\n" + "".join(f"r{i:05d}\n" for i in range(start, start + n))


def job_text(server, job, rel):
    text = get_job_file(server, job, rel)
    return text or ""


def test_score_py_job_with_remote_access_reads_nothing_of_the_servers_disk(remote, workdir, tmp_path):
    node, server = remote
    dep = deployment_spec(workdir, "dep1", REMOTE_SCORE, python=PYTHON, extra_code={"helper.py": HELPER},
                          mini_batch_size="256B", max_concurrency_per_instance=2,
                          environment_variables={"SERVER_HOME": server.home})
    create_endpoint(server, workdir, [dep])
    inputs = tmp_path / "in"
    make_files(inputs, ["a.csv", "b.csv", "c.csv"], lambda n, i: rows_file(3, 1000 * (i + 1)))
    (inputs / "big.csv").write_text(rows_file(300))

    job = invoke(server, "--input-local-path", inputs)["name"]
    done = wait_job(server, job)
    assert done["status"] == "Completed", json.dumps(done, indent=1)

    expected = [f"r{i:05d}:1.0" for i in range(300)]
    expected += [f"r{1000 * k + i:05d}:1.0" for k in (1, 2, 3) for i in range(3)]
    out = output_text(done).splitlines()
    assert sorted(out) == sorted(expected), "every input row exactly once"
    assert len(mini_batch_report(server, job)) > 4, "big.csv was cut into byte ranges"

    # The agent-config names no path of the server's disk.
    status, config = server.http("GET", f"/api/v1/jobs/{job}/agent-config")
    assert status == 200, config
    assert (config["access"], config["input_access"]) == ("remote", "remote")
    del config["settings"]["environment_variables"]  # SERVER_HOME: the test's own
    assert str(tmp_path) not in json.dumps(config)
    assert config["output_dir"] is None and config["log_dir"] is None
    assert set(config["artifacts"]) == {"model", "code", "runner"}
    assert config["artifacts"]["runner"]["entry"] == "lote_runner.py"

    # Logs were shipped into the job's logs folder, in the usual layout.
    wait_until(lambda: "remote score ready" in job_text(server, job, "logs/user/stdout/node0/process000.stdout.txt"),
               10, "the worker's stdout shipped")
    agent_log = job_text(server, job, "logs/sys/node/node0/agent.txt")
    assert "access remote (inputs remote)" in agent_log, agent_log
    assert "fetching the model" in agent_log and "fetching the runner" in agent_log
    assert "Completed" in final_log(server, job, "logs/job_result.txt")

    # The node cache holds the three trees; the agent's run folder is gone.
    assert len(os.listdir(node.cache / "trees")) == 3
    wait_until(lambda: os.listdir(node.cache / "runs") == [], 10, "the agent's run folder removed")

    # A second job reuses the cached trees: nothing is fetched again.
    blobs = node.blobs()
    job2 = invoke(server, "--input-local-path", inputs)["name"]
    assert wait_job(server, job2)["status"] == "Completed"
    assert node.blobs() == blobs
    agent_log = job_text(server, job2, "logs/sys/node/node0/agent.txt")
    assert "the model (sha256" in agent_log and "is in the node cache" in agent_log, agent_log
    assert "fetching the" not in agent_log


SKLEARN_TRAIN = r'''
import json, os, pickle, sys
import numpy as np, pandas as pd
from sklearn.linear_model import LinearRegression
out = sys.argv[1]
rng = np.random.default_rng(0)
X = pd.DataFrame({"fareAmount": rng.uniform(3, 50, 400), "tripDistance": rng.uniform(0.5, 15, 400)})
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
X.iloc[7:].to_csv(f"{out}/in/big.csv", index=False)
'''

NOCODE_ENDPOINT = ("name: skep\ntype: batch\ndeployments:\n  - name: autolog-deployment\n"
                   "    model: {name: autolog, version: 1, local_path: ./model}\n"
                   "    environment: {python: /usr/bin/python3}\n"
                   "    mini_batch_size: 2KB\n"
                   "    max_concurrency_per_instance: 2\n"
                   "    compute: {target: azureml:cpu-cluster}\n")


def have_sklearn():
    return subprocess.run([PYTHON, "-c", "import sklearn, pandas, yaml"], capture_output=True).returncode == 0


def score_nocode(server, src):
    server.cli("endpoint", "create", "--file", str(src / "ep.yml"))
    job = invoke(server, "--input-local-path", src / "in", endpoint="skep")["name"]
    done = wait_job(server, job)
    assert done["status"] == "Completed", json.dumps(done, indent=1)
    return job, output_text(done)


@pytest.mark.skipif(not have_sklearn(), reason="python3-sklearn is not installed")
def test_nocode_mlflow_model_with_remote_access_scores_as_a_local_agent_does(remote, lote_bin, tmp_path):
    node, server = remote
    src = tmp_path / "src"
    subprocess.run([PYTHON, "-c", SKLEARN_TRAIN, str(src)], check=True)
    (src / "ep.yml").write_text(NOCODE_ENDPOINT)
    job, remote_out = score_nocode(server, src)

    # The same job on a server whose agents read by path (direct access).
    direct = Server(lote_bin, tmp_path / "direct-home")
    try:
        create_compute(direct)
        _, direct_out = score_nocode(direct, src)
    finally:
        assert direct.stop() == 0
    assert remote_out == direct_out, "a remote agent's output is byte for byte a local agent's"
    rows = list(csv.reader(io.StringIO(remote_out)))
    assert rows[0] == ["file", "row", "prediction"]
    assert len(rows) == 1 + 400, "every input row exactly once"
    # big.csv was scored in byte ranges (the report below); its rows are
    # keyed by row number, as a whole file's are.
    assert [r[1] for r in rows if r[0] == "big.csv"] == [str(i) for i in range(393)]
    assert [r[:2] for r in rows[1:8]] == [["a.csv", str(i)] for i in range(7)]
    report = mini_batch_report(server, job)
    assert len(report) > 2 and all(r["status"] == "RUN_DONE" for r in report), report
    assert os.listdir(node.cache / "trees"), "the model and runner were fetched into the node cache"


def find_input(server, name):
    for root, _, files in os.walk(os.path.join(server.home, "datastores")):
        if name in files:
            return pathlib.Path(root) / name
    pytest.fail(f"{name} not found in the server's datastores")


def test_an_item_the_server_can_no_longer_read_fails_its_mini_batch_naming_it(remote, workdir, tmp_path):
    node, server = remote
    dep = deployment_spec(workdir, "dep1", REMOTE_SCORE, python=PYTHON, extra_code={"helper.py": HELPER},
                          mini_batch_size=1, retry_settings={"max_retries": 1, "timeout": 30},
                          environment_variables={"SERVER_HOME": server.home})
    create_endpoint(server, workdir, [dep])
    make_files(tmp_path / "in", ["a.csv", "b.csv", "c.csv"], lambda n, i: rows_file(2, 10 * i))
    node.hold()
    job = invoke(server, "--input-local-path", tmp_path / "in")["name"]
    wait_job(server, job, until=("Running",))
    node.token(job)  # its agent is started, and waiting
    find_input(server, "b.csv").unlink()
    node.release()

    done = wait_job(server, job)
    assert done["status"] == "Completed", json.dumps(done, indent=1)
    assert sorted(output_text(done).splitlines()) == ["r00000:1.0", "r00001:1.0", "r00020:1.0", "r00021:1.0"]
    report = mini_batch_report(server, job)
    failed = [r for r in report if r["status"] != "RUN_DONE"]
    assert len(failed) == 1, report
    assert failed[0]["status"] == "RUN_INPUT_ERROR", failed[0]
    assert "'b.csv'" in failed[0]["error"] and "no longer exists" in failed[0]["error"], failed[0]
    errors = wait_until(lambda: "RUN_INPUT_ERROR" in job_text(server, job, "logs/user/error/node0/process000.txt")
                        and job_text(server, job, "logs/user/error/node0/process000.txt"), 10,
                        "the failed attempts in the shipped error log")
    assert "'b.csv'" in errors, errors


def test_a_tampered_blob_is_refused(remote, workdir, tmp_path):
    node, server = remote
    dep = deployment_spec(workdir, "dep1", REMOTE_SCORE, python=PYTHON, extra_code={"helper.py": HELPER},
                          environment_variables={"SERVER_HOME": server.home})
    create_endpoint(server, workdir, [dep])
    make_files(tmp_path / "in", ["a.csv"], lambda n, i: rows_file(2))
    node.hold()
    job = invoke(server, "--input-local-path", tmp_path / "in")["name"]
    wait_job(server, job, until=("Running",))
    node.token(job)
    # Hashed when the job was planned; changed before any agent fetched it.
    score = pathlib.Path(server.home) / "jobs" / job / "code" / "score.py"
    original = score.read_bytes()
    tampered = original.replace(b"remote score ready", b"tampered code ran!")
    assert len(tampered) == len(original) and tampered != original
    score.write_bytes(tampered)
    node.release()

    done = wait_job(server, job)
    assert done["status"] == "Failed", json.dumps(done, indent=1)
    agent_log = wait_until(lambda: "refused" in job_text(server, job, "logs/sys/node/node0/agent.txt")
                           and job_text(server, job, "logs/sys/node/node0/agent.txt"), 10, "the agent's log")
    assert "refused 'score.py' of the code" in agent_log, agent_log
    assert hashlib.sha256(original).hexdigest() in agent_log, agent_log
    tampered = hashlib.sha256(tampered).hexdigest()
    assert f"sent {len(original)} bytes with sha256 {tampered}" in agent_log, agent_log
    assert tampered not in node.blobs() and hashlib.sha256(original).hexdigest() not in node.blobs()
    assert not (node.cache / "trees").exists() or len(os.listdir(node.cache / "trees")) <= 1, "no code tree"


def agent_get(server, path, token):
    return server.request("GET", path, token=token)


def test_agent_routes_serve_only_the_jobs_own_files_to_its_own_token(remote, workdir, tmp_path):
    node, server = remote
    dep = deployment_spec(workdir, "dep1", REMOTE_SCORE, python=PYTHON, extra_code={"helper.py": HELPER},
                          mini_batch_size=1, environment_variables={"SERVER_HOME": server.home})
    create_endpoint(server, workdir, [dep])
    make_files(tmp_path / "in", ["a.csv", "b.csv"], lambda n, i: rows_file(2, 10 * i))
    node.hold()
    job_a = invoke(server, "--input-local-path", tmp_path / "in")["name"]
    job_b = invoke(server, "--input-local-path", tmp_path / "in")["name"]
    for j in (job_a, job_b):
        wait_job(server, j, until=("Running",))
    token_a = node.token(job_a)

    status, _, manifest = agent_get(server, f"/api/v1/jobs/{job_a}/artifacts", token_a)
    assert status == 200, manifest
    assert [t["name"] for t in manifest["trees"]] == ["model", "code", "runner"]
    assert str(tmp_path) not in json.dumps(manifest)
    code = next(t for t in manifest["trees"] if t["name"] == "code")
    entry = next(f for f in code["files"] if f["path"] == "score.py")
    status, headers, body = server.request("GET", f"/api/v1/jobs/{job_a}/blobs/{entry['sha256']}", token=token_a)
    assert status == 200
    assert hashlib.sha256(body.encode()).hexdigest() == entry["sha256"]

    # A hash the manifest does not list, a malformed one, another job's.
    status, _, reply = agent_get(server, f"/api/v1/jobs/{job_a}/blobs/{'0' * 64}", token_a)
    assert status == 404 and "manifest" in api_error(reply)["message"]
    status, _, reply = agent_get(server, f"/api/v1/jobs/{job_a}/blobs/..%2F..%2Fadmin_token", token_a)
    assert status == 400, reply
    for path in (f"/api/v1/jobs/{job_b}/blobs/{entry['sha256']}", f"/api/v1/jobs/{job_b}/artifacts"):
        status, _, reply = agent_get(server, path, token_a)
        assert status == 403 and api_error(reply)["code"] == "PermissionDenied", (path, reply)

    # Items: only under the current lease of a task of this job.
    status, lease = server.http("POST", f"/api/v1/jobs/{job_a}/lease", {"worker": "node9/process000", "max": 1},
                                token=token_a)
    assert status == 200 and lease["tasks"], lease
    task = lease["tasks"][0]
    assert task["items"] == [{"name": "a.csv"}], "no path of the server's disk"
    items = f"/api/v1/jobs/{job_a}/tasks/{task['id']}/items"
    status, _, body = agent_get(server, f"{items}/0?lease={task['lease']}", token_a)
    assert (status, body) == (200, rows_file(2))
    status, _, reply = agent_get(server, f"{items}/0?lease=not-the-lease", token_a)
    assert status == 409, reply
    status, _, reply = agent_get(server, f"{items}/1?lease={task['lease']}", token_a)
    assert status == 404, reply
    status, _, reply = agent_get(server, f"/api/v1/jobs/{job_b}/tasks/{task['id']}/items/0?lease={task['lease']}",
                                 token_a)
    assert status == 403, reply
    assert server.http("POST", f"/api/v1/jobs/{job_a}/tasks/release",
                       {"worker": "node9/process000", "tasks": [{"id": task["id"], "lease": task["lease"]}]},
                       token=token_a) == (200, {"released": 1})

    # Node logs: appended at an offset, a repeat changes nothing, and only
    # relative paths in the agents' folders.
    log = f"/api/v1/jobs/{job_a}/node-logs/user/stdout/node9/process000.stdout.txt"
    for offset, data, size in ((0, "hello", 5), (0, "hello", 5), (3, "lo!!", 7)):
        status, reply = server.http("POST", f"{log}?offset={offset}", raw=data.encode(), token=token_a)
        assert (status, reply["size"]) == (200, size), reply
    status, reply = server.http("POST", f"{log}?offset=10", raw=b"gap", token=token_a)
    assert status == 409, reply
    assert get_job_file(server, job_a, "logs/user/stdout/node9/process000.stdout.txt") == "hello!!"
    assert server.http("GET", log, token=token_a) == (200, {"path": "user/stdout/node9/process000.stdout.txt",
                                                            "size": 7})
    for bad in ("lote_job.txt", "job_result.txt", "user/stdout/..%2F..%2F..%2Fx", "sys/job_report/x.csv",
                "user/stdout/node0/.%2Fx"):
        status, reply = server.http("POST", f"/api/v1/jobs/{job_a}/node-logs/{bad}?offset=0", raw=b"x",
                                    token=token_a)
        assert status == 400, (bad, reply)
    for j in (job_a, job_b):
        assert server.http("POST", f"/api/v1/jobs/{j}/cancel")[0] == 200


def test_a_native_plugin_with_remote_access(remote, lote_bin, tmp_path):
    node, server = remote
    from test_plugin import REPO as REPO_PATH, plugin_library
    example = REPO_PATH / "examples" / "plugin"
    work = tmp_path / "plugin"
    shutil.copytree(example / "model", work / "model")
    (work / "code").mkdir()
    shutil.copy(plugin_library(lote_bin), work / "code" / "libmyscorer.so")
    text = (example / "endpoint.yml").read_text().replace("local_path: ./           ", "local_path: ./code       ")
    (work / "endpoint.yml").write_text(text)
    server.cli("endpoint", "create", "--file", str(work / "endpoint.yml"))
    job = invoke(server, "--input-local-path", example / "data", endpoint="rowsumbatchedp")["name"]
    done = wait_job(server, job)
    assert done["status"] == "Completed", json.dumps(done, indent=1)
    rows = output_text(done).splitlines()
    assert rows[0] == "file,row,row_sum" and rows[1].startswith("trips.csv,0,")
    status, config = server.http("GET", f"/api/v1/jobs/{job}/agent-config")
    assert config["runtime"]["options"]["library"] == "libmyscorer.so", config["runtime"]
    assert config["artifacts"]["runner"] is None
    # broken.csv fails in whichever worker process scored it.
    wait_until(lambda: "broken.csv" in error_logs(server, job), 10, "the plugin's failed file in the shipped error logs")
