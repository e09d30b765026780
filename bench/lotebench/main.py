"""bench/run: issue 5's benchmarks. See bench/README.md."""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

from . import dispatch, latency, report, scale, server, slurm, slurm_cluster, tabular
from .skip import Skipped

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECTIONS = {"tabular": tabular.run, "dispatch": dispatch.run, "latency": latency.run, "scale": scale.run,
            "slurm": slurm.run}

# The full run fits in 10 minutes on 2 cores; --smoke in well under one.
FULL = {
    "rows": 2_000_000, "files": 8, "reps": 3,
    "lote_configs": [(2, 1), (2, 2), (1, 1)],  # (max_concurrency_per_instance, mini_batch_size)
    "parquet_row_group": 65536,  # rows per row group of the tabular section's Parquet files
    "dispatch_files": 20_000, "dispatch_reps": 1, "dispatch_concurrency": 2, "dispatch_deadline_s": 60,
    "latency_runs": 10,
    "scale_sizes": [20_000, 200_000], "scale_mini_batch_size": 10, "scale_concurrency": 2,
    "scale_deadline_s": 40,
    # slurm: dispatch_files mini-batches per kind, on the local compute and on Slurm.
    "slurm_kinds": ["native", "python"], "slurm_instance_count": 2, "slurm_concurrency": 1,
    "slurm_start_files": 2, "slurm_start_warmup": 1, "slurm_start_runs": 7, "slurm_deadline_s": 20,
}
SMOKE = {
    **FULL, "rows": 20_000, "reps": 1, "lote_configs": [(2, 1)], "parquet_row_group": 1024,
    "dispatch_files": 100, "dispatch_deadline_s": 20, "latency_runs": 2,
    "scale_sizes": [1_000], "scale_deadline_s": 20,
    "slurm_kinds": ["native"], "slurm_start_warmup": 0, "slurm_start_runs": 1,
}


class Context:
    """What every section gets: parameters, binaries, a scratch folder, servers."""

    def __init__(self, params, build_dir, workdir, poll_s, keep=False):
        self.params = params
        self.workdir = workdir
        self.poll_s = poll_s
        self.keep = keep
        self.lote_bin = os.path.join(build_dir, "lote")
        self.xgb_limit = os.path.join(build_dir, "bench", "lote_bench_xgb_limit")
        self.noop_plugin = os.path.join(build_dir, "bench", "liblote_bench_noop_plugin.so")
        self.python = "/usr/bin/python3"
        self.section = ""

    def server(self, name, env=None):
        return server.Server(self.lote_bin, self.workdir, name, env=env)

    def note(self, message):
        print(f"  [{self.section}] {message}", flush=True)


def build(build_dir):
    start = time.monotonic()
    if not os.path.exists(os.path.join(build_dir, "lote")):
        print("bench: no lote build yet; running ./setup.sh", flush=True)
        subprocess.run([os.path.join(REPO, "setup.sh")], cwd=REPO, check=True,
                       env={**os.environ, "LOTE_BUILD_DIR": build_dir})
    subprocess.run(["cmake", "--build", build_dir, "--parallel", "2", "--target", "lote",
                    "lote_bench_xgb_limit", "lote_bench_noop_plugin"], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL)
    print(f"bench: build up to date ({time.monotonic() - start:.0f} s, not counted)", flush=True)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument("--smoke", action="store_true",
                        help="a tiny version (seconds) that writes into a temporary folder")
    parser.add_argument("--only", default="", help=f"comma-separated sections: {', '.join(SECTIONS)}")
    parser.add_argument("--out", help="where results.json and BENCHMARKS.md go (default: bench/ and the "
                                      "repo root; with --smoke or --only, a temporary folder)")
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build"))
    parser.add_argument("--no-build", action="store_true", help="use the build as it is")
    parser.add_argument("--poll-ms", type=float, default=5, help="job status poll interval (default 5)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                        help="override a parameter, e.g. --set dispatch_files=2000 (see FULL in lotebench/main.py)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (server homes, logs)")
    args = parser.parse_args(argv)
    args.sections = [s for s in args.only.split(",") if s] or list(SECTIONS)
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    return args


def stop_everything():
    """The servers first (a server cancels its agents' Slurm jobs), then the Slurm clusters."""
    server.stop_all()
    slurm_cluster.stop_all()


def _raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


def main(argv):
    args = parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even where the shell ignored it
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGHUP, _raise_exit)
    if not args.no_build:
        build(args.build_dir)
    partial_run = args.smoke or args.only or args.set
    out_dir = args.out or (tempfile.mkdtemp(prefix="lote-bench-out-") if partial_run else None)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
    results_path = os.path.join(out_dir, "results.json") if out_dir else os.path.join(REPO, "bench", "results.json")
    md_path = os.path.join(out_dir, "BENCHMARKS.md") if out_dir else os.path.join(REPO, "BENCHMARKS.md")

    params = dict(SMOKE if args.smoke else FULL)
    for item in args.set:
        key, _, value = item.partition("=")
        if key not in params:
            raise SystemExit(f"bench/run: --set {key}: no such parameter ({', '.join(params)})")
        params[key] = json.loads(value)
    workdir = tempfile.mkdtemp(prefix="lote-bench-")
    ctx = Context(params, args.build_dir, workdir, args.poll_ms / 1000, keep=args.keep)
    command = "bench/run" + "".join(f" {a}" for a in argv)
    results = {"command": command, "mode": "smoke" if args.smoke else "full", "date": report.now_utc(),
               "git": report.git_state(REPO), "machine": report.machine(), "params": params,
               "metrics": {}, "sections": {}}
    total = time.monotonic()
    failed = []
    try:
        for name in args.sections:
            ctx.section = name
            print(f"== {name}", flush=True)
            start = time.monotonic()
            outcome = ""
            try:
                metrics, raw = SECTIONS[name](ctx)
            except Skipped as e:  # this host cannot run it: said, not failed
                metrics, raw = {}, {"skipped": str(e)}
                outcome = f" (skipped: {e})"
            except Exception as e:  # report it, and go on with the other sections
                traceback.print_exc()
                failed.append(name)
                metrics, raw = {}, {"error": f"{type(e).__name__}: {e}"}
                outcome = " (FAILED)"
            finally:
                stop_everything()
            wall = time.monotonic() - start
            print(f"== {name}: {wall:.1f} s{outcome}", flush=True)
            results["metrics"].update(metrics)
            results["sections"][name] = {"wall_s": round(wall, 1), "raw": raw}
    finally:
        stop_everything()
        if args.keep:
            print(f"bench: scratch folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    results["total_wall_s"] = round(time.monotonic() - total, 1)

    print()
    print(report.table(results["metrics"], {k: v["raw"] for k, v in results["sections"].items()}))
    print()
    print("wall time: " + ", ".join(f"{k} {v['wall_s']:.0f} s" for k, v in results["sections"].items())
          + f"; {results['total_wall_s']:.0f} s in all")
    report.results_json(results_path, results)
    report.benchmarks_md(md_path, results)
    print(f"wrote {results_path} and {md_path}")
    if failed:
        print(f"bench: section(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def entry():
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        stop_everything()
        print("bench: interrupted", file=sys.stderr)
        sys.exit(130)
