"""Builds the taxi example: synthetic trip data and an MLflow-format XGBoost
model trained on it (fixed seed, so every run gives the same files).

    /usr/bin/python3 examples/taxi/make_example.py

Writes examples/taxi/data/*.csv (inputs with an extra tripId column and the
columns in another order than the model's) and examples/taxi/autolog/ (MLmodel
with the xgboost flavor and a signature, model.xgb). Needs numpy and xgboost
(Debian: python3-numpy, python3-xgboost); no mlflow package.
"""
import json
import os

import numpy as np
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
FEATURES = ["fareAmount", "paymentType", "passengerCount", "tripDistance", "tripTimeSecs"]


def trips(rng, n):
    dist = rng.uniform(0.3, 20.0, n)
    secs = (dist * rng.uniform(120, 300, n)).astype(int)
    fare = 2.5 + dist * 2.5 + secs / 60 * 0.5
    pay = rng.integers(1, 3, n)
    pax = rng.integers(1, 6, n)
    return np.column_stack([fare, pay, pax, dist, secs]).astype(np.float32)


def main():
    rng = np.random.default_rng(7)
    x = trips(rng, 5000)
    tip = np.where(x[:, 1] == 1, 0.15 * x[:, 0], 0.0) + rng.normal(0, 0.3, len(x))
    booster = xgb.train({"max_depth": 4, "eta": 0.3, "objective": "reg:squarederror", "seed": 7},
                        xgb.DMatrix(x, label=tip, feature_names=FEATURES), num_boost_round=30)
    model_dir = os.path.join(HERE, "autolog")
    os.makedirs(model_dir, exist_ok=True)
    booster.save_model(os.path.join(model_dir, "model.xgb"))
    inputs = json.dumps([{"name": f, "type": "double"} for f in FEATURES])
    with open(os.path.join(model_dir, "MLmodel"), "w") as f:
        f.write("artifact_path: model\nflavors:\n"
                "  python_function:\n    data: model.xgb\n    loader_module: mlflow.xgboost\n"
                "  xgboost:\n    data: model.xgb\n    model_class: xgboost.core.Booster\n"
                f"signature:\n  inputs: '{inputs}'\n  outputs: '[{{\"name\": \"tip\", \"type\": \"double\"}}]'\n")
    data_dir = os.path.join(HERE, "data")
    os.makedirs(data_dir, exist_ok=True)
    for i in range(4):
        x = trips(rng, 250)
        with open(os.path.join(data_dir, f"taxi-tip-{i:02d}.csv"), "w") as f:
            # Another column order than the model's, and a column it does not use.
            f.write("tripId,tripDistance,tripTimeSecs,fareAmount,paymentType,passengerCount\n")
            for j, r in enumerate(x):
                f.write(f"trip{i}{j:04d},{r[3]:.3f},{int(r[4])},{r[0]:.2f},{int(r[1])},{int(r[2])}\n")


if __name__ == "__main__":
    main()
