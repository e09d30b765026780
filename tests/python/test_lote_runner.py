"""Tests for python/lote_runner.py, lote's Python worker (docs/worker-protocol.md).

Each test starts the runner as a real subprocess, the way `lote agent` does:
two os.pipe()s passed with pass_fds and named by LOTE_PROTOCOL_IN_FD /
LOTE_PROTOCOL_OUT_FD, stdout and stderr captured separately.

    /usr/bin/python3 -m pytest tests/python -q

The runner is exercised with the interpreter running pytest (Debian's, with
pandas) and, for everything that does not need pandas, with the first
`python3` on PATH that lacks pandas (the pyenv build here); LOTE_TEST_PYTHONS
(os.pathsep-separated) adds interpreters.
"""

import csv
import importlib.util
import io
import os
import select
import shutil
import struct
import subprocess
import sys
import textwrap

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNNER = os.path.join(REPO, "python", "lote_runner.py")
sys.path.insert(0, os.path.join(REPO, "python"))

import lote_runner  # noqa: E402  (the frame helpers, shared with the worker)

TIMEOUT = 30


def _probe(python):
    """(real executable, has pandas) for an interpreter command, or None."""
    try:
        out = subprocess.run(
            [python, "-c", "import sys, importlib.util as u; "
             "print(sys.executable); print(u.find_spec('pandas') is not None)"],
            capture_output=True, text=True, timeout=60, check=True).stdout.split("\n")
        return out[0], out[1] == "True"
    except (OSError, subprocess.SubprocessError, IndexError):
        return None


def _interpreters():
    found = {os.path.realpath(sys.executable): ("pytest-python", sys.executable)}
    candidates = [shutil.which("python3")]
    candidates += [p for p in os.environ.get("LOTE_TEST_PYTHONS", "").split(os.pathsep) if p]
    for cand in candidates:
        if not cand:
            continue
        probed = _probe(cand)
        if probed is None:
            continue
        exe, has_pandas = probed
        key = os.path.realpath(exe)
        if key not in found:
            found[key] = ("python-without-pandas" if not has_pandas else "python-" + key, exe)
    return sorted(found.values())


INTERPRETERS = _interpreters()
NO_PANDAS = [exe for label, exe in INTERPRETERS if label == "python-without-pandas"]


@pytest.fixture(params=[exe for _, exe in INTERPRETERS], ids=[label for label, _ in INTERPRETERS])
def python(request):
    """Every interpreter found: for tests whose scripts need no third-party package."""
    return request.param


def test_an_interpreter_without_pandas_is_exercised():
    if not NO_PANDAS:
        pytest.skip("no python3 without pandas found on PATH (set LOTE_TEST_PYTHONS)")
    assert _probe(NO_PANDAS[0])[1] is False


# --------------------------------------------------------------------------
# Driving a worker


class Worker:
    def __init__(self, python=sys.executable, cwd=None, env=None):
        a2w_r, a2w_w = os.pipe()
        w2a_r, w2a_w = os.pipe()
        full_env = dict(os.environ)
        full_env.pop("AZUREML_MODEL_DIR", None)
        full_env.pop("AZUREML_BI_OUTPUT_PATH", None)
        full_env.update(env or {})
        full_env["LOTE_PROTOCOL_IN_FD"] = str(a2w_r)
        full_env["LOTE_PROTOCOL_OUT_FD"] = str(w2a_w)
        full_env["PYTHONDONTWRITEBYTECODE"] = "1"
        self.proc = subprocess.Popen(
            [python, RUNNER], pass_fds=(a2w_r, w2a_w), env=full_env, cwd=cwd,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True)
        os.close(a2w_r)
        os.close(w2a_w)
        self.inp = os.fdopen(a2w_w, "wb", buffering=0)
        self.out = os.fdopen(w2a_r, "rb", buffering=0)
        self.fds = (a2w_r, w2a_w)

    def send(self, msg):
        lote_runner.write_frame(self.inp, msg)

    def recv(self):
        ready, _, _ = select.select([self.out], [], [], TIMEOUT)
        assert ready, "the worker did not answer in time; stderr so far unavailable"
        frame = lote_runner.read_frame(self.out)
        assert frame is not None, "EOF from the worker: " + repr(self.finish())
        return frame

    def recv_msg(self):
        msg, payload = self.recv()
        assert payload is None
        return msg

    def hello(self):
        msg = self.recv_msg()
        assert msg["type"] == "hello", msg
        return msg

    def init(self, code_dir=None, script="score.py", model_dir="/nonexistent/model",
             output_dir="/nonexistent/out", options=None, protocol=1):
        self.hello()
        self.send({"type": "init", "protocol": protocol, "model_dir": model_dir,
                   "code_dir": None if code_dir is None else str(code_dir),
                   "scoring_script": script, "output_dir": output_dir, "job": "job-1",
                   "node": 0, "process": 0, "options": options or {}})
        return self.recv_msg()

    def start(self, code_dir, **kw):
        msg = self.init(code_dir, **kw)
        assert msg == {"type": "ready"}, msg
        return self

    def run(self, paths, mini_batch=1, **item_extra):
        self.send({"type": "run", "mini_batch": mini_batch, "attempt": 1,
                   "items": [dict(path=str(p), **item_extra) for p in paths]})
        return self.recv()

    def finish(self, close=True):
        """Closes the input pipe (unless told not to) and waits for the exit:
        (returncode, stdout, stderr)."""
        if close and not self.inp.closed:
            self.inp.close()
        try:
            stdout, stderr = self.proc.communicate(timeout=TIMEOUT)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            if not self.inp.closed:
                self.inp.close()
            self.out.close()
        return self.proc.returncode, stdout.decode(), stderr.decode()

    def shutdown(self):
        self.send({"type": "shutdown"})
        return self.finish(close=False)


