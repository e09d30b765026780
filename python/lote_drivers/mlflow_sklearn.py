"""The built-in driver "mlflow_sklearn": no-code scoring of MLflow models of
the sklearn flavor (what `mlflow.sklearn.log_model` and autolog write), CSV,
Parquet or JSON Lines rows in, one prediction per row out (lote_drivers.tabular has the contract:
columns, types, output rows, counts, errors).

    create(init_msg) -> TabularScorer       (lote_runner's DRIVERS contract)

The model folder is the init message's model_dir; its MLmodel file (YAML,
read with PyYAML) gives:

    flavors.sklearn.pickled_model           the pickle's name (model.pkl)
    flavors.sklearn.serialization_format    pickle | cloudpickle (MLflow's
                                            default when absent)
    flavors.sklearn.sklearn_version         compared with this scikit-learn:
                                            a warning on stderr when they differ
    flavors.python_function.loader_module   mlflow.sklearn: a model without the
                                            sklearn flavor, whose pickle is
                                            python_function.model_path
    flavors.python_function.code            a folder of the model's own code,
                                            put first on sys.path before loading
    flavors.python_function.predict_fn      the method scoring calls (predict)
    signature.inputs / signature.outputs    JSON strings inside the YAML, as
                                            MLflow writes them:
        inputs: '[{"name": "fareAmount", "type": "float"}, ...]'

The input columns are the signature's named inputs, in order, with their
types; options.columns (a list of names) overrides the selection, types still
coming from the signature by name. Without either, every column of a file is
passed as pandas reads it. Outputs are named by the signature when it names
as many as the model gives.

A cloudpickle model is loaded with cloudpickle when it is installed, else with
pickle.load, which reads cloudpickle's output of importable classes (a
scikit-learn estimator or pipeline); one that holds functions defined at
runtime needs cloudpickle, and init fails saying so.

Init failures (init_failed, the worker exits) name what is wrong: a missing
package (PyYAML, pandas/numpy, scikit-learn, cloudpickle), a missing or
malformed MLmodel, a model folder of another flavor, a pickle that cannot be
loaded, a model without its predict method. Needs PyYAML, pandas, numpy and
scikit-learn (Debian: python3-yaml, python3-pandas, python3-sklearn).
"""

import json
import os
import pickle
import sys
import traceback

from lote_runner import InitFailed

DRIVER = "mlflow_sklearn"


def _describe(e):
    text = str(e)
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _require(module, what):
    try:
        return __import__(module)
    except ImportError as e:
        raise InitFailed(f"the {DRIVER} driver needs {what}: {_describe(e)}",
                         traceback.format_exc()) from None


def create(init_msg):
    yaml = _require("yaml", "PyYAML (python3-yaml)")
    try:
        from lote_drivers import tabular
    except ImportError as e:
        raise InitFailed(f"the {DRIVER} driver needs pandas and numpy (python3-pandas): "
                         f"{_describe(e)}", traceback.format_exc()) from None

    model_dir = init_msg.get("model_dir")
    if not isinstance(model_dir, str) or not model_dir:
        raise InitFailed(f"the {DRIVER} driver needs the init message's model_dir")
    options = init_msg.get("options") or {}
    model = MlflowModel.read(model_dir, yaml)

    sklearn = _require("sklearn", "scikit-learn (python3-sklearn)")
    saved = model.sklearn.get("sklearn_version")
    if saved and str(saved) != sklearn.__version__:
        sys.stderr.write(f"lote {DRIVER}: {model.mlmodel}: the model was saved with "
                         f"scikit-learn {saved}; this environment has {sklearn.__version__}\n")
        sys.stderr.flush()

    estimator = model.load()
    predict_fn = str(model.pyfunc.get("predict_fn") or "predict")
    predict = getattr(estimator, predict_fn, None)
    if not callable(predict):
        raise InitFailed(f"{model.pickle_path}: the model ({type(estimator).__name__}) "
                         f"has no {predict_fn}() method")

    columns = model.input_columns(options.get("columns") if isinstance(options, dict) else None)
    outputs = [name for name, _ in model.outputs if name]
    layout = options.get("layout", "lote") if isinstance(options, dict) else "lote"
    if layout not in ("lote", "azure"):
        raise InitFailed(f"the {DRIVER} driver: options.layout must be 'lote' or 'azure', got {layout!r}")
    passthrough = options.get("passthrough") if isinstance(options, dict) else None
    if passthrough is not None and passthrough != "*" and not (
            isinstance(passthrough, list) and passthrough
            and all(isinstance(n, str) and n for n in passthrough)):
        raise InitFailed(f"the {DRIVER} driver: options.passthrough must be \"*\" or a list of "
                         f"column names, got {passthrough!r}")
    return tabular.TabularScorer(columns, predict, outputs, layout=layout,
                                 passthrough=passthrough)


def content_dir(model_dir):
    """Where the model's own files are: Azure lays a model registered from a
    folder `model/` out as <AZUREML_MODEL_DIR>/model/…, so with no MLmodel at
    the root, no visible file and exactly one visible folder, that folder
    (as src/native/mlmodel.cc ModelContentDir does); else model_dir."""
    if os.path.exists(os.path.join(model_dir, "MLmodel")):
        return model_dir
    try:
        entries = [e for e in os.scandir(model_dir) if not e.name.startswith(".")]
    except OSError:
        return model_dir
    if len(entries) == 1 and entries[0].is_dir(follow_symlinks=False):
        return entries[0].path
    return model_dir


