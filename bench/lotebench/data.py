"""The benchmark's inputs, generated with fixed seeds and cached under
bench/.cache/<kind>-<hash of the parameters>/ so that reruns skip them.

A cache entry is built in a temporary folder and renamed into place with a
`.complete` marker, so an interrupted run never leaves half an entry."""

import hashlib
import json
import os
import shutil
import subprocess
import tempfile

import numpy as np

CACHE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".cache")
# DuckDB from npm (tests/parquet_tool, installed by ./setup.sh) writes the
# Parquet and JSON Lines copies of the tabular data.
PARQUET_TOOL = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                            "tests", "parquet_tool")
# Bump when the generators change, so old cache entries are not reused.
GENERATOR_VERSION = 1

# Each feature: (digits before the point, digits after it). Values are uniform
# in [10^(d-1), 10^d), so every cell of a column has the same width.
COLUMNS = [(1, 4), (2, 3), (3, 2), (1, 4), (2, 4), (4, 1), (1, 3), (2, 2), (3, 3), (1, 4)]
FEATURES = [f"f{i}" for i in range(len(COLUMNS))]


def _entry(kind, params, build):
    """The cache folder for (kind, params), built by build(folder) when missing."""
    key = hashlib.sha256(json.dumps({"v": GENERATOR_VERSION, **params}, sort_keys=True).encode())
    folder = os.path.join(CACHE, f"{kind}-{key.hexdigest()[:12]}")
    if os.path.exists(os.path.join(folder, ".complete")):
        return folder, False
    os.makedirs(CACHE, exist_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    tmp = tempfile.mkdtemp(prefix=f".{kind}-", dir=CACHE)
    try:
        build(tmp)
        with open(os.path.join(tmp, "params.json"), "w") as f:
            json.dump(params, f, indent=1)
        open(os.path.join(tmp, ".complete"), "w").close()
        os.rename(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder, True


def _features(rng, rows):
    """Integer cells (value × 10^decimals) for every column, shape (cols, rows)."""
    return [rng.integers(10 ** (d - 1 + p), 10 ** (d + p), rows, dtype=np.int64) for d, p in COLUMNS]


def _as_float(cells):
    return np.column_stack([c / 10.0 ** p for c, (_, p) in zip(cells, COLUMNS)]).astype(np.float32)


def _csv_bytes(cells):
    """The rows as CSV text, formatted with integer arithmetic (fixed width per column)."""
    rows = len(cells[0])
    widths = [d + (p + 1 if p else 0) for d, p in COLUMNS]
    line = sum(widths) + len(widths)  # cells, commas and the '\n'
    out = np.empty((rows, line), dtype=np.uint8)
    at = 0
    for v, (d, p), w in zip(cells, COLUMNS, widths):
        digits = d + p
        for k in range(digits):
            col = at + k + (1 if p and k >= d else 0)
            out[:, col] = (v // 10 ** (digits - 1 - k)) % 10 + ord("0")
        if p:
            out[:, at + d] = ord(".")
        at += w
        out[:, at] = ord(",")
        at += 1
    out[:, line - 1] = ord("\n")
    return (",".join(FEATURES) + "\n").encode() + out.tobytes()


def _label(x, rng):
    """A nonlinear target, so 100 trees of depth 6 all have work to do."""
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    y = np.sin(2 * z[:, 0]) * z[:, 1] + np.where(z[:, 2] > 0.3, z[:, 3] ** 2, -z[:, 4]) + 0.5 * z[:, 5] * z[:, 6]
    y += np.abs(z[:, 7] - z[:, 8]) - 0.3 * z[:, 9]
    return y + rng.normal(0, 0.1, len(y))


def tabular(rows, files, trees=100, depth=6, train_rows=50_000, seed=42, latency_rows=1000):
    """Folder with data/part-NN.csv (rows in `files` files), latency/one.csv and
    model/model.json (an XGBoost regressor). Returns (folder, generated?)."""
    params = {"rows": rows, "files": files, "features": len(COLUMNS), "trees": trees, "depth": depth,
              "train_rows": train_rows, "seed": seed, "latency_rows": latency_rows}

    def build(folder):
        import xgboost as xgb  # only when the model is trained

        rng = np.random.default_rng(seed)
        train = _features(rng, train_rows)
        x = _as_float(train)
        booster = xgb.train({"max_depth": depth, "eta": 0.1, "objective": "reg:squarederror", "seed": seed,
                             "nthread": os.cpu_count() or 1, "tree_method": "hist"},
                            xgb.DMatrix(x, label=_label(x, rng), feature_names=FEATURES),
                            num_boost_round=trees)
        os.makedirs(os.path.join(folder, "model"))
        booster.save_model(os.path.join(folder, "model", "model.json"))
        os.makedirs(os.path.join(folder, "data"))
        per_file = [rows // files + (1 if i < rows % files else 0) for i in range(files)]
        for i, n in enumerate(per_file):
            with open(os.path.join(folder, "data", f"part-{i:02d}.csv"), "wb") as f:
                f.write(_csv_bytes(_features(rng, n)))
        os.makedirs(os.path.join(folder, "latency"))
        with open(os.path.join(folder, "latency", "one.csv"), "wb") as f:
            f.write(_csv_bytes(_features(rng, latency_rows)))

    return _entry("tabular", params, build)


def small_files(count, content):
    """Folder with `count` files named f000000.csv … holding `content` (bytes)."""
    params = {"count": count, "content": content.decode()}

    def build(folder):
        os.makedirs(os.path.join(folder, "files"))
        for i in range(count):
            with open(os.path.join(folder, "files", f"f{i:06d}.csv"), "wb") as f:
                f.write(content)

    return _entry("files", params, build)


# Each CSV file of a tabular folder's data/ as Parquet (ZSTD, row groups of
# row_group rows, every feature a DOUBLE, as DuckDB reads the CSV) and as
# JSON Lines (one {"f0": …, …} object a line), same rows, same order.
_WRITE_FORMATS = r"""
import { DuckDBInstance } from '@duckdb/node-api';
const [src, dest, rowGroup] = process.argv.slice(-3);
const db = await (await DuckDBInstance.create(':memory:')).connect();
await db.run("SET threads = 2");
for (const name of (await import('node:fs')).readdirSync(src).sort()) {
  const base = name.replace(/\.csv$/, '');
  const rows = `SELECT * FROM read_csv('${src}/${name}', header = true, all_varchar = false)`;
  await db.run(`COPY (${rows}) TO '${dest}/parquet/${base}.parquet'
                (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${rowGroup})`);
  await db.run(`COPY (${rows}) TO '${dest}/jsonl/${base}.jsonl' (FORMAT json)`);
}
"""


def have_duckdb():
    return shutil.which("node") is not None and os.path.isdir(os.path.join(PARQUET_TOOL, "node_modules", "@duckdb"))


def tabular_formats(tabular_folder, row_group=65536):
    """Folder with parquet/part-NN.parquet and jsonl/part-NN.jsonl: the tabular
    folder's CSV files in the other input formats. Returns (folder, generated?)."""
    params = {"tabular": os.path.basename(tabular_folder), "row_group": row_group}

    def build(folder):
        os.makedirs(os.path.join(folder, "parquet"))
        os.makedirs(os.path.join(folder, "jsonl"))
        subprocess.run(["node", "--input-type=module", "-e", _WRITE_FORMATS, "--",
                        os.path.join(tabular_folder, "data"), folder, str(row_group)],
                       cwd=PARQUET_TOOL, check=True)

    return _entry("formats", params, build)
