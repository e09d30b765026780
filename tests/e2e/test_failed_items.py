"""Failed items through the real server (docs/rest.md, "Failed items"): a
bad cell fails its row only, and GET /api/v1/jobs/{job}/failed-items names
its file, row, column and attempt, in the native worker and in the Python
runner's scikit-learn driver; a mini-batch that is retried and then commits
lists its bad rows once; hostile item errors in a result batch are refused
naming the field; a mini-batch that fails as a whole is listed with its file
and no row."""

import json
import subprocess

import pytest

from jobs_e2e import PYTHON, completed, needs_xgboost, wait_until
from lote_e2e import Server, api_error
from test_jobs_bytes import FEATURES, create_datastore, have_sklearn, models, nocode_endpoint, run  # noqa: F401


def failed_items(server, job, token=None, **query):
    q = "&".join(f"{k}={v}" for k, v in query.items())
    kw = {} if token is None else {"token": token}
    status, reply = server.http("GET", f"/api/v1/jobs/{job}/failed-items" + (f"?{q}" if q else ""), **kw)
    assert status == 200, reply
    return reply


def bad_csv(columns, n, bad):
    """n rows of numbers; bad = {row: column} cells that are not numbers."""
    lines = [",".join(columns)]
    for i in range(n):
        cells = [f"{1 + (i * 7 + j) % 20}.5" for j in range(len(columns))]
        if i in bad:
            cells[columns.index(bad[i])] = "abc"
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode()


def expect_two_bad_rows(server, job):
    reply = failed_items(server, job["name"])
    items = sorted(reply["failed_items"], key=lambda e: int(e["row"]))
    assert [(e["row"], e["column"]) for e in items] == [("3", "fareAmount"), ("7", "tripDistance")], reply
    for e in items:
        assert e["file"].endswith("a.csv"), e
        assert e["attempt"] == 1 and e["mini_batch"] >= 1, e
        assert "'abc'" in e["error"] and "a.csv: row " + e["row"] in e["error"], e
    assert job["progress"]["items"]["failed"] == 2


@needs_xgboost
def test_native_bad_rows_are_listed_with_row_and_column(server, workdir, tmp_path, models):  # noqa: F811
    endpoint = nocode_endpoint(server, workdir, models)
    (tmp_path / "store" / "in").mkdir(parents=True)
    (tmp_path / "store" / "in" / "a.csv").write_bytes(
        bad_csv(FEATURES, 12, {3: "fareAmount", 7: "tripDistance"}))
    create_datastore(server, "badstore", tmp_path / "store")
    job = completed(server, run(server, endpoint, "--input-datastore", "azureml:badstore", "--input-path", "in"))
    expect_two_bad_rows(server, job)


@pytest.mark.skipif(not have_sklearn(), reason="python3-sklearn is not installed")
def test_python_sklearn_bad_rows_are_listed_with_row_and_column(server, workdir, tmp_path):
    from test_nocode import SKLEARN_TRAIN
    subprocess.run([PYTHON, "-c", SKLEARN_TRAIN, str(tmp_path)], check=True)
    (workdir / "sk.yml").write_text(
        "name: skep\ntype: batch\ndeployments:\n  - name: dep1\n"
        f"    model: {{name: autolog, version: 1, local_path: {tmp_path / 'model'}}}\n"
        f"    environment: {{python: {PYTHON}}}\n"
        "    compute: {target: azureml:cpu-cluster}\n")
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "4")
    server.cli("endpoint", "create", "--file", str(workdir / "sk.yml"), cwd=workdir)
    (tmp_path / "store" / "in").mkdir(parents=True)
    (tmp_path / "store" / "in" / "a.csv").write_bytes(
        bad_csv(["fareAmount", "tripDistance"], 12, {3: "fareAmount", 7: "tripDistance"}))
    create_datastore(server, "badstore", tmp_path / "store")
    job = completed(server, run(server, "skep", "--input-datastore", "azureml:badstore", "--input-path", "in"))
    expect_two_bad_rows(server, job)


