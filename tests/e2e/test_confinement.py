"""Nothing reaches outside a datastore (issue 9, "Confinement"): real symbolic
links planted in a datastore folder, pointing at /etc/passwd and at a folder
outside, used as a file PUT/GET target, as a job input (a file link, a folder
link, a folder holding a link) and as the job's output path. Each is refused
with a 400 that names the link; nothing is written outside, and nothing of
/etc/passwd reaches any response, output or log. An endpoint token (what a
job submitter holds) is enough to try; it is what these tests use to invoke."""

import os

import pytest

from jobs_e2e import (EP, completed, job_names, make_files, output_lines, run_job,
                      simple_endpoint)
from lote_e2e import EXIT_INVALID, api_error

DS = "workspaceblobstore"

CONTENT_SCORE = """\
import os

def run(mini_batch):
    out = []
    for p in mini_batch:
        with open(p) as f:
            out.append(os.path.basename(p) + "=" + f.read().strip().replace("\\n", "|"))
    return out
"""

with open("/etc/passwd") as _f:
    PASSWD_LINE = _f.readline().strip()  # "root:x:0:0:…": what must never leak


@pytest.fixture
def planted(server, workdir, tmp_path):
    """An endpoint, and a datastore folder with links leading out of it:
    in/passwd -> /etc/passwd, in/ok.txt (a real file), etc -> /etc,
    out -> <tmp>/outside (a folder outside, holding secret.txt)."""
    simple_endpoint(server, workdir, CONTENT_SCORE, mini_batch_size=2)
    root = os.path.join(server.home, "datastores", DS)
    outside = tmp_path / "outside"
    make_files(outside, ["secret.txt"], content=lambda n, i: "TOPSECRET\n")
    make_files(os.path.join(root, "in"), ["ok.txt"])
    make_files(os.path.join(root, "clean"), ["a.txt", "b.txt"])
    os.symlink("/etc/passwd", os.path.join(root, "in", "passwd"))
    os.symlink("/etc", os.path.join(root, "etc"))
    os.symlink(str(outside), os.path.join(root, "out"))
    os.symlink("../../../outside/secret.txt", os.path.join(root, "rel-secret.txt"))
    status, reply = server.http("POST", f"/api/v1/endpoints/{EP}/token", raw=b"{}")
    assert status == 200, reply
    return {"server": server, "root": root, "outside": str(outside),
            "token": reply["accessToken"]}


def assert_nothing_leaked(ctx):
    """No new file outside, and no file under the home (outputs, logs, job
    folders) or the datastore holds /etc/passwd's content or the secret."""
    assert sorted(os.listdir(ctx["outside"])) == ["secret.txt"]
    for top in (ctx["server"].home, ctx["root"]):
        for folder, _, files in os.walk(top):  # os.walk does not follow links
            for name in files:
                path = os.path.join(folder, name)
                if os.path.islink(path):
                    continue
                with open(path, "rb") as f:
                    data = f.read()
                assert PASSWD_LINE.encode() not in data, f"{path} holds /etc/passwd's content"
                assert b"TOPSECRET" not in data, f"{path} holds the secret"


def invoke_rest(ctx, body):
    return ctx["server"].http("POST", f"/api/v1/endpoints/{EP}/jobs", body=body, token=ctx["token"])


def test_file_put_and_get_through_links_out_are_refused(planted):
    server = planted["server"]
    for rel, link in (("out/new.txt", "out"), ("out/deeper/new.txt", "out"), ("etc/lote-evil", "etc")):
        status, reply = server.http("PUT", f"/api/v1/datastores/{DS}/files/{rel}", raw=b"evil")
        assert status == 400, (rel, status, reply)
        err = api_error(reply)
        assert f"'{link}' is a symbolic link to" in err["message"], err
        assert f"datastore '{DS}'" in err["message"], err
    # A link as the file itself: never replaced, never written through.
    os.symlink(os.path.join(planted["outside"], "planted.txt"), os.path.join(planted["root"], "trap.txt"))
    status, reply = server.http("PUT", f"/api/v1/datastores/{DS}/files/trap.txt", raw=b"evil")
    assert status == 409, (status, reply)
    for rel in ("in/passwd", "etc/passwd", "out/secret.txt", "rel-secret.txt"):
        status, reply = server.http("GET", f"/api/v1/datastores/{DS}/files/{rel}")
        assert status == 400, (rel, status, reply)
        assert "symbolic link" in api_error(reply)["message"]
        assert PASSWD_LINE not in str(reply) and "TOPSECRET" not in str(reply)
    # What is inside still works.
    status, reply = server.http("GET", f"/api/v1/datastores/{DS}/files/in/ok.txt")
    assert (status, reply) == (200, "ok.txt\n")
    assert not os.path.exists("/etc/lote-evil")
    assert_nothing_leaked(planted)


