# A scoring script as written for Azure ML batch endpoints: the model folder
# is found under AZUREML_MODEL_DIR, run() returns a DataFrame.
import glob
import os

import pandas as pd
import xgboost as xgb

FEATURES = ["fareAmount", "paymentType", "passengerCount", "tripDistance", "tripTimeSecs"]


def init():
    global model
    model_path = glob.glob(os.environ["AZUREML_MODEL_DIR"] + "/*/")[0]
    model = xgb.Booster()
    model.load_model(os.path.join(model_path, "model.xgb"))


def run(mini_batch):
    results = []
    for file_path in mini_batch:
        data = pd.read_csv(file_path)
        predictions = model.predict(xgb.DMatrix(data[FEATURES]))
        frame = pd.DataFrame({"tripId": data["tripId"], os.environ["TIP_COLUMN"]: predictions})
        frame["file"] = os.path.basename(file_path)
        results.append(frame)
    return pd.concat(results)
