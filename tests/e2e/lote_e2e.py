"""Shared helpers for lote's end-to-end tests: a running server, the CLI, and
the seed's YAML files written into a temporary folder."""

import http.client
import json
import os

SEED_PICKLE = "not a real pickle"
# The seed's autolog model: an MLflow sklearn model (no-code, python_function).
SEED_MLMODEL = ("flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n"
                "  sklearn:\n    pickled_model: model.pkl\n    serialization_format: cloudpickle\n")
import signal
import subprocess
import time
import urllib.parse

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
START_TIMEOUT_S = 10
STOP_TIMEOUT_S = 10

# `token=ADMIN` (the default) sends the server's admin token; `token=None`
# sends no Authorization header at all; any other string is sent as a bearer.
ADMIN = object()

# Exit codes of the CLI (src/cli/command_context.cc).
EXIT_INVALID = 2
EXIT_NOT_FOUND = 3
EXIT_EXISTS = 4
EXIT_PRECONDITION = 5
EXIT_AUTH = 6
EXIT_UNREACHABLE = 7


def _clean_env(extra=None):
    env = {k: v for k, v in os.environ.items()
           if k not in ("LOTE_HOME", "LOTE_ENDPOINT", "LOTE_TOKEN")}
    env.update(extra or {})
    return env


