"""GET /metrics: Prometheus' text format, checked by promtool; the admin or
a read token may scrape it; read tokens change nothing."""

import re
import shutil
import subprocess

import pytest

from jobs_e2e import make_files, numbered, run_job, simple_endpoint
from lote_e2e import EXIT_AUTH


def scrape(server, token):
    status, _, body = server.request("GET", "/metrics", token=token)
    return status, body


def samples(text):
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_metrics_count_a_job_and_pass_promtool(server, workdir):
    simple_endpoint(server, workdir, mini_batch_size=1)
    make_files(workdir / "in", numbered(3))
    run_job(server, "--input-local-path", "in", cwd=workdir)
    read = server.cli("token", "create", "--scope", "read").stdout.strip()
    status, body = scrape(server, read)
    assert status == 200, body
    text = body if isinstance(body, str) else body.decode()
    s = samples(text)
    assert s['lote_jobs{status="Completed"}'] == 1
    assert s['lote_jobs{status="Running"}'] == 0
    assert s['lote_mini_batches_total{outcome="succeeded"}'] == 3
    assert s['lote_items_total{outcome="succeeded"}'] == 3
    assert s['lote_mini_batch_duration_seconds_count'] == 3
    assert s['lote_agents{compute_type="local"}'] == 0
    assert s['lote_lease_expirations_total'] == 0
    assert s['lote_http_requests_total{code="200"}'] > 0
    assert 'lote_http_request_duration_seconds_bucket{le="+Inf"}' in s
    assert not re.search(r"jobsedp-\d", text)  # no job names in labels
    if shutil.which("promtool"):
        check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    else:
        pytest.fail("promtool is missing: ./setup.sh installs Debian's prometheus package")


def test_read_tokens_read_and_change_nothing(server, workdir):
    read = server.cli("token", "create", "--scope", "read", "--expires-in", "1h").stdout.strip()
    assert server.http("GET", "/api/v1/computes", token=read)[0] == 200
    assert server.http("GET", "/api/v1/jobs", token=read)[0] == 200
    status, body = server.http("POST", "/api/v1/computes", {"name": "sneaky", "type": "local"}, token=read)
    assert status == 403 and "read token" in str(body)
    assert server.http("POST", "/api/v1/tokens", {"scope": "read"}, token=read)[0] == 403
    # endpoint tokens may not scrape; no token at all is 401
    assert scrape(server, None)[0] == 401
    env = server.env(LOTE_TOKEN=read, LOTE_ENDPOINT=server.url)
    p = server.cli("compute", "create", "-n", "sneaky", env=env, check=False)
    assert p.returncode == EXIT_AUTH
    for bad in ({"scope": "admin"}, {"scope": "read", "expires_in_s": 0}, {"scope": "read", "extra": 1},
                {"scope": "read", "expires_in_s": 10**12}):
        assert server.http("POST", "/api/v1/tokens", bad)[0] == 400, bad
    p = server.cli("token", "create", "--scope", "read", "--expires-in", "soon", check=False)
    assert p.returncode == 2
