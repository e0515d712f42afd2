#!/usr/bin/env python3
"""Cross-checks i2x's statistics against scikit-learn (an independent implementation).

Runs .build/release/i2x-crosscheck (or $I2X_BIN_DIR/i2x-crosscheck) on seeded data and compares:
- ridge coupling: out-of-fold R² at every λ of the grid, on i2x's own folds, against
  sklearn.linear_model.Ridge fitted per fold (fit_intercept: each fold centred on its training
  rows) on the same standardised columns — equal to 1e-8;
- k-means (greedy k-means++, 3 restarts): inertia within 1% of sklearn.cluster.KMeans(n_init=10)
  on separated blobs, and within 1% of KMeans(n_init=3) on 32 overlapping clusters
  on 10 Gaussian blobs in 64 dimensions, and the same partition (ARI ≥ 0.99);
- HDBSCAN (min_cluster_size 15, min_samples 5): agreement with sklearn.cluster.HDBSCAN on blobs
  with noise (ARI ≥ 0.9 over the points both call clustered, same number of clusters).

Exit 0 when every check passes, 1 otherwise; one line per check. Needs numpy and scikit-learn
(scripts/python-env.sh installs them in /opt/i2x-venv).
Usage: /opt/i2x-venv/bin/python scripts/crosscheck-sklearn.py
"""
import json
import os
import subprocess
import sys

import numpy as np
from sklearn.cluster import HDBSCAN, KMeans
from sklearn.linear_model import Ridge
from sklearn.metrics import adjusted_rand_score

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(os.environ.get("I2X_BIN_DIR", os.path.join(ROOT, ".build", "release")), "i2x-crosscheck")


def ours(request):
    result = subprocess.run([BINARY], input=json.dumps(request).encode(), capture_output=True, check=True)
    return json.loads(result.stdout)


def standardise(a):
    mean = a.mean(axis=0)
    sd = a.std(axis=0)
    return np.where(sd > 1e-12, (a - mean) / np.where(sd > 1e-12, sd, 1), 0.0)


def check_ridge(failures):
    rng = np.random.default_rng(7)
    n, p, q = 200, 6, 3
    x = rng.normal(size=(n, p))
    y = x[:, :2] @ rng.normal(size=(2, q)) + rng.normal(size=(n, q))
    answer = ours({"algorithm": "ridge", "x": x.ravel().tolist(), "y": y.ravel().tolist(), "rows": n,
                   "columns": p, "targets": q, "foldSeed": 11})
    order = np.array(answer["fold_order"])
    xs, ys = standardise(x), standardise(y)
    worst = 0.0
    for lam, r2 in zip(answer["lambdas"], answer["r2"]):
        sse = sst = 0.0
        for fold in range(5):
            test = order[fold::5]
            train = np.setdiff1d(np.arange(n), test)
            model = Ridge(alpha=lam, fit_intercept=True).fit(xs[train], ys[train])
            sse += ((ys[test] - model.predict(xs[test])) ** 2).sum()
            sst += ((ys[test] - ys[train].mean(axis=0)) ** 2).sum()
        worst = max(worst, abs((1 - sse / sst) - r2))
    ok = worst < 1e-8
    print(f"ridge CV R² at 13 λ vs sklearn Ridge on the same folds: max |Δ| = {worst:.2e} {'ok' if ok else 'FAIL'}")
    if not ok:
        failures.append("ridge")


def blobs(rng, centres, per, spread, dims):
    points = np.concatenate([rng.normal(loc=c, scale=spread, size=(per, dims)) for c in centres])
    return points, np.repeat(np.arange(len(centres)), per)


def check_kmeans(failures):
    rng = np.random.default_rng(3)
    centres = rng.normal(scale=2, size=(10, 64))
    x, truth = blobs(rng, centres, 40, 0.5, 64)
    answer = ours({"algorithm": "kmeans", "x": x.ravel().tolist(), "rows": len(x), "columns": 64, "clusters": 10,
                   "seed": 5})
    reference = KMeans(n_clusters=10, n_init=10, random_state=0).fit(x)
    ratio = answer["inertia"] / reference.inertia_
    ari = adjusted_rand_score(reference.labels_, answer["labels"])
    ok = ratio <= 1.01 and ari >= 0.99
    print(f"k-means inertia / sklearn's = {ratio:.4f}, ARI {ari:.4f} {'ok' if ok else 'FAIL'}")
    if not ok:
        failures.append("kmeans")
    # Overlapping clusters (as target-layer cells are), where Lloyd's stopping rules matter: ours
    # (3 restarts, scikit-learn's shift tolerance plus a stalled-inertia stop) against
    # KMeans(n_init=3) and against the best of n_init=10.
    centres = rng.normal(scale=1, size=(32, 16))
    x, _ = blobs(rng, centres, 150, 1.0, 16)
    answer = ours({"algorithm": "kmeans", "x": x.ravel().tolist(), "rows": len(x), "columns": 16, "clusters": 32,
                   "seed": 5})
    three = KMeans(n_clusters=32, n_init=3, random_state=0).fit(x).inertia_
    ten = KMeans(n_clusters=32, n_init=10, random_state=0).fit(x).inertia_
    ok = answer["inertia"] <= three * 1.01
    print(f"k-means on 32 overlapping clusters (n = {len(x)}): inertia / sklearn n_init=3 = "
          f"{answer['inertia'] / three:.4f}, / n_init=10 = {answer['inertia'] / ten:.4f} {'ok' if ok else 'FAIL'}")
    if not ok:
        failures.append("kmeans-overlapping")


def check_hdbscan(failures):
    rng = np.random.default_rng(4)
    x, _ = blobs(rng, [(0, 0), (6, 0), (0, 6)], 60, 0.6, 2)
    x = np.concatenate([x, rng.uniform(-4, 10, size=(20, 2))])
    answer = ours({"algorithm": "hdbscan", "x": x.ravel().tolist(), "rows": len(x), "columns": 2,
                   "minimumClusterSize": 15, "minimumSamples": 5})
    reference = HDBSCAN(min_cluster_size=15, min_samples=5, copy=True).fit(x).labels_
    mine = np.array(answer["labels"])
    both = (mine >= 0) & (reference >= 0)
    ari = adjusted_rand_score(reference[both], mine[both])
    same = answer["clusters"] == len(set(reference[reference >= 0]))
    agree = float(((mine < 0) == (reference < 0)).mean())
    ok = ari >= 0.9 and same
    print(f"HDBSCAN vs sklearn: {answer['clusters']} clusters (sklearn {len(set(reference[reference >= 0]))}), "
          f"ARI on co-clustered points {ari:.4f}, noise agreement {agree:.3f} {'ok' if ok else 'FAIL'}")
    if not ok:
        failures.append("hdbscan")


def main():
    failures = []
    check_ridge(failures)
    check_kmeans(failures)
    check_hdbscan(failures)
    if failures:
        print("cross-check failed: " + ", ".join(failures))
        return 1
    print("cross-check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
