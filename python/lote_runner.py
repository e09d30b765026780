#!/usr/bin/env python3
"""lote's Python worker: runs an Azure-style scoring script (score.py) for
`lote agent`, speaking the worker protocol, version 1 (docs/worker-protocol.md).

    LOTE_PROTOCOL_IN_FD=<fd> LOTE_PROTOCOL_OUT_FD=<fd> python3 lote_runner.py

The protocol travels on the two file descriptors named in the environment;
stdout and stderr belong to the user's script (its prints end up in the job's
logs), so this file never writes protocol data there.

One entry file, standard library only: the agent can run it with whatever
interpreter the deployment's environment names. pandas is touched only when
run() returns a DataFrame (pandas is then already imported by the script).
Built-in drivers for deployments without a script (options.driver, see
DRIVERS) live in lote_drivers/ beside this file and are imported only when an
init names one: "mlflow_sklearn" scores MLflow sklearn models with pandas.
The frame helpers (read_frame, write_frame) are importable, for tests and for
tools that want to talk to a worker.

File names are bytes: an item whose name is not UTF-8 carries its bytes in
"path_b64" (src/common/fs_name.h), and score.py gets os.fsdecode(bytes), the
str Python itself uses for such a name (item_path). Whatever the runner
writes (rows, messages) shows such a name's bytes as "\\xhh", as lote does.
Answers never outgrow a frame: error texts and item errors are bounded
(bound_texts), and a result still too large becomes run_failed.

Exit status: 0 after `shutdown` or at EOF on the input pipe; 1 after
`init_failed`; 2 on a protocol error (a message this worker does not expect,
a malformed or truncated frame).
"""

import base64
import binascii
import codecs
import importlib.machinery
import importlib.util
import json
import os
import struct
import sys
import traceback

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 64 * 1024 * 1024  # JSON part of a frame; payloads are separate
_HEADER = struct.Struct(">I")
# Bounds on the texts of a message (as src/runtime/frame.h), so that no input
# (a 200 MB line quoted in an exception, a million bad rows) can make an
# answer larger than a frame.
MAX_ERROR_TEXT_BYTES = 16 * 1024
MAX_TRACEBACK_BYTES = 64 * 1024
MAX_ITEM_ERRORS = 1000

# Built-in drivers for deployments without a scoring script, chosen by the
# init message's options.driver. A driver is a callable taking the init message
# and returning a handler (see ScriptHandler for the interface: run(items) ->
# Outcome, shutdown()). Raising from the callable fails the init.
DRIVERS = {}


class ProtocolError(Exception):
    """A frame that is truncated, too large, or not a JSON object."""


# --------------------------------------------------------------------------
# Framing


def _read_exact(f, n):
    """Reads exactly n bytes from f (a raw or buffered binary file). Returns
    fewer only at EOF."""
    if n == 0:
        return b""
    buf = bytearray()
    while len(buf) < n:
        chunk = f.read(n - len(buf))
        if not chunk:  # b"" is EOF; None (non-blocking, nothing yet) is not expected
            if chunk is None:
                continue
            break
        buf += chunk
    return bytes(buf)


def _write_all(f, data):
    view = memoryview(data)
    while view:
        n = f.write(view)
        if n is None:  # a non-blocking raw file that took nothing
            continue
        view = view[n:]


def _escape_errors(err):
    """The "lote.escape" codec error handler: a character that cannot be
    written as UTF-8 is escaped. A file name's undecodable byte (os.fsdecode
    gives it as a surrogate U+DC80..U+DCFF) becomes "\\xhh", exactly as lote
    shows such names (src/common/fs_name.h); any other lone surrogate becomes
    "\\udxxx"."""
    if not isinstance(err, UnicodeEncodeError):
        raise err
    out = []
    for ch in err.object[err.start:err.end]:
        o = ord(ch)
        out.append("\\x%02x" % (o - 0xDC00) if 0xDC80 <= o <= 0xDCFF else "\\u%04x" % o)
    return "".join(out), err.end


