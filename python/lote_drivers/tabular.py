"""No-code tabular scoring in Python: CSV rows in, one output row per input
row out. Parquet and JSON Lines items (.parquet, .jsonl, .ndjson) are read
by columnar.py (Parquet decoded to CSV by lote's own reader, then read here
as CSV is; JSON Lines parsed there, cells cast by the same column types);
what follows holds for them too, except where columnar.py says otherwise
(row keys of Parquet items are rows of the whole file; JSON Lines rows
fail with the native worker's words).

The Python runner's counterpart of the native worker's TabularScorer
(src/native/tabular_scorer.h), for models only Python can run (a pickled
scikit-learn model). Items, output rows, counts and errors follow the same
contract, so that a job's output reads the same whichever worker scored it.

Items: {"path"}, a whole CSV file whose first record is its header, or
{"path", "offset", "length", "header"}, a byte range of one that holds whole
RFC 4180 records (the planner never cuts inside a quoted field), with the
file's header record (no byte order mark). Names and headers that are not
UTF-8 come as byte fields ("path_b64", "header_b64": lote_runner.item_path):
the file is opened by its bytes, and messages and the output's file column
show the item's readable "path" ("caf\\xe9.csv"). Files are read with
pandas.read_csv (RFC 4180 quoting, blank lines skipped, a UTF-8 byte order
mark ignored). A line longer than MAX_RECORD_BYTES (64 MiB) fails its item
("trips.csv: the record at line 3 is longer than 64 MiB, the limit for one
CSV record"), as the native worker fails such a record.

Columns: the scorer's columns are taken by name, in the scorer's order; a file
may hold extra columns, in any order. A file that lacks one fails as a whole:
"trips.csv: missing column 'tripDistance'; the file's columns: a, b". Without
columns (a model with no named signature) every column of the file is passed,
in the file's order, as pandas reads it.

Types (MLflow's column types; a column without one is left as pandas infers
it): integer/long -> int64, float/double -> float64, boolean -> bool (true,
false, 1, 0 in any case), string -> str, datetime -> datetime64. Numeric
columns are parsed by pandas (round-trip exact floats); one that pandas cannot
parse as its type is read again as text and cast cell by cell. A cell that is
not of its column's type fails its row only (a row error naming the file, the
row and the column: "trips.csv: row 2 (line 4), column 'passengerCount':
'two' is not an integer"); the row is left out of the prediction and the
other rows are scored. Missing cells (empty, NA, NaN, null, … as pandas reads
them) are NaN in float and string columns (as pandas gives them to the
model, which may refuse them: predict's error then fails the item), and row
errors in integer and boolean columns, which cannot hold them. A row with too
many fields makes pandas refuse the file, which then fails as a whole.

Output rows (options.layout "azure": `row,<outputs>,file`, and no header, as
Azure's MLflow driver writes them): `file,row,<outputs>` where file is the input's base name and row
is the 0-based data row of the file (header excluded, blank lines skipped),
for a byte-range item too: its rows are counted from the item's "first_row",
the planner's count of the rows before the range (src/jobs/byte_ranges.h),
and its row errors name the line from its "first_line". A range item
without "first_row" (planned by an older lote, a job resumed after an
upgrade) keeps the old keys: "@" and the byte offset in the file where the
row starts, or "@<range offset>:<index in the range>" should the range's
records and the rows pandas read disagree. One column per output (a 2-D result has several), named by
the signature's outputs when it names as many, else by the DataFrame's
column names when predict returns a DataFrame with string column names, else
"prediction" for one output and prediction_0, prediction_1, … for several.
The header is fixed by the worker's first prediction (null in a result before
any, whose payload is then empty). Floats are written as
repr(float(x)) (the shortest text that reads back as the same double; a
float32 is widened first, as the native worker does), integers and strings as
str, booleans as True/False, with RFC 4180 quoting.

Counts: succeeded is the rows scored; failed the bad rows plus one per item
that failed as a whole (unreadable, not CSV, a missing column, predict
raising — its rows then count for nothing). item_errors has one entry per bad
row ({"item", "error", "row", "column"}, at most MAX_ROW_ERRORS_PER_ITEM per
item, then one entry counting the rest) and one per failed item ({"item",
"error"}, with "traceback" when the failure is an exception).

One scorer per worker process; not thread-safe.
"""

