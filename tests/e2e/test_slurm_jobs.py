"""Jobs whose agents run as Slurm batch jobs (compute type slurm) on the
local two-node cluster of scripts/slurm-local: real sbatch, squeue, scancel,
real agents on node1 and node2. Skipped where Slurm is not installed or the
tests do not run as root (see slurm_local.py)."""

import csv
import io
import json
import os
import subprocess
import time

import pytest

from jobs_e2e import (DEP, EP, ECHO_SCORE, PYTHON, completed, create_endpoint, deployment_spec, describe,
                      get_job_file, invoke, make_files, numbered, output_text, sleepy_echo, wait_job,
                      wait_until)
from lote_e2e import EXIT_INVALID, Server
from remote_e2e import RemoteNode, can_unshare_mounts
from slurm_local import ACTIVE_STATES
from test_remote_agents import HELPER, NOCODE_ENDPOINT, REMOTE_SCORE, SKLEARN_TRAIN, have_sklearn, rows_file


@pytest.fixture
def slurm_server(lote_bin, tmp_path, slurm_cluster):
    # Slurm agents fetch through the control plane (remote access) into a
    # node cache: the test's own (sbatch passes the server's environment on).
    srv = Server(lote_bin, tmp_path / "home",
                 env={"SLURM_CONF": slurm_cluster.conf, "LOTE_AGENT_CACHE": str(tmp_path / "node-cache")})
    srv.cluster = slurm_cluster
    yield srv
    rc = srv.stop()
    assert rc == 0, f"lote serve exited {rc!r} on SIGTERM; log:\n{srv.log()}"


def create_hpc(server, max_instances=4):
    return server.cli_json("compute", "create", "--name", "hpc", "--type", "slurm", "--partition", "debug",
                           "--max-instances", str(max_instances), "--time-limit", "10:00")


def slurm_endpoint(server, workdir, score, name=EP, target="azureml:hpc", **settings):
    """An endpoint with one deployment whose agents run on `target`."""
    spec = deployment_spec(workdir, DEP, score, **settings)
    spec["compute"]["target"] = target
    create_endpoint(server, workdir, [spec], name=name)
    return name


def slurm_ids(job):
    """The Slurm job ids of the job's agents, as `job show` lists them."""
    return [a["id"].removeprefix("slurm job ") for a in job.get("agents", []) if a.get("id", "").startswith("slurm job ")]


def live_slurm_jobs(server, job_name):
    """{slurm id: state} of the lote job's agents that Slurm still runs or queues."""
    out = server.cluster.run(["squeue", "-h", "-t", "all", "-o", "%i %j %T"]).stdout
    live = {}
    for line in out.splitlines():
        sid, name, state = line.split()
        if name.startswith(f"lote-{job_name}-node") and state in ACTIVE_STATES:
            live[sid] = state
    return live


def rows(job):
    return output_text(job).splitlines()


def test_a_slurm_compute_is_checked_by_slurm_when_created(slurm_server):
    proc = slurm_server.cli("compute", "create", "--name", "bad-hpc", "--type", "slurm", "--partition", "nosuch",
                            check=False)
    assert proc.returncode == EXIT_INVALID, proc.stderr
    assert "invalid partition specified: nosuch" in proc.stderr, proc.stderr
    assert slurm_server.cli_json("compute", "list") == []
    hpc = create_hpc(slurm_server)
    assert hpc["type"] == "slurm" and hpc["partition"] == "debug" and hpc["time_limit"] == "10:00"
    # An update is checked too, and a refused one changes nothing.
    proc = slurm_server.cli("compute", "update", "--name", "hpc", "--partition", "gone", check=False)
    assert proc.returncode == EXIT_INVALID and "invalid partition specified: gone" in proc.stderr, proc.stderr
    assert slurm_server.cli_json("compute", "show", "--name", "hpc")["partition"] == "debug"


