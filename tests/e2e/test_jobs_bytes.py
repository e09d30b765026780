"""Inputs are bytes: byte-range planning that understands RFC 4180 quoting,
extensions in any case and a byte order mark; file names that are not UTF-8;
a byte range that cannot be prepared; a 200 MB line. Every test checks the
one promise that matters: the output holds each input row exactly once, and
nothing else, through the real server, agent and workers (score.py under the
Python runner, and no-code XGBoost under the native worker)."""

import csv
import io
import os
import pathlib
import subprocess

import pytest

from jobs_e2e import (PYTHON, completed, make_native_models, needs_xgboost, create_endpoint, deployment_spec, error_logs, get_job,
                      invoke, mini_batch_report, output_text, wait_job)

REPO = pathlib.Path(__file__).resolve().parents[2]
FEATURES = ["fareAmount", "tripDistance", "passengerCount", "hour"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return make_native_models(tmp_path_factory.mktemp("models"))


# --- inputs -----------------------------------------------------------------------

NOTES = ["plain", "with,comma", 'with "quotes"', "two\nlines", "\n", "", 'x\n"y"\nz,',
         "a\n\nb"]


def quoted_rows(n, start=0):
    """Rows [id, note, n] whose notes hold commas, quotes and line ends."""
    return [[str(i), f"{NOTES[i % len(NOTES)]} #{i}", str(i * 10)] for i in range(start, start + n)]


def csv_bytes(header, rows, line_end="\n"):
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator=line_end)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode()


def feature_rows(n):
    """Rows of the model's four features and a note with quoted line ends."""
    rows = []
    for i in range(n):
        rows.append([f"{3 + (i * 7) % 40}.5", f"{0.5 + (i % 13)}", str(1 + i % 5), str(i % 24),
                     f"{NOTES[i % len(NOTES)]} #{i}"])
    return rows


def record_starts(data, start=0):
    """Offsets of the records of CSV bytes from `start` (RFC 4180: a quote
    opens a field only at its start)."""
    starts, pos, n = [], start, len(data)
    while pos < n:
        starts.append(pos)
        field_start, quoted = True, False
        while pos < n:
            c = data[pos]
            if quoted:
                if c == 0x22:
                    if pos + 1 < n and data[pos + 1] == 0x22:
                        pos += 2
                        continue
                    quoted = False
                pos += 1
                continue
            if c == 0x0A:
                pos += 1
                break
            quoted = c == 0x22 and field_start
            field_start = c == 0x2C
            pos += 1
    return starts


def pandas_rows(path):
    import pandas as pd
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    return df.values.tolist()


def output_rows(job):
    return list(csv.reader(io.StringIO(output_text(job), newline="")))


def create_datastore(server, name, root):
    server.cli_json("datastore", "create", "--name", name, "--type", "local", "--path", root)


def run(server, endpoint, *args, until=("Completed",), timeout=120):
    job = invoke(server, *args, endpoint=endpoint)
    return wait_job(server, job["name"], until=until, timeout=timeout)


# --- endpoints ----------------------------------------------------------------------

FRAME_SCORE = """\
import pandas as pd

def run(mini_batch):
    # Every row of every file, as text, exactly as read.
    return pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in mini_batch])
"""


def score_endpoint(server, workdir, score=FRAME_SCORE, name="bytesep", **settings):
    create_endpoint(server, workdir, [deployment_spec(workdir, "dep1", score, python=PYTHON,
                                                      **settings)], name=name)
    return name


def nocode_endpoint(server, workdir, models, name="xgbep"):
    (workdir / "xgb.yml").write_text(
        f"name: {name}\ntype: batch\ndeployments:\n  - name: xgb\n"
        f"    model: {{name: xgbreg, version: 1, local_path: {models / 'mlflow_reg'}}}\n"
        "    compute: {target: azureml:cpu-cluster}\n    mini_batch_size: 10\n")
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "4",
               check=False)
    server.cli("endpoint", "create", "--file", str(workdir / "xgb.yml"), cwd=workdir)
    return name


