"""Times shap's C++ TreeExplainer on scikit-learn IsolationForests shaped like ours, for the
comparison in docs/benchmarks.md (exact explanation per row). Reference only: the project's
tests never run Python.

    python scripts/reference/shap_timing.py            # needs numpy, scikit-learn, shap

Forests: 100 trees, max_samples 256, 59 features, max_depth 8 (scikit-learn's default,
ceil(log2 256)) and 12 (the original service's setting, our default), trained on 10,000 rows
of a 6-factor mixture like benches/model.rs. Prints the median time of a one-row
`shap_values` call over 200 rows, and of a 200-row batch call divided by 200.
"""
import time

import numpy as np
import shap
import sklearn
from sklearn.ensemble import IsolationForest, _bagging

# IsolationForest has no max_depth parameter: fit() passes ceil(log2(max_samples)) to
# BaseBagging._fit. To build depth-12 forests, that one argument is overridden.
_forced_depth = None
_original_fit = _bagging.BaseBagging._fit


def _fit_with_depth(self, X, y, max_samples=None, max_depth=None, **kwargs):
    return _original_fit(self, X, y, max_samples=max_samples, max_depth=_forced_depth or max_depth, **kwargs)


_bagging.BaseBagging._fit = _fit_with_depth


def data(rows, seed):
    rng = np.random.default_rng(seed)
    loadings = rng.uniform(-1, 1, size=(6, 59))
    factors = rng.uniform(-1, 1, size=(rows, 6))
    x = factors @ loadings + 0.1 * rng.uniform(-1, 1, size=(rows, 59))
    counts = (rng.random((rows, 59)) < 0.05) * np.floor(rng.uniform(1, 5, size=(rows, 59)))
    x[:, 3::7] = counts[:, 3::7]
    return x


def main():
    x = data(10_000, 1)
    rows = x[:200]
    print(f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, shap {shap.__version__}")
    global _forced_depth
    for depth in (8, 12):
        _forced_depth = depth
        model = IsolationForest(n_estimators=100, max_samples=256, random_state=0).fit(x)
        actual = max(e.get_depth() for e in model.estimators_)
        explainer = shap.TreeExplainer(model)
        explainer.shap_values(rows[:2])  # warm-up
        single = []
        for r in rows:
            t = time.perf_counter()
            explainer.shap_values(r.reshape(1, -1))
            single.append(time.perf_counter() - t)
        t = time.perf_counter()
        explainer.shap_values(rows)
        batch = (time.perf_counter() - t) / len(rows)
        print(
            f"depth limit {depth} (deepest tree {actual}): one-row call median {1e3 * np.median(single):.3f} ms, "
            f"batch of 200 {1e3 * batch:.3f} ms per row"
        )


if __name__ == "__main__":
    main()