codecs.register_error("lote.escape", _escape_errors)


def display_text(text):
    """text as valid UTF-8 text: undecodable name bytes as \\xhh (see
    _escape_errors)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "lote.escape").decode("utf-8")


def _clean_text(obj):
    """Makes every string in obj encodable as UTF-8 (display_text)."""
    if isinstance(obj, str):
        return display_text(obj)
    if isinstance(obj, dict):
        return {_clean_text(k): _clean_text(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean_text(v) for v in obj]
    return obj


def truncate_text(text, limit):
    """text cut to at most `limit` bytes of UTF-8 at a character boundary,
    with " … (N more bytes)" appended when cut."""
    data = text.encode("utf-8", "lote.escape")
    if len(data) <= limit:
        return text
    head = data[:limit].decode("utf-8", "ignore")
    return f"{head} … ({len(data) - len(head.encode('utf-8'))} more bytes)"


def bound_texts(msg):
    """Applies the bounds above to a result or run_failed message (a new
    dict): "error" and "traceback" truncated, and each item error's; item
    errors past MAX_ITEM_ERRORS dropped, and one more says how many."""
    msg = dict(msg)

    def bound(d, key, limit):
        v = d.get(key)
        if isinstance(v, str) and len(v) > limit // 4:
            d[key] = truncate_text(v, limit)

    bound(msg, "error", MAX_ERROR_TEXT_BYTES)
    bound(msg, "traceback", MAX_TRACEBACK_BYTES)
    errors = msg.get("item_errors")
    if isinstance(errors, list):
        kept = []
        for e in errors[:MAX_ITEM_ERRORS]:
            if isinstance(e, dict):
                e = dict(e)
                bound(e, "item", MAX_ERROR_TEXT_BYTES)
                bound(e, "error", MAX_ERROR_TEXT_BYTES)
                bound(e, "traceback", MAX_TRACEBACK_BYTES)
            kept.append(e)
        if len(errors) > MAX_ITEM_ERRORS:
            kept.append({"item": "?", "error": f"{len(errors) - MAX_ITEM_ERRORS} more item "
                                               "errors in this result (not listed)"})
        msg["item_errors"] = kept
    return msg


def encode_frame(msg, payload=None):
    """The bytes of one frame (length + JSON); when payload is given (bytes),
    msg gets payload_bytes = len(payload) and the payload follows."""
    if payload is not None:
        msg = dict(msg, payload_bytes=len(payload))
    body = json.dumps(_clean_text(msg), ensure_ascii=False, allow_nan=False,
                      separators=(",", ":")).encode("utf-8")
    if len(body) > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame of {len(body)} bytes exceeds {MAX_FRAME_BYTES}")
    return _HEADER.pack(len(body)) + body


def write_frame(f, msg, payload=None):
    """Writes one frame to f; see encode_frame. Small payloads go in the same
    write as the frame."""
    head = encode_frame(msg, payload)
    if payload is not None and len(payload) <= 1 << 20:
        _write_all(f, head + bytes(payload))
    else:
        _write_all(f, head)
        if payload:
            _write_all(f, payload)
    flush = getattr(f, "flush", None)
    if flush is not None:
        flush()


def read_frame(f):
    """Reads one frame from f. Returns (msg, payload) where payload is the
    bytes that follow a frame with payload_bytes (None without), or None at
    EOF before a frame starts. Raises ProtocolError on a truncated frame, an
    oversized one, or JSON that is not an object with a string "type"."""
    head = _read_exact(f, _HEADER.size)
    if not head:
        return None
    if len(head) < _HEADER.size:
        raise ProtocolError("EOF inside a frame's length")
    (n,) = _HEADER.unpack(head)
    if n > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame of {n} bytes exceeds {MAX_FRAME_BYTES}")
    body = _read_exact(f, n)
    if len(body) < n:
        raise ProtocolError(f"EOF inside a frame: got {len(body)} of {n} bytes")
    try:
        msg = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ProtocolError(f"frame is not UTF-8 JSON: {e}") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise ProtocolError("frame is not a JSON object with a string \"type\"")
    payload = None
    k = msg.get("payload_bytes")
    if k is not None:
        if not isinstance(k, int) or isinstance(k, bool) or k < 0:
            raise ProtocolError(f"bad payload_bytes {k!r}")
        payload = _read_exact(f, k)
        if len(payload) < k:
            raise ProtocolError(f"EOF inside a payload: got {len(payload)} of {k} bytes")
    return msg, payload


# --------------------------------------------------------------------------
# Turning run()'s result into output rows


class Outcome:
    """What a handler's run() produces: the fields of a `result` message."""

    __slots__ = ("succeeded", "failed", "header", "payload", "item_errors")

    def __init__(self, succeeded, failed, header=None, payload=b"", item_errors=None):
        self.succeeded = succeeded
        self.failed = failed
        self.header = header
        self.payload = payload
        self.item_errors = item_errors or []


