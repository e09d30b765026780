"""Fixtures of the Azure compatibility suite: the e2e suite's server and CLI
helpers (tests/e2e/lote_e2e.py), with Debian's Python running deployments."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "e2e"))

from lote_e2e import REPO, Server  # noqa: E402


@pytest.fixture(scope="session")
def lote_bin():
    path = os.environ.get("LOTE_BIN", os.path.join(REPO, "build", "lote"))
    assert os.path.isfile(path) and os.access(path, os.X_OK), f"lote binary not found at {path!r}"
    return path


@pytest.fixture
def server(lote_bin, tmp_path):
    # Azure's scripts import xgboost and pandas: Debian's interpreter has them.
    srv = Server(lote_bin, tmp_path / "home", env={"LOTE_PYTHON": "/usr/bin/python3"})
    yield srv
    rc = srv.stop()
    assert rc == 0, f"lote serve exited {rc!r} on SIGTERM; log:\n{srv.log()}"
