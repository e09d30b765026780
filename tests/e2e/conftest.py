"""Fixtures for lote's end-to-end tests.

Every test drives the real binaries: `lote serve --home <tmp> --port 0` and the
`lote` CLI against it. Nothing outside a temporary directory and 127.0.0.1 is
touched. Run with Debian's interpreter:

    /usr/bin/python3 -m pytest tests/e2e -q

LOTE_BIN overrides the binary (default <repo>/build/lote).
"""

import os
import signal

import pytest

from jobs_e2e import FileServer
from lote_e2e import REPO, Server
from slurm_local import slurm_cluster  # noqa: F401  (the local Slurm cluster's fixture)


@pytest.fixture(scope="session")
def lote_bin():
    path = os.environ.get("LOTE_BIN", os.path.join(REPO, "build", "lote"))
    assert os.path.isfile(path) and os.access(path, os.X_OK), (
        f"lote binary not found or not executable at {path!r}: build it with "
        f"`cmake --build build --target lote` or set LOTE_BIN")
    return path


@pytest.fixture
def server(lote_bin, tmp_path):
    """A fresh `lote serve` in tmp_path/home; stopped with SIGTERM afterwards,
    which must make it exit 0 within 10 s."""
    srv = Server(lote_bin, tmp_path / "home")
    yield srv
    rc = srv.stop()
    assert rc == 0, f"lote serve exited {rc!r} on SIGTERM; log:\n{srv.log()}"


@pytest.fixture
def workdir(tmp_path):
    """A scratch folder for YAML files and tiny models, used as the CLI's cwd."""
    d = tmp_path / "work"
    d.mkdir()
    return d


@pytest.fixture
def file_server(tmp_path):
    """A loopback HTTP server (http.server in a thread) serving tmp_path/www:
    `.root` is the folder, `.url` its address (http://127.0.0.1:<port>)."""
    srv = FileServer(tmp_path / "www")
    yield srv
    srv.close()


class RestartableServer:
    """A `lote serve` that a test may kill (even with SIGKILL) and start again
    on the same --home: `.server` is the current instance."""

    def __init__(self, lote_bin, home):
        self.lote_bin = lote_bin
        self.home = home
        self.generation = 0
        self.server = Server(lote_bin, home)
        self.killed = False

    def kill(self, sig=None):
        rc = self.server.stop(sig if sig is not None else signal.SIGKILL)
        # Keep the dead instance's log: the next one writes the same file.
        os.replace(self.server.log_path, f"{self.server.log_path}.{self.generation}")
        self.killed = True
        return rc

    def start(self):
        self.generation += 1
        self.server = Server(self.lote_bin, self.home)
        self.killed = False
        return self.server


@pytest.fixture
def restartable_server(lote_bin, tmp_path):
    """Like `server`, but killable and restartable with the same home."""
    rs = RestartableServer(lote_bin, tmp_path / "home")
    yield rs
    if rs.killed:
        return
    rc = rs.server.stop()
    assert rc == 0, f"lote serve exited {rc!r} on SIGTERM; log:\n{rs.server.log()}"
