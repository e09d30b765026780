"""Section `slurm`: lote's agents started as Slurm batch jobs (compute type
slurm) on scripts/slurm-local's two-node cluster, against the same deployment
on the local compute, in the same run on the same server:

- dispatch: the dispatch section's no-op deployments and mini-batch count
  (one file per mini-batch), but instance_count 2, max_concurrency 1: one
  agent per Slurm node (each node has half the host's cores), and the same two
  workers in all as the dispatch section's one agent × 2. Mini-batches per
  second invoke → Completed, local and slurm.
- start: invoke → first mini-batch scored of a job of a few one-file
  mini-batches (no-op native plugin), median of N after one warm-up per
  compute, local and slurm interleaved. "Scored" is the first poll of
  GET /jobs/{name} (every few ms) whose progress counts a succeeded
  mini-batch, i.e. its result is committed on the server. For Slurm the
  time is split with slurmctld's and the slurmds' own log lines
  (millisecond stamps): submitted (sbatch reached slurmctld), allocated (the
  scheduler gave the job a node), launched (a slurmd started the batch
  script); the rest is the agent starting, fetching its config and work,
  its worker scoring and the result being posted.
  slurmctld allocates a submitted batch job in its next scheduling pass,
  and those come about once a second (its log's allocations sit on a 1 s
  grid), so a job waits 0 to 1 s for one. Back-to-back jobs would keep
  hitting the same part of that second; each Slurm job is therefore invoked
  after a random pause of 0 to 1 s (fixed seed), so that the median is that
  of a job invoked at any moment.

Each Slurm job starts on an idle cluster (no job queued or running, nodes
idle): a node has one CPU, so a job invoked while the last one's agents are
still being canceled would queue behind them. Skipped, with the reason, where
Slurm is not installed or bench/run does not run as root."""

import os
import random
import time

from . import data, deployments, dispatch, slurm_cluster
from .skip import Skipped
from .stats import median

COMPUTES = {"local": "cpu-cluster", "slurm": "hpc"}


def _agent_ids(job):
    return [a["id"].removeprefix("slurm job ") for a in job.get("agents", [])
            if a.get("id", "").startswith("slurm job ")]


class _FirstScored:
    """on_poll hook: seconds after the POST at which a mini-batch was first
    seen succeeded, and the epoch time of the POST (to line up Slurm's logs)."""

    def __init__(self):
        self.scored = None
        self.epoch0 = None

    def __call__(self, job, now):
        if self.epoch0 is None:
            self.epoch0 = time.time() - now
        if self.scored is None and job["progress"]["mini_batches"]["succeeded"] > 0:
            self.scored = now


def _start_job(ctx, server, cluster, compute, rel, rng):
    """One start-latency job; its phases in ms after the POST began."""
    cluster.wait_idle()
    if compute == "slurm":
        time.sleep(rng.random())  # anywhere in slurmctld's scheduling second
    first = _FirstScored()
    seconds, job, seen = server.run_job(f"start-{compute}", "bench", rel, poll_s=ctx.poll_s, on_poll=first,
                                        deadline_s=ctx.params["slurm_deadline_s"])
    if job.get("partial") or first.scored is None:
        raise RuntimeError(f"job {job['name']} on {compute}: nothing scored in "
                           f"{ctx.params['slurm_deadline_s']} s")
    phases = {k: v * 1000 for k, v in seen.items()}
    phases["scored"] = first.scored * 1000
    if compute == "slurm":
        for what, t in cluster.timeline(_agent_ids(job)).items():
            phases[what] = (t - first.epoch0) * 1000
    return {"job": job["name"], "ms": first.scored * 1000,
            "phases_ms": {k: round(v, 1) for k, v in sorted(phases.items(), key=lambda kv: kv[1])}}


def _phase_note(runs):
    keys = set(k for r in runs for k in r["phases_ms"])
    m = {k: median([r["phases_ms"][k] for r in runs if k in r["phases_ms"]]) for k in keys}
    return ", ".join(f"{k} {v:.0f}" for k, v in sorted(m.items(), key=lambda kv: kv[1]))