# An "agent" that records its token and runs nothing: the test is the agent.
IDLE_AGENT = """#!/bin/sh
job=""
prev=""
for a in "$@"; do
  [ "$prev" = "--job" ] && job="$a"
  prev="$a"
done
printf '%s' "$LOTE_TOKEN" > "{tokens}/$job.token"
exec sleep 300
"""


@pytest.fixture
def hand_agent(lote_bin, tmp_path):
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    wrapper = tmp_path / "idle-agent.sh"
    wrapper.write_text(IDLE_AGENT.format(tokens=tokens))
    wrapper.chmod(0o755)
    srv = Server(lote_bin, tmp_path / "home", env={"LOTE_AGENT_EXECUTABLE": str(wrapper)})
    yield srv, tokens
    assert srv.stop() == 0, srv.log()


def results_body(results, rows=b""):
    return json.dumps({"worker": "node0/process000", "results": results}).encode() + b"\n" + rows


def test_a_retried_mini_batch_lists_its_bad_rows_once(hand_agent, workdir, tmp_path):
    from jobs_e2e import invoke, make_files, simple_endpoint
    server, tokens = hand_agent
    simple_endpoint(server, workdir, mini_batch_size=1, retry_settings={"max_retries": 2, "timeout": 30})
    make_files(tmp_path / "in", ["a.csv", "b.csv"])
    job = invoke(server, "--input-local-path", tmp_path / "in")["name"]
    token_file = tokens / f"{job}.token"
    wait_until(lambda: token_file.exists() and token_file.read_text(), 20, "the agent starts")
    token = token_file.read_text()
    wait_until(lambda: server.http("GET", f"/api/v1/jobs/{job}")[1]["status"] == "Running", 20, "the job runs")

    def lease():
        status, reply = server.http("POST", f"/api/v1/jobs/{job}/lease",
                                    {"worker": "node0/process000", "max": 1}, token=token)
        assert status == 200 and len(reply["tasks"]) == 1, reply
        return reply["tasks"][0]

    def post(task, errors, rows=b"x,0\n"):
        return server.http("POST", f"/api/v1/jobs/{job}/tasks/results", token=token,
                           raw=results_body([{"task": task["id"], "lease": task["lease"], "succeeded": 1,
                                              "failed": len(errors), "bytes": len(rows),
                                              "item_errors": errors}], rows),
                           headers={"Content-Type": "application/x-lote-results"})

    bad = [{"item": "a.csv", "error": "a.csv: row 17 (line 19), column 'fare': 'abc' is not a number",
            "row": "17", "column": "fare"}]
    first = lease()
    # Hostile item errors: the whole batch is refused, naming the field.
    status, reply = post(first, [{"item": "a.csv", "error": "x" * (1 << 20)}])
    assert status == 400 and "results[0].item_errors[0].error is 1048576 bytes" in api_error(reply)["message"]
    status, reply = post(first, [{"item": "a.csv", "error": "e", "row": 17}])
    assert status == 400 and "results[0].item_errors[0].row must be a string" in api_error(reply)["message"]
    # Attempt 1 is reported lost; attempt 2 commits; attempt 1's late result is dropped.
    status, reply = server.http("POST", f"/api/v1/jobs/{job}/tasks/{first['id']}/fail", token=token,
                                body={"lease": first["lease"], "worker": "node0/process000",
                                      "outcome": "RUN_CRASH", "error": "worker died"})
    assert status == 200 and reply["status"] == "pending", reply
    second = lease()
    assert (second["id"], second["attempt"]) == (first["id"], 2)
    status, reply = post(second, bad)
    assert status == 200 and reply["accepted"] == [second["id"]], reply
    status, reply = post(first, bad)
    assert status == 200 and reply["accepted"] == [] and reply["dropped"][0]["task"] == first["id"], reply
    listed = failed_items(server, job)["failed_items"]
    assert listed == [{"mini_batch": first["id"], "attempt": 2, "file": "a.csv", "row": "17", "column": "fare",
                       "outcome": "ITEM_FAILED", "error": bad[0]["error"]}]

    # The other mini-batch fails as a whole: listed with its file, no row.
    other = lease()
    status, reply = server.http("POST", f"/api/v1/jobs/{job}/tasks/{other['id']}/fail", token=token,
                                body={"lease": other["lease"], "worker": "node0/process000",
                                      "outcome": "RUN_EXCEPTION", "error": "run() raised ValueError: no"})
    for _ in range(2):
        other = lease()
        status, reply = server.http("POST", f"/api/v1/jobs/{job}/tasks/{other['id']}/fail", token=token,
                                    body={"lease": other["lease"], "worker": "node0/process000",
                                          "outcome": "RUN_EXCEPTION", "error": "run() raised ValueError: no"})
    assert reply["status"] == "failed", reply
    listed = failed_items(server, job)["failed_items"]
    assert len(listed) == 2
    whole = listed[1]
    assert whole["mini_batch"] == other["id"] and whole["attempt"] == 3 and whole["row"] is None, whole
    assert whole["file"].endswith("b.csv") and "ValueError: no" in whole["error"], whole
    # An endpoint token reads its own jobs' failed items, as the job itself.
    ep_token = server.cli("endpoint", "get-token", "--name", "jobsedp", "--query", "accessToken",
                          "-o", "tsv").stdout.strip()
    assert failed_items(server, job, token=ep_token)["failed_items"] == listed
    # Paged by mini-batch.
    page = failed_items(server, job, limit=1)
    assert [e["mini_batch"] for e in page["failed_items"]] == [first["id"]] and page["more"]
    page = failed_items(server, job, after=page["next_after"], limit=1)
    assert [e["mini_batch"] for e in page["failed_items"]] == [other["id"]]


