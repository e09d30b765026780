"""One tabular item's source for the no-code drivers (tabular.py): a CSV
file or a byte range of one (record boundaries as the planner cuts them),
a Parquet file or row groups of one (decoded by lote's reader, columnar.py),
or JSON Lines; and how each of its rows is keyed and named in the output
and in errors (its row in the file; see tabular.py's docstring)."""

import os

import numpy as np

import lote_runner
from lote_drivers import columnar

# The longest record (line) an item may hold, as the native worker's
# kMaxRecordBytes: a longer one fails its item.
MAX_RECORD_BYTES = 64 * 1024 * 1024



class ItemFailed(Exception):
    """Fails one item as a whole with this text (and traceback)."""

    def __init__(self, error, tb=None):
        super().__init__(error)
        self.error = error
        self.traceback = tb


def _describe(e):
    text = str(e)
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


# --------------------------------------------------------------------------
# Where each data row starts


def _quoted_record_end(data, pos):
    """The index of the '\\n' ending the record that starts at pos (len(data)
    at the end), and how many line ends its quoted fields hold. A quote opens
    a field only at the field's start, as in pandas' parser."""
    n = len(data)
    i, newlines = pos, 0
    field_start, quoted = True, False
    while i < n:
        c = data[i]
        if quoted:
            if c == 0x22:  # '"'
                if i + 1 < n and data[i + 1] == 0x22:
                    i += 2
                    continue
                quoted = False
            elif c == 0x0A:
                newlines += 1
            i += 1
            continue
        if c == 0x0A:
            return i, newlines
        if c == 0x22 and field_start:
            quoted = True
        field_start = c == 0x2C  # ','
        i += 1
    return n, newlines


def record_starts(data, pos=0):
    """[(offset, line)] of the non-blank records of data from pos: offset is
    the record's first byte in data, line its 1-based line counted from pos.
    Blank records (nothing but spaces, tabs and '\\r') are skipped, as pandas
    skips them."""
    out = []
    n = len(data)
    line = 1
    while pos < n:
        end = data.find(b"\n", pos)
        if end < 0:
            end = n
        start, start_line = pos, line
        if data.find(b'"', pos, end) >= 0:
            end, inner = _quoted_record_end(data, pos)
            line += inner
        if data[start:end].strip(b" \t\r"):
            out.append((start, start_line))
        pos = end + 1
        line += 1
    return out


# --------------------------------------------------------------------------
# One item's source


class _Source:
    """One item's bytes: the CSV text pandas reads (a range gets its header
    line in front) and how its rows are named. The file is opened by its
    bytes (lote_runner.item_path) and named readably (the item's "path")."""

    def __init__(self, item):
        self.shown, self.name, self.path = _item_file(item)
        try:
            header = lote_runner.item_header(item)
        except ValueError as e:
            raise ItemFailed(f"{self.name}: {e}") from None
        self.is_range = "offset" in item or "length" in item
        self.offset = 0
        # A range's first row number and line in the file (the planner's
        # "first_row", "first_line"); None for a whole file, and for a range
        # planned by an older lote (its rows are then keyed by byte offset).
        self.first_row = self.first_line = None
        if self.is_range:
            offset, length, self.first_row, self.first_line = _range_fields(self.name, item)
            if not header:
                raise ItemFailed(f"{self.name}: a byte range needs the file's header line")
            if len(header) > MAX_RECORD_BYTES:
                raise ItemFailed(f"{self.name}: the header record is longer than "
                                 f"{_limit_text()}, the limit for one CSV record")
            self.offset = offset
            self.data = self._read(offset, length)
            self.csv = header + b"\n" + self.data
        else:
            self.data = self._read(0, None)
            self.csv = self.data
        self._check_record_lengths()
        self._starts = None

    def _read(self, offset, length):
        try:
            with open(self.path, "rb") as f:
                if offset:
                    f.seek(offset)
                return f.read() if length is None else f.read(length)
        except OSError as e:
            raise ItemFailed(f"{self.name}: cannot read: {e.strerror or _describe(e)}") from None

    def _check_record_lengths(self):
        """Fails the item when one line is longer than MAX_RECORD_BYTES, as
        the native worker fails a record that long (a record of quoted
        multi-line fields is measured line by line here)."""
        data = self.data
        if len(data) <= MAX_RECORD_BYTES:
            return
        ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0x0A)
        starts = np.concatenate(([0], ends + 1))
        lengths = np.concatenate((ends + 1, [len(data)])) - starts
        over = np.flatnonzero(lengths > MAX_RECORD_BYTES)
        if len(over) == 0:
            return
        i = int(over[0])
        if self.is_range:
            where = f"the record at byte {self.offset + int(starts[i])}"
        elif i == 0:
            where = "the header record"
        else:
            where = f"the record at line {i + 1}"
        raise ItemFailed(f"{self.name}: {where} is longer than {_limit_text()}, "
                         "the limit for one CSV record")

    def row_starts(self, n_rows):
        """[(offset in the file, line)] of the n_rows data rows (a range's
        lines counted from its start), or None
        when the records found and the rows pandas read disagree."""
        if self._starts is None:
            if self.is_range:
                starts = [(self.offset + o, line) for o, line in record_starts(self.data)]
            else:
                skip = 3 if self.data.startswith(b"\xef\xbb\xbf") else 0
                starts = record_starts(self.data, skip)[1:]  # the first is the header
            self._starts = starts
        return self._starts if len(self._starts) == n_rows else None