def predictions(job):
    """{(file, row): prediction} of a no-code job's output; every key once."""
    rows = output_rows(job)
    assert rows[0] == ["file", "row", "prediction"], rows[:2]
    got = {}
    for r in rows[1:]:
        assert (r[0], r[1]) not in got, f"row {r[:2]} is in the output twice"
        got[(r[0], r[1])] = r[2]
    return got


def expect_ranges_score_every_row_once(server, endpoint, store, folder, files):
    """Scores `folder` whole and in 200-byte ranges; `files` maps each file
    name to its bytes. The range job's rows are keyed by their row number in
    the file, exactly as the whole job keys them: both outputs hold the same
    keys and the same predictions."""
    whole = completed(server, run(server, endpoint, "--input-datastore", f"azureml:{store}",
                                  "--input-path", folder))
    ranged = completed(server, run(server, endpoint, "--input-datastore", f"azureml:{store}",
                                   "--input-path", folder, "--mini-batch-size", "200B"))
    by_row, by_range = predictions(whole), predictions(ranged)
    for name, data in files.items():
        body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        skip = len(data) - len(body)
        starts = record_starts(data, skip)[1:]  # the first record is the header
        want = {(name, str(i)): by_row[(name, str(i))] for i in range(len(starts))}
        assert len(want) == len(starts)
        got = {(f, r): v for (f, r), v in by_range.items() if f == name}
        assert got == want, f"{name}: the ranges' rows differ from the whole file's"
    assert ranged["progress"]["mini_batches"]["total"] > 2 * len(files), "the files were split"
    assert ranged["progress"]["items"]["failed"] == 0, ranged["progress"]
    assert by_range == by_row


# --- byte ranges ---------------------------------------------------------------------

def test_score_py_gets_every_quoted_multiline_record_once(server, workdir, tmp_path):
    endpoint = score_endpoint(server, workdir)
    root = tmp_path / "store"
    (root / "in").mkdir(parents=True)
    rows = quoted_rows(60)
    (root / "in" / "notes.csv").write_bytes(csv_bytes(["id", "note", "n"], rows))
    more = quoted_rows(25, start=60)
    (root / "in" / "crlf.csv").write_bytes(csv_bytes(["id", "note", "n"], more, "\r\n"))
    create_datastore(server, "bytesstore", root)
    done = completed(server, run(server, endpoint, "--input-datastore", "azureml:bytesstore",
                                 "--input-path", "in", "--mini-batch-size", "200B"))
    assert done["progress"]["mini_batches"]["total"] > 5, "the files were split"
    out = output_rows(done)
    assert out[0] == ["id", "note", "n"]
    # Exactly what pandas reads from the whole files (crlf.csv sorts first).
    assert out[1:] == pandas_rows(root / "in" / "crlf.csv") + pandas_rows(root / "in" / "notes.csv")
    assert len(out) == 1 + len(rows) + len(more)
    assert [r[0] for r in out[1:]] == [r[0] for r in more + rows]


@needs_xgboost
def test_nocode_ranges_of_quoted_multiline_records(server, workdir, tmp_path, models):
    endpoint = nocode_endpoint(server, workdir, models)
    root = tmp_path / "store"
    (root / "in").mkdir(parents=True)
    header = FEATURES + ["note"]
    files = {"notes.csv": csv_bytes(header, feature_rows(80)),
             "crlf.csv": csv_bytes(header, feature_rows(30), "\r\n"),
             "data.csv": (models / "data.csv").read_bytes()}
    for name, data in files.items():
        (root / "in" / name).write_bytes(data)
    create_datastore(server, "bytesstore", root)
    expect_ranges_score_every_row_once(server, endpoint, "bytesstore", "in", files)


