"""The agent API's batched results and hand-back (docs/agent-api.md) over real
HTTP: a malformed batch is refused whole with the result and field named, a
result on a lease that is not current is dropped while the job goes on, and
handing back a lease nobody holds changes nothing. (The agent's side of
batching and hand-back is tested in tests/unit/agent_test.cc.)"""

import json

from jobs_e2e import (completed, invoke, make_files, mini_batch_report, numbered, output_lines,
                      simple_endpoint, sleepy_echo, wait_job, wait_until)
from lote_e2e import api_error


def batch(results, rows=b""):
    meta = json.dumps({"worker": "node9/process000", "results": results}).encode()
    return meta + b"\n" + rows


def post_results(server, job, body):
    return server.http("POST", f"/api/v1/jobs/{job}/tasks/results", raw=body,
                       headers={"Content-Type": "application/x-lote-results"})


def test_batches_that_do_not_add_up_are_refused_and_stale_leases_dropped(server, workdir, tmp_path):
    simple_endpoint(server, workdir, sleepy_echo(1.0), mini_batch_size=1,
                    max_concurrency_per_instance=1)
    make_files(tmp_path / "in", numbered(3))
    job = invoke(server, "--input-local-path", tmp_path / "in")["name"]
    wait_until(lambda: server.http("GET", f"/api/v1/jobs/{job}")[1]["status"] == "Running",
               10, "the job runs")

    status, parsed = post_results(server, job, batch([{"task": 1, "lease": "x", "bytes": 3}],
                                                     b"a,1\n"))
    assert status == 400
    assert "the rows are 4 bytes, the metadata's byte counts add up to 3" in api_error(parsed)["message"]
    status, parsed = post_results(server, job, batch([{"task": 1, "bytes": 0}]))
    assert status == 400
    assert "results[0].lease" in api_error(parsed)["message"]
    status, parsed = post_results(server, job, b"no metadata line")
    assert status == 400

    # A forged answer for mini-batch 1 under a lease nobody holds: dropped,
    # and the real worker's rows are the ones in the output.
    status, parsed = post_results(server, job, batch(
        [{"task": 1, "lease": "not-the-lease", "succeeded": 1, "bytes": 7}], b"forged\n"))
    assert status == 200, parsed
    assert parsed["accepted"] == []
    assert parsed["dropped"][0]["task"] == 1
    status, parsed = server.http("POST", f"/api/v1/jobs/{job}/tasks/release",
                                 {"worker": "node9/process000", "tasks": [{"id": 2, "lease": "nope"}]})
    assert (status, parsed) == (200, {"released": 0})

    done = completed(server, wait_job(server, job))
    assert output_lines(done) == numbered(3)
    assert all(r["attempts"] == "1" for r in mini_batch_report(server, job))
