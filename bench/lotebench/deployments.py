"""The endpoints the dispatch, latency, scale and slurm sections create: a no-op
native plugin, a no-op Python score.py, and the tabular XGBoost model."""

import os
import shutil

NOOP_SCORE_PY = """\
import os


def init():
    pass


def run(mini_batch):
    return [os.path.basename(p) for p in mini_batch]
"""

_COMMON = """\
    compute:
      target: azureml:{compute}
      instance_count: {instance_count}
    max_concurrency_per_instance: {concurrency}
    mini_batch_size: {mini_batch_size}
    output_file_name: predictions.csv
    retry_settings:
      max_retries: 3
      timeout: 60
    error_threshold: -1
    logging_level: info
"""


def _placeholder_model(workdir):
    model = os.path.join(workdir, "noop-model")
    os.makedirs(model, exist_ok=True)
    with open(os.path.join(model, "NOTE.txt"), "w") as f:
        f.write("the no-op scorers load no model\n")
    return model


def _common(concurrency, mini_batch_size, compute="cpu-cluster", instance_count=1):
    return _COMMON.format(concurrency=concurrency, mini_batch_size=mini_batch_size, compute=compute,
                          instance_count=instance_count)


def noop_native(name, workdir, plugin_so, concurrency, mini_batch_size, **compute):
    """Endpoint YAML of a deployment that scores with bench/noop_plugin.c.
    compute: compute= (a compute's name, default cpu-cluster) and instance_count= (default 1)."""
    code = os.path.join(workdir, f"{name}-code")
    os.makedirs(code, exist_ok=True)
    shutil.copy(plugin_so, os.path.join(code, "libnoop.so"))
    return (f"name: {name}\ntype: batch\ndeployments:\n  - name: noop\n"
            f"    model:\n      name: noop\n      version: 1\n      local_path: {_placeholder_model(workdir)}\n"
            f"    code_configuration:\n      code:\n        local_path: {code}\n"
            f"      native_library: libnoop.so\n"
            + _common(concurrency, mini_batch_size, **compute))


def noop_python(name, workdir, python, concurrency, mini_batch_size, **compute):
    """Endpoint YAML of a deployment whose score.py does nothing (one string per item);
    compute as noop_native's."""
    code = os.path.join(workdir, f"{name}-code")
    os.makedirs(code, exist_ok=True)
    with open(os.path.join(code, "score.py"), "w") as f:
        f.write(NOOP_SCORE_PY)
    return (f"name: {name}\ntype: batch\ndeployments:\n  - name: noop\n"
            f"    model:\n      name: noop\n      version: 1\n      local_path: {_placeholder_model(workdir)}\n"
            f"    code_configuration:\n      code:\n        local_path: {code}\n      scoring_script: score.py\n"
            f"    environment:\n      name: bench-env\n      version: 1\n      python: {python}\n"
            + _common(concurrency, mini_batch_size, **compute))


def xgboost(name, model_dir, concurrency, mini_batch_size, timeout=60):
    """Endpoint YAML of a no-code deployment of an XGBoost model file (`type: xgboost`)."""
    common = _common(concurrency, mini_batch_size)
    common = common.replace("max_retries: 3", "max_retries: 0").replace("timeout: 60", f"timeout: {timeout}")
    return (f"name: {name}\ntype: batch\ndeployments:\n  - name: xgb\n"
            f"    model:\n      name: bench-xgb\n      version: 1\n      type: xgboost\n"
            f"      local_path: {model_dir}\n" + common)
