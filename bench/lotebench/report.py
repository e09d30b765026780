"""The results: the table (stdout and BENCHMARKS.md), bench/results.json, and
the machine they were measured on."""

import datetime
import json
import os
import platform
import subprocess

AZURE_MINI_BATCHES_PER_S = 400  # quoted in issue 5, not measured here

BEGIN = "<!-- bench/run: generated from here to the end marker; edit outside it -->"
END = "<!-- bench/run: end of the generated part -->"


def machine():
    info = {"cpu": platform.processor() or "unknown", "cores": os.cpu_count(),
            "kernel": platform.release(), "os": "unknown", "memory_gib": None}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
        with open("/proc/meminfo") as f:
            kb = next(int(line.split()[1]) for line in f if line.startswith("MemTotal:"))
            info["memory_gib"] = round(kb / 1024 / 1024, 1)
        with open("/etc/os-release") as f:
            info["os"] = next(line.split("=", 1)[1].strip().strip('"') for line in f
                              if line.startswith("PRETTY_NAME="))
    except (OSError, StopIteration):
        pass
    return info


def git_state(repo):
    def git(*args):
        return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True).stdout.strip()

    dirty = [line for line in git("status", "--porcelain").splitlines()
             if not line[3:].startswith(("bench/results.json", "BENCHMARKS.md"))]
    return {"commit": git("rev-parse", "HEAD") or "unknown", "dirty": bool(dirty)}


def _si(v, unit):
    if v >= 1e6:
        return f"{v / 1e6:.2f} M {unit}"
    if v >= 1e4:
        return f"{v / 1e3:.1f} k {unit}"
    return f"{v:.0f} {unit}"


def rows(metrics, raw):
    """Table rows: (metric, value, baseline, ratio, target, met)."""
    out = []
    m = metrics

    def add(key, value, baseline="—", ratio=None, target="—", met=None):
        out.append((key, value, baseline, "—" if ratio is None else f"{ratio:.2f}", target,
                    "—" if met is None else ("yes" if met else "**no**")))

    if "tabular_rows_per_s" in m:
        lote = _si(m["tabular_rows_per_s"], "rows/s")
        add("tabular_vs_limit", lote, "limit " + _si(m["tabular_limit_rows_per_s"], "rows/s"),
            m["tabular_vs_limit"], "≥ 0.85", m["tabular_vs_limit"] >= 0.85)
        add("tabular_vs_python", lote, "python " + _si(m["tabular_python_rows_per_s"], "rows/s"),
            m["tabular_vs_python"], "≥ 2.0", m["tabular_vs_python"] >= 2.0)
    for fmt, target in (("parquet", 0.90), ("jsonl", None)):
        if f"tabular_{fmt}_rows_per_s" in m:
            ratio = m[f"tabular_{fmt}_vs_limit"]
            add(f"tabular_{fmt}_vs_limit", _si(m[f"tabular_{fmt}_rows_per_s"], "rows/s"),
                "limit " + _si(m["tabular_limit_rows_per_s"], "rows/s"), ratio,
                "—" if target is None else f"≥ {target:.2f}", None if target is None else ratio >= target)
    for kind, target in (("native", 5000), ("python", 1000)):
        key = f"dispatch_{kind}_per_s"
        if key in m:
            partial = any(r["partial"] for r in raw.get("dispatch", {}).get("runs", {}).get(kind, []))
            add(key, f"{m[key]:.0f} /s" + (" (partial)" if partial else ""),
                f"Azure ~{AZURE_MINI_BATCHES_PER_S} /s (quoted)", m[key] / AZURE_MINI_BATCHES_PER_S,
                f"≥ {target}", m[key] >= target)
    for kind, target in (("native", 150), ("python", 1000)):
        key = f"latency_{kind}_ms"
        if key in m:
            add(key, f"{m[key]:.0f} ms", target=f"≤ {target}", met=m[key] <= target)
    sizes = sorted(raw.get("scale", {}).get("sizes", {}).items(), key=lambda kv: kv[1]["files"])
    first = None
    for suffix, s in sizes:
        plan, rss = m[f"scale_plan_s_{suffix}"], m[f"scale_rss_mb_{suffix}"]
        if first is None:
            first = (suffix, s["files"], plan, rss)
            add(f"scale_plan_s_{suffix}", f"{plan:.2f} s")
            add(f"scale_rss_mb_{suffix}", f"{rss:.0f} MB")
            continue
        growth = s["files"] / first[1]
        add(f"scale_plan_s_{suffix}", f"{plan:.2f} s", f"{first[2]:.2f} s ({first[0]})", plan / first[2],
            f"linear: ≤ {growth * 1.2:.0f}", plan / first[2] <= growth * 1.2)
        add(f"scale_rss_mb_{suffix}", f"{rss:.0f} MB", f"{first[3]:.0f} MB ({first[0]})", rss / first[3],
            "bounded: ≤ 2", rss / first[3] <= 2)
    # slurm: agents started by Slurm against the same deployment on the local
    # compute, in the same run (baseline: local).
    for kind in ("native", "python"):
        key = f"slurm_dispatch_{kind}_vs_local"
        if key in m:
            runs = raw.get("slurm", {}).get("dispatch", {}).get(kind, {})

            def rate(compute, metric):
                return f"{m[metric]:.0f} /s" + (" (partial)" if runs.get(compute, {}).get("partial") else "")

            add(key, rate("slurm", f"slurm_dispatch_{kind}_per_s"),
                "local " + rate("local", f"slurm_local_dispatch_{kind}_per_s"), m[key])
    if "slurm_start_vs_local" in m:
        queued = f" ({m['slurm_start_queued_ms']:.0f} queued)" if "slurm_start_queued_ms" in m else ""
        add("slurm_start_vs_local", f"{m['slurm_start_ms']:.0f} ms{queued}",
            f"local {m['slurm_local_start_ms']:.0f} ms", m["slurm_start_vs_local"])
    for name, r in raw.items():
        if "skipped" in r:
            add(name, f"skipped: {r['skipped']}")
    return out


def table(metrics, raw):
    header = ("metric", "value", "baseline", "ratio", "target", "met?")
    body = rows(metrics, raw)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)


def results_json(path, results):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(results, f, indent=1, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)


def _generated(results):
    mach = results["machine"]
    walls = ", ".join(f"{k} {v['wall_s']:.0f} s" for k, v in results["sections"].items())
    return "\n".join([
        BEGIN,
        f"Measured by `{results['command']}` on {results['date']} at commit "
        f"`{results['git']['commit'][:12]}`{' (with local changes)' if results['git']['dirty'] else ''}.",
        "",
        f"Machine: {mach['cpu']}, {mach['cores']} cores, {mach['memory_gib']} GiB, "
        f"{mach['os']}, Linux {mach['kernel']}.",
        "",
        table(results["metrics"], {k: v["raw"] for k, v in results["sections"].items()}),
        "",
        f"Wall time: {walls}; {results['total_wall_s']:.0f} s in all. Every figure is a median; "
        "the repetitions are in [bench/results.json](bench/results.json).",
        END,
    ])


def benchmarks_md(path, results):
    """Rewrites the generated part of BENCHMARKS.md; keeps everything else."""
    generated = _generated(results)
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = ("# Benchmarks\n\n`bench/run` (issue 5) measures lote against the model's own speed and "
                "the Python baseline; `bench/run --smoke` is the quick version the tests run.\n\n"
                f"{BEGIN}\n{END}\n\n## Analysis\n\n(hand-written; bench/run leaves it alone)\n")
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + generated + tail
    else:
        text = text.rstrip("\n") + "\n\n" + generated + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
