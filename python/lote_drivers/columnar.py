"""Parquet and JSON Lines items for the no-code tabular scorer (tabular.py),
read with nothing installed beyond pandas (docs/parquet.md, "The Python
runner").

Parquet: pandas here has no Parquet engine (neither pyarrow nor
fastparquet), so the file is decoded by lote's own reader, running
`lote parquet decode FILE [--row-groups FIRST:COUNT] [--columns a,b]
--row-number-column NAME` as a subprocess (src/exe/parquet_command.cc): the
binary is $LOTE_BIN (the agent sets it for its workers) or `lote` on PATH.
Its stdout is CSV (integers exact, floats as the shortest text of the same
double, nulls empty) that tabular.py reads and casts as it reads a CSV file,
so columns, types, nulls (NaN), row errors and a missing column ("a.parquet:
missing column 'x'; the file's columns: …") mean the same as for CSV. A
decoder error (a corrupt file, row groups past the end) fails the item with
the decoder's message, which names the file. Items: {"path"} (the whole
file) or {"path", "row_group", "row_groups"} (row groups cut by the
planner); rows are keyed by their 0-based row in the whole file.

JSON Lines (.jsonl, .ndjson, any case): parsed here with the standard json
module, one object per line; blank lines are not rows; a UTF-8 byte order
mark at the file's start is skipped. Items: {"path"} or a byte range
{"path", "offset", "length"} of whole lines (as planned by
jobs/byte_ranges.h). Rows are keyed as CSV rows are: the 0-based row of a
whole file, "@<byte offset>" of a range's rows. The model's columns are
taken by key (a JSON Lines file has no header: a model whose signature names
no columns cannot score one). A bad line fails its row only, with the native
worker's words: "a.jsonl: row 5 (line 6), not valid JSON (…)", "…, key
'hour' is missing", "…, key 'fareAmount': a string, not a number". Cells
are cast by the column's MLflow type: numbers (and true/false as 1/0) for
float columns, whole numbers for integer columns, true/false for boolean
ones, strings for string ones; null is NaN in float and string columns and
a row error in integer and boolean ones (which cannot hold it).
"""

import json
import os
import shutil
import subprocess

import numpy as np
import pandas as pd

ROW_NUMBER_COLUMN = "__lote_row__"
_MAX_ERROR_TEXT = 64


def kind_of(item):
    """'parquet', 'jsonl' or None (CSV) by the item's file name."""
    path = item.get("path")
    name = os.path.basename(path).lower() if isinstance(path, str) else ""
    if name.endswith(".parquet") and len(name) > len(".parquet"):
        return "parquet"
    for ext in (".jsonl", ".ndjson"):
        if name.endswith(ext) and len(name) > len(ext):
            return "jsonl"
    return None


def lote_binary():
    exe = os.environ.get("LOTE_BIN")
    if exe and os.access(exe, os.X_OK):
        return exe
    return shutil.which("lote")


def _is_count(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _truncate(text):
    return text if len(text) <= _MAX_ERROR_TEXT else text[:_MAX_ERROR_TEXT] + "…"


# --------------------------------------------------------------------------
# Parquet


def decode_parquet(item, path, name, columns, fail):
    """The item's rows as CSV bytes, a first column ROW_NUMBER_COLUMN holding
    each row's number in the file. columns: names to take (None: all).
    fail(text) raises the item's failure."""
    first = item.get("row_group")
    count = item.get("row_groups")
    ranged = "row_group" in item or "row_groups" in item
    if ranged and not (_is_count(first) and _is_count(count) and count > 0):
        fail(f"{name}: a row-group item needs a non-negative integer row_group and a "
             "positive integer row_groups")
    exe = lote_binary()
    if not exe:
        fail(f"{name}: reading Parquet needs the lote executable ($LOTE_BIN, which the agent sets, "
             "or lote on PATH)")
    argv = [exe, "parquet", "decode", path, "--name", name,
            "--row-number-column", ROW_NUMBER_COLUMN]
    if ranged:
        argv += ["--row-groups", f"{first}:{count}"]
    if columns and all("," not in c for c in columns):
        argv += ["--columns", ",".join(columns)]
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False)
    except OSError as e:
        fail(f"{name}: cannot run {exe}: {e.strerror or e}")
    if proc.returncode != 0:
        text = proc.stderr.decode("utf-8", "backslashreplace").strip().splitlines()
        msg = text[-1] if text else f"exit code {proc.returncode}"
        prefix = "lote parquet decode: error: "
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
        else:
            msg = f"{name}: lote parquet decode failed: {msg}"
        fail(msg)
    return proc.stdout


