"""Peer for bench/pca.bench.ts: the image-collection PCA steps in NumPy (PIL to decode).

Usage: pca.py <stamps folder> <reps>. Prints one JSON line: median ms per step and the
relative errors at r = 1, 3, 10 (clamped, against the originals).
"""
import sys, os, glob, json, time, resource
import numpy as np
from PIL import Image

folder, reps = sys.argv[1], int(sys.argv[2])
files = sorted(glob.glob(os.path.join(folder, 'im_*.jpg')))
RANKS = [1, 3, 10]


def med_cpu(fn):
    # process CPU time (all threads) per call: PIL decodes on the calling thread
    fn()
    t = []
    for _ in range(reps):
        t0 = time.process_time(); fn(); t.append((time.process_time() - t0) * 1e3)
    return float(np.median(t))


def med(fn):
    fn()
    t = []
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); t.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(t))


def load():
    # decode + normalise: per image, planar float64 in [0, 1] (R plane, G plane, B plane), as
    # svdflow's load + normalize give per image (the same arithmetic: value * (1 / 255)); one
    # float pass per image: the uint8 planes are reordered first. Stacking is the next row's work.
    return [np.asarray(Image.open(f).convert('RGB')).transpose(2, 0, 1).ravel() * (1 / 255.0) for f in files]


planes = load()
def stack_center():
    # the decoded images as the columns of X, then the mean image removed (what svdflow's stack +
    # center do). np.array(planes).T is the fastest way NumPy has: one contiguous copy of the 22
    # planes, and X is its transposed (column-major) view, no transposition pass.
    X = np.array(planes).T; m = X.mean(1, keepdims=True); return m, X - m
def stack_center_npstack():
    # the same with np.stack(planes, 1): a row-major X like svdflow's (a transposing copy)
    X = np.stack(planes, 1); m = X.mean(1, keepdims=True); return m, X - m
Xs = np.array(planes).T
def center(): m = Xs.mean(1, keepdims=True); return m, Xs - m
X = np.stack(planes, 1)
mean = X.mean(1, keepdims=True); A = X - mean

def gram(A):
    w, V = np.linalg.eigh(A.T @ A)
    idx = np.argsort(w)[::-1][: A.shape[1] - 1]  # n - 1 components, as svdflow's rank 21
    s = np.sqrt(np.maximum(w[idx], 0)); V = V[:, idx]
    return (A @ V) / s, s, V
def exact(A): U, s, Vt = np.linalg.svd(A, full_matrices=False); return U, s, Vt.T
U, s, V = gram(A)

def recon():
    return [np.clip(mean + (U[:, :r] * s[:r]) @ V[:, :r].T, 0, 1) for r in RANKS]

sd = s / np.sqrt(X.shape[1] - 1)
def grid():
    t = np.linspace(-2, 2, 5)
    C = np.array([[a * sd[0], b * sd[1]] for b in t[::-1] for a in t])  # 25 x 2
    return np.clip(mean + U[:, :2] @ C.T, 0, 1)

def end_to_end():
    X = np.array(planes).T; m = X.mean(1, keepdims=True); A = X - m
    U, s, V = gram(A)
    R = [np.clip(m + (U[:, :r] * s[:r]) @ V[:, :r].T, 0, 1) for r in RANKS]
    return R, s[:, None] * V.T

def faults(fn):
    # minor page faults per call (first touches of fresh memory), as svdflow's row counts them
    fn()
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(reps):
        fn()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / reps


out = {
    'numpy': np.__version__,
    'shape': list(X.shape),
    'load_ms': med(load),
    'load_cpu_ms': med_cpu(load),
    'stack_center_ms': med(stack_center),
    'stack_center_npstack_ms': med(stack_center_npstack),
    'stack_center_cpu_ms': med_cpu(stack_center),
    'stack_center_faults': faults(stack_center),
    'center_ms': med(center),
    'gram_ms': med(lambda: gram(A)),
    'exact_ms': med(lambda: exact(A)),
    'reconstruct_ms': med(recon),
    'grid_ms': med(grid),
    'pipeline_core_ms': med(end_to_end),
    's': s.tolist(),
    'errors': [float(np.linalg.norm(R - X) / np.linalg.norm(X)) for R in recon()],
}
print(json.dumps(out))