def test_two_slurm_agents_score_every_item_exactly_once(slurm_server, tmp_path):
    create_hpc(slurm_server)
    slurm_endpoint(slurm_server, tmp_path, sleepy_echo(0.05), instance_count=2, mini_batch_size=1)
    names = make_files(tmp_path / "in", numbered(24))
    job = invoke(slurm_server, "--input-local-path", tmp_path / "in")
    done = completed(slurm_server, wait_job(slurm_server, job["name"], timeout=120))
    assert sorted(rows(done)) == sorted(names), describe(slurm_server, job["name"])
    ids = slurm_ids(done)
    assert len(set(ids)) == 2, done.get("agents")
    # Slurm ran two lote agent jobs for it, one per node of the job.
    comp = open(os.path.join(slurm_server.cluster.dir, "log", "jobcomp.log")).read()
    prefix = f"Name=lote-{job['name']}-"
    ran = {f.removeprefix(prefix) for line in comp.splitlines() for f in line.split() if f.startswith(prefix)}
    assert ran == {"node0", "node1"}, comp
    wait_until(lambda: not live_slurm_jobs(slurm_server, job["name"]), 15, "the agents' Slurm jobs to end")
    # Off the server's host, agents fetch through the control plane.
    status, config = slurm_server.http("GET", f"/api/v1/jobs/{job['name']}/agent-config")
    assert (status, config["access"], config["input_access"]) == (200, "remote", "remote"), config
    assert os.listdir(tmp_path / "node-cache" / "trees"), "the code, model and runner in the node cache"


def test_an_agent_canceled_in_slurm_is_replaced_and_no_row_is_lost_or_doubled(slurm_server, tmp_path):
    create_hpc(slurm_server)
    slurm_endpoint(slurm_server, tmp_path, sleepy_echo(0.3), instance_count=2, mini_batch_size=1)
    names = make_files(tmp_path / "in", numbered(30))
    name = invoke(slurm_server, "--input-local-path", tmp_path / "in")["name"]

    def two_running():
        job = wait_job(slurm_server, name, until=("Running", "Completed"))
        agents = job.get("agents", [])
        running = [a for a in agents if a.get("state", "").startswith("RUNNING")]
        return job if len(running) == 2 and job["progress"]["items"]["succeeded"] >= 2 else None

    job = wait_until(two_running, 60, "both Slurm agents running and scoring")
    victim = slurm_ids(job)[0]
    slurm_server.cluster.run(["scancel", victim])
    done = completed(slurm_server, wait_job(slurm_server, name, timeout=120))
    assert sorted(rows(done)) == sorted(names), describe(slurm_server, name)
    log = json.dumps(describe(slurm_server, name))
    assert "canceled outside lote" in log, log
    assert victim not in slurm_ids(done), "a new Slurm job replaced the canceled one"


def test_canceling_the_job_cancels_its_slurm_jobs_within_seconds(slurm_server, tmp_path):
    create_hpc(slurm_server)
    slurm_endpoint(slurm_server, tmp_path, sleepy_echo(2), instance_count=2, mini_batch_size=1)
    make_files(tmp_path / "in", numbered(40))
    name = invoke(slurm_server, "--input-local-path", tmp_path / "in")["name"]
    wait_until(lambda: len(live_slurm_jobs(slurm_server, name)) == 2, 60, "two Slurm agent jobs")
    slurm_server.cli("job", "cancel", "--name", name)
    wait_job(slurm_server, name, until=("Canceled",), timeout=30)
    t0 = time.monotonic()
    wait_until(lambda: not live_slurm_jobs(slurm_server, name), 15, "the Slurm jobs to go")
    assert time.monotonic() - t0 < 15


def test_the_same_deployment_runs_on_local_and_on_slurm_by_its_compute_name_alone(slurm_server, tmp_path):
    create_hpc(slurm_server)
    slurm_server.cli_json("compute", "create", "--name", "cpu-cluster", "--type", "local", "--max-instances", "4")
    names = make_files(tmp_path / "in", numbered(12))
    outputs = {}
    for endpoint, target in (("on-local", "azureml:cpu-cluster"), ("on-slurm", "azureml:hpc")):
        slurm_endpoint(slurm_server, tmp_path, ECHO_SCORE, name=endpoint, target=target, instance_count=2,
                       mini_batch_size=2)
        job = invoke(slurm_server, "--input-local-path", tmp_path / "in", endpoint=endpoint)
        outputs[target] = sorted(rows(completed(slurm_server, wait_job(slurm_server, job["name"], timeout=120))))
    assert outputs["azureml:cpu-cluster"] == outputs["azureml:hpc"] == sorted(names)