import io
import json
import os
import traceback

import numpy as np
import pandas as pd

import lote_runner
from lote_drivers import columnar
# ItemFailed and record_starts are used by mlflow_sklearn.py and the tests.
from lote_drivers.sources import (ItemFailed, _describe, _JsonlSource, _open_source,  # noqa: F401
                                  _ParquetSource, _row_key, _row_keys, _row_line, record_starts)

MAX_ROW_ERRORS_PER_ITEM = 100
_MAX_ERROR_TEXT = 64
_MAX_LISTED_COLUMNS = 20

# MLflow column type -> how its cells are read. Types not listed (binary, a
# tensor spec) are left as pandas infers them.
CAST_KINDS = {"integer": "int", "long": "int", "float": "float", "double": "float",
              "boolean": "bool", "string": "str", "datetime": "datetime"}

_TRUE = frozenset(("true", "1", "1.0"))
_FALSE = frozenset(("false", "0", "0.0"))
_INT64_LIMIT = 2.0 ** 63


def _truncate(text):
    return text if len(text) <= _MAX_ERROR_TEXT else text[:_MAX_ERROR_TEXT] + "…"


def _csv_field(s):
    if "," in s or '"' in s or "\n" in s or "\r" in s:
        return lote_runner._csv_quote(s)
    return s


# --------------------------------------------------------------------------
# Casting a column read as text


def _cast(raw, kind):
    """raw: a column read as text (str, or NaN for a missing cell). Returns
    (values, bad) where values has the column's type at the good positions
    and bad lists [(position, reason)] of the cells that are not of it."""
    na = raw.isna().to_numpy()
    if kind == "str":
        return raw, []
    if kind == "float":
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype="float64", copy=True)
        bad = []
        for i in np.flatnonzero(np.isnan(values) & ~na):
            v = _parse_float(raw.iat[i])  # what pandas gives up on: 1e400, …
            if v is None:
                bad.append((i, f"{_quote_cell(raw.iat[i])} is not a number"))
            else:
                values[i] = v
        return pd.Series(values, index=raw.index), bad
    if kind == "int":
        return _cast_int(raw, na)
    if kind == "bool":
        text = raw.where(~na, "").astype(str).str.strip().str.lower()
        true = text.isin(_TRUE).to_numpy()
        good = true | text.isin(_FALSE).to_numpy()
        bad = [(i, "missing value (a boolean column)" if na[i]
                else f"{_quote_cell(raw.iat[i])} is not a boolean")
               for i in np.flatnonzero(~good)]
        return pd.Series(true, index=raw.index), bad
    if kind == "datetime":
        values = pd.to_datetime(raw, errors="coerce")
        bad = [(i, f"{_quote_cell(raw.iat[i])} is not a date-time")
               for i in np.flatnonzero(values.isna().to_numpy() & ~na)]
        return values, bad
    return raw, []


def _numeric(col, kind):
    """A column pandas parsed as numbers (or a column without a cast)."""
    if kind == "float":
        return col.astype("float64"), []
    if kind == "int":
        return col.astype("int64"), []
    return col, []


def _cast_int(raw, na):
    num = pd.to_numeric(raw, errors="coerce")
    if num.dtype.kind == "i":  # every cell an integer that fits
        return num.astype("int64"), []
    f = num.to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        ok = ~np.isnan(f) & (np.abs(f) < 2.0 ** 53) & (f == np.floor(f))
    out = np.where(ok, f, 0.0).astype("int64")
    bad = []
    for i in np.flatnonzero(~ok):
        if na[i]:
            bad.append((i, "missing value (an integer column)"))
            continue
        exact = _parse_int(raw.iat[i])  # beyond a double's integers, or not a number
        if exact is None:
            bad.append((i, f"{_quote_cell(raw.iat[i])} is not an integer"))
        else:
            out[i] = exact
    return pd.Series(out, index=raw.index), bad


def _parse_float(text):
    s = str(text).strip()
    if "_" in s:  # Python's float() takes 1_000; CSV readers do not
        return None
    try:
        return float(s)
    except ValueError:
        return None