def run(ctx):
    reason = slurm_cluster.skip_reason()
    if reason:
        raise Skipped(reason)
    p = ctx.params
    n = p["dispatch_files"]
    instances, concurrency = p["slurm_instance_count"], p["slurm_concurrency"]
    rel_dispatch = dispatch.inputs(ctx, n)
    rel_start = dispatch.inputs(ctx, p["slurm_start_files"])
    raw = {"files": n, "mini_batch_size": 1, "instance_count": instances,
           "max_concurrency_per_instance": concurrency, "start_files": p["slurm_start_files"],
           "start": {"local": [], "slurm": []}, "start_warmup": {}, "dispatch": {}}

    cluster = slurm_cluster.Cluster(keep=ctx.keep)
    t0 = time.monotonic()
    cluster.up()
    raw["cluster_up_s"] = round(time.monotonic() - t0, 2)
    ctx.note(f"scripts/slurm-local up in {raw['cluster_up_s']:.1f} s: {cluster.dir}, port {cluster.port}")

    # Slurm agents fetch through the control plane (remote access) into a node
    # cache: the scratch folder's, not ~/.cache (sbatch passes the server's
    # environment on to them).
    server = ctx.server("slurm", env={**cluster.env, "LOTE_AGENT_CACHE": os.path.join(ctx.workdir, "node-cache")})
    server.create_compute(COMPUTES["local"])
    # The agents' Slurm output files go to the scratch folder, not /tmp.
    server.create_slurm_compute(COMPUTES["slurm"], "debug", max_instances=4,
                                sbatch_args=[f"--output={ctx.workdir}/%x-%j.txt"])
    server.create_datastore("bench", data.CACHE)
    for compute, target in COMPUTES.items():
        where = {"compute": target, "instance_count": instances}
        server.create_endpoint(deployments.noop_native(f"start-{compute}", ctx.workdir, ctx.noop_plugin,
                                                       concurrency, 1, **where), ctx.workdir)
        for kind in p["slurm_kinds"]:
            make = deployments.noop_native if kind == "native" else deployments.noop_python
            scorer = ctx.noop_plugin if kind == "native" else ctx.python
            server.create_endpoint(make(f"{kind}-{compute}", ctx.workdir, scorer, concurrency, 1, **where),
                                   ctx.workdir)

    # Start latency, local and slurm one after the other, after a warm-up of
    # each (the first Slurm job after slurmctld starts waits longer).
    rng = random.Random(10)
    warmups = p["slurm_start_warmup"]
    for i in range(warmups + p["slurm_start_runs"]):
        for compute in COMPUTES:
            r = _start_job(ctx, server, cluster, compute, rel_start, rng)
            if i < warmups:
                raw["start_warmup"].setdefault(compute, []).append(r)
            else:
                raw["start"][compute].append(r)
    for compute in COMPUTES:
        runs = raw["start"][compute]
        warm = ", ".join(f"{r['ms']:.0f}" for r in raw["start_warmup"].get(compute, []))
        ctx.note(f"start {compute}: median {median([r['ms'] for r in runs]):.0f} ms to the first scored "
                 f"mini-batch{f' (warm-up {warm} ms)' if warm else ''}; median ms after the POST began: "
                 + _phase_note(runs))

    metrics = {"slurm_start_ms": median([r["ms"] for r in raw["start"]["slurm"]]),
               "slurm_local_start_ms": median([r["ms"] for r in raw["start"]["local"]])}
    metrics["slurm_start_vs_local"] = metrics["slurm_start_ms"] / metrics["slurm_local_start_ms"]
    queued = [r["phases_ms"]["allocated"] - r["phases_ms"]["submitted"] for r in raw["start"]["slurm"]
              if "allocated" in r["phases_ms"] and "submitted" in r["phases_ms"]]
    if queued:  # of slurm_start_ms, the time between sbatch and slurmctld's scheduling pass
        metrics["slurm_start_queued_ms"] = median(queued)

    # Dispatch, the same deployment on each compute.
    for kind in p["slurm_kinds"]:
        raw["dispatch"][kind] = {}
        for compute in COMPUTES:
            cluster.wait_idle()
            first = _FirstScored()
            r = dispatch.measure(ctx, server, f"{kind}-{compute}", rel_dispatch, n, p["slurm_deadline_s"],
                                 f"{kind} on {compute}", on_poll=first)
            # The rate once the first mini-batch was scored: what the agents do once started.
            if first.scored is not None and r["seconds"] > first.scored:
                r["per_s_after_first_scored"] = (r["mini_batches"] - 1) / (r["seconds"] - first.scored)
                r["first_scored_s"] = first.scored
                ctx.note(f"{kind} on {compute}: first mini-batch scored after {first.scored:.3f} s; "
                         f"{r['per_s_after_first_scored']:.0f}/s from there to Completed")
            raw["dispatch"][kind][compute] = r
        local, hpc = raw["dispatch"][kind]["local"]["per_s"], raw["dispatch"][kind]["slurm"]["per_s"]
        metrics[f"slurm_dispatch_{kind}_per_s"] = hpc
        metrics[f"slurm_local_dispatch_{kind}_per_s"] = local
        metrics[f"slurm_dispatch_{kind}_vs_local"] = hpc / local
    server.stop()
    t0 = time.monotonic()
    cluster.down()
    raw["cluster_down_s"] = round(time.monotonic() - t0, 2)
    return metrics, raw