@needs_xgboost
def test_nocode_ranges_of_an_upper_case_csv(server, workdir, tmp_path, models):
    # DATA.CSV's header check was case-sensitive: each range's first data
    # row became its "header" and every range failed.
    endpoint = nocode_endpoint(server, workdir, models)
    root = tmp_path / "store"
    (root / "in").mkdir(parents=True)
    files = {"DATA.CSV": csv_bytes(FEATURES + ["note"], feature_rows(50)),
             "Other.Csv": csv_bytes(FEATURES, [r[:4] for r in feature_rows(20)])}
    for name, data in files.items():
        (root / "in" / name).write_bytes(data)
    create_datastore(server, "bytesstore", root)
    expect_ranges_score_every_row_once(server, endpoint, "bytesstore", "in", files)


@needs_xgboost
def test_nocode_ranges_of_a_csv_with_a_byte_order_mark(server, workdir, tmp_path, models):
    # The first column is a named feature: a BOM carried in the header made
    # it "\ufefffareAmount" and every range failed on a missing column.
    endpoint = nocode_endpoint(server, workdir, models)
    root = tmp_path / "store"
    (root / "in").mkdir(parents=True)
    files = {"bom.csv": b"\xef\xbb\xbf" + csv_bytes(FEATURES + ["note"], feature_rows(50))}
    (root / "in" / "bom.csv").write_bytes(files["bom.csv"])
    create_datastore(server, "bytesstore", root)
    expect_ranges_score_every_row_once(server, endpoint, "bytesstore", "in", files)


def test_score_py_reads_a_bom_csv_by_named_columns_in_ranges(server, workdir, tmp_path):
    score = """\
import pandas as pd

def run(mini_batch):
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in mini_batch]
    return pd.concat([f[["id", "n"]] for f in frames])
"""
    endpoint = score_endpoint(server, workdir, score)
    root = tmp_path / "store"
    (root / "in").mkdir(parents=True)
    rows = quoted_rows(80)
    (root / "in" / "bom.csv").write_bytes(b"\xef\xbb\xbf" + csv_bytes(["id", "note", "n"], rows))
    create_datastore(server, "bytesstore", root)
    done = completed(server, run(server, endpoint, "--input-datastore", "azureml:bytesstore",
                                 "--input-path", "in", "--mini-batch-size", "200B"))
    assert done["progress"]["mini_batches"]["total"] > 5
    assert output_rows(done) == [["id", "n"]] + [[i, x] for i, _, x in rows]


def have_sklearn():
    return subprocess.run([PYTHON, "-c", "import sklearn, pandas, yaml"],
                          capture_output=True).returncode == 0


@pytest.mark.skipif(not have_sklearn(), reason="python3-sklearn is not installed")
def test_nocode_sklearn_reads_its_ranges_itself(server, workdir, tmp_path):
    # The Python runner's driver reads byte ranges (rows keyed by their row
    # number in the file, as the native worker keys them); it used to get score.py's
    # chunk files, and named every row after a chunk ("notes@412.csv", 0).
    from test_nocode import SKLEARN_TRAIN
    subprocess.run([PYTHON, "-c", SKLEARN_TRAIN, str(tmp_path)], check=True)
    (workdir / "sk.yml").write_text(
        "name: skep\ntype: batch\ndeployments:\n  - name: dep1\n"
        f"    model: {{name: autolog, version: 1, local_path: {tmp_path / 'model'}}}\n"
        f"    environment: {{python: {PYTHON}}}\n"
        "    compute: {target: azureml:cpu-cluster}\n")
    server.cli("compute", "create", "--name", "cpu-cluster", "--max-instances", "4")
    server.cli("endpoint", "create", "--file", str(workdir / "sk.yml"), cwd=workdir)
    root = tmp_path / "store"
    (root / "in").mkdir(parents=True)
    rows = [[r[1], r[0], r[4]] for r in feature_rows(60)]  # tripDistance, fareAmount, note
    files = {"notes.csv": csv_bytes(["tripDistance", "fareAmount", "note"], rows)}
    (root / "in" / "notes.csv").write_bytes(files["notes.csv"])
    create_datastore(server, "bytesstore", root)
    expect_ranges_score_every_row_once(server, "skep", "bytesstore", "in", files)


# --- names that are not UTF-8 --------------------------------------------------------

