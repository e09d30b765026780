"""Batch jobs: per-job overrides of the deployment's settings at invoke
(`--mini-batch-size`, `--instance-count`, `--set k=v`), their effect, and the
overrides refused before any job exists."""

import json
import math

import pytest

from jobs_e2e import (DEP, EP, completed, get_job_file, invoke_refused, job_files, job_log,
                      job_names, make_files, mini_batch_report, numbered, output_lines, run_job,
                      simple_endpoint)
from lote_e2e import EXIT_INVALID, EXIT_NOT_FOUND

SLOW_ECHO = """\
import os, time

def run(mini_batch):
    time.sleep(0.2)
    print("scored", len(mini_batch), flush=True)
    return [os.path.basename(p) for p in mini_batch]
"""


@pytest.mark.parametrize("files,size", [(10, 3), (9, 3), (1, 3), (7, 1)])
def test_mini_batch_size_override(server, workdir, tmp_path, files, size):
    simple_endpoint(server, workdir, mini_batch_size=10)
    names = make_files(tmp_path / "in", numbered(files))
    done = completed(server, run_job(server, "--input-local-path", tmp_path / "in",
                                     "--mini-batch-size", str(size)))
    total = math.ceil(files / size)
    assert done["settings"]["mini_batch_size"] == size
    assert done["progress"]["mini_batches"] == {
        "total": total, "succeeded": total, "failed": 0, "retried": 0, "running": 0,
        "pending": 0, "canceled": 0, "not_run": 0}
    report = mini_batch_report(server, done["name"])
    assert [int(r["items"]) for r in report] == \
        [min(size, files - i * size) for i in range(total)]
    assert all(r["status"] == "RUN_DONE" and r["attempts"] == "1" for r in report), report
    assert output_lines(done) == names
    # The deployment itself is unchanged.
    dep = server.cli_json("endpoint", "show", "--name", EP)["deployments"][0]
    assert dep["mini_batch_size"] == 10


def test_mini_batch_size_in_bytes_groups_small_files(server, workdir, tmp_path):
    simple_endpoint(server, workdir)
    names = make_files(tmp_path / "in", numbered(10), content=lambda n, i: "x" * 299 + "\n")
    done = completed(server, run_job(server, "--input-local-path", tmp_path / "in",
                                     "--mini-batch-size", "1KB"))
    # 300-byte files, up to 1024 bytes per mini-batch: 3 + 3 + 3 + 1.
    assert done["progress"]["mini_batches"]["total"] == 4
    assert [int(r["items"]) for r in mini_batch_report(server, done["name"])] == [3, 3, 3, 1]
    assert output_lines(done) == names


def test_instance_count_override_runs_two_nodes(server, workdir, tmp_path):
    simple_endpoint(server, workdir, SLOW_ECHO, mini_batch_size=1)
    names = make_files(tmp_path / "in", numbered(8))
    done = completed(server, run_job(server, "--input-local-path", tmp_path / "in",
                                     "--instance-count", "2"))
    assert done["settings"]["instance_count"] == 2
    logs = job_files(server, done["name"])["logs"]
    for node in ("node0", "node1"):
        assert f"logs/user/stdout/{node}/process000.stdout.txt" in logs, logs
        assert f"logs/sys/node/{node}/agent.txt" in logs, logs
    assert not any("node2" in f for f in logs)
    workers = {r["worker"] for r in mini_batch_report(server, done["name"])}
    assert workers == {"node0/process000", "node1/process000"}, workers
    printed = [get_job_file(server, done["name"],
                            f"logs/user/stdout/{node}/process000.stdout.txt")
               for node in ("node0", "node1")]
    assert all("scored 1" in text for text in printed), printed  # both nodes worked
    assert sum(text.count("scored 1") for text in printed) == 8
    assert output_lines(done) == names


