"""Helpers for the end-to-end tests of remote agents (docs/agent-api.md,
"Access"): a `lote serve` whose local agents run as a node that shares no
disk with the server would.

The server starts its agents through LOTE_AGENT_EXECUTABLE, a wrapper this
module writes. The wrapper records the agent's token (so tests can call the
agent API as that agent), waits while a hold file exists (so a test can
change the server's files between planning and the agent's first fetch),
then runs `lote agent` in a private mount namespace (`unshare -m`, as root)
with an empty tmpfs over the test's whole temporary folder (the server's
home, its datastores, the models' and inputs' sources) and over lote's
python/ folder (the runner). Whatever the agent reads, it got through the
control plane; its cache is in a folder of its own, outside both."""

import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import pytest

from lote_e2e import REPO, Server

WRAPPER = """#!/bin/sh
# lote agent, as on a node that shares no disk with the control plane.
job=""
prev=""
for a in "$@"; do
  [ "$prev" = "--job" ] && job="$a"
  prev="$a"
done
printf '%s' "$LOTE_TOKEN" > "{tokens}/$job.token"
while [ -e "{hold}" ]; do sleep 0.05; done
exec unshare -m sh -c '
  for d in "{hide_tests}" "{hide_python}"; do
    mount -t tmpfs lote-hidden "$d" || exit 97
  done
  exec "$@"' sh "{lote}" "$@"
"""


def can_unshare_mounts():
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = tempfile.mkdtemp(prefix="lote-unshare-probe-")
    try:
        return subprocess.run(["unshare", "-m", "sh", "-c", f"mount -t tmpfs none {probe}"],
                              capture_output=True).returncode == 0
    finally:
        os.rmdir(probe)


needs_unshare = pytest.mark.skipif(not can_unshare_mounts(),
                                   reason="needs root and `unshare -m` to hide the server's disk from agents")


class RemoteNode:
    """The agents' side: their cache, the tokens they were given, the hold."""

    def __init__(self, lote_bin, hidden):
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="lote-remote-node-"))
        self.cache = self.root / "cache"
        self.tokens = self.root / "tokens"
        self.tokens.mkdir()
        self.hold_path = self.root / "hold"
        self.wrapper = self.root / "agent-wrapper.sh"
        self.wrapper.write_text(WRAPPER.format(tokens=self.tokens, hold=self.hold_path, hide_tests=hidden,
                                               hide_python=REPO + "/python", lote=lote_bin))
        self.wrapper.chmod(0o755)

    def env(self):
        return {"LOTE_AGENT_EXECUTABLE": str(self.wrapper), "LOTE_AGENT_CACHE": str(self.cache)}

    def hold(self):
        """Agents started from now on wait before they run."""
        self.hold_path.write_text("")

    def release(self):
        self.hold_path.unlink(missing_ok=True)

    def token(self, job, timeout=20):
        path = self.tokens / f"{job}.token"
        deadline = time.monotonic() + timeout
        while not path.exists() or not path.read_text():
            if time.monotonic() > deadline:
                pytest.fail(f"no agent of job {job} was started within {timeout}s")
            time.sleep(0.05)
        return path.read_text()

    def blobs(self):
        d = self.cache / "blobs"
        return sorted(os.listdir(d)) if d.exists() else []

    def close(self):
        self.release()
        shutil.rmtree(self.root, ignore_errors=True)


def remote_compute(server, name="cpu-cluster"):
    """A local compute whose jobs' agents reach everything through the control plane."""
    status, reply = server.http("POST", "/api/v1/computes",
                                {"name": name, "type": "local", "max_instances": 4, "agent_access": "remote"})
    assert status == 201, reply
    return reply


def start_remote_server(lote_bin, tmp_path):
    node = RemoteNode(lote_bin, tmp_path)
    return node, Server(lote_bin, tmp_path / "home", env=node.env())