# --------------------------------------------------------------------------
# JSON Lines


def jsonl_lines(data, offset, is_range):
    """[(absolute offset, line number, line bytes)] of the non-blank lines
    of data, read from `offset` of the file (line numbers from 1 at the
    start of data: a range's are relative to it)."""
    pos = 0
    if not is_range and data.startswith(b"\xef\xbb\xbf"):
        pos = 3
    out = []
    line = 1
    n = len(data)
    while pos < n:
        end = data.find(b"\n", pos)
        if end < 0:
            end = n
        text = data[pos:end]
        if text.strip(b" \t\r"):
            out.append((offset + pos, line, text))
        pos = end + 1
        line += 1
    return out


_NUMBER = (int, float)


def _cell(value, kind, key):
    """(value, None) or (None, reason)."""
    if kind == "float":
        if value is None:
            return np.nan, None
        if isinstance(value, bool):
            return (1.0 if value else 0.0), None
        if isinstance(value, _NUMBER):
            try:
                return float(value), None
            except OverflowError:
                return None, f"key '{key}': {_truncate(str(value))} is out of range"
        return None, f"key '{key}': {_what(value)}, not a number"
    if kind == "int":
        if value is None:
            return None, f"key '{key}': null (an integer column)"
        if isinstance(value, bool) or not isinstance(value, _NUMBER):
            return None, f"key '{key}': {_what(value)}, not an integer"
        if isinstance(value, float):
            if not np.isfinite(value) or value != int(value):
                return None, f"key '{key}': {_truncate(repr(value))} is not an integer"
            value = int(value)
        if not -2 ** 63 <= value < 2 ** 63:
            return None, f"key '{key}': {_truncate(str(value))} is out of range"
        return value, None
    if kind == "bool":
        if isinstance(value, bool):
            return value, None
        if value is None:
            return None, f"key '{key}': null (a boolean column)"
        return None, f"key '{key}': {_what(value)}, not a boolean"
    if kind in ("str", "datetime"):
        if value is None:
            return None if kind == "str" else pd.NaT, None
        if isinstance(value, str):
            return value, None
        if kind == "str" and isinstance(value, _NUMBER) and not isinstance(value, bool):
            return str(value), None
        return None, f"key '{key}': {_what(value)}, not a string"
    return value, None  # no type: as json gives it


def _what(value):
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, _NUMBER):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"


def read_jsonl(lines, columns, kinds, where):
    """(DataFrame of the columns, {row: reason}) for the parsed lines.
    columns: [name]; kinds: {name: cast kind or None}; where(i) names row i.
    A bad row's cells are placeholders (0, NaN, False, "")."""
    n = len(lines)
    values = {c: [None] * n for c in columns}
    bad = {}
    for i, (_, _, text) in enumerate(lines):
        try:
            obj = json.loads(text)
        except ValueError as e:
            bad[i] = f"not valid JSON ({_truncate(str(e))})"
            continue
        if not isinstance(obj, dict):
            bad[i] = f"not a JSON object ({_what(obj)})"
            continue
        for c in columns:
            if c not in obj:
                bad[i] = f"key '{_truncate(c)}' is missing"
                break
            v, reason = _cell(obj[c], kinds.get(c), c)
            if reason is not None:
                bad[i] = reason
                break
            values[c][i] = v
    data = {}
    for c in columns:
        kind = kinds.get(c)
        col = values[c]
        if bad:
            fill = {"float": np.nan, "int": 0, "bool": False, "str": None,
                    "datetime": pd.NaT}.get(kind)
            for i in bad:
                col[i] = fill
        if kind == "float":
            data[c] = pd.Series(np.array(col, dtype="float64"))
        elif kind == "int":
            data[c] = pd.Series(np.array(col, dtype="int64"))
        elif kind == "bool":
            data[c] = pd.Series(np.array(col, dtype=bool))
        elif kind == "str":
            data[c] = pd.Series([np.nan if v is None else v for v in col], dtype=object)
        elif kind == "datetime":
            data[c] = pd.to_datetime(pd.Series(col, dtype=object), errors="coerce")
        else:
            data[c] = pd.Series(col)
    return pd.DataFrame(data, columns=columns), {i: f"{where(i)}, {r}" for i, r in bad.items()}