class RunFailed(Exception):
    """Fails the attempt with exactly this error text (and traceback)."""

    def __init__(self, error, tb=""):
        super().__init__(error)
        self.error = error
        self.traceback = tb


def _b64_field(item, key):
    """The bytes of a byte field (src/common/fs_name.h): item[key + "_b64"]
    decoded when present (base64url without padding), else item[key] as
    UTF-8; None when neither is there. ValueError when the field is bad."""
    b64 = item.get(key + "_b64")
    if b64 is None:
        text = item.get(key)
        if text is None:
            return None
        if not isinstance(text, str):
            raise ValueError(f'"{key}" must be a string')
        return text.encode("utf-8", "surrogateescape")
    if not isinstance(b64, str) or "=" in b64 or len(b64) % 4 == 1:
        raise ValueError(f'"{key}_b64" is not base64url without padding')
    try:
        raw = base64.b64decode(b64 + "=" * (-len(b64) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f'"{key}_b64" is not base64url without padding') from None
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != b64:
        raise ValueError(f'"{key}_b64" is not base64url without padding')
    return raw


def item_path(item):
    """The path to open for an item: a str as Python itself names files
    (os.fsdecode: a byte that is not UTF-8 is a surrogate), so that open(),
    os.stat() and pandas reach the real file whatever its name.
    ValueError naming the item when its path fields are bad."""
    try:
        raw = _b64_field(item, "path")
    except ValueError as e:
        raise ValueError(f"item {item.get('path')!r}: {e}") from None
    if not raw or b"\0" in raw:
        raise ValueError(f"item {item.get('path')!r}: no usable path")
    return os.fsdecode(raw)


def item_header(item):
    """A byte-range item's CSV header (bytes, no line end), or None."""
    try:
        return _b64_field(item, "header")
    except ValueError as e:
        raise ValueError(f"item {item.get('path')!r}: {e}") from None


def _to_utf8(text):
    return text.encode("utf-8", "lote.escape")


def _csv_quote(s):
    return '"' + s.replace('"', '""') + '"'


def _list_line(element):
    s = element if isinstance(element, str) else str(element)
    if "\n" in s or "\r" in s:
        # One element is one record: an embedded line break is quoted as an
        # RFC 4180 field so that a CSV reader still sees one record.
        return _csv_quote(s)
    return s


def _rows_from_list(result):
    if not result:
        return b""
    return _to_utf8("\n".join(_list_line(e) for e in result) + "\n")


def _is_dataframe(obj):
    pd = sys.modules.get("pandas")  # a DataFrame means pandas is already imported
    if pd is not None:
        frame_type = getattr(pd, "DataFrame", None)
        if isinstance(frame_type, type) and isinstance(obj, frame_type):
            return True
    return False


def _to_csv(df, header, terminator):
    try:
        return df.to_csv(index=False, header=header, lineterminator=terminator)
    except TypeError:  # pandas < 1.5
        return df.to_csv(index=False, header=header, line_terminator=terminator)


def _crlf_records_to_lf(text):
    """Text written with "\r\n" terminators: makes the terminators "\n",
    leaving line breaks inside quoted fields alone. With doubled-quote
    escaping, the pieces between '"' alternate outside/inside a field."""
    parts = text.split('"')
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("\r\n", "\n")
    return '"'.join(parts)


def _dataframe_csv(df, header):
    text = _to_csv(df, header, "\n")
    if "\r" in text:
        # csv quotes only the line terminator's characters: write again with
        # "\r\n" so that a bare "\r" in a value gets quoted too (RFC 4180).
        text = _crlf_records_to_lf(_to_csv(df, header, "\r\n"))
    return text


def _rows_from_dataframe(df):
    try:
        header = _dataframe_csv(df.iloc[0:0], True)
        rows = _dataframe_csv(df, False) if len(df) else ""
    except Exception as e:
        raise RunFailed(f"run() returned a DataFrame that cannot be written as CSV: "
                        f"{type(e).__name__}: {e}", traceback.format_exc()) from None
    if header.endswith("\n"):
        header = header[:-1]
    return header, _to_utf8(rows)


def outcome_from_result(result, n_items):
    """The Outcome of a score.py's run() that got n_items items: a list (or
    tuple) gives one plain line per element, a pandas DataFrame CSV rows with
    a header; anything else fails the attempt, as in Azure."""
    if isinstance(result, (list, tuple)):
        header, payload = None, _rows_from_list(result)
    elif _is_dataframe(result):
        header, payload = _rows_from_dataframe(result)
    else:
        raise RunFailed("run() must return a list or a pandas DataFrame; "
                        f"it returned {type(result).__name__}")
    n = len(result)
    return Outcome(n, max(0, n_items - n), header, payload)


# --------------------------------------------------------------------------
# Handlers: a user's scoring script, or a built-in driver


_OWN_FILE = os.path.normcase(os.path.abspath(__file__))


def _user_traceback(e):
    """e's traceback without the leading frames of this runner and of
    importlib, so that it starts in the user's code (as `python score.py`
    would show it). Keeps everything when no user frame is left."""
    tb = e.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if not (name.startswith("<frozen importlib")
                or os.path.normcase(os.path.abspath(name)) == _OWN_FILE):
            break
        tb = tb.tb_next
    if tb is None and not isinstance(e, SyntaxError):
        tb = e.__traceback__
    return "".join(traceback.format_exception(type(e), e, tb))


def _describe(e):
    text = str(e)
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _module_name(path):
    stem = os.path.splitext(os.path.basename(path))[0] or "score"
    if stem in sys.modules:  # never shadow a module already imported (json.py…)
        stem = "lote_user_" + stem
    return stem


class InitFailed(Exception):
    def __init__(self, error, tb=""):
        super().__init__(error)
        self.error = error
        self.traceback = tb


class ScriptHandler:
    """An Azure-style scoring script: init() once, run(mini_batch) with the
    list of item paths (item_path: str paths that open the files),
    shutdown() at the end (the latter two optional)."""

    def __init__(self, init_msg):
        script = init_msg.get("scoring_script")
        code_dir = init_msg.get("code_dir")
        path = script
        if code_dir and not os.path.isabs(script):
            path = os.path.join(code_dir, script)
        path = os.path.abspath(path)
        # Like `python score.py`: the script's folder, and the code folder
        # first, so that score.py imports its siblings. The cwd is kept.
        for d in (os.path.dirname(path), os.path.abspath(code_dir) if code_dir else None):
            if d:
                if d in sys.path:
                    sys.path.remove(d)
                sys.path.insert(0, d)

        name = _module_name(path)
        try:
            loader = importlib.machinery.SourceFileLoader(name, path)
            spec = importlib.util.spec_from_file_location(name, path, loader=loader)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module  # classes defined there must pickle
            spec.loader.exec_module(module)
        except BaseException as e:
            sys.modules.pop(name, None)
            raise InitFailed(f"cannot import {script}: {_describe(e)}",
                             _user_traceback(e)) from None
        self.module = module

        run = getattr(module, "run", None)
        if not callable(run):
            raise InitFailed(f"{script} defines no run(mini_batch) function")
        self._run = run

        init = getattr(module, "init", None)
        if callable(init):
            try:
                init()
            except BaseException as e:
                raise InitFailed(f"init() failed: {_describe(e)}",
                                 _user_traceback(e)) from None

    def run(self, items):
        try:
            mini_batch = [item_path(item) for item in items]
        except ValueError as e:
            raise RunFailed(f"the mini-batch's items are malformed: {e}") from None
        try:
            result = self._run(mini_batch)
        except BaseException as e:  # SystemExit and KeyboardInterrupt too
            raise RunFailed(f"run() raised {_describe(e)}", _user_traceback(e)) from None
        return outcome_from_result(result, len(mini_batch))

    def shutdown(self):
        shutdown = getattr(self.module, "shutdown", None)
        if callable(shutdown):
            shutdown()


# --------------------------------------------------------------------------
# Built-in drivers that live in python/lote_drivers/, next to this file


_RUNNER_DIR = os.path.dirname(os.path.abspath(__file__))


def _packaged_driver(module):
    """A driver whose code is lote_drivers.<module> (its create(init_msg)),
    imported only when an init asks for it: drivers need third-party packages
    (pandas, PyYAML, the model's library) that scoring scripts never load."""

    def factory(init_msg):
        # The driver imports this module by name: when it runs as __main__
        # that must give this very module (its InitFailed, its Outcome).
        sys.modules.setdefault("lote_runner", sys.modules[__name__])
        if _RUNNER_DIR not in sys.path:
            sys.path.append(_RUNNER_DIR)  # appended: never shadows anything
        return importlib.import_module("lote_drivers." + module).create(init_msg)

    return factory


DRIVERS["mlflow_sklearn"] = _packaged_driver("mlflow_sklearn")


def _make_handler(msg):
    if msg.get("scoring_script"):
        return ScriptHandler(msg)
    options = msg.get("options") or {}
    driver = options.get("driver") if isinstance(options, dict) else None
    if driver is None:
        raise InitFailed("no scoring_script and no built-in driver in options.driver")
    factory = DRIVERS.get(driver) if isinstance(driver, str) else None
    if factory is None:
        known = ", ".join(sorted(DRIVERS)) or "none"
        raise InitFailed(f"no scoring_script and no built-in driver '{driver}' "
                         f"(built-in drivers: {known})")
    try:
        return factory(msg)
    except InitFailed:
        raise
    except BaseException as e:
        raise InitFailed(f"driver '{driver}' failed to start: {_describe(e)}",
                         traceback.format_exc()) from None


# --------------------------------------------------------------------------
# The worker


def _flush_user_streams():
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:
            pass


def _complain(text):
    try:
        sys.stderr.write(f"lote_runner: {text}\n")
        sys.stderr.flush()
    except Exception:
        pass


def _protocol_fd(var):
    value = os.environ.get(var)
    if value is None:
        raise SystemExit(f"lote_runner: {var} is not set; this program is started by `lote agent`")
    try:
        fd = int(value)
        os.fstat(fd)
    except (ValueError, OSError) as e:
        raise SystemExit(f"lote_runner: {var}={value!r} is not an open file descriptor ({e})")
    return fd


def _init_environment(msg):
    for var, key in (("AZUREML_MODEL_DIR", "model_dir"), ("AZUREML_BI_OUTPUT_PATH", "output_dir")):
        value = msg.get(key)
        if value is not None:
            os.environ[var] = str(value)


def serve(inp, out):
    """Serves one agent over the binary files inp/out. Returns the exit status."""
    write_frame(out, {"type": "hello", "protocol": PROTOCOL_VERSION, "runtime": "python",
                      "pid": os.getpid(), "python": sys.version.split()[0],
                      "executable": sys.executable})
    handler = None
    while True:
        try:
            frame = read_frame(inp)
        except ProtocolError as e:
            _complain(f"protocol error: {e}")
            return 2
        if frame is None:  # the agent closed the pipe: nothing more to do
            return 0
        msg, _ = frame
        kind = msg["type"]

        if kind == "init" and handler is None:
            version = msg.get("protocol")
            try:
                if version != PROTOCOL_VERSION:
                    raise InitFailed(f"protocol {version!r} is not supported: this runner "
                                     f"speaks protocol {PROTOCOL_VERSION}")
                _init_environment(msg)
                handler = _make_handler(msg)
            except InitFailed as e:
                _flush_user_streams()
                write_frame(out, {"type": "init_failed", "error": e.error,
                                  "traceback": e.traceback})
                return 1
            _flush_user_streams()
            write_frame(out, {"type": "ready"})

        elif kind == "run" and handler is not None:
            mini_batch = msg.get("mini_batch")
            items = msg.get("items")
            if not isinstance(items, list) or not all(
                    isinstance(i, dict) and isinstance(i.get("path"), str) for i in items):
                _complain("protocol error: a run message needs items: [{\"path\": …}, …]")
                return 2
            try:
                outcome = handler.run(items)
            except RunFailed as e:
                reply, payload = {"type": "run_failed", "mini_batch": mini_batch,
                                  "error": e.error, "traceback": e.traceback}, None
            except BaseException as e:  # a driver's own failure
                reply, payload = {"type": "run_failed", "mini_batch": mini_batch,
                                  "error": f"{_describe(e)}",
                                  "traceback": traceback.format_exc()}, None
            else:
                reply = {"type": "result", "mini_batch": mini_batch,
                         "succeeded": outcome.succeeded, "failed": outcome.failed,
                         "item_errors": outcome.item_errors, "header": outcome.header}
                payload = outcome.payload
            _flush_user_streams()
            try:
                write_frame(out, bound_texts(reply), payload)
            except ProtocolError as e:
                # Still too large (a DataFrame header of megabytes): nothing
                # was written (write_frame encodes first); the attempt fails
                # with the reason instead.
                write_frame(out, {"type": "run_failed", "mini_batch": mini_batch,
                                  "error": f"the result cannot be sent to the agent: {e}",
                                  "traceback": ""})

        elif kind == "shutdown":
            if handler is not None:
                try:
                    handler.shutdown()
                except BaseException:
                    _complain("shutdown() raised (ignored):\n" + traceback.format_exc().rstrip())
            _flush_user_streams()
            return 0

        else:
            state = "before init" if handler is None else "after init"
            _complain(f"protocol error: unexpected message {kind!r} {state}")
            return 2


def main():
    in_fd = _protocol_fd("LOTE_PROTOCOL_IN_FD")
    out_fd = _protocol_fd("LOTE_PROTOCOL_OUT_FD")
    # The pipes belong to this process alone: nothing the script starts gets
    # them, nor their names.
    for fd in (in_fd, out_fd):
        os.set_inheritable(fd, False)
    for var in ("LOTE_PROTOCOL_IN_FD", "LOTE_PROTOCOL_OUT_FD"):
        os.environ.pop(var, None)
    inp = os.fdopen(in_fd, "rb", buffering=0)
    out = os.fdopen(out_fd, "wb", buffering=0)
    try:
        status = serve(inp, out)
    except BrokenPipeError:  # the agent is gone; nobody to tell
        status = 0
    _flush_user_streams()
    return status


if __name__ == "__main__":
    sys.exit(main())
