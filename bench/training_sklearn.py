"""scikit-learn's side of bench/training.ts: trains the equivalent of each of our families on the
same splits (written by training.ts to a temporary folder), with the same hyper-parameters, and
prints one JSON document of holdout metrics and training seconds (wall clock and CPU).

Usage: localstack/.venv/bin/python bench/training_sklearn.py SPLIT_DIR
SPLIT_DIR/meta.json lists the datasets; each has train_x.f64, train_y.f64, test_x.f64, test_y.f64
(little-endian float64, row-major) and the candidate params per family. A dataset with `raw`
(cars) has train.json / test.json instead: raw columns (strings, null for missing) and y; its
estimators run behind the equivalent preprocessing (`raw_pipeline`).
"""

import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, f1_score, log_loss, mean_absolute_error, r2_score, root_mean_squared_error
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info


def max_features(value, task):
    if value is None:
        return "sqrt" if task == "classification" else 1.0
    return None if value == "all" else value


def estimator(family, task, params, seed):
    """The scikit-learn estimator our family (lambdas/core/training) is modelled on, same settings."""
    if family == "logistic_regression":
        return make_pipeline(
            StandardScaler(), LogisticRegression(C=params["c"], max_iter=params["max_iter"], tol=params["tol"])
        )
    if family == "ridge":
        return make_pipeline(StandardScaler(), Ridge(alpha=params["alpha"]))
    if family == "random_forest":
        cls = RandomForestClassifier if task == "classification" else RandomForestRegressor
        return cls(
            n_estimators=params["n_estimators"],
            max_depth=params["max_depth"] or None,
            min_samples_leaf=params["min_samples_leaf"],
            max_features=max_features(params.get("max_features"), task),
            bootstrap=params["bootstrap"],
            random_state=seed,
        )
    if family == "gradient_boosting":
        cls = HistGradientBoostingClassifier if task == "classification" else HistGradientBoostingRegressor
        return cls(
            max_iter=params["max_iter"],
            learning_rate=params["learning_rate"],
            max_leaf_nodes=params["max_leaf_nodes"] or None,
            max_depth=params["max_depth"] or None,
            min_samples_leaf=params["min_samples_leaf"],
            l2_regularization=params["l2_regularization"],
            max_bins=params["max_bins"],
            # Ours runs every round; scikit-learn would stop early above 10 000 rows.
            early_stopping=False,
            random_state=seed,
        )
    raise ValueError(f"unknown family {family}")


def raw_pipeline(model, raw):
    """Our preprocessing, scikit-learn's way: mean imputation of numbers, one-hot of categories
    (unknown → zeros), then for the linear families a StandardScaler over every column, as ours."""
    columns = ColumnTransformer(
        [
            ("numbers", SimpleImputer(strategy="mean"), raw["numeric"]),
            ("categories", OneHotEncoder(handle_unknown="ignore", sparse_output=False), raw["categorical"]),
        ]
    )
    steps = list(model.steps) if hasattr(model, "steps") else [("estimator", model)]
    return Pipeline([("columns", columns), *steps])


def read_raw(folder, part, raw):
    data = json.loads((folder / f"{part}.json").read_text())
    frame = pd.DataFrame(
        {
            name: pd.Series(values, dtype="object" if name in raw["categorical"] else "float64")
            for name, values in data["columns"].items()
        }
    )
    return frame, np.asarray(data["y"], dtype=np.float64)


def read(folder, name, cols):
    values = np.fromfile(folder / name, dtype="<f8")
    return values.reshape(-1, cols) if cols else values


def metrics(task, model, x, y):
    if task == "classification":
        labels = y.astype(np.int64)
        proba = model.predict_proba(x)
        predicted = proba.argmax(axis=1)
        return {
            "accuracy": accuracy_score(labels, predicted),
            "f1_macro": f1_score(labels, predicted, average="macro"),
            "log_loss": log_loss(labels, proba, labels=list(range(proba.shape[1]))),
        }
    predicted = model.predict(x)
    return {
        "rmse": root_mean_squared_error(y, predicted),
        "mae": mean_absolute_error(y, predicted),
        "r2": r2_score(y, predicted),
    }


def main():
    root = Path(sys.argv[1])
    meta = json.loads((root / "meta.json").read_text())
    results = {}
    for dataset in meta["datasets"]:
        folder = root / dataset["name"]
        cols = dataset["cols"]
        raw = dataset.get("raw")
        if raw:
            (x_train, y_train), (x_test, y_test) = read_raw(folder, "train", raw), read_raw(folder, "test", raw)
        else:
            x_train, y_train = read(folder, "train_x.f64", cols), read(folder, "train_y.f64", 0)
            x_test, y_test = read(folder, "test_x.f64", cols), read(folder, "test_y.f64", 0)
        task = dataset["task"]
        fit_y = y_train.astype(np.int64) if task == "classification" else y_train
        per_family = {}
        for candidate in dataset["candidates"]:
            model = estimator(candidate["family"], task, candidate["params"], meta["seed"])
            if raw:
                model = raw_pipeline(model, raw)
            start, cpu_start = time.perf_counter(), time.process_time()
            model.fit(x_train, fit_y)
            seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
            per_family[candidate["family"]] = {
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "metrics": metrics(task, model, x_test, y_test),
            }
            print(f"  sklearn {dataset['name']} {candidate['family']}: {seconds:.2f}s", file=sys.stderr)
        results[dataset["name"]] = per_family
    threads = sorted({f"{pool['internal_api']}:{pool['num_threads']}" for pool in threadpool_info()})
    json.dump(
        {
            "versions": {
                "python": platform.python_version(),
                "scikit-learn": sklearn.__version__,
                "numpy": np.__version__,
            },
            "threads": threads,
            "results": results,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