@pytest.fixture
def workers():
    started = []

    def make(*args, **kw):
        w = Worker(*args, **kw)
        started.append(w)
        return w

    yield make
    for w in started:
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait()
        for f in (w.inp, w.out):
            if not f.closed:
                f.close()


def write_script(code_dir, source, name="score.py"):
    code_dir.mkdir(parents=True, exist_ok=True)
    path = code_dir / name
    path.write_text(textwrap.dedent(source))
    return path


def make_items(tmp_path, contents):
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    paths = []
    for i, text in enumerate(contents):
        p = data / f"f{i}.txt"
        p.write_text(text)
        paths.append(str(p))
    return paths


ECHO = """
import os
def run(mini_batch):
    return [os.path.basename(p) for p in mini_batch]
"""


# --------------------------------------------------------------------------
# Framing helpers


def test_frames_are_big_endian_length_then_json_then_payload():
    buf = io.BytesIO()
    lote_runner.write_frame(buf, {"type": "result", "header": None}, b"a\nb\n")
    raw = buf.getvalue()
    (n,) = struct.unpack(">I", raw[:4])
    import json
    assert json.loads(raw[4:4 + n]) == {"type": "result", "header": None, "payload_bytes": 4}
    assert raw[4 + n:] == b"a\nb\n"

    hand_made = b'{"type":"run","x":"\xc3\xa9"}'
    stream = io.BytesIO(struct.pack(">I", len(hand_made)) + hand_made + raw)
    assert lote_runner.read_frame(stream) == ({"type": "run", "x": "é"}, None)
    assert lote_runner.read_frame(stream) == (
        {"type": "result", "header": None, "payload_bytes": 4}, b"a\nb\n")
    assert lote_runner.read_frame(stream) is None


@pytest.mark.parametrize("raw", [
    b"\x00\x00",                                   # EOF inside the length
    struct.pack(">I", 10) + b'{"type"',            # EOF inside the JSON
    struct.pack(">I", 2) + b"[]",                  # not an object
    struct.pack(">I", 3) + b"{x}",                 # not JSON
    struct.pack(">I", 64 * 1024 * 1024 + 1),       # too large
    struct.pack(">I", 30) + b'{"type":"a","payload_bytes":5}' + b"ab",  # short payload
])
def test_bad_frames_are_protocol_errors(raw):
    with pytest.raises(lote_runner.ProtocolError):
        lote_runner.read_frame(io.BytesIO(raw))


def test_reads_frames_that_arrive_in_pieces():
    class Trickle(io.RawIOBase):
        def __init__(self, data):
            self.data = data

        def readable(self):
            return True

        def read(self, n=-1):
            chunk, self.data = self.data[:1], self.data[1:]
            return chunk

    buf = io.BytesIO()
    lote_runner.write_frame(buf, {"type": "x", "s": "y" * 100}, b"z" * 50)
    assert lote_runner.read_frame(Trickle(buf.getvalue())) == (
        {"type": "x", "s": "y" * 100, "payload_bytes": 50}, b"z" * 50)


# --------------------------------------------------------------------------
# Handshake and lifecycle


