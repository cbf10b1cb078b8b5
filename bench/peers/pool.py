"""Peer for bench/pool.bench.ts (issue #15 goals): NumPy gesdd, scikit-learn randomized_svd and
the NumPy Gram route on the same matrices, on all cores (OpenBLAS threads), same run.

usage: pool.py <dir>   (dir holds turtle.f64, stamps.f64 and meta.json, written by the bench)
Prints one JSON line at the end.
"""
import json
import os
import sys

import numpy as np
from sklearn.utils.extmath import randomized_svd
from timing import median_ms


def main():
    d = sys.argv[1]
    meta = json.load(open(os.path.join(d, "meta.json")))
    out = {"numpy": np.__version__}
    A = np.fromfile(os.path.join(d, "turtle.f64"), dtype=np.float64).reshape(meta["turtle"])
    out["svd_ms"] = median_ms(lambda: np.linalg.svd(A, full_matrices=False), reps=7)
    k, p, q = meta["rank"], meta["oversample"], meta["powerIterations"]
    out["rsvd_ms"] = median_ms(lambda: randomized_svd(A, k, n_oversamples=p, n_iter=q, random_state=0), reps=7)
    U, s, Vt = randomized_svd(A, k, n_oversamples=p, n_iter=q, random_state=0)
    out["rsvd_err"] = float(np.linalg.norm(A - (U * s) @ Vt) / np.linalg.norm(A))
    X = np.fromfile(os.path.join(d, "stamps.f64"), dtype=np.float64).reshape(meta["stamps"])

    def gram():
        w, V = np.linalg.eigh(X.T @ X)
        w, V = w[::-1], V[:, ::-1]
        s = np.sqrt(np.maximum(w, 0))
        return (X @ V) / s, s, V

    out["gram_ms"] = median_ms(gram, reps=21, warmup=3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