class MlflowModel:
    """What the driver reads from a model folder's MLmodel file."""

    def __init__(self, model_dir, mlmodel, doc):
        self.dir = model_dir
        self.mlmodel = mlmodel
        flavors = doc.get("flavors")
        if not isinstance(flavors, dict):
            raise InitFailed(f"{mlmodel}: no flavors")
        self.sklearn = flavors.get("sklearn")
        self.pyfunc = flavors.get("python_function")
        if not isinstance(self.pyfunc, dict):
            self.pyfunc = {}
        loader = self.pyfunc.get("loader_module")
        if isinstance(self.sklearn, dict):
            self.pickle_name = self.sklearn.get("pickled_model") or "model.pkl"
            self.format = self.sklearn.get("serialization_format") or "cloudpickle"
            self._where = "flavors.sklearn"
        elif loader == "mlflow.sklearn":
            self.sklearn = {}
            self.pickle_name = self.pyfunc.get("model_path") or "model.pkl"
            self.format = "cloudpickle"  # MLflow's default; pickle.load reads either
            self._where = "flavors.python_function"
        else:
            names = ", ".join(f"'{n}'" for n in flavors if n != "python_function")
            if not names:
                names = ("'python_function' with loader_module " + str(loader) if loader
                         else "'python_function' without loader_module")
            raise InitFailed(f"model folder '{model_dir}' is not an MLflow sklearn model: its "
                             f"MLmodel flavor(s) {names}; the {DRIVER} driver scores the "
                             "sklearn flavor (or python_function with loader_module "
                             "mlflow.sklearn)")
        self.pickle_path = os.path.join(model_dir, str(self.pickle_name))
        signature = doc.get("signature")
        if signature is not None and not isinstance(signature, dict):
            raise InitFailed(f"{mlmodel}: signature must be a mapping")
        signature = signature or {}
        self.inputs = self._columns(signature.get("inputs"), "signature.inputs")
        self.outputs = self._columns(signature.get("outputs"), "signature.outputs")

    @classmethod
    def read(cls, model_dir, yaml):
        model_dir = content_dir(model_dir)
        mlmodel = os.path.join(model_dir, "MLmodel")
        try:
            with open(mlmodel, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            raise InitFailed(f"model folder '{model_dir}' holds no MLmodel file") from None
        except (OSError, UnicodeDecodeError) as e:
            raise InitFailed(f"cannot read {mlmodel}: {_describe(e)}") from None
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise InitFailed(f"{mlmodel}: not valid YAML: {e}") from None
        if not isinstance(doc, dict):
            raise InitFailed(f"{mlmodel}: not a YAML mapping")
        return cls(model_dir, mlmodel, doc)

    def _columns(self, value, key):
        """[(name or None, type)] from a signature's inputs or outputs: a JSON
        string (as MLflow writes it) or, hand-written, a YAML list."""
        if value is None:
            return []
        where = f"{self.mlmodel}: {key}"
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as e:
                raise InitFailed(f"{where}: not valid JSON: {e}") from None
        if not isinstance(value, list):
            raise InitFailed(f"{where}: must be a list of columns")
        columns = []
        for i, col in enumerate(value):
            if not isinstance(col, dict) or not isinstance(col.get("type"), str):
                raise InitFailed(f"{where}[{i}]: a column must be an object with a \"type\"")
            name = col.get("name")
            if name is not None and not isinstance(name, str):
                raise InitFailed(f"{where}[{i}]: \"name\" must be a string")
            columns.append((name or None, col["type"]))
        return columns

    def input_columns(self, override):
        """[(name, type or None)] to take from each file, or None for all."""
        types = {name: t for name, t in self.inputs if name}
        if override is not None:
            if (not isinstance(override, list) or not override
                    or not all(isinstance(c, str) and c for c in override)):
                raise InitFailed("init: options.columns must be a list of column names")
            return [(name, types.get(name)) for name in override]
        if self.inputs and all(name for name, _ in self.inputs):
            return list(self.inputs)
        return None

    def load(self):
        fmt = str(self.format)
        if fmt not in ("pickle", "cloudpickle"):
            raise InitFailed(f"{self.mlmodel}: {self._where}.serialization_format: '{fmt}' "
                             f"is not supported (the {DRIVER} driver loads pickle and "
                             "cloudpickle)")
        if not os.path.isfile(self.pickle_path):
            raise InitFailed(f"{self.mlmodel}: {self._where}: '{self.pickle_name}' does not "
                             f"exist in '{self.dir}'")
        code = self.pyfunc.get("code")
        if code:
            path = os.path.abspath(os.path.join(self.dir, str(code)))
            if path in sys.path:
                sys.path.remove(path)
            sys.path.insert(0, path)

        loader, missing = pickle, None
        if fmt == "cloudpickle":
            try:
                import cloudpickle as loader
            except ImportError as e:
                loader, missing = pickle, e
        try:
            with open(self.pickle_path, "rb") as f:
                return loader.load(f)
        except Exception as e:
            if missing is not None:
                raise InitFailed(
                    f"cannot load {self.pickle_path}: it was saved with cloudpickle, which "
                    f"this environment lacks (install the cloudpickle package), and "
                    f"pickle.load failed: {_describe(e)}", traceback.format_exc()) from None
            raise InitFailed(f"cannot load {self.pickle_path} ({fmt}): {_describe(e)}",
                             traceback.format_exc()) from None