class _ParquetSource:
    """A .parquet item, decoded to CSV by lote's reader (columnar.py): the
    CSV text pandas reads, rows keyed by their row in the file."""

    def __init__(self, item, columns):
        self.shown, self.name, self.path = _item_file(item)
        self.is_range = False
        self.offset = 0
        self.row_base = 0  # the file's row of the item's first row, once read

        def fail(text):
            raise ItemFailed(text)

        names = [name for name, _ in columns] if columns is not None else None
        self.csv = self.data = columnar.decode_parquet(item, self.path, self.name, names, fail)
        # Parquet strings are strings: only an empty field is a null.
        self.read_options = {"keep_default_na": False, "na_values": [""]}

    def row_starts(self, n_rows):
        return None


class _JsonlSource:
    """A .jsonl/.ndjson item (columnar.py): its non-blank lines, keyed as CSV
    rows are (the row in the file, a range's counted from its first_row;
    "@<byte offset>" in a range planned without it)."""

    def __init__(self, item):
        self.shown, self.name, self.path = _item_file(item)
        self.is_range = "offset" in item or "length" in item
        self.offset = 0
        self.row_base = 0
        # As _Source: a range's first row and line in the file, from the planner.
        self.first_row = self.first_line = None
        if self.is_range:
            offset, length, self.first_row, self.first_line = _range_fields(self.name, item)
            self.offset = offset
            data = _Source._read(self, offset, length)
        else:
            data = _Source._read(self, 0, None)
        self.lines = columnar.jsonl_lines(data, self.offset, self.is_range)
        self._starts = [(o, line) for o, line, _ in self.lines]

    def row_starts(self, n_rows):
        return self._starts if len(self._starts) == n_rows else None

    def where(self, i):
        if self.is_range and self.first_row is None:
            return f"{self.name}: row at byte {self._starts[i][0]}"
        line = _row_line(self, i, self._starts)
        return f"{self.name}: row {_row_key(self, i, self._starts)}" + (f" (line {line})" if line else "")


def _item_file(item):
    """(how the item is shown: its "path"; its base name for messages; the
    path to open, from its bytes: lote_runner.item_path)."""
    shown = item.get("path") if isinstance(item.get("path"), str) else "?"
    name = os.path.basename(shown) or shown
    try:
        return shown, name, lote_runner.item_path(item)
    except ValueError as e:
        raise ItemFailed(f"{name}: {e}") from None


def _range_fields(name, item):
    """A byte-range item's (offset, length, first_row, first_line); the last
    two None when the planner did not give them (an older lote)."""
    for key in ("first_row", "first_line"):
        v = item.get(key)
        if v is not None and not _is_count(v):
            raise ItemFailed(f"{name}: a byte-range item's {key} must be a non-negative integer")
    offset, length = item.get("offset"), item.get("length")
    if not (_is_count(offset) and _is_count(length)):
        raise ItemFailed(f"{name}: a byte-range item needs non-negative integers offset and length")
    return offset, length, item.get("first_row"), item.get("first_line")


def _open_source(item, columns):
    kind = columnar.kind_of(item)
    if kind == "parquet":
        return _ParquetSource(item, columns)
    if kind == "jsonl":
        return _JsonlSource(item)
    return _Source(item)


def _limit_text():
    if MAX_RECORD_BYTES % (1 << 20) == 0:
        return f"{MAX_RECORD_BYTES >> 20} MiB"
    return f"{MAX_RECORD_BYTES} bytes"


def _is_count(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _row_line(src, i, starts):
    """The 1-based line of the file where row i of the item starts, or None."""
    if starts is None:
        return None
    if not src.is_range:
        return starts[i][1]
    if src.first_line is None:
        return None
    return src.first_line + starts[i][1] - 1


def _row_keys(src, positions, starts):
    return [_row_key(src, i, starts) for i in positions]


def _row_key(src, i, starts):
    """Row i of the item's rows: its row number in the file (a range's rows
    counted from its first_row), or for a range without first_row the old
    key, "@<byte offset>" (or "@<range offset>:<i>" when the records and the
    rows pandas read disagree)."""
    if not src.is_range:
        return str(getattr(src, "row_base", 0) + i)  # a Parquet item's rows from its first
    if src.first_row is not None:
        return str(src.first_row + i)
    if starts is not None:
        return f"@{starts[i][0]}"
    return f"@{src.offset}:{i}"
