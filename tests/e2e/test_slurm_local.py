"""The local Slurm cluster (scripts/slurm-local) that the Slurm launcher's
tests run on: an array job runs each task, on both nodes at once."""

import os


def test_array_job_runs_every_task_on_its_own_node(slurm_cluster, tmp_path):
    # Each task holds its node's one CPU until both have started (a barrier of
    # files; a second's sleep was not enough: scheduling passes are a second
    # apart, so the second task could start on the first one's freed node).
    barrier = ('touch "$B.$SLURM_ARRAY_TASK_ID"; n=0; '
               'while [ ! -e "$B.0" ] || [ ! -e "$B.1" ]; do n=$((n+1)); [ $n -gt 600 ] && exit 9; sleep 0.05; done')
    job = slurm_cluster.sbatch(
        ["--array=0-1", "--output", f"{tmp_path}/%A_%a.out", f"--export=ALL,B={tmp_path}/started",
         "--wrap", f'echo "task $SLURM_ARRAY_TASK_ID on $SLURMD_NODENAME"; {barrier}'],
        cwd=tmp_path)
    assert slurm_cluster.wait(job) == {f"{job}_0": "COMPLETED", f"{job}_1": "COMPLETED"}
    lines = {}
    for task in (0, 1):
        path = os.path.join(tmp_path, f"{job}_{task}.out")
        assert os.path.isfile(path), f"task {task} of job {job} wrote no {path}: {os.listdir(tmp_path)}"
        with open(path) as f:
            lines[task] = f.read().strip()
        assert lines[task].startswith(f"task {task} on node"), lines[task]
    nodes = {line.rsplit(" ", 1)[1] for line in lines.values()}
    assert nodes == set(slurm_cluster.nodes), lines


def test_unknown_partition_is_refused(slurm_cluster, tmp_path):
    proc = slurm_cluster.run(["sbatch", "-p", "nosuch", "--wrap", "true"], check=False, cwd=tmp_path)
    assert proc.returncode == 1
    assert "sbatch: error: Batch job submission failed: Invalid partition name specified" in proc.stderr, \
        proc.stderr
