"""Batch jobs: what a scoring script sees (DESIGN.md "Model runtimes", Azure's
environment variables), the job's own copy of the code, several jobs at once,
and large CSV files cut into byte ranges."""

import json
import os

from jobs_e2e import (DEP, TERMINAL, completed, create_endpoint, deployment_spec, error_logs,
                      get_job, invoke, make_files, numbered, output_lines, run_job,
                      simple_endpoint, wait_job, wait_until)

ENV_SCORE = """\
import json, os, sys

def init():
    global seen
    seen = {
        "model_files": sorted(os.listdir(os.environ["AZUREML_MODEL_DIR"])),
        "output_path": os.environ["AZUREML_BI_OUTPUT_PATH"],
        "flag": os.environ.get("MY_FLAG"),
        "threads": os.environ.get("OMP_NUM_THREADS"),
        "token_visible": "LOTE_TOKEN" in os.environ,
        "protocol_fds_visible": any(k.startswith("LOTE_PROTOCOL") for k in os.environ),
        "cwd_has_score": os.path.exists("score.py"),
        "helper": __import__("helper").VALUE,
    }

def run(mini_batch):
    return [json.dumps(seen, sort_keys=True)]
"""


def test_script_environment(server, workdir, tmp_path):
    simple_endpoint(server, workdir, ENV_SCORE, extra_code={"helper.py": "VALUE = 'sibling'\n"},
                    environment_variables={"MY_FLAG": "on", "OMP_NUM_THREADS": "1"})
    make_files(tmp_path / "in", ["a.txt"])
    done = completed(server, run_job(server, "--input-local-path", tmp_path / "in"))
    [line] = output_lines(done)
    seen = json.loads(line)
    out_dir = os.path.dirname(done["output"]["local_path"])
    assert seen == {
        "model_files": ["model-dep1"],  # as Azure: the folder the model was registered from
        "output_path": out_dir,
        "flag": "on",
        "threads": "1",
        "token_visible": False,       # the agent's credential is not the script's
        "protocol_fds_visible": False,
        "cwd_has_score": True,        # run from the code folder
        "helper": "sibling",          # score.py imports its siblings
    }


WRITER_SCORE = """\
import os

def run(mini_batch):
    # Azure: a script may write files of its own into the job's output folder.
    out = os.environ["AZUREML_BI_OUTPUT_PATH"]
    for p in mini_batch:
        with open(os.path.join(out, "extra-" + os.path.basename(p)), "w") as f:
            f.write("mine\\n")
    return [os.path.basename(p) for p in mini_batch]
"""


def test_script_may_write_its_own_files_into_the_output_folder(server, workdir, tmp_path):
    simple_endpoint(server, workdir, WRITER_SCORE,
                    retry_settings={"max_retries": 0, "timeout": 30})
    make_files(tmp_path / "in", ["a.txt", "b.txt"])
    done = run_job(server, "--input-local-path", tmp_path / "in", until=TERMINAL)
    assert done["status"] == "Completed", error_logs(server, done["name"])
    out_dir = os.path.dirname(done["output"]["local_path"])
    assert sorted(os.listdir(out_dir)) == ["extra-a.txt", "extra-b.txt", "predictions.csv"]


V2_SCORE = """\
import os

def run(mini_batch):
    return ["v2:" + os.path.basename(p) for p in mini_batch]
"""

SLOW_V1_SCORE = """\
import os, time

def run(mini_batch):
    time.sleep(0.3)
    return ["v1:" + os.path.basename(p) for p in mini_batch]
"""


def test_running_job_keeps_its_code_when_the_deployment_changes(server, workdir, tmp_path):
    simple_endpoint(server, workdir, SLOW_V1_SCORE, mini_batch_size=1)
    names = make_files(tmp_path / "in", numbered(8))
    job = invoke(server, "--input-local-path", tmp_path / "in")
    wait_until(lambda: get_job(server, job["name"])["progress"]["mini_batches"]["succeeded"] >= 1,
               30, "the first mini-batch")
    # Replace the deployment's code while the job runs.
    spec = deployment_spec(workdir / "v2", DEP, V2_SCORE)
    spec["model"] = "azureml:model-dep1:1"
    spec["code_configuration"]["code"]["local_path"] = str(workdir / "v2" / f"code-{DEP}")
    path = workdir / "v2.yml"
    path.write_text(json.dumps(spec))
    server.cli("endpoint", "update", "--name", "jobsedp", "--deployment-file", path, cwd=workdir)
    done = completed(server, wait_job(server, job["name"]))
    assert output_lines(done) == [f"v1:{n}" for n in names]
    # A new job runs the new code.
    again = completed(server, run_job(server, "--input-local-path", tmp_path / "in"))
    assert output_lines(again) == [f"v2:{n}" for n in names]


def test_several_jobs_at_once(server, workdir, tmp_path):
    simple_endpoint(server, workdir, SLOW_V1_SCORE, mini_batch_size=2)
    create_endpoint(server, workdir, [deployment_spec(workdir, "fast", V2_SCORE)], name="fastedp")
    inputs = []
    for k in range(3):
        inputs.append(make_files(tmp_path / f"in{k}", numbered(4, prefix=f"j{k}-")))
    jobs = [invoke(server, "--input-local-path", tmp_path / f"in{k}") for k in range(3)]
    jobs.append(invoke(server, "--input-local-path", tmp_path / "in0", endpoint="fastedp"))
    assert len({j["name"] for j in jobs}) == 4
    for k, job in enumerate(jobs[:3]):
        done = completed(server, wait_job(server, job["name"]))
        assert output_lines(done) == [f"v1:{n}" for n in inputs[k]]
    done = completed(server, wait_job(server, jobs[3]["name"]))
    assert output_lines(done) == [f"v2:{n}" for n in inputs[0]]


RANGE_SCORE = """\
import os

def run(mini_batch):
    out = []
    for p in mini_batch:
        with open(p) as f:
            lines = f.read().splitlines()
        assert lines[0] == "id,value", lines[:1]   # a CSV range carries the header
        out += [line.split(",")[0] for line in lines[1:]]
    return out
"""


def test_large_csv_cut_into_byte_ranges_is_scored_exactly_once(server, workdir, tmp_path):
    simple_endpoint(server, workdir, RANGE_SCORE, max_concurrency_per_instance=2)
    make_files(tmp_path / "in", ["big.csv"],
               content=lambda n, i: "id,value\n" + "".join(f"{k},{k * k}\n" for k in range(300)))
    done = completed(server, run_job(server, "--input-local-path", tmp_path / "in",
                                     "--mini-batch-size", "1KB"))
    assert done["progress"]["mini_batches"]["total"] == 3
    assert output_lines(done) == [str(k) for k in range(300)]
