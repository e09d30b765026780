# A scoring script in Azure ML's batch style: init() once per worker process,
# run(mini_batch) once per mini-batch with a list of file paths. It needs only
# the standard library, so it runs under any python3.
import csv
import json
import os

weights = None


def init():
    global weights
    # As on Azure: a model registered from the folder model/ is
    # AZUREML_MODEL_DIR/model/.
    model_dir = os.path.join(os.environ["AZUREML_MODEL_DIR"], "model")
    with open(os.path.join(model_dir, "weights.json")) as f:
        weights = json.load(f)
    print(f"loaded tip model from {model_dir}")


def run(mini_batch):
    results = []
    for path in mini_batch:
        name = os.path.basename(path)
        with open(path, newline="") as f:
            for i, row in enumerate(csv.DictReader(f)):
                tip = weights["intercept"] + sum(
                    w * float(row[col]) for col, w in weights["coef"].items()
                )
                results.append(f"{name},{i},{tip:.4f}")
    return results
