"""Section `scale`: a job over 20,000 and 200,000 empty files (no-op native
plugin, mini_batch_size 10), each on a fresh server so that peaks do not mix.

- planning time: lote records no planning duration (its job events have
  one-second timestamps), so this is invoke → Running: from just before the
  POST to the first poll (every few ms) that sees Running. It covers the
  invoke request, listing the folder and storing the mini-batches.
- peak RSS: VmHWM of the `lote serve` process once the job has ended
  (agents and workers are other processes and not counted)."""

import os
import re

from . import data, deployments


def size_key(n):
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def run(ctx):
    p = ctx.params
    metrics, raw = {}, {"mini_batch_size": p["scale_mini_batch_size"], "sizes": {}}
    for n in p["scale_sizes"]:
        folder, generated = data.small_files(n, b"")
        ctx.note(f"{n} empty files {'generated' if generated else 'cached'}: {folder}")
        rel = os.path.relpath(os.path.join(folder, "files"), data.CACHE)
        server = ctx.server(f"scale-{size_key(n)}")
        idle_kb = server.rss_kb("VmRSS")
        server.create_compute()
        server.create_datastore("bench", data.CACHE)
        server.create_endpoint(deployments.noop_native("scale", ctx.workdir, ctx.noop_plugin,
                                                       p["scale_concurrency"], p["scale_mini_batch_size"]),
                               ctx.workdir)
        hwm_at = {}  # the server's VmHWM when each status was first seen

        def on_status(status, _seconds):
            hwm_at[status] = server.rss_kb("VmHWM") / 1024

        seconds, job, seen = server.run_job("scale", "bench", rel, poll_s=ctx.poll_s,
                                            deadline_s=p["scale_deadline_s"], on_status=on_status)
        # A job too small to be seen Running went straight on: take the next status seen.
        running = seen.get("Running", min(v for k, v in seen.items() if k not in ("invoked", "NotStarted",
                                                                                  "Preparing")))
        peak_kb = server.rss_kb("VmHWM")
        events = open(os.path.join(server.job_dir(job["name"]), "logs", "lote_job.txt")).read()
        planned = re.search(r"planned (\d+) files .* into (\d+) mini-batches", events)
        server.stop()
        if planned is None or int(planned.group(1)) != n:
            raise RuntimeError(f"job {job['name']} did not plan {n} files: {events[-500:]}")
        key = size_key(n)
        metrics[f"scale_plan_s_{key}"] = running
        metrics[f"scale_rss_mb_{key}"] = peak_kb / 1024
        raw["sizes"][key] = {"files": n, "mini_batches": int(planned.group(2)), "job": job["name"],
                             "invoke_post_s": seen["invoked"], "phases_s": seen, "job_s": seconds,
                             "partial": bool(job.get("partial")),
                             "done": job["progress"]["mini_batches"]["succeeded"],
                             "idle_rss_mb": idle_kb / 1024, "peak_rss_mb": peak_kb / 1024, "peak_rss_mb_when_seen": hwm_at}
        ctx.note(f"{n} files: POST {seen['invoked']:.3f} s, Running after {running:.3f} s, "
                 f"job {'canceled at the deadline' if job.get('partial') else 'Completed'} after {seconds:.1f} s "
                 f"({raw['sizes'][key]['done']} of {planned.group(2)} mini-batches done); server RSS idle "
                 f"{idle_kb / 1024:.0f} MB, peak {peak_kb / 1024:.0f} MB "
                 f"({', '.join(f'{v:.0f} MB by {k}' for k, v in hwm_at.items())})")
    return metrics, raw