def test_a_latin1_file_name_is_scored_and_shown_readably(server, workdir, tmp_path):
    # json::dump threw on such a name on the scheduler thread: the server died,
    # and again on every restart.
    score = """\
import os

def run(mini_batch):
    out = []
    for p in mini_batch:
        with open(p, "rb") as f:
            out.append(os.path.basename(p) + "=" + str(len(f.read())))
    return out
"""
    endpoint = score_endpoint(server, workdir, score)
    root = tmp_path / "store"
    (root / "in").mkdir(parents=True)
    raw = os.fsencode(str(root / "in")) + b"/caf\xe9.csv"
    with open(raw, "wb") as f:
        f.write(csv_bytes(["id", "note", "n"], quoted_rows(30)))
    (root / "in" / "plain.txt").write_text("x\n")
    create_datastore(server, "bytesstore", root)
    done = completed(server, run(server, endpoint, "--input-datastore", "azureml:bytesstore",
                                 "--input-path", "in"))
    size = os.path.getsize(raw)
    assert output_text(done) == f"caf\\xe9.csv={size}\nplain.txt=2\n"
    # In 200-byte ranges score.py gets chunk files named after the file.
    done = completed(server, run(server, endpoint, "--input-datastore", "azureml:bytesstore",
                                 "--input-path", "in", "--mini-batch-size", "200B"))
    lines = output_text(done).splitlines()
    assert all(line.startswith("caf\\xe9@") for line in lines[:-1]), lines
    assert lines[-1] == "plain.txt=2"
    report = mini_batch_report(server, done["name"])
    assert all(r["status"] == "RUN_DONE" for r in report), report
    # The server lived through it and answers.
    assert get_job(server, done["name"])["status"] == "Completed"


@needs_xgboost
def test_nocode_scores_a_latin1_file_name_whole_and_in_ranges(server, workdir, tmp_path, models):
    endpoint = nocode_endpoint(server, workdir, models)
    root = tmp_path / "store"
    (root / "in").mkdir(parents=True)
    data = csv_bytes(FEATURES + ["note"], feature_rows(40))
    with open(os.fsencode(str(root / "in")) + b"/caf\xe9.csv", "wb") as f:
        f.write(data)
    create_datastore(server, "bytesstore", root)
    expect_ranges_score_every_row_once(server, endpoint, "bytesstore", "in",
                                       {"caf\\xe9.csv": data})


# --- a range that cannot be prepared ------------------------------------------------

BLOCKING_SCORE = """\
import os, pandas as pd

def run(mini_batch):
    # The first run plants a folder where every later chunk of big.csv would
    # go, so the agent cannot prepare those ranges.
    chunk = mini_batch[0]
    folder = os.path.dirname(chunk)
    size = int(os.environ["BIG_SIZE"])
    for offset in range(size + 1):
        p = os.path.join(folder, f"big@{offset}.csv")
        if p != chunk and not os.path.exists(p):
            os.mkdir(p)
    return pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in mini_batch])
"""


def test_a_range_that_cannot_be_prepared_fails_and_is_not_scored_whole(server, workdir,
                                                                        tmp_path):
    # MaterializeRanges' error was ignored and score.py got big.csv whole,
    # once per range: every row many times over.
    rows = quoted_rows(40)
    data = csv_bytes(["id", "note", "n"], rows)
    endpoint = score_endpoint(server, workdir, BLOCKING_SCORE,
                              retry_settings={"max_retries": 1, "timeout": 30},
                              environment_variables={"BIG_SIZE": str(len(data))})
    root = tmp_path / "store"
    (root / "in").mkdir(parents=True)
    (root / "in" / "big.csv").write_bytes(data)
    create_datastore(server, "bytesstore", root)
    done = run(server, endpoint, "--input-datastore", "azureml:bytesstore", "--input-path", "in",
               "--mini-batch-size", "200B", until=("Completed", "Failed"))
    report = mini_batch_report(server, done["name"])
    assert len(report) > 3
    assert report[0]["status"] == "RUN_DONE", report[0]
    for r in report[1:]:
        assert r["status"] == "RUN_INPUT_ERROR", r
        assert r["attempts"] == "2", r
        assert r["error"].startswith("cannot prepare bytes "), r
        assert "of '" + str(root / "in" / "big.csv") + "' for the worker: cannot replace" \
            in r["error"], r
    out = output_rows(done)
    # Only the first range's rows, each once; no row of the whole file.
    first = out[1:]
    assert first == rows[:len(first)]
    assert 0 < len(first) < len(rows)
    assert "RUN_INPUT_ERROR" in error_logs(server, done["name"])


