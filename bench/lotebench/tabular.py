"""Section `tabular`: 2,000,000 rows × 10 features scored three ways, side by
side, interleaved repetition by repetition.

- limit: bench/xgb_limit.cc, XGBoosterPredictFromDense on rows already in memory.
- python: per file pandas.read_csv → xgboost.Booster.predict → DataFrame.to_csv,
  in as many processes as cores (a warm multiprocessing pool).
- lote: a no-code `type: xgboost` deployment, invoke → Completed, for each
  (max_concurrency_per_instance, mini_batch_size) tried; the best median counts.
- lote on the same rows as Parquet (ZSTD, row groups of parquet_row_group
  rows) and as JSON Lines, written by DuckDB (tests/parquet_tool) and scored
  by the same deployment with the same configurations, against the same
  limit: tabular_parquet_* and tabular_jsonl_*. Without node and DuckDB
  (./setup.sh installs them) these are left out, said in the notes."""

import json
import os
import shutil
import subprocess
import tempfile
import time

from . import data, deployments
from .stats import median


def count_lines(path):
    n = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            n += chunk.count(b"\n")
    return n


# --- python baseline ------------------------------------------------------------
_booster = None


def _python_init(model_file, threads):
    global _booster
    import pandas  # noqa: F401  imported before timing, as a long-lived driver has it
    import xgboost as xgb

    _booster = xgb.Booster(model_file=model_file)
    _booster.set_param({"nthread": threads})


def _python_score(job):
    import pandas as pd
    import xgboost as xgb

    src, dest = job
    df = pd.read_csv(src)
    pred = _booster.predict(xgb.DMatrix(df[data.FEATURES]))
    out = pd.DataFrame({"file": os.path.basename(src), "row": range(len(pred)), "prediction": pred})
    out.to_csv(dest, index=False)
    return len(out)


