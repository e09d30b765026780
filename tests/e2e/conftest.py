"""Fixtures for lote's end-to-end tests.

Every test drives the real binaries: `lote serve --home <tmp> --port 0` and the
`lote` CLI against it. Nothing outside a temporary directory and 127.0.0.1 is
touched. Run with Debian's interpreter:

    /usr/bin/python3 -m pytest tests/e2e -q

LOTE_BIN overrides the binary (default <repo>/build/lote).
"""

import os

import pytest

from lote_e2e import REPO, Server


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