# --- a 200 MB line --------------------------------------------------------------------

@pytest.fixture
def big_files():
    """Paths of files too big to leave behind in pytest's kept temp folders:
    removed when the test ends, whatever its outcome."""
    paths = []
    yield paths
    for p in paths:
        try:
            os.remove(p)
        except OSError:
            pass


@needs_xgboost
def test_a_200mb_line_fails_its_file_once_and_the_others_are_scored(server, workdir, tmp_path,
                                                                     models, big_files):
    endpoint = nocode_endpoint(server, workdir, models)
    root = tmp_path / "store"
    (root / "whole").mkdir(parents=True)
    header = ",".join(FEATURES).encode()
    good = csv_bytes(FEATURES, [r[:4] for r in feature_rows(20)])
    (root / "whole" / "a.csv").write_bytes(good)
    big_files.append(root / "whole" / "huge.csv")
    with open(root / "whole" / "huge.csv", "wb") as f:
        f.write(header + b"\n1,2,3,4\n")
        f.write(b"1" * (200 << 20) + b"\n")
        f.write(b"5,6,7,8\n")
    create_datastore(server, "bytesstore", root)
    done = completed(server, run(server, endpoint, "--input-datastore", "azureml:bytesstore",
                                 "--input-path", "whole", "--mini-batch-size", "1"))
    report = mini_batch_report(server, done["name"])
    assert [(r["status"], r["attempts"]) for r in report] == [("RUN_DONE", "1")] * 2, report
    assert done["progress"]["items"] == {"succeeded": 20, "failed": 1}
    assert {f for f, _ in predictions(done)} == {"a.csv"}
    errors = error_logs(server, done["name"])
    assert ("'" + str(root / "whole" / "huge.csv") + "': the record at line 3 is longer than "
            "64 MiB, the limit for one CSV record") in errors, errors[-2000:]
    assert "RUN_CRASH" not in errors


@needs_xgboost
def test_a_200mb_header_in_byte_ranges_fails_its_file_once(server, workdir, tmp_path, models,
                                                           big_files):
    # The header went into every range's item: the run message exceeded the
    # 64 MiB frame, the worker was killed as RUN_CRASH and retried 4 times.
    endpoint = nocode_endpoint(server, workdir, models)
    root = tmp_path / "store"
    (root / "ranges").mkdir(parents=True)
    good = csv_bytes(FEATURES, [r[:4] for r in feature_rows(20)])
    (root / "ranges" / "a.csv").write_bytes(good)
    big_files.append(root / "ranges" / "wide.csv")
    with open(root / "ranges" / "wide.csv", "wb") as f:
        f.write(",".join(FEATURES).encode() + b"," + b"x" * (200 << 20) + b"\n")
        f.write(b"1,2,3,4,5\n" * 1000)
    create_datastore(server, "bytesstore", root)
    done = completed(server, run(server, endpoint, "--input-datastore", "azureml:bytesstore",
                                 "--input-path", "ranges", "--mini-batch-size", "64MB"))
    report = mini_batch_report(server, done["name"])
    assert all(r["status"] == "RUN_DONE" and r["attempts"] == "1" for r in report), report
    assert done["progress"]["items"] == {"succeeded": 20, "failed": 1}
    errors = error_logs(server, done["name"])
    assert ("'" + str(root / "ranges" / "wide.csv") + "': the header record is longer than "
            "64 MiB, the limit for one CSV record") in errors, errors[-2000:]
    assert "RUN_CRASH" not in errors
