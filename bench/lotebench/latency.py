"""Section `latency`: invoke → Completed of a one-file job on a running
server, median of N, for a no-code XGBoost deployment on one small CSV
(native) and a no-op score.py on one tiny file (python). One worker
(max_concurrency_per_instance 1): a one-file job has one mini-batch. The
first job of each kind is a warm-up, reported but not counted."""

import os

from . import data, deployments
from .stats import median


def run(ctx):
    p = ctx.params
    tab, _ = data.tabular(p["rows"], p["files"])
    one, _ = data.small_files(1, b"x\n1\n")
    inputs = {"native": os.path.relpath(os.path.join(tab, "latency"), data.CACHE),
              "python": os.path.relpath(os.path.join(one, "files"), data.CACHE)}

    server = ctx.server("latency")
    server.create_compute()
    server.create_datastore("bench", data.CACHE)
    server.create_endpoint(deployments.xgboost("lat-native", os.path.join(tab, "model"), 1, 1), ctx.workdir)
    server.create_endpoint(deployments.noop_python("lat-python", ctx.workdir, ctx.python, 1, 1), ctx.workdir)
    ms = {"native": [], "python": []}
    phases = {"native": [], "python": []}
    warmup = {}
    for i in range(p["latency_runs"] + 1):
        for kind in ("native", "python"):
            seconds, job, seen = server.run_job(f"lat-{kind}", "bench", inputs[kind], poll_s=ctx.poll_s)
            if i == 0:
                warmup[kind] = seconds * 1000
                continue
            ms[kind].append(seconds * 1000)
            phases[kind].append({k: round(v * 1000, 1) for k, v in seen.items()})
    server.stop()
    for kind in ms:
        keys = set(k for ph in phases[kind] for k in ph)
        m = {k: median([ph[k] for ph in phases[kind] if k in ph]) for k in keys}
        m = dict(sorted(m.items(), key=lambda kv: kv[1]))
        ctx.note(f"{kind}: median {median(ms[kind]):.0f} ms (warm-up {warmup[kind]:.0f} ms); median ms "
                 "after the POST began, at which each status was first seen: "
                 + ", ".join(f"{k} {v:.0f}" for k, v in m.items()))
    metrics = {"latency_native_ms": median(ms["native"]), "latency_python_ms": median(ms["python"])}
    raw = {"runs": p["latency_runs"], "ms": ms, "warmup_ms": warmup, "phases_ms": phases}
    return metrics, raw