def _parse_int(text):
    s = str(text).strip()
    if "_" in s:
        return None
    try:
        v = int(s)
    except ValueError:
        f = _parse_float(s)
        if f is None or not np.isfinite(f) or f != int(f):
            return None
        v = int(f)
    return v if -_INT64_LIMIT <= v < _INT64_LIMIT else None


def _quote_cell(text):
    return "'" + _truncate(str(text)) + "'"


# --------------------------------------------------------------------------
# Output values as CSV text


def _cell_text(v):
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, bytes):
        return v.decode("utf-8", "backslashreplace")
    return str(v)


def format_values(values):
    """The CSV fields of a 1-D sequence of predictions."""
    a = np.asarray(values)
    kind = a.dtype.kind
    if kind == "f":
        return [repr(v) for v in a.astype("float64").tolist()]
    if kind in "iub":
        return [str(v) for v in a.tolist()]
    if kind in "Mm":
        return [str(v) for v in a]
    return [_csv_field(_cell_text(v)) for v in a.tolist()]


def _prediction_columns(pred, n_rows):
    """(columns, names): the prediction's 1-D columns, and its DataFrame's
    column names when it has string ones (else None)."""
    names = None
    if isinstance(pred, pd.DataFrame):
        if all(isinstance(c, str) for c in pred.columns):
            names = list(pred.columns)
        cols = [pred.iloc[:, j].to_numpy() for j in range(pred.shape[1])]
    elif isinstance(pred, pd.Series):
        cols = [pred.to_numpy()]
    else:
        a = np.asarray(pred)
        if a.ndim == 1:
            cols = [a]
        elif a.ndim == 2:
            cols = [a[:, j] for j in range(a.shape[1])]
        else:
            raise ValueError(f"predict returned an array of shape {a.shape}; "
                             "lote writes 1-D or 2-D predictions")
    for c in cols:
        if len(c) != n_rows:
            raise ValueError(f"predict returned {len(c)} rows for {n_rows}")
    if not cols:
        raise ValueError("predict returned no columns")
    return cols, names


# --------------------------------------------------------------------------
# The scorer