def run_cli(lote_bin, args, env, cwd=None, check=True, timeout=60):
    """Runs the CLI; with check=True a non-zero exit fails the test with its output."""
    proc = subprocess.run([lote_bin, *[str(a) for a in args]], env=env, cwd=cwd,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail(f"`lote {' '.join(map(str, args))}` exited {proc.returncode}\n"
                    f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
    return proc


class Server:
    """A running `lote serve` in its own home directory."""

    def __init__(self, lote_bin, home, extra_args=(), env=None):
        self.lote_bin = lote_bin
        self.home = str(home)
        self.extra_env = dict(env or {})  # the server's and the CLI's (e.g. SLURM_CONF)
        os.makedirs(self.home, exist_ok=True)
        self.log_path = os.path.join(self.home, "..", os.path.basename(self.home) + ".serve.log")
        self._log = open(self.log_path, "w+b")
        self.proc = subprocess.Popen(
            [lote_bin, "serve", "--home", self.home, "--port", "0", *extra_args],
            env=_clean_env(env), stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        self.returncode = None
        info_path = os.path.join(self.home, "server.json")
        deadline = time.monotonic() + START_TIMEOUT_S
        info = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with open(info_path) as f:
                    info = json.load(f)
                if info.get("pid") == self.proc.pid:
                    break
            except (OSError, ValueError):
                pass
            info = None
            time.sleep(0.02)
        if info is None:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"lote serve did not write {info_path} within {START_TIMEOUT_S}s "
                        f"(exit {self.proc.returncode}); log:\n{self.log()}")
        self.info = info
        self.url = info["url"]
        parsed = urllib.parse.urlsplit(self.url)
        self.host, self.port = parsed.hostname, parsed.port
        with open(os.path.join(self.home, "admin_token")) as f:
            self.admin_token = f.read().strip()

    # --- process -------------------------------------------------------------
    def log(self):
        if not self._log.closed:
            self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT_S):
        """Signals the server and returns its exit code (idempotent)."""
        if self.returncode is None:
            if self.proc.poll() is None:
                self.proc.send_signal(sig)
            try:
                self.returncode = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.returncode = "hung"
            self._log.close()
        return self.returncode

    # --- CLI -----------------------------------------------------------------
    def env(self, **extra):
        return _clean_env({**self.extra_env, "LOTE_HOME": self.home, **extra})

    def cli(self, *args, check=True, cwd=None, env=None, timeout=60):
        return run_cli(self.lote_bin, args, env if env is not None else self.env(),
                       cwd=cwd, check=check, timeout=timeout)

    def cli_json(self, *args, cwd=None):
        return json.loads(self.cli(*args, "-o", "json", cwd=cwd).stdout)

    # --- HTTP ----------------------------------------------------------------
    def request(self, method, path, body=None, token=ADMIN, headers=None, raw=None,
                timeout=30):
        """Sends one request with http.client (the path goes out verbatim, not
        normalised). Returns (status, headers, parsed JSON or text)."""
        hdrs = dict(headers or {})
        if token is ADMIN:
            token = self.admin_token
        if token is not None:
            hdrs.setdefault("Authorization", f"Bearer {token}")
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if isinstance(data, str):
            data = data.encode()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            payload = resp.read()
            resp_headers = {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()
        text = payload.decode(errors="replace")
        try:
            parsed = json.loads(text) if text.strip() else text
        except ValueError:
            parsed = text
        return resp.status, resp_headers, parsed

    def http(self, method, path, body=None, token=ADMIN, headers=None, raw=None):
        status, _, parsed = self.request(method, path, body=body, token=token,
                                         headers=headers, raw=raw)
        return status, parsed


def api_error(parsed):
    """The {"error": {...}} object of an error reply (fails the test otherwise)."""
    assert isinstance(parsed, dict) and isinstance(parsed.get("error"), dict), (
        f"expected a JSON error object, got {parsed!r}")
    err = parsed["error"]
    assert isinstance(err.get("code"), str) and isinstance(err.get("message"), str), err
    return err


# --- the seed's files -----------------------------------------------------------

# Azure ML's 2021 create-batch-endpoint.yml (azureml-examples cli/endpoints/batch),
# unchanged but for the model's local_path.
ENDPOINT_YAML = """\
$schema: https://azuremlschemas.azureedge.net/latest/batchEndpoint.schema.json
name: mybatchedp
type: batch
auth_mode: aad_token
traffic:
  autolog-deployment: 100

deployments:
  - name: autolog-deployment
    model:
      name: autolog
      version: 1
      local_path: ./autolog
    compute:
      target: azureml:cpu-cluster
      instance_count: 2
    mini_batch_size: 5
    output_file_name: predictions.csv
    retry_settings:
      max_retries: 3
      timeout: 30
    error_threshold: -1
    logging_level: info
"""

# The seed's add-deployment.yml: a custom model with a scoring script and an
# environment; mini_batch_size and max_concurrency_per_instance are left out on
# purpose so that their defaults show.
ADD_DEPLOYMENT_YAML = """\
name: mnist-deployment
model:
  name: mnist
  version: 1
  local_path: ./mnist/model/
code_configuration:
  code:
    local_path: ./mnist/code/
  scoring_script: digit_identification.py
environment:
  name: mnist-env
  version: 1
  path: .
  conda_file: file:./mnist/environment/conda.yml
  docker:
    image: mcr.microsoft.com/azureml/openmpi3.1.2-ubuntu18.04:latest
environment_variables:
  MNIST_MODE: fast
  OMP_NUM_THREADS: "1"
compute:
  target: azureml:cpu-cluster
  instance_count: 1
output_file_name: mnist-predictions.csv
retry_settings:
  max_retries: 2
  timeout: 60
error_threshold: 5
logging_level: DEBUG
"""

SCORE_PY = """\
import os

def init():
    global model_dir
    model_dir = os.environ["AZUREML_MODEL_DIR"]

def run(mini_batch):
    return [os.path.basename(p) for p in mini_batch]
"""


def write(path, text):
    os.makedirs(os.path.dirname(str(path)) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return str(path)


def write_autolog(folder):
    """A minimal MLflow model folder: the MLmodel file and the model file it names."""
    write(os.path.join(folder, "MLmodel"), SEED_MLMODEL)
    write(os.path.join(folder, "model.pkl"), SEED_PICKLE)
    return str(folder)


def write_seed(workdir):
    """Writes the seed's two YAML files and the folders they name into workdir."""
    workdir = str(workdir)
    write_autolog(os.path.join(workdir, "autolog"))
    write(os.path.join(workdir, "mnist", "model", "mnist.pt"), "not really torch\n")
    write(os.path.join(workdir, "mnist", "code", "digit_identification.py"), SCORE_PY)
    write(os.path.join(workdir, "mnist", "environment", "conda.yml"),
          "name: mnist-env\ndependencies:\n  - python=3.8\n  - pip\n")
    write(os.path.join(workdir, "create-batch-endpoint.yml"), ENDPOINT_YAML)
    write(os.path.join(workdir, "add-deployment.yml"), ADD_DEPLOYMENT_YAML)


def create_compute(server, name="cpu-cluster", max_instances=5):
    return server.cli_json("compute", "create", "--name", name, "--type", "local",
                           "--min-instances", "0", "--max-instances", str(max_instances))


def taxi_example():
    """examples/taxi with its model and data, which are generated (and
    git-ignored): made here once when missing (fixed seed, same files)."""
    taxi = os.path.join(REPO, "examples", "taxi")
    data = os.path.join(taxi, "data")
    made = os.path.isfile(os.path.join(taxi, "autolog", "model.xgb")) and os.path.isdir(data) and \
        len([n for n in os.listdir(data) if n.endswith(".csv")]) == 4
    if not made:
        subprocess.run(["/usr/bin/python3", os.path.join(taxi, "make_example.py")], check=True, timeout=300,
                       capture_output=True)
    return taxi
