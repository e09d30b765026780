"""Section `dispatch`: 20,000 tiny files with mini_batch_size 1, scored by a
no-op native plugin and by a no-op Python score.py. Mini-batches per second
over the whole job (invoke → Completed), one instance, max_concurrency 2.

A job still running at the section's deadline is canceled and its rate taken
from the mini-batches it finished (marked partial), so a slow lote cannot
push bench/run past its time budget."""

import os

from . import data, deployments
from .stats import median
from .tabular import count_lines


def inputs(ctx, n):
    """The `n` tiny files' folder, relative to data.CACHE (datastore `bench`)."""
    folder, generated = data.small_files(n, b"x\n1\n")
    ctx.note(f"{n} files {'generated' if generated else 'cached'}: {folder}")
    return os.path.relpath(os.path.join(folder, "files"), data.CACHE)


def measure(ctx, server, endpoint, rel, n, deadline_s, label, on_poll=None):
    """One dispatch job of `n` one-file mini-batches on `endpoint`; its run record
    (rate per second from the mini-batches finished, phases, partial or not)."""
    seconds, job, seen = server.run_job(endpoint, "bench", rel, poll_s=ctx.poll_s, deadline_s=deadline_s,
                                        on_poll=on_poll)
    done = job["progress"]["mini_batches"]["succeeded"]
    if job.get("partial"):
        ctx.note(f"{label}: deadline {deadline_s} s reached after {done} of {n} "
                 "mini-batches; job canceled, rate from the finished ones")
    else:
        lines = count_lines(job["output"]["local_path"])
        if done != n or lines != n:
            raise RuntimeError(f"job {job['name']}: {done} mini-batches done, {lines} output rows; "
                               f"expected {n}")
    rate = done / seconds
    ctx.note(f"{label}: {done} mini-batches in {seconds:.2f} s = {rate:.0f}/s ("
             + ", ".join(f"{k} after {v:.3f} s" for k, v in seen.items() if k != "invoked") + ")")
    return {"job": job["name"], "seconds": seconds, "mini_batches": done, "partial": bool(job.get("partial")),
            "per_s": rate, "phases_s": seen, "server_elapsed_s": job["progress"].get("elapsed_s")}


def run(ctx):
    p = ctx.params
    n = p["dispatch_files"]
    rel = inputs(ctx, n)
    concurrency = p["dispatch_concurrency"]

    server = ctx.server("dispatch")
    server.create_compute()
    server.create_datastore("bench", data.CACHE)
    server.create_endpoint(deployments.noop_native("noop-native", ctx.workdir, ctx.noop_plugin, concurrency, 1),
                           ctx.workdir)
    server.create_endpoint(deployments.noop_python("noop-python", ctx.workdir, ctx.python, concurrency, 1),
                           ctx.workdir)
    metrics, raw = {}, {"files": n, "mini_batch_size": 1, "instance_count": 1,
                        "max_concurrency_per_instance": concurrency, "runs": {}}
    for kind in ("native", "python"):
        runs = [measure(ctx, server, f"noop-{kind}", rel, n, p["dispatch_deadline_s"], kind)
                for _ in range(p["dispatch_reps"])]
        metrics[f"dispatch_{kind}_per_s"] = median([r["per_s"] for r in runs])
        raw["runs"][kind] = runs
    server.stop()
    return metrics, raw