def python_threads(processes):
    """XGBoost threads per process, so that processes × threads fill the cores."""
    return max(1, (os.cpu_count() or 1) // processes)


def _python_ready(_):
    time.sleep(0.2)  # holds a worker, so that every worker takes one and is up


def python_run(files, model_file, workdir, processes):
    """Seconds for all files on a warm pool (processes started with spawn,
    the model loaded) to the last file written. Spawn, not fork: forking a
    parent whose numpy/xgboost hold threads can deadlock a child."""
    import multiprocessing

    out_dir = tempfile.mkdtemp(prefix="python-", dir=workdir)
    jobs = [(f, os.path.join(out_dir, os.path.basename(f))) for f in files]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(processes, initializer=_python_init, initargs=(model_file, python_threads(processes))) as pool:
        pool.map(_python_ready, range(processes), chunksize=1)
        start = time.monotonic()
        rows = sum(pool.map(_python_score, jobs, chunksize=1))
        seconds = time.monotonic() - start
    shutil.rmtree(out_dir, ignore_errors=True)
    return seconds, rows


# --- the limit ---------------------------------------------------------------------
class Limit:
    """bench/xgb_limit.cc --stdin: holds the rows in memory, predicts once per rep()."""

    def __init__(self, binary, model_file, files):
        self.proc = subprocess.Popen([binary, "--model", model_file, "--stdin", *files],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.info = self._answer()  # rows, features, threads, load_s

    def _answer(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"xgb_limit exited {self.proc.wait()}")
        return json.loads(line)

    def rep(self):
        """Seconds of one XGBoosterPredictFromDense over every row."""
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        return self._answer()["predict_s"]

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait()


# --- the section ----------------------------------------------------------------------
def run(ctx):
    p = ctx.params
    rows, cores = p["rows"], os.cpu_count() or 1
    folder, generated = data.tabular(rows, p["files"])
    ctx.note(f"data {'generated' if generated else 'cached'}: {folder}")
    files = sorted(os.path.join(folder, "data", f) for f in os.listdir(os.path.join(folder, "data")))
    model_file = os.path.join(folder, "model", "model.json")

    limit = Limit(ctx.xgb_limit, model_file, files)
    try:
        if limit.info["rows"] != rows:
            raise RuntimeError(f"xgb_limit read {limit.info['rows']} rows, expected {rows}")
        ctx.note(f"limit: {limit.info['threads']} threads, {limit.info['load_s']:.1f} s to load the rows "
                 "(not timed)")
        server = ctx.server("tabular")
        server.create_compute()
        server.create_datastore("bench", data.CACHE)
        server.create_endpoint(deployments.xgboost("tabular", os.path.join(folder, "model"), 2, 1, timeout=600),
                               ctx.workdir)
        inputs = {"csv": os.path.relpath(os.path.join(folder, "data"), data.CACHE)}
        if data.have_duckdb():
            formats, made = data.tabular_formats(folder, p["parquet_row_group"])
            ctx.note(f"parquet and jsonl copies {'written' if made else 'cached'}: {formats}")
            for fmt in ("parquet", "jsonl"):
                inputs[fmt] = os.path.relpath(os.path.join(formats, fmt), data.CACHE)
        else:
            ctx.note("node or tests/parquet_tool/node_modules missing: no parquet/jsonl runs")

        def key(fmt, c, m):
            return f"c{c}_mbs{m}" if fmt == "csv" else f"{fmt}_c{c}_mbs{m}"

        lote_s = {key(f, c, m): [] for f in inputs for c, m in p["lote_configs"]}
        limit_s, python_s = [], []
        phases = {}  # per config, per rep: seconds after the POST began when each status was first seen
        for rep in range(p["reps"]):
            limit_s.append(limit.rep())
            ctx.note(f"rep {rep}: limit {limit_s[-1]:.2f} s ({rows / limit_s[-1] / 1e6:.2f} M rows/s)")
            seconds, got = python_run(files, model_file, ctx.workdir, cores)
            if got != rows:
                raise RuntimeError(f"python scored {got} rows, expected {rows}")
            python_s.append(seconds)
            ctx.note(f"rep {rep}: python {seconds:.2f} s ({rows / seconds / 1e6:.2f} M rows/s)")
            for (fmt, rel), (c, m) in ((i, cm) for i in inputs.items() for cm in p["lote_configs"]):
                seconds, job, seen = server.run_job("tabular", "bench", rel,
                                                 {"max_concurrency_per_instance": c, "mini_batch_size": m},
                                                 poll_s=ctx.poll_s)
                lines = count_lines(job["output"]["local_path"])
                os.remove(job["output"]["local_path"])
                if lines != rows + 1:
                    raise RuntimeError(f"job {job['name']}: predictions.csv has {lines} lines, "
                                       f"expected {rows + 1}")
                lote_s[key(fmt, c, m)].append(seconds)
                phases.setdefault(key(fmt, c, m), []).append({k: round(v, 3) for k, v in seen.items()})
                ctx.note(f"rep {rep}: lote {fmt} max_concurrency {c}, mini_batch_size {m}: {seconds:.2f} s "
                         f"({rows / seconds / 1e6:.2f} M rows/s; Running after {seen.get('Running', 0):.2f} s, "
                         f"Finalizing after {seen.get('Finalizing', 0):.2f} s); job {job['name']}")
        server.stop()
    finally:
        limit.close()

    def best_of(fmt):
        return min((key(fmt, c, m) for c, m in p["lote_configs"]), key=lambda k: median(lote_s[k]))

    best = best_of("csv")
    lote_rate = rows / median(lote_s[best])
    python_rate = rows / median(python_s)
    limit_rate = rows / median(limit_s)
    best_formats = {}
    format_metrics = {}
    for fmt in inputs:
        if fmt == "csv":
            continue
        best_formats[fmt] = best_of(fmt)
        rate = rows / median(lote_s[best_formats[fmt]])
        format_metrics[f"tabular_{fmt}_rows_per_s"] = rate
        format_metrics[f"tabular_{fmt}_vs_limit"] = rate / limit_rate
    metrics = {
        "tabular_rows_per_s": lote_rate,
        "tabular_vs_limit": lote_rate / limit_rate,
        "tabular_vs_python": lote_rate / python_rate,
        "tabular_limit_rows_per_s": limit_rate,
        "tabular_python_rows_per_s": python_rate,
        **format_metrics,
    }
    raw = {"rows": rows, "files": len(files), "cores": cores, "best_lote_config": best,
           "best_lote_config_by_format": best_formats, "parquet_row_group": p["parquet_row_group"],
           "lote_seconds": lote_s, "lote_phases_s": phases, "python_seconds": python_s, "limit_seconds": limit_s,
           "python_processes": cores, "python_threads_per_process": python_threads(cores),
           "limit_threads": limit.info["threads"], "limit_load_s": limit.info["load_s"]}
    return metrics, raw
