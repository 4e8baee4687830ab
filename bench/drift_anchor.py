"""The Python anchors of the drift benchmark (bench/drift.ts runs this in .local/bench-venv).

Reads the benchmark's columns from <data_dir>/reference.npy and <data_dir>/current.npy
(float64, shape (columns, rows), NaN for missing) and the names from columns.json, then times:

- scipy: the per-column statistics our drift core computes, the way scipy/numpy compute them:
  ks_2samp (method='auto'), wasserstein_distance, np.std of the reference, and PSI over
  reference-quantile bins (numpy.quantile + searchsorted, Evidently's zero-bin smoothing);
- evidently: Report([DataDriftPreset()]) on the same data.

Writes the statistics, timings and versions as JSON to <out_path>.
"""

import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import scipy
from scipy import stats


def fill_empty(shares):
    """Evidently's get_binned_data(feel_zeroes=True) smoothing."""
    nonzero = shares[shares != 0]
    fill = nonzero.min() / 10**6 if nonzero.min() <= 0.0001 else 0.0001
    out = shares.copy()
    out[out == 0] = fill
    return out


def psi_quantile_bins(ref, cur, bins=10):
    edges = np.quantile(ref, [k / bins for k in range(1, bins)])
    edges = edges[np.concatenate(([True], np.diff(edges) > 0))]
    ref_shares = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1) / len(ref)
    cur_shares = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1) / len(cur)
    r, c = fill_empty(ref_shares), fill_empty(cur_shares)
    return float(np.sum((r - c) * np.log(r / c)))


def scipy_statistics(reference, current, names):
    columns = {}
    started = time.perf_counter()
    for i, name in enumerate(names):
        ref = reference[i][np.isfinite(reference[i])]
        cur = current[i][np.isfinite(current[i])]
        ks = stats.ks_2samp(ref, cur)
        wd = stats.wasserstein_distance(ref, cur)
        std = float(np.std(ref))
        columns[name] = {
            "ks_statistic": float(ks.statistic),
            "ks_pvalue": float(ks.pvalue),
            "wasserstein": float(wd),
            "wasserstein_normed": float(wd / max(std, 0.001)),
            "psi": psi_quantile_bins(ref, cur),
        }
    return time.perf_counter() - started, columns


def evidently_statistics(reference, current, names):
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=list(names))
    ref_df = pd.DataFrame({name: reference[i] for i, name in enumerate(names)})
    cur_df = pd.DataFrame({name: current[i] for i, name in enumerate(names)})
    started = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(
        current_data=Dataset.from_pandas(cur_df, data_definition=definition),
        reference_data=Dataset.from_pandas(ref_df, data_definition=definition),
    )
    elapsed = time.perf_counter() - started
    columns, share = {}, None
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config["type"].endswith("DriftedColumnsCount"):
            share = metric["value"]["share"]
        elif config["type"].endswith("ValueDrift"):
            columns[config["column"]] = {
                "method": config["method"],
                "threshold": config["threshold"],
                "value": float(metric["value"]),
            }
    return elapsed, columns, share


def main():
    data_dir, out_path = Path(sys.argv[1]), Path(sys.argv[2])
    names = json.loads((data_dir / "columns.json").read_text())
    reference = np.load(data_dir / "reference.npy")
    current = np.load(data_dir / "current.npy")

    scipy_s, scipy_columns = scipy_statistics(reference, current, names)
    evidently_s, evidently_columns, evidently_share = evidently_statistics(reference, current, names)

    import evidently
    import pandas

    out = {
        "scipy_s": scipy_s,
        "evidently_s": evidently_s,
        "scipy": scipy_columns,
        "evidently": {"columns": evidently_columns, "share_drifted": evidently_share},
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "pandas": pandas.__version__,
            "evidently": evidently.__version__ if hasattr(evidently, "__version__") else "unknown",
        },
    }
    out_path.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