class TabularScorer:
    """A driver handler (lote_runner's run(items) -> Outcome, shutdown()).

    columns: [(name, mlflow_type or None)] to take from each file, or None
    for every column of the file. predict: a callable taking a DataFrame of
    those columns and returning one prediction per row (1-D or 2-D).
    output_names: the signature's output names ([] or None when it names
    none)."""

    def __init__(self, columns, predict, output_names=None, layout="lote", passthrough=None):
        self.columns = columns
        # Input columns copied after the predictions (settings.passthrough_columns):
        # None, "*" (every column of the file) or a list of names. The names
        # of "*" are fixed by the first file scored (the output has one header).
        self.passthrough = passthrough
        self._passthrough_names = list(passthrough) if isinstance(passthrough, list) else None
        self.predict = predict
        self.output_names = list(output_names or [])
        self.header = None  # fixed by the first prediction
        # "azure": rows as Azure's MLflow driver writes them, `row,<outputs>,file`
        # with no header (docs/azure-output.md); the header is still kept, to
        # check every item's predictions have the same columns.
        self.azure = layout == "azure"
        # Numeric columns are parsed by pandas; the others are read as text
        # and cast here (see _cast).
        self._dtype = {name: str for name, t in columns or []
                       if CAST_KINDS.get(t) in ("str", "bool", "datetime")}

    def run(self, items):
        succeeded = failed = 0
        parts, errors = [], []
        for item in items:
            path = item.get("path", "?")
            try:
                n_ok, row_errors, rows = self._score(item)
            except ItemFailed as e:
                failed += 1
                errors.append(_item_error(path, e.error, e.traceback))
                continue
            except Exception as e:  # anything else fails this item only
                failed += 1
                name = os.path.basename(path) or path
                errors.append(_item_error(path, f"{name}: {_describe(e)}",
                                          traceback.format_exc()))
                continue
            succeeded += n_ok
            failed += len(row_errors)
            errors += _listed(path, os.path.basename(path) or path, row_errors)
            parts.append(rows)
        payload = lote_runner._to_utf8("".join(parts))
        header = None if self.azure else self.header
        return lote_runner.Outcome(succeeded, failed, header, payload, errors)

    def shutdown(self):
        pass

    # One item: (rows scored, [row error dicts], output text).
    def _score(self, item):
        # Passthrough columns may be any of the file's: a Parquet item is then
        # decoded whole, not just the model's columns.
        src = _open_source(item, self.columns if self.passthrough is None else None)
        line_errors = {}  # JSON Lines: {row: message} of lines that fail their row
        if isinstance(src, _JsonlSource):
            if self.columns is None:
                raise ItemFailed(f"{src.name}: a JSON Lines file has no header; the model's "
                                 "signature (or options.columns) must name its input columns")
            kinds = {name: CAST_KINDS.get(t) for name, t in self.columns}
            df, line_errors = columnar.read_jsonl(src.lines, [n for n, _ in self.columns], kinds,
                                                  src.where)
        else:
            df = self._read(src)
        if isinstance(src, _ParquetSource) and columnar.ROW_NUMBER_COLUMN in df.columns:
            numbers = df.pop(columnar.ROW_NUMBER_COLUMN)
            src.row_base = int(numbers.iloc[0]) if len(numbers) else 0
        if self.columns is None:
            columns = [(c, None) for c in df.columns]
        else:
            columns = self.columns
            for name, _ in columns:
                if name not in df.columns:
                    have = [str(c) for c in df.columns[:_MAX_LISTED_COLUMNS]]
                    if len(df.columns) > _MAX_LISTED_COLUMNS:
                        have.append("…")
                    raise ItemFailed(f"{src.name}: missing column '{name}'; "
                                     f"the file's columns: {', '.join(have)}")
        n = len(df)
        if n == 0:
            return 0, [], ""

        # Cast each column; a row's error names its first bad column.
        bad_rows = {}
        data = {}
        text = self._text_of_unparsed(src, df, columns)
        for name, mlflow_type in columns:
            kind = CAST_KINDS.get(mlflow_type)
            if name in text:
                values, bad = _cast(text[name], kind)
            else:
                values, bad = _numeric(df[name], kind)
            data[name] = values
            for i, reason in bad:
                if i not in bad_rows:
                    bad_rows[i] = (name, reason)
        x = pd.DataFrame(data, index=df.index, columns=[name for name, _ in columns])

        for i, message in line_errors.items():
            bad_rows[i] = message  # a bad line: its cells are placeholders
        pass_text, pass_errors = self._passthrough_text(src, n)
        for i, message in pass_errors.items():
            bad_rows.setdefault(i, message)  # a JSON Lines row without a passthrough key
        by_offset = src.is_range and src.first_row is None
        starts = src.row_starts(n) if (by_offset or bad_rows) else None
        row_errors = [self._row_error(src, i, starts, *v) if isinstance(v, tuple)
                      else {"item": src.shown, "error": v, "row": _row_key(src, i, starts)}
                      for i, v in sorted(bad_rows.items())]
        if bad_rows:
            keep = np.ones(n, dtype=bool)
            keep[list(bad_rows)] = False
            positions = np.flatnonzero(keep)
            x = x.iloc[positions]
        else:
            positions = np.arange(n)
        if len(positions) == 0:
            return 0, row_errors, ""

        try:
            pred = self.predict(x)
            cols, frame_names = _prediction_columns(pred, len(positions))
        except Exception as e:
            raise ItemFailed(f"{src.name}: the model's predict failed: {_describe(e)}",
                             traceback.format_exc()) from None
        self._check_header(src, len(cols), frame_names)

        fields = [format_values(c) for c in cols]
        # Per output row: ",<cell>,<cell>…" of the passthrough columns.
        if pass_text:
            extra = ["".join("," + _csv_field(t) for t in row)
                     for row in zip(*(c[positions] for c in pass_text))]
        else:
            extra = [""] * len(positions)
        keys = _row_keys(src, positions.tolist(), starts)
        file_field = _csv_field(src.name)
        if self.azure:
            lines = [f"{k},{','.join(v)},{file_field}{x}\n"
                     for k, v, x in zip(keys, zip(*fields), extra)]
        elif len(fields) == 1:
            lines = [f"{file_field},{k},{v}{x}\n" for k, v, x in zip(keys, fields[0], extra)]
        else:
            lines = [f"{file_field},{k},{','.join(v)}{x}\n"
                     for k, v, x in zip(keys, zip(*fields), extra)]
        return len(positions), row_errors, "".join(lines)

    def _read(self, src, usecols=None):
        if not src.csv.strip():
            raise ItemFailed(f"{src.name}: the file is empty (no header line)")
        try:
            return pd.read_csv(io.BytesIO(src.csv), dtype=str if usecols else (self._dtype or None),
                               usecols=usecols, low_memory=False, float_precision="round_trip",
                               **getattr(src, "read_options", {}))
        except pd.errors.EmptyDataError:
            raise ItemFailed(f"{src.name}: the file is empty (no header line)") from None
        except UnicodeDecodeError as e:
            raise ItemFailed(f"{src.name}: not UTF-8 text: {e}") from None
        except (pd.errors.ParserError, ValueError) as e:
            raise ItemFailed(f"{src.name}: not valid CSV: {_describe(e)}") from None

    def _text_of_unparsed(self, src, df, columns):
        """{name: the column as text} for the numeric columns that pandas did
        not parse as their type (a cell that is not a number, a missing cell
        in an integer column, …): read again as text, to cast cell by cell
        and to quote the bad cells in errors. Usually none."""
        again = []
        for name, mlflow_type in columns:
            kind = CAST_KINDS.get(mlflow_type)
            dtype_kind = df[name].dtype.kind
            if (kind == "float" and dtype_kind not in "fiu") or (
                    kind == "int" and dtype_kind != "i"):
                again.append(name)
        if not again:
            return {}
        text = self._read(src, usecols=again)
        return {name: text[name] for name in again}

    def _passthrough_text(self, src, n_rows):
        """(The passthrough columns as text, each a numpy array of str with
        one cell per row of the item (the input's text as read: unquoted,
        "" for an empty cell), or None without passthrough; {row: message}
        of rows that fail for want of a column: JSON Lines rows only). Fails
        the item when a named column is missing, or when "*" finds other
        columns than the first file's."""
        if self.passthrough is None:
            return None, {}
        if isinstance(src, _JsonlSource):
            return self._jsonl_passthrough(src, n_rows)
        try:
            text = pd.read_csv(io.BytesIO(src.csv), dtype=str, keep_default_na=False,
                               na_filter=False, low_memory=False)
        except (pd.errors.ParserError, ValueError) as e:
            raise ItemFailed(f"{src.name}: not valid CSV: {_describe(e)}") from None
        if isinstance(src, _ParquetSource) and columnar.ROW_NUMBER_COLUMN in text.columns:
            text = text.drop(columns=[columnar.ROW_NUMBER_COLUMN])
        have = [str(c) for c in text.columns]
        if self.passthrough == "*":
            if self._passthrough_names is None:
                self._passthrough_names = have
            elif have != self._passthrough_names:
                raise ItemFailed(f"{src.name}: passthrough_columns \"*\" gives its columns "
                                 f"{', '.join(have[:_MAX_LISTED_COLUMNS])}, and an earlier file's "
                                 f"were {', '.join(self._passthrough_names[:_MAX_LISTED_COLUMNS])}; "
                                 "one output has one header: name the columns to copy")
        for name in self._passthrough_names:
            if name not in text.columns:
                listed = have[:_MAX_LISTED_COLUMNS] + (["…"] if len(have) > _MAX_LISTED_COLUMNS else [])
                raise ItemFailed(f"{src.name}: passthrough column '{name}' is missing; "
                                 f"the file's columns: {', '.join(listed)}")
        if len(text) != n_rows:
            raise ItemFailed(f"{src.name}: read {len(text)} rows as text and {n_rows} as numbers")
        return [text[name].to_numpy(dtype=object) for name in self._passthrough_names], {}

    def _jsonl_passthrough(self, src, n_rows):
        """_passthrough_text of a JSON Lines item, as the native reader gives
        it: a string as its text, null as "", true/false, a number, array or
        object as JSON text; "*" takes the keys of the file's first object.
        A row without a named key fails alone: ({}, {row: message})."""
        objects = []
        for _, _, line in src.lines:
            try:
                v = json.loads(line)
            except ValueError:
                v = None  # a bad line: read_jsonl failed its row already
            objects.append(v if isinstance(v, dict) else None)
        if self.passthrough == "*":
            first = next((o for o in objects if o is not None), None)
            if first is None:
                raise ItemFailed(f"{src.name}: passthrough_columns \"*\" takes the keys of the "
                                 "file's first object, and it has none")
            have = [str(k) for k in first]
            if self._passthrough_names is None:
                self._passthrough_names = have
            elif have != self._passthrough_names:
                raise ItemFailed(f"{src.name}: passthrough_columns \"*\" gives its keys "
                                 f"{', '.join(have[:_MAX_LISTED_COLUMNS])}, and an earlier file's "
                                 f"were {', '.join(self._passthrough_names[:_MAX_LISTED_COLUMNS])}; "
                                 "one output has one header: name the columns to copy")
        if len(objects) != n_rows:
            raise ItemFailed(f"{src.name}: read {len(objects)} lines and {n_rows} rows")
        names = self._passthrough_names
        cells = [np.empty(n_rows, dtype=object) for _ in names]
        errors = {}
        for i, obj in enumerate(objects):
            for k, name in enumerate(names):
                if obj is None:
                    cells[k][i] = ""
                elif name not in obj:
                    cells[k][i] = ""
                    errors.setdefault(i, f"{src.where(i)}, passthrough key '{name}' is missing")
                else:
                    cells[k][i] = _json_cell(obj[name])
        return cells, errors

    def _check_header(self, src, k, frame_names):
        if len(self.output_names) == k:
            names = self.output_names
        elif frame_names is not None and len(frame_names) == k:
            names = frame_names
        elif k == 1:
            names = ["prediction"]
        else:
            names = [f"prediction_{j}" for j in range(k)]
        header = "file,row," + ",".join(_csv_field(str(s)) for s in names)
        if self.header is None:
            self.header = header + _passthrough_header(["file", "row"] + [str(s) for s in names],
                                                       self._passthrough_names)
        elif not self.header.startswith(header) or (
                header + _passthrough_header(["file", "row"] + [str(s) for s in names],
                                             self._passthrough_names) != self.header):
            raise ItemFailed(f"{src.name}: the model's predictions have the columns "
                             f"{header[len('file,row,'):]}, earlier ones "
                             f"{self.header[len('file,row,'):]}")

    @staticmethod
    def _row_error(src, i, starts, column, reason):
        if src.is_range and src.first_row is None:
            where = (f"row at byte {starts[i][0]}" if starts is not None
                     else f"row {i} of the range at byte {src.offset}")
        else:
            line = _row_line(src, i, starts)
            where = f"row {_row_key(src, i, starts)}" + (f" (line {line})" if line else "")
        return {"item": src.shown,
                "error": f"{src.name}: {where}, column '{column}': {reason}",
                "row": _row_key(src, i, starts), "column": column}


def _json_cell(v):
    """A JSON value as a passthrough cell (see _jsonl_passthrough)."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def _passthrough_header(taken, names):
    """",<name>,…" of the passthrough columns; one named as an output column
    (file, row, a prediction's) is written "input.<name>" (docs/jobs.md)."""
    if not names:
        return ""
    taken = set(taken)
    out = []
    for n in names:
        while n in taken:
            n = "input." + n
        taken.add(n)
        out.append("," + _csv_field(n))
    return "".join(out)


def _item_error(path, error, tb):
    err = {"item": path, "error": error}
    if tb:
        err["traceback"] = tb
    return err


def _listed(path, name, row_errors):
    if len(row_errors) <= MAX_ROW_ERRORS_PER_ITEM:
        return row_errors
    rest = len(row_errors) - MAX_ROW_ERRORS_PER_ITEM
    return row_errors[:MAX_ROW_ERRORS_PER_ITEM] + [
        {"item": path, "error": f"{name}: {rest} more bad rows (not listed)"}]
