"""Batch jobs: every way of naming the input (docs/jobs.md "Preparing",
docs/cli.md `endpoint invoke`), and the inputs refused at invoke before any
job exists."""

import os

import pytest

from jobs_e2e import (EP, completed, invoke, invoke_refused, job_log, job_names, make_files,
                      numbered, output_lines, put_datastore_file, run_job, simple_endpoint,
                      wait_job)
from lote_e2e import EXIT_INVALID, EXIT_NOT_FOUND, EXIT_UNREACHABLE

# Reads each file, so that the output proves which bytes reached the worker.
CONTENT_SCORE = """\
import os

def run(mini_batch):
    out = []
    for p in mini_batch:
        with open(p) as f:
            out.append(os.path.basename(p) + "=" + f.read().strip().replace("\\n", "|"))
    return out
"""


@pytest.fixture
def endpoint(server, workdir):
    simple_endpoint(server, workdir, CONTENT_SCORE, mini_batch_size=2)
    return server


def expected(names):
    return [f"{n}={n}" for n in names]


def test_local_folder_is_uploaded_and_read_one_level_deep(endpoint, tmp_path):
    server = endpoint
    folder = tmp_path / "in"
    # Written out of order: the job reads files sorted by name.
    names = make_files(folder, ["c.txt", "a.txt", "e.txt", "b.txt", "d.txt"])
    make_files(folder / "sub", ["zz.txt"])  # sub-folders are ignored, as in Azure
    job = invoke(server, "--input-local-path", folder)
    assert job["status"] in ("NotStarted", "Preparing", "Running")
    assert job["endpoint"] == EP and job["deployment"] == "dep1"
    # The CLI uploaded the folder to the default datastore first.
    assert job["input"]["description"].startswith(
        "azureml://datastores/workspaceblobstore/paths/LocalUpload/")
    assert job["input"]["description"].endswith("/in")
    done = completed(server, wait_job(server, job["name"]))
    assert output_lines(done) == expected(sorted(names))
    assert done["progress"]["items"] == {"succeeded": 5, "failed": 0}
    assert done["progress"]["mini_batches"]["total"] == 3  # ceil(5 / 2)


def test_local_single_file(endpoint, tmp_path):
    server = endpoint
    make_files(tmp_path, ["only.csv"], content=lambda n, i: "x,y\n1,2\n")
    done = completed(server, run_job(server, "--input-local-path", tmp_path / "only.csv"))
    assert output_lines(done) == ["only.csv=x,y|1,2"]
    assert done["progress"]["items"] == {"succeeded": 1, "failed": 0}
    assert done["progress"]["mini_batches"]["total"] == 1


def test_datastore_path_after_upload(endpoint):
    server = endpoint
    names = numbered(3, prefix="up")
    for n in names:
        put_datastore_file(server, "workspaceblobstore", f"shared/batch1/{n}", f"{n}\n")
    # A file one level further down is not part of the input.
    put_datastore_file(server, "workspaceblobstore", "shared/batch1/deeper/x.txt", "x\n")
    job = invoke(server, "--input-datastore", "azureml:workspaceblobstore",
                 "--input-path", "shared/batch1")
    assert job["input"]["description"] == \
        "azureml://datastores/workspaceblobstore/paths/shared/batch1"
    done = completed(server, wait_job(server, job["name"]))
    assert output_lines(done) == expected(names)


def test_registered_extra_datastore_folder(endpoint, tmp_path):
    server = endpoint
    root = tmp_path / "nfs-share"
    names = make_files(root / "2024" / "jan", numbered(4, prefix="jan"))
    make_files(root / "2024" / "feb", numbered(2, prefix="feb"))
    server.cli_json("datastore", "create", "--name", "sharedstore", "--type", "local",
                    "--path", root)
    done = completed(server, run_job(server, "--input-datastore", "azureml:sharedstore",
                                     "--input-path", "2024/jan"))
    assert done["input"]["description"] == "azureml://datastores/sharedstore/paths/2024/jan"
    assert output_lines(done) == expected(names)
    # The output still goes to the default datastore.
    assert done["output"]["uri"].startswith("azureml://datastores/workspaceblobstore/paths/")


def test_registered_data_asset(endpoint, tmp_path):
    server = endpoint
    names = make_files(tmp_path / "asset", numbered(3, prefix="d"))
    server.cli_json("data", "create", "--name", "scoring_data", "--version", "3",
                    "--path", tmp_path / "asset")
    job = invoke(server, "--input-data", "azureml:scoring_data:3")
    assert job["input"]["description"] == "azureml:scoring_data:3"
    done = completed(server, wait_job(server, job["name"]))
    assert output_lines(done) == expected(names)


def test_http_file_url(endpoint, file_server):
    server = endpoint
    make_files(file_server.root, ["x.csv"], content=lambda n, i: "a,b\n1,2\n3,4\n")
    url = f"{file_server.url}/x.csv"
    job = invoke(server, "--input-path", url)
    assert job["input"]["description"] == url
    done = completed(server, wait_job(server, job["name"]))
    # Downloaded under its own name, bytes intact.
    assert output_lines(done) == ["x.csv=a,b|1,2|3,4"]
    assert "downloading " + url in job_log(server, done["name"])


def test_http_folder_url_is_read_through_its_index(endpoint, file_server):
    server = endpoint
    names = make_files(os.path.join(file_server.root, "dir"), ["b.txt", "a.txt", "c.txt"])
    make_files(os.path.join(file_server.root, "dir", "nested"), ["n.txt"])  # one level deep
    make_files(file_server.root, ["outside.txt"])  # not inside the folder
    done = completed(server, run_job(server, "--input-path", f"{file_server.url}/dir/"))
    assert output_lines(done) == expected(sorted(names))
    assert done["progress"]["items"]["succeeded"] == 3