def test_an_agent_that_cannot_run_on_the_nodes_fails_the_job_with_where_to_look(slurm_server, tmp_path):
    # Slurm accepts the job (sbatch --test-only cannot know), but the node has
    # no lote at that path: each agent job fails with 127.
    slurm_server.cli_json("compute", "create", "--name", "hpc", "--type", "slurm", "--partition", "debug",
                          "--agent-binary", "/nonexistent/lote")
    slurm_endpoint(slurm_server, tmp_path, ECHO_SCORE)
    make_files(tmp_path / "in", numbered(2))
    name = invoke(slurm_server, "--input-local-path", tmp_path / "in")["name"]
    failed = wait_job(slurm_server, name, until=("Failed",), timeout=120)
    error = failed["error"] if isinstance(failed.get("error"), str) else json.dumps(failed.get("error"))
    assert "exited with code 127" in error, describe(slurm_server, name)
    assert "its output is /tmp/lote-" in error, error
    wait_until(lambda: not live_slurm_jobs(slurm_server, name), 15, "the agents' Slurm jobs to end")


# --- no disk shared with the server ------------------------------------------------

@pytest.fixture
def hidden_node_server(lote_bin, tmp_path, slurm_cluster):
    """(node, server): a server whose Slurm agents run through remote_e2e's
    wrapper as the compute's agent_binary, so each agent (a Slurm job on
    node1 or node2) runs in a mount namespace where the test's whole folder
    (server home, datastores, model and code sources) and lote's python/ are
    empty tmpfs: whatever it reads came through the control plane."""
    if not can_unshare_mounts():
        pytest.skip("needs root and `unshare -m` to hide the server's disk from agents")
    node = RemoteNode(lote_bin, tmp_path)
    server = Server(lote_bin, tmp_path / "home",
                    env={"SLURM_CONF": slurm_cluster.conf, "LOTE_AGENT_CACHE": str(node.cache)})
    server.cluster = slurm_cluster
    server.cli_json("compute", "create", "--name", "hpc", "--type", "slurm", "--partition", "debug",
                    "--max-instances", "2", "--agent-binary", str(node.wrapper))
    yield node, server
    rc = server.stop()
    node.close()
    assert rc == 0, f"lote serve exited {rc!r} on SIGTERM; log:\n{server.log()}"


def test_slurm_agents_with_no_shared_disk_run_a_score_py_deployment(hidden_node_server, workdir, tmp_path):
    node, server = hidden_node_server
    dep = deployment_spec(workdir, "dep1", REMOTE_SCORE, python=PYTHON, extra_code={"helper.py": HELPER},
                          mini_batch_size="256B", instance_count=2,
                          environment_variables={"SERVER_HOME": server.home})
    dep["compute"]["target"] = "azureml:hpc"
    create_endpoint(server, workdir, [dep])
    inputs = tmp_path / "in"
    make_files(inputs, ["a.csv", "b.csv"], lambda n, i: rows_file(3, 1000 * (i + 1)))
    (inputs / "big.csv").write_text(rows_file(200))
    name = invoke(server, "--input-local-path", inputs)["name"]
    done = completed(server, wait_job(server, name, timeout=120))
    expected = [f"r{i:05d}:1.0" for i in range(200)] + [f"r{1000 * k + i:05d}:1.0" for k in (1, 2) for i in range(3)]
    assert sorted(rows(done)) == sorted(expected), "every input row exactly once"
    status, config = server.http("GET", f"/api/v1/jobs/{name}/agent-config")
    assert status == 200 and (config["access"], config["input_access"]) == ("remote", "remote"), config
    assert len(set(slurm_ids(done))) == 2, done.get("agents")
    # init() asserted the home is not visible; the worker's log came back.
    wait_until(lambda: "remote score ready" in (get_job_file(server, name, "logs/user/stdout/node0/process000.stdout.txt")
                                                or ""), 15, "node 0's worker log shipped")


@pytest.mark.skipif(not have_sklearn(), reason="python3-sklearn is not installed")
def test_slurm_agents_with_no_shared_disk_score_a_nocode_mlflow_model(hidden_node_server, tmp_path):
    node, server = hidden_node_server
    src = tmp_path / "src"
    subprocess.run([PYTHON, "-c", SKLEARN_TRAIN, str(src)], check=True)
    (src / "ep.yml").write_text(NOCODE_ENDPOINT.replace("azureml:cpu-cluster}", "azureml:hpc, instance_count: 2}"))
    server.cli("endpoint", "create", "--file", str(src / "ep.yml"))
    name = invoke(server, "--input-local-path", src / "in", endpoint="skep")["name"]
    done = completed(server, wait_job(server, name, timeout=120))
    out = list(csv.reader(io.StringIO(output_text(done))))
    assert out[0] == ["file", "row", "prediction"]
    assert len(out) == 1 + 400, "every input row exactly once"
    assert len({(r[0], r[1]) for r in out[1:]}) == 400, "no row twice"
    assert os.listdir(node.cache / "trees"), "the model and runner came into the node cache"
