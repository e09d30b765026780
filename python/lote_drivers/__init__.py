"""Built-in drivers of lote's Python runner (python/lote_runner.py): no-code
scoring for deployments without a scoring script.

lote_runner registers each driver in its DRIVERS table and imports its module
only when an init message asks for it (options.driver), so that the runner
itself stays standard-library-only for score.py deployments. Modules here may
need third-party packages (pandas, numpy, PyYAML, the model's library); they
check for them at init and fail it with a message naming the package.

    tabular         CSV items in, one output row per input row out (the
                    native worker's contract, src/native/tabular_scorer.h)
    mlflow_sklearn  MLflow models of the sklearn flavor, scored by tabular
"""