# --- refused at invoke, before any job exists ---------------------------------------

def test_missing_url_is_refused_at_invoke(endpoint, file_server):
    proc = invoke_refused(endpoint, "--input-path", f"{file_server.url}/nope.csv")
    assert proc.returncode == EXIT_NOT_FOUND, proc.stderr
    assert "nope.csv" in proc.stderr and "404" in proc.stderr
    proc = invoke_refused(endpoint, "--input-path", f"{file_server.url}/no-such-dir/")
    assert "no-such-dir" in proc.stderr


def test_unreachable_url_is_refused_at_invoke(endpoint, file_server):
    port = file_server.port
    file_server.close()  # nothing listens there any more
    proc = invoke_refused(endpoint, "--input-path", f"http://127.0.0.1:{port}/x.csv")
    assert f"127.0.0.1:{port}/x.csv" in proc.stderr
    # Exit 7 means the lote server is unreachable (docs/cli.md); it answered.
    assert proc.returncode != EXIT_UNREACHABLE, proc.stderr


def test_missing_datastore_path_is_refused_at_invoke(endpoint):
    proc = invoke_refused(endpoint, "--input-datastore", "azureml:workspaceblobstore",
                          "--input-path", "no/such/folder")
    assert proc.returncode == EXIT_NOT_FOUND, proc.stderr
    assert "no/such/folder" in proc.stderr and "does not exist" in proc.stderr
    proc = invoke_refused(endpoint, "--input-datastore", "azureml:nosuchstore",
                          "--input-path", "x")
    assert proc.returncode == EXIT_NOT_FOUND and "nosuchstore" in proc.stderr


def test_escaping_datastore_path_is_refused_at_invoke(endpoint):
    for path in ("../../etc", "/etc"):
        proc = invoke_refused(endpoint, "--input-datastore", "azureml:workspaceblobstore",
                              "--input-path", path)
        assert proc.returncode == EXIT_INVALID, (path, proc.stderr)


def test_empty_folders_are_refused_at_invoke(endpoint, tmp_path):
    server = endpoint
    (tmp_path / "empty").mkdir()
    proc = invoke_refused(server, "--input-local-path", tmp_path / "empty")
    assert proc.returncode == EXIT_INVALID and "no files" in proc.stderr
    # An empty folder in a registered datastore.
    (tmp_path / "store" / "empty").mkdir(parents=True)
    server.cli_json("datastore", "create", "--name", "emptystore", "--type", "local",
                    "--path", tmp_path / "store")
    proc = invoke_refused(server, "--input-datastore", "azureml:emptystore",
                          "--input-path", "empty")
    assert proc.returncode == EXIT_INVALID and "empty" in proc.stderr


def test_missing_inputs_of_other_kinds_are_refused(endpoint, tmp_path):
    proc = invoke_refused(endpoint, "--input-data", "azureml:nosuchdata:1")
    assert proc.returncode == EXIT_NOT_FOUND and "nosuchdata" in proc.stderr
    proc = invoke_refused(endpoint, "--input-local-path", tmp_path / "not-there")
    assert proc.returncode == EXIT_NOT_FOUND and "not-there" in proc.stderr
    # No input, or two.
    proc = invoke_refused(endpoint)
    assert proc.returncode == EXIT_INVALID
    make_files(tmp_path / "in", ["a.txt"])
    proc = invoke_refused(endpoint, "--input-local-path", tmp_path / "in",
                          "--input-data", "azureml:x:1")
    assert proc.returncode == EXIT_INVALID
    assert job_names(endpoint) == []
    # Unknown endpoint.
    proc = invoke_refused(endpoint, "--input-local-path", tmp_path / "in", endpoint="nosuchedp")
    assert proc.returncode == EXIT_NOT_FOUND


ODD_NAMES = ["a b.txt", "c,d.txt", "e#f.txt", "g%h.txt", "\u00fc.txt"]


def test_local_file_names_with_odd_characters(endpoint, tmp_path):
    names = make_files(tmp_path / "in", ODD_NAMES)
    done = completed(endpoint, run_job(endpoint, "--input-local-path", tmp_path / "in"))
    assert output_lines(done) == expected(sorted(names))


def test_http_folder_url_file_names_are_decoded(endpoint, file_server):
    names = make_files(os.path.join(file_server.root, "odd"), ODD_NAMES)
    done = completed(endpoint, run_job(endpoint, "--input-path", f"{file_server.url}/odd/"))
    assert output_lines(done) == expected(sorted(names))


def test_data_asset_with_a_url_path(endpoint, file_server):
    names = make_files(os.path.join(file_server.root, "web"), numbered(2, prefix="w"))
    endpoint.cli_json("data", "create", "--name", "webdata", "--version", "1",
                      "--path", f"{file_server.url}/web/")
    done = completed(endpoint, run_job(endpoint, "--input-data", "azureml:webdata:1"))
    assert done["input"]["description"] == "azureml:webdata:1"
    assert output_lines(done) == expected(names)


def test_ga_style_input_flag(endpoint, tmp_path, file_server):
    """`--input` takes a URL, an azureml: reference or a local path."""
    server = endpoint
    make_files(file_server.root, ["u.txt"])
    names = make_files(tmp_path / "in", numbered(2))
    server.cli_json("data", "create", "--name", "gadata", "--path", tmp_path / "in")
    for value, want in ((f"{file_server.url}/u.txt", ["u.txt=u.txt"]),
                        ("azureml:gadata:1", expected(names)),
                        (str(tmp_path / "in"), expected(names))):
        done = completed(server, run_job(server, "--input", value))
        assert output_lines(done) == want, value
