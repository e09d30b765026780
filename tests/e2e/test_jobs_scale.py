"""Batch jobs at a modest scale: 1,000 files on two nodes with two workers
each, in well under a minute, every item exactly once and in input order."""

import time

from jobs_e2e import (get_job_file, invoke, make_files, mini_batch_report, numbered,
                      output_lines, simple_endpoint, wait_job)

# Each mini-batch takes a little while, so that every worker of both nodes
# gets work (an instant run() lets the first ready worker take everything).
SCALE_SCORE = """\
import os
import time

def run(mini_batch):
    time.sleep(0.02)
    out = []
    for p in mini_batch:
        with open(p) as f:
            out.append(os.path.basename(p) + "," + f.read().strip())
    return out
"""


def test_thousand_files_two_nodes_two_workers(server, workdir, tmp_path):
    simple_endpoint(server, workdir, SCALE_SCORE, mini_batch_size=10, instance_count=2,
                    max_concurrency_per_instance=2)
    names = make_files(tmp_path / "in", numbered(1000), content=lambda n, i: f"{i * 7}\n")
    t0 = time.monotonic()
    job = invoke(server, "--input-local-path", tmp_path / "in")
    invoked = time.monotonic() - t0
    done = wait_job(server, job["name"], timeout=60)
    took = time.monotonic() - t0
    assert done["status"] == "Completed"
    assert done["progress"]["mini_batches"]["total"] == 100
    assert done["progress"]["mini_batches"]["succeeded"] == 100
    assert done["progress"]["items"] == {"succeeded": 1000, "failed": 0}
    assert output_lines(done) == [f"{n},{i * 7}" for i, n in enumerate(names)]
    report = mini_batch_report(server, done["name"])
    assert len(report) == 100 and all(r["attempts"] == "1" for r in report)
    workers = {r["worker"] for r in report}
    assert workers <= {"node0/process000", "node0/process001",
                       "node1/process000", "node1/process001"}
    assert len({w.split("/")[0] for w in workers}) == 2, workers
    assert took < 60, f"1,000 files took {took:.1f}s (invoke with upload {invoked:.1f}s)"
    print(f"1,000 files: invoke (upload) {invoked:.1f}s, total {took:.1f}s; "
          f"{get_job_file(server, done['name'], 'logs/job_progress_overview.txt')}")