def test_hello_init_ready_and_list_result(python, workers, tmp_path):
    write_script(tmp_path / "code", ECHO)
    w = workers(python)
    hello = w.hello()
    assert hello["protocol"] == 1 and hello["runtime"] == "python"
    assert hello["pid"] == w.proc.pid
    assert hello["python"] == subprocess.run(
        [python, "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True, text=True, check=True).stdout.strip()
    w.send({"type": "init", "protocol": 1, "model_dir": str(tmp_path), "code_dir": str(tmp_path / "code"),
            "scoring_script": "score.py", "output_dir": str(tmp_path), "job": "j", "node": 0,
            "process": 0, "options": {}})
    assert w.recv_msg() == {"type": "ready"}
    paths = make_items(tmp_path, ["a", "b", "c"])
    msg, payload = w.run(paths, mini_batch=17)
    assert msg == {"type": "result", "mini_batch": 17, "succeeded": 3, "failed": 0,
                   "item_errors": [], "header": None, "payload_bytes": len(payload)}
    assert payload == b"f0.txt\nf1.txt\nf2.txt\n"
    # the worker serves any number of mini-batches
    msg, payload = w.run(paths[:1], mini_batch=18)
    assert (msg["mini_batch"], msg["succeeded"], payload) == (18, 1, b"f0.txt\n")
    assert w.shutdown() == (0, "", "")


def test_list_elements_fewer_than_items_count_as_failed(python, workers, tmp_path):
    write_script(tmp_path / "code", """
        def run(mini_batch):
            return [p for p in mini_batch if not p.endswith("1.txt")]
    """)
    w = workers(python).start(tmp_path / "code")
    paths = make_items(tmp_path, ["a", "b", "c"])
    msg, payload = w.run(paths)
    assert (msg["succeeded"], msg["failed"]) == (2, 1)
    assert payload.decode().splitlines() == [paths[0], paths[2]]
    assert w.shutdown()[0] == 0


def test_list_elements_are_str_and_line_breaks_are_csv_quoted(python, workers, tmp_path):
    write_script(tmp_path / "code", """
        def run(mini_batch):
            return (1, 2.5, None, "a,b", 'two\\nlines "q"', "cr\\rhere", "crlf\\r\\nx", "é ✓")
    """)
    w = workers(python).start(tmp_path / "code")
    msg, payload = w.run(["/x/a"])
    assert msg["header"] is None
    assert (msg["succeeded"], msg["failed"]) == (8, 0)
    text = payload.decode("utf-8")
    assert text == ('1\n2.5\nNone\na,b\n"two\nlines ""q"""\n"cr\rhere"\n"crlf\r\nx"\né ✓\n')
    records = list(csv.reader(io.StringIO(text, newline="")))
    assert [r[0] for r in records][4:7] == ['two\nlines "q"', "cr\rhere", "crlf\r\nx"]
    assert w.shutdown()[0] == 0


def test_empty_list_gives_no_rows(python, workers, tmp_path):
    write_script(tmp_path / "code", "def run(mini_batch):\n    return []\n")
    w = workers(python).start(tmp_path / "code")
    msg, payload = w.run(["/a", "/b"])
    assert (msg["succeeded"], msg["failed"], msg["payload_bytes"], payload) == (0, 2, 0, b"")
    assert w.shutdown()[0] == 0


def test_large_payload_crosses_the_pipe_intact(python, workers, tmp_path):
    write_script(tmp_path / "code", """
        def run(mini_batch):
            return ["%08d" % i + "x" * 91 for i in range(60000)]
    """)
    w = workers(python).start(tmp_path / "code")
    msg, payload = w.run(["/a"])
    assert msg["payload_bytes"] == len(payload) == 60000 * 100
    lines = payload.decode().split("\n")
    assert lines[-1] == "" and lines[59999] == "00059999" + "x" * 91
    assert w.shutdown()[0] == 0


def test_azure_style_seed_script(python, workers, tmp_path):
    write_script(tmp_path / "code", """
        import os
        def init():
            global model_dir
            model_dir = os.environ["AZUREML_MODEL_DIR"]
        def run(mini_batch):
            results = []
            for f in mini_batch:
                results.append(f"{os.path.basename(f)},{len(open(f).read())}")
            return results
    """)
    (tmp_path / "model").mkdir()
    w = workers(python).start(tmp_path / "code", model_dir=str(tmp_path / "model"))
    paths = make_items(tmp_path, ["hello", "", "xyz\n"])
    msg, payload = w.run(paths, mini_batch=3)
    assert (msg["succeeded"], msg["failed"], msg["header"]) == (3, 0, None)
    assert payload == b"f0.txt,5\nf1.txt,0\nf2.txt,4\n"
    assert w.shutdown() == (0, "", "")


def test_environment_is_visible_to_init_and_cwd_is_kept(python, workers, tmp_path):
    write_script(tmp_path / "code", """
        import os
        def init():
            global seen
            seen = [os.environ.get("AZUREML_MODEL_DIR"), os.environ.get("AZUREML_BI_OUTPUT_PATH"),
                    os.environ.get("USER_SETTING"), os.getcwd(),
                    os.environ.get("LOTE_PROTOCOL_IN_FD"), os.environ.get("LOTE_PROTOCOL_OUT_FD")]
        def run(mini_batch):
            return seen
    """)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    w = workers(python, cwd=str(cwd), env={"USER_SETTING": "kept"})
    w.start(tmp_path / "code", model_dir="/models/m/1", output_dir="/jobs/j/out")
    msg, payload = w.run(["/a"])
    assert payload.decode().split("\n") == [
        "/models/m/1", "/jobs/j/out", "kept", str(cwd), "None", "None", ""]
    assert w.shutdown()[0] == 0


def test_protocol_pipes_are_not_inherited_by_what_the_script_starts(workers, tmp_path):
    write_script(tmp_path / "code", """
        import subprocess, sys
        def run(mini_batch):
            fds = [int(f) for f in mini_batch]
            code = "import os, sys\\n" \\
                   "for fd in sys.argv[1:]:\\n" \\
                   "    try:\\n" \\
                   "        os.fstat(int(fd)); print(fd, 'open')\\n" \\
                   "    except OSError:\\n" \\
                   "        print(fd, 'closed')\\n"
            out = subprocess.run([sys.executable, "-c", code] + mini_batch, close_fds=False,
                                 capture_output=True, text=True).stdout
            return out.split()
    """)
    w = workers().start(tmp_path / "code")
    msg, payload = w.run([str(fd) for fd in w.fds])
    words = payload.decode().split()
    assert words == [str(w.fds[0]), "closed", str(w.fds[1]), "closed"]
    assert w.shutdown()[0] == 0


def test_score_imports_a_sibling_module_from_its_code_dir(python, workers, tmp_path):
    code = tmp_path / "code"
    write_script(code, "PREFIX = 'sib:'\ndef label(p):\n    return PREFIX + p\n",
                 name="helpers_lote_test.py")
    (code / "pkg_lote_test").mkdir(parents=True)
    (code / "pkg_lote_test" / "__init__.py").write_text("VALUE = 42\n")
    write_script(code, """
        import helpers_lote_test
        from pkg_lote_test import VALUE
        def run(mini_batch):
            return [helpers_lote_test.label(p) + str(VALUE) for p in mini_batch]
    """)
    w = workers(python, cwd=str(tmp_path)).start(code)
    msg, payload = w.run(["/a", "/b"])
    assert payload == b"sib:/a42\nsib:/b42\n"
    assert w.shutdown()[0] == 0


def test_script_in_a_subfolder_and_objects_defined_there_pickle(python, workers, tmp_path):
    code = tmp_path / "code"
    write_script(code / "src", "def helper():\n    return 'h'\n", name="near_lote_test.py")
    write_script(code / "src", """
        import pickle
        import near_lote_test
        class Thing:
            def __init__(self, v):
                self.v = v
        def run(mini_batch):
            back = pickle.loads(pickle.dumps(Thing(len(mini_batch))))
            return [f"{__name__}:{type(back).__module__}:{back.v}:{near_lote_test.helper()}"]
    """, name="my_score.py")
    w = workers(python).start(code, script="src/my_score.py")
    msg, payload = w.run(["/a", "/b"])
    assert payload == b"my_score:my_score:2:h\n"
    assert (msg["succeeded"], msg["failed"]) == (1, 1)
    assert w.shutdown()[0] == 0


def test_script_named_like_a_loaded_module_does_not_shadow_it(python, workers, tmp_path):
    write_script(tmp_path / "code", """
        import json
        def run(mini_batch):
            return [json.dumps({"ok": __name__ != "json"})]
    """, name="json.py")
    w = workers(python).start(tmp_path / "code", script="json.py")
    msg, payload = w.run(["/a"])
    assert payload == b'{"ok": true}\n'
    assert w.shutdown()[0] == 0


def test_absolute_scoring_script_without_code_dir(python, workers, tmp_path):
    path = write_script(tmp_path / "code", ECHO)
    w = workers(python).start(None, script=str(path))
    msg, payload = w.run(["/d/x.csv"])
    assert payload == b"x.csv\n"
    assert w.shutdown()[0] == 0


def test_runner_does_not_import_pandas_for_lists(workers, tmp_path):
    write_script(tmp_path / "code", """
        import sys
        def run(mini_batch):
            return [str("pandas" in sys.modules), str("numpy" in sys.modules)]
    """)
    w = workers().start(tmp_path / "code")
    assert w.run(["/a"])[1] == b"False\nFalse\n"
    assert w.shutdown()[0] == 0


# --------------------------------------------------------------------------
# DataFrames

pandas_required = pytest.mark.skipif(
    importlib.util.find_spec("pandas") is None,
    reason="pandas is not installed for this interpreter")


@pandas_required
def test_dataframe_gives_header_and_rfc4180_rows(workers, tmp_path):
    write_script(tmp_path / "code", """
        import os
        import pandas as pd
        def run(mini_batch):
            return pd.DataFrame({
                "file": [os.path.basename(p) for p in mini_batch[:5]],
                "text": ["plain", "a,b", 'say "hi"', "two\\nlines", "cr\\ronly"],
                "score": [0.5, 1.0, None, 3.25, -1.0],
                "n": [1, 2, 3, 4, 5],
            }, index=[10, 11, 12, 13, 14])
    """)
    w = workers().start(tmp_path / "code")
    paths = make_items(tmp_path, ["1", "2", "3", "4", "5", "6"])
    msg, payload = w.run(paths, mini_batch=5)
    assert msg == {"type": "result", "mini_batch": 5, "succeeded": 5, "failed": 1,
                   "item_errors": [], "header": "file,text,score,n",
                   "payload_bytes": len(payload)}
    text = payload.decode()
    assert text == ('f0.txt,plain,0.5,1\n'
                    'f1.txt,"a,b",1.0,2\n'
                    'f2.txt,"say ""hi""",,3\n'
                    'f3.txt,"two\nlines",3.25,4\n'
                    'f4.txt,"cr\ronly",-1.0,5\n')
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert [r[1] for r in rows] == ["plain", "a,b", 'say "hi"', "two\nlines", "cr\ronly"]
    assert w.shutdown()[0] == 0


@pandas_required
def test_empty_dataframe_gives_its_header_and_no_rows(workers, tmp_path):
    write_script(tmp_path / "code", """
        import pandas as pd
        def run(mini_batch):
            return pd.DataFrame({"file": [], "pred, with comma": []})
    """)
    w = workers().start(tmp_path / "code")
    msg, payload = w.run(["/a", "/b"])
    assert (msg["header"], msg["succeeded"], msg["failed"], payload) == (
        'file,"pred, with comma"', 0, 2, b"")
    assert w.shutdown()[0] == 0


@pandas_required
def test_pandas_series_and_numpy_arrays_are_refused(workers, tmp_path):
    write_script(tmp_path / "code", """
        import numpy as np, pandas as pd
        def run(mini_batch):
            return pd.Series([1]) if mini_batch[0] == "/s" else np.array([1, 2])
    """)
    w = workers().start(tmp_path / "code")
    msg, _ = w.run(["/s"])
    assert msg["error"] == "run() must return a list or a pandas DataFrame; it returned Series"
    msg, _ = w.run(["/n"])
    assert msg["error"] == "run() must return a list or a pandas DataFrame; it returned ndarray"
    assert w.shutdown()[0] == 0


# --------------------------------------------------------------------------
# Failures of run()


@pytest.mark.parametrize("value, type_name", [
    ("None", "NoneType"), ("{'a': 1}", "dict"), ("'text'", "str"), ("3", "int"),
    ("iter([1])", "list_iterator"),
])
def test_run_returning_something_else_fails_the_attempt(python, workers, tmp_path, value, type_name):
    write_script(tmp_path / "code", f"""
        def run(mini_batch):
            if mini_batch == ["/ok"]:
                return ["fine"]
            return {value}
    """)
    w = workers(python).start(tmp_path / "code")
    msg, payload = w.run(["/a"], mini_batch=4)
    assert payload is None
    assert msg["type"] == "run_failed" and msg["mini_batch"] == 4
    assert msg["error"] == ("run() must return a list or a pandas DataFrame; "
                            f"it returned {type_name}")
    # the worker keeps serving
    msg, payload = w.run(["/ok"], mini_batch=5)
    assert (msg["type"], payload) == ("result", b"fine\n")
    assert w.shutdown()[0] == 0


def test_run_raising_fails_the_attempt_with_its_traceback(python, workers, tmp_path):
    write_script(tmp_path / "code", """
        def run(mini_batch):
            if mini_batch == ["/ok"]:
                return ["fine"]
            raise ValueError("bad item " + mini_batch[0])
    """)
    w = workers(python).start(tmp_path / "code")
    msg, payload = w.run(["/a"], mini_batch=9)
    assert payload is None
    assert msg["type"] == "run_failed" and msg["mini_batch"] == 9
    assert msg["error"] == "run() raised ValueError: bad item /a"
    tb = msg["traceback"]
    assert tb.startswith("Traceback (most recent call last):")
    assert 'score.py", line 5, in run' in tb
    assert 'raise ValueError("bad item " + mini_batch[0])' in tb
    assert tb.rstrip().endswith("ValueError: bad item /a")
    assert "lote_runner.py" not in tb  # the runner's own frames are left out
    msg, payload = w.run(["/ok"], mini_batch=10)
    assert (msg["type"], payload) == ("result", b"fine\n")
    assert w.shutdown()[0] == 0


@pytest.mark.parametrize("stmt, error", [
    ("raise SystemExit(3)", "run() raised SystemExit: 3"),
    ("import sys; sys.exit()", "run() raised SystemExit"),
    ("raise KeyboardInterrupt", "run() raised KeyboardInterrupt"),
])
def test_system_exit_in_run_fails_the_attempt_and_the_worker_goes_on(
        python, workers, tmp_path, stmt, error):
    write_script(tmp_path / "code", f"""
        def run(mini_batch):
            if mini_batch == ["/ok"]:
                return ["fine"]
            {stmt}
    """)
    w = workers(python).start(tmp_path / "code")
    msg, _ = w.run(["/a"])
    assert (msg["type"], msg["error"]) == ("run_failed", error)
    assert w.run(["/ok"])[1] == b"fine\n"
    assert w.shutdown()[0] == 0


# --------------------------------------------------------------------------
# Failures of init


def test_init_raising_is_init_failed_and_exit_1(python, workers, tmp_path):
    write_script(tmp_path / "code", """
        def init():
            raise RuntimeError("no model here")
        def run(mini_batch):
            return mini_batch
    """)
    w = workers(python)
    msg = w.init(tmp_path / "code")
    assert msg["type"] == "init_failed"
    assert msg["error"] == "init() failed: RuntimeError: no model here"
    assert 'score.py", line 3, in init' in msg["traceback"]
    assert w.finish(close=False)[0] == 1


def test_init_calling_sys_exit_is_init_failed(python, workers, tmp_path):
    write_script(tmp_path / "code", """
        import sys
        def init():
            sys.exit("giving up")
        def run(mini_batch):
            return mini_batch
    """)
    w = workers(python)
    msg = w.init(tmp_path / "code")
    assert (msg["type"], msg["error"]) == ("init_failed", "init() failed: SystemExit: giving up")
    assert w.finish(close=False)[0] == 1


def test_syntax_error_in_the_script(python, workers, tmp_path):
    write_script(tmp_path / "code", "def run(mini_batch)\n    return mini_batch\n")
    w = workers(python)
    msg = w.init(tmp_path / "code")
    assert msg["type"] == "init_failed"
    assert msg["error"].startswith("cannot import score.py: SyntaxError: ")
    assert "line 1" in msg["error"]
    assert "SyntaxError" in msg["traceback"]
    assert w.finish(close=False)[0] == 1


@pytest.mark.parametrize("source, error", [
    ("import no_such_module_lote_test\ndef run(b):\n    return b\n",
     "cannot import score.py: ModuleNotFoundError: No module named 'no_such_module_lote_test'"),
    ("raise SystemExit('at import')\n", "cannot import score.py: SystemExit: at import"),
    ("def init():\n    pass\n", "score.py defines no run(mini_batch) function"),
])
def test_script_that_cannot_be_loaded(python, workers, tmp_path, source, error):
    write_script(tmp_path / "code", source)
    w = workers(python)
    msg = w.init(tmp_path / "code")
    assert (msg["type"], msg["error"]) == ("init_failed", error)
    assert w.finish(close=False)[0] == 1


def test_missing_script_file(python, workers, tmp_path):
    (tmp_path / "code").mkdir()
    w = workers(python)
    msg = w.init(tmp_path / "code", script="nope.py")
    assert msg["type"] == "init_failed"
    assert msg["error"].startswith("cannot import nope.py: FileNotFoundError: ")
    assert w.finish(close=False)[0] == 1


def test_protocol_version_2_is_refused(python, workers, tmp_path):
    write_script(tmp_path / "code", ECHO)
    w = workers(python)
    msg = w.init(tmp_path / "code", protocol=2)
    assert msg["type"] == "init_failed"
    assert msg["error"] == "protocol 2 is not supported: this runner speaks protocol 1"
    assert w.finish(close=False)[0] == 1


def test_no_scoring_script_needs_a_builtin_driver(python, workers, tmp_path):
    w = workers(python)
    msg = w.init(None, script=None, options={"driver": "nonesuch"})
    assert msg["type"] == "init_failed"
    assert msg["error"].startswith("no scoring_script and no built-in driver 'nonesuch'")
    assert w.finish(close=False)[0] == 1

    w = workers(python)
    msg = w.init(None, script=None)
    assert msg["type"] == "init_failed"
    assert msg["error"].startswith("no scoring_script and no built-in driver")
    assert w.finish(close=False)[0] == 1


def test_builtin_driver_without_its_packages_says_which(workers):
    """The mlflow_sklearn driver (lote_drivers/, imported only when an init
    names it) needs PyYAML, pandas and scikit-learn; the runner itself stays
    standard-library-only."""
    if not NO_PANDAS:
        pytest.skip("no python3 without pandas found on PATH (set LOTE_TEST_PYTHONS)")
    w = workers(NO_PANDAS[0])
    msg = w.init(None, script=None, model_dir="/nonexistent/model",
                 options={"driver": "mlflow_sklearn"})
    assert msg["type"] == "init_failed"
    assert msg["error"].startswith("the mlflow_sklearn driver needs ")
    assert ("PyYAML (python3-yaml)" in msg["error"]
            or "pandas and numpy (python3-pandas)" in msg["error"])
    assert w.finish(close=False)[0] == 1


# --------------------------------------------------------------------------
# The user's output streams, shutdown, EOF, protocol errors


def test_script_prints_go_to_stdout_and_stderr_not_the_protocol(python, workers, tmp_path):
    write_script(tmp_path / "code", """
        import sys, os
        print("loading module")
        def init():
            print("init says hi")
            sys.stdout.write("no newline")
        def run(mini_batch):
            print("scoring", len(mini_batch), "items")
            print("a warning", file=sys.stderr)
            os.write(1, b"raw fd 1\\n")
            return ["row"]
    """)
    w = workers(python).start(tmp_path / "code")
    msg, payload = w.run(["/a"])
    assert (msg["type"], payload) == ("result", b"row\n")
    msg, payload = w.run(["/a", "/b"])
    assert payload == b"row\n"
    rc, stdout, stderr = w.shutdown()
    assert rc == 0
    assert stdout.splitlines() == ["loading module", "init says hi", "no newlinescoring 1 items",
                                   "raw fd 1", "scoring 2 items", "raw fd 1"]
    assert stderr.splitlines() == ["a warning", "a warning"]


def test_prints_are_flushed_after_each_run(workers, tmp_path):
    write_script(tmp_path / "code", """
        def run(mini_batch):
            print("progress", mini_batch[0])
            return ["ok"]
    """)
    w = workers().start(tmp_path / "code")
    w.run(["/first"])
    ready, _, _ = select.select([w.proc.stdout], [], [], TIMEOUT)
    assert ready
    assert os.read(w.proc.stdout.fileno(), 100) == b"progress /first\n"
    assert w.shutdown()[0] == 0


def test_shutdown_calls_the_scripts_shutdown_and_exits_0(python, workers, tmp_path):
    marker = tmp_path / "shut"
    write_script(tmp_path / "code", f"""
        def run(mini_batch):
            return mini_batch
        def shutdown():
            open({str(marker)!r}, "w").write("done")
            print("bye")
    """)
    w = workers(python).start(tmp_path / "code")
    assert w.shutdown() == (0, "bye\n", "")
    assert marker.read_text() == "done"


def test_shutdown_errors_are_ignored(python, workers, tmp_path):
    write_script(tmp_path / "code", """
        def run(mini_batch):
            return mini_batch
        def shutdown():
            raise OSError("disk gone")
    """)
    w = workers(python).start(tmp_path / "code")
    rc, _, stderr = w.shutdown()
    assert rc == 0
    assert "OSError: disk gone" in stderr


def test_shutdown_before_init_exits_0(python, workers):
    w = workers(python)
    w.hello()
    assert w.shutdown() == (0, "", "")


@pytest.mark.parametrize("when", ["before hello is read", "after ready", "after a run"])
def test_eof_on_the_input_exits_0_quietly(python, workers, tmp_path, when):
    write_script(tmp_path / "code", ECHO)
    w = workers(python)
    if when != "before hello is read":
        w.start(tmp_path / "code")
    if when == "after a run":
        w.run(["/a"])
    assert w.finish() == (0, "", "")


def test_unknown_message_type_exits_2(python, workers, tmp_path):
    write_script(tmp_path / "code", ECHO)
    w = workers(python).start(tmp_path / "code")
    w.send({"type": "reticulate"})
    rc, _, stderr = w.finish(close=False)
    assert rc == 2
    assert "reticulate" in stderr


def test_run_before_init_exits_2(python, workers):
    w = workers(python)
    w.hello()
    w.send({"type": "run", "mini_batch": 1, "attempt": 1, "items": [{"path": "/a"}]})
    rc, _, stderr = w.finish(close=False)
    assert rc == 2 and "'run' before init" in stderr


def test_truncated_frame_exits_2(python, workers):
    w = workers(python)
    w.hello()
    w.inp.write(struct.pack(">I", 100) + b'{"type": "init"')
    rc, _, stderr = w.finish()
    assert rc == 2 and "EOF inside a frame" in stderr


def test_byte_range_items_pass_their_paths(python, workers, tmp_path):
    write_script(tmp_path / "code", ECHO)
    w = workers(python).start(tmp_path / "code")
    msg, payload = w.run(["/d/big.csv"], offset=0, length=1024, header="a,b")
    assert payload == b"big.csv\n"
    assert w.shutdown()[0] == 0


def test_without_protocol_fds_the_runner_explains_itself(python):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOTE_PROTOCOL_")}
    res = subprocess.run([python, RUNNER], env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert res.returncode == 1
    assert "LOTE_PROTOCOL_IN_FD is not set" in res.stderr


# --------------------------------------------------------------------------
# File names are bytes; answers stay within a frame


def _b64(raw):
    import base64
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_non_utf8_name_reaches_the_script_as_python_names_it(python, workers, tmp_path):
    # The script gets os.fsdecode(bytes) (a surrogate for the 0xE9 byte), so
    # open() reaches the file; the name it returns is written escaped.
    write_script(tmp_path / "code", """\
        import os
        def run(mini_batch):
            out = []
            for p in mini_batch:
                with open(p, "rb") as f:
                    out.append(os.path.basename(p) + "=" + f.read().decode().strip())
            return out
    """)
    data = tmp_path / "data"
    data.mkdir()
    raw = os.fsencode(str(data)) + b"/caf\xe9.txt"
    with open(raw, "wb") as f:
        f.write(b"latin\n")
    w = workers(python).start(tmp_path / "code")
    w.send({"type": "run", "mini_batch": 1, "attempt": 1,
            "items": [{"path": str(data) + "/caf\\xe9.txt", "path_b64": _b64(raw)},
                      {"path": str(data) + "/caf\\xe9.txt"}]})
    msg, payload = w.recv()
    # The second item's readable "path" is not the file's name: score.py
    # cannot open it (FileNotFoundError naming 'caf\\xe9.txt' by its repr).
    assert msg["type"] == "run_failed", msg
    assert "No such file or directory" in msg["error"] and "caf" in msg["error"], msg
    w.send({"type": "run", "mini_batch": 2, "attempt": 1,
            "items": [{"path": str(data) + "/caf\\xe9.txt", "path_b64": _b64(raw)}]})
    msg, payload = w.recv()
    assert msg["type"] == "result", msg
    assert payload == b"caf\\xe9.txt=latin\n"
    w.send({"type": "run", "mini_batch": 3, "attempt": 1,
            "items": [{"path": "x", "path_b64": "YQ=="}]})
    msg, _ = w.recv()
    assert msg == {"type": "run_failed", "mini_batch": 3, "traceback": "",
                   "error": "the mini-batch's items are malformed: item 'x': \"path_b64\" is "
                            "not base64url without padding"}
    assert w.shutdown()[0] == 0


def test_a_huge_exception_text_fails_the_attempt_not_the_worker(python, workers, tmp_path):
    # A 100 MB line quoted in an exception made the answer larger than a
    # frame: the runner died (RUN_CRASH, retried). Now the text is cut.
    write_script(tmp_path / "code", """\
        def run(mini_batch):
            if mini_batch[0].endswith("huge"):
                raise ValueError("bad line: " + "x" * (100 << 20))
            return ["ok"]
    """)
    w = workers(python).start(tmp_path / "code")
    msg, _ = w.run(["/d/huge"])
    assert msg["type"] == "run_failed"
    assert msg["error"].startswith("run() raised ValueError: bad line: xxx")
    assert msg["error"].endswith(" more bytes)")
    assert len(msg["error"].encode()) < 17 * 1024
    assert len(msg["traceback"].encode()) < 65 * 1024
    msg, payload = w.run(["/d/next"])
    assert msg["type"] == "result" and payload == b"ok\n", "the worker goes on"
    assert w.shutdown()[0] == 0


def test_bound_texts_caps_item_errors():
    errors = [{"item": "/d/a.csv", "error": "bad row", "row": str(i)} for i in range(1005)]
    errors[0]["error"] = "é" * 100000
    msg = lote_runner.bound_texts({"type": "result", "item_errors": errors})
    assert len(msg["item_errors"]) == 1001
    assert msg["item_errors"][-1] == {"item": "?", "error": "5 more item errors in this result "
                                                            "(not listed)"}
    first = msg["item_errors"][0]["error"]
    assert first.startswith("é" * 8192) and first.endswith(" … (183616 more bytes)")
    assert errors[0]["error"] == "é" * 100000, "the caller's message is left alone"