def test_job_inputs_through_links_out_are_refused_at_invoke(planted):
    server = planted["server"]
    cases = [
        ("in", "'in/passwd' is a symbolic link to '/etc/passwd'"),          # a folder holding one
        ("in/passwd", "'in/passwd' is a symbolic link to '/etc/passwd'"),  # a file link
        ("etc", "'etc' is a symbolic link to '/etc'"),                      # a folder link
        ("etc/passwd", "'etc' is a symbolic link to '/etc'"),
        ("out", "'out' is a symbolic link to"),
        ("rel-secret.txt", "'rel-secret.txt' is a symbolic link to '../../../outside/secret.txt'"),
    ]
    for path, words in cases:
        status, reply = invoke_rest(planted, {"input": {"datastore": DS, "path": path}})
        assert status == 400, (path, status, reply)
        err = api_error(reply)
        assert words in err["message"], (path, err)
        assert "outside" in err["message"] and err.get("field") == "input", (path, err)
    # The CLI says the same and exits as for bad input.
    proc = server.cli("endpoint", "invoke", "--name", EP, "--input-datastore", f"azureml:{DS}",
                      "--input-path", "in", check=False)
    assert proc.returncode == EXIT_INVALID and "'in/passwd' is a symbolic link" in proc.stderr, proc.stderr
    assert job_names(server) == []
    assert_nothing_leaked(planted)


def test_job_output_paths_through_links_out_are_refused(planted):
    server = planted["server"]
    for out_path, words in (("out/results", "'out' is a symbolic link to"),
                            ("out", "'out' is a symbolic link to"),
                            ("etc", "'etc' is a symbolic link to '/etc'")):
        body = {"input": {"datastore": DS, "path": "clean"},
                "output": {"datastore": DS, "path": out_path}}
        status, reply = invoke_rest(planted, body)
        assert status == 400, (out_path, status, reply)
        err = api_error(reply)
        assert words in err["message"] and err.get("field") == "output", (out_path, err)
    # An output file planted as a link out is refused too, naming it.
    os.makedirs(os.path.join(planted["root"], "outs"))
    os.symlink(os.path.join(planted["outside"], "p.csv"), os.path.join(planted["root"], "outs", "predictions.csv"))
    status, reply = invoke_rest(planted, {"input": {"datastore": DS, "path": "clean"},
                                          "output": {"datastore": DS, "path": "outs"}})
    assert status == 400, (status, reply)
    assert "'outs/predictions.csv' is a symbolic link to" in api_error(reply)["message"], reply
    assert job_names(server) == []
    assert_nothing_leaked(planted)


def test_links_that_stay_inside_are_read_through_their_target(planted):
    server = planted["server"]
    os.symlink("../in/ok.txt", os.path.join(planted["root"], "clean", "c.txt"))
    os.symlink("nowhere.txt", os.path.join(planted["root"], "clean", "dangling.txt"))  # skipped
    job = run_job(server, "--input-datastore", f"azureml:{DS}", "--input-path", "clean")
    done = completed(server, job)
    # Files in name order (a, b, c); c is read through its link.
    assert output_lines(done) == ["a.txt=a.txt", "b.txt=b.txt", "ok.txt=ok.txt"]
    assert done["input"]["path"] == os.path.realpath(os.path.join(planted["root"], "clean"))
    assert_nothing_leaked(planted)


def test_a_data_asset_through_a_link_out_is_refused(planted):
    server = planted["server"]
    proc = server.cli("data", "create", "--name", "leak", "--datastore", DS, "--path",
                      f"azureml://datastores/{DS}/paths/etc", check=False)
    assert proc.returncode == EXIT_INVALID, (proc.stdout, proc.stderr)
    assert "'etc' is a symbolic link to '/etc'" in proc.stderr, proc.stderr