def test_a_page_of_failed_items_stays_bounded(hand_agent, workdir, tmp_path):
    """11 mini-batches of 100 bad rows each: the first page stops at 1,000
    entries (10 whole mini-batches), the next one holds the 11th."""
    from jobs_e2e import invoke, make_files, simple_endpoint
    server, tokens = hand_agent
    simple_endpoint(server, workdir, mini_batch_size=1)
    make_files(tmp_path / "in", [f"f{i:02}.csv" for i in range(11)])
    job = invoke(server, "--input-local-path", tmp_path / "in")["name"]
    token_file = tokens / f"{job}.token"
    wait_until(lambda: token_file.exists() and token_file.read_text(), 20, "the agent starts")
    token = token_file.read_text()
    wait_until(lambda: server.http("GET", f"/api/v1/jobs/{job}")[1]["status"] == "Running", 20, "the job runs")
    leased = []
    while len(leased) < 11:
        status, reply = server.http("POST", f"/api/v1/jobs/{job}/lease",
                                    {"worker": "node0/process000", "max": 64}, token=token)
        assert status == 200, reply
        leased += reply["tasks"]
    errors = [{"item": "f.csv", "error": f"row {r} is bad", "row": str(r)} for r in range(100)]
    body = results_body([{"task": t["id"], "lease": t["lease"], "failed": 100, "bytes": 0, "item_errors": errors}
                         for t in leased])
    status, reply = server.http("POST", f"/api/v1/jobs/{job}/tasks/results", token=token, raw=body,
                                headers={"Content-Type": "application/x-lote-results"})
    assert status == 200 and len(reply["accepted"]) == 11, reply
    first = failed_items(server, job, limit=1000)
    assert len(first["failed_items"]) == 1000 and first["more"], len(first["failed_items"])
    ids = sorted(t["id"] for t in leased)
    assert first["next_after"] == ids[9]
    second = failed_items(server, job, after=first["next_after"], limit=1000)
    assert len(second["failed_items"]) == 100 and not second["more"]
    assert {e["mini_batch"] for e in second["failed_items"]} == {ids[10]}
