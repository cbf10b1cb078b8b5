"""Peer for bench/linalg.bench.ts: NumPy/LAPACK and scikit-learn on the same data.

usage: linalg.py <dir>   (dir holds turtle.f64 700x1028, stamps.f64 70890x22,
                          frames.f32 N x 76800 and meta.json, written by the bench)
Prints one JSON line at the end.
"""
import json
import os
import sys
import time

import numpy as np
from sklearn.decomposition import IncrementalPCA
from sklearn.utils.extmath import randomized_svd
from timing import median_ms, median_cpu_ms




def main():
    d = sys.argv[1]
    meta = json.load(open(os.path.join(d, "meta.json")))
    out = {}

    A = np.fromfile(os.path.join(d, "turtle.f64"), dtype=np.float64).reshape(meta["turtle"])
    out["svd_ms"] = median_ms(lambda: np.linalg.svd(A, full_matrices=False), reps=7)
    # process CPU time (all BLAS threads): the work done, which the machine's load moves much less than wall time
    out["svd_cpu_ms"] = median_cpu_ms(lambda: np.linalg.svd(A, full_matrices=False), reps=7)
    s_full = np.linalg.svd(A, compute_uv=False)
    out["svals_ms"] = median_ms(lambda: np.linalg.svd(A, compute_uv=False), reps=7)

    k, p, q = meta["rank"], meta["oversample"], meta["powerIterations"]
    out["rsvd_ms"] = median_ms(
        lambda: randomized_svd(A, k, n_oversamples=p, n_iter=q, random_state=0), reps=7
    )
    out["rsvd_cpu_ms"] = median_cpu_ms(
        lambda: randomized_svd(A, k, n_oversamples=p, n_iter=q, random_state=0), reps=9
    )
    U, s, Vt = randomized_svd(A, k, n_oversamples=p, n_iter=q, random_state=0)
    # the randomized SVD's building block: A (700 x 1028) times a 1028 x (k + p) sketch, on one
    # BLAS thread and on all (the GEMM rate behind the randomized and exact SVD ratios)
    Om = np.random.default_rng(0).standard_normal((A.shape[1], k + p))
    try:
        from threadpoolctl import threadpool_limits, threadpool_info
        with threadpool_limits(1):
            out["gemm1_ms"] = median_ms(lambda: A @ Om, reps=21, warmup=3)
        out["blas"] = ", ".join(f"{i['internal_api']} {i.get('version') or ''} {i.get('architecture') or ''}".strip() for i in threadpool_info() if i["user_api"] == "blas")
    except ImportError:
        out["gemm1_ms"] = None
        out["blas"] = "unknown (threadpoolctl missing)"
    out["gemm_ms"] = median_ms(lambda: A @ Om, reps=21, warmup=3)
    nA = np.linalg.norm(A)
    out["rsvd_err"] = float(np.linalg.norm(A - (U * s) @ Vt) / nA)
    # the error over random_state 0-19 (untimed): one seed's error is one draw; svdflow reports
    # its own seeds 0-19 beside these
    errs = []
    for seed in range(20):
        Us, ss, Vts = randomized_svd(A, k, n_oversamples=p, n_iter=q, random_state=seed)
        errs.append(float(np.linalg.norm(A - (Us * ss) @ Vts) / nA))
    out["rsvd_err_seeds_mean"] = float(np.mean(errs))
    out["rsvd_err_seeds_min"] = float(np.min(errs))
    out["rsvd_err_seeds_max"] = float(np.max(errs))
    out["opt_err"] = float(np.sqrt(np.sum(s_full[k:] ** 2)) / nA)

    X = np.fromfile(os.path.join(d, "stamps.f64"), dtype=np.float64).reshape(meta["stamps"])

    def gram():
        G = X.T @ X
        w, V = np.linalg.eigh(G)
        w, V = w[::-1], V[:, ::-1]
        s = np.sqrt(np.maximum(w, 0))
        return (X @ V) / s, s, V

    out["gram_ms"] = median_ms(gram, reps=21, warmup=3)
    out["gram_cpu_ms"] = median_cpu_ms(gram, reps=21, warmup=3)
    out["gram_s"] = gram()[1].tolist()

    F = np.fromfile(os.path.join(d, "frames.f32"), dtype=np.float32).reshape(meta["frames"]).astype(np.float64)
    b = meta["block"]

    def ipca():
        m = IncrementalPCA(n_components=meta["incRank"], batch_size=b)
        for i in range(0, F.shape[0], b):
            m.partial_fit(F[i : i + b])
        return m

    out["ipca_ms"] = median_ms(ipca, reps=3, warmup=1)
    m = ipca()
    out["ipca_s"] = m.singular_values_.tolist()
    out["numpy"] = np.__version__
    print(json.dumps(out))


if __name__ == "__main__":
    main()