def test_set_overrides_reach_the_job(server, workdir, tmp_path):
    simple_endpoint(server, workdir, SLOW_ECHO, mini_batch_size=1)
    names = make_files(tmp_path / "in", numbered(6))
    done = completed(server, run_job(
        server, "--input-local-path", tmp_path / "in",
        "--set", "retry_settings.max_retries=0", "--set", "retry_settings.timeout=2",
        "--set", "error_threshold=0", "--set", "logging_level=debug",
        "--set", "max_concurrency_per_instance=2"))
    s = done["settings"]
    assert (s["max_retries"], s["timeout_s"], s["error_threshold"], s["logging_level"],
            s["max_concurrency_per_instance"]) == (0, 2, 0, "debug", 2)
    assert output_lines(done) == names
    # Two worker processes on the one node.
    logs = job_files(server, done["name"])["logs"]
    assert "logs/user/stdout/node0/process000.stdout.txt" in logs
    assert "logs/user/stdout/node0/process001.stdout.txt" in logs
    assert {r["worker"] for r in mini_batch_report(server, done["name"])} == \
        {"node0/process000", "node0/process001"}
    # logging_level debug: every mini-batch's completion is in the job log.
    log = job_log(server, done["name"])
    for task in range(1, 7):
        assert f"mini-batch {task} done by node0/process00" in log, log
    agent = get_job_file(server, done["name"], "logs/sys/node/node0/agent.txt")
    assert "DEBUG" in agent
    # The deployment keeps its own settings.
    dep = server.cli_json("endpoint", "show", "--name", EP)["deployments"][0]
    assert dep["name"] == DEP
    assert dep["retry_settings"] == {"max_retries": 3, "timeout": 30}
    assert (dep["error_threshold"], dep["logging_level"], dep["max_concurrency_per_instance"]) \
        == (-1, "info", 1)


def test_info_logging_level_keeps_the_job_log_short(server, workdir, tmp_path):
    simple_endpoint(server, workdir, mini_batch_size=1)
    make_files(tmp_path / "in", numbered(3))
    done = completed(server, run_job(server, "--input-local-path", tmp_path / "in"))
    assert "done by" not in job_log(server, done["name"])


INVALID = [
    (["--mini-batch-size", "0"], "mini_batch_size"),
    (["--mini-batch-size", "-3"], "mini_batch_size"),
    (["--mini-batch-size", "12 parsecs"], "mini_batch_size"),
    (["--instance-count", "5"], "max_instances"),
    (["--instance-count", "0"], "instance_count"),
    (["--set", "instance_count=9"], "max_instances"),
    (["--set", "unknown_key=1"], "unknown_key"),
    (["--set", "model=azureml:other:1"], "cannot be overridden"),
    (["--set", "retry_settings.timeout=0"], "timeout"),
    (["--set", "retry_settings.max_retries=-1"], "max_retries"),
    (["--set", "error_threshold=-2"], "error_threshold"),
    (["--set", "logging_level=loud"], "logging_level"),
    (["--set", "max_concurrency_per_instance=0"], "max_concurrency_per_instance"),
    (["--set", "output_action=overwrite"], "output_action"),
    (["--set", "output_file_name=../escape.csv"], "output_file_name"),
    (["--set", "no-equals-sign"], "key=value"),
    (["--output-path", "../elsewhere"], ".."),
    (["--output-datastore", "azureml:nosuchstore"], "nosuchstore", EXIT_NOT_FOUND),
]


def test_invalid_overrides_are_refused_at_invoke(server, workdir, tmp_path):
    simple_endpoint(server, workdir)  # compute cpu-cluster: max_instances 4
    make_files(tmp_path / "in", numbered(2))
    failures = []
    for args, needle, *code in INVALID:
        proc = invoke_refused(server, "--input-local-path", tmp_path / "in", *args)
        if proc.returncode != (code or [EXIT_INVALID])[0] or needle not in proc.stderr:
            failures.append((args, proc.returncode, proc.stderr.strip()))
    assert not failures, json.dumps(failures, indent=1)
    assert job_names(server) == []
