"""Peer for bench/image.bench.ts: the image-compress steps with NumPy + Pillow.

load (Pillow, EXIF transpose), gray ('L'), resize to 700 x 1028 (bilinear), normalize by max,
center (global mean), SVD (numpy.linalg.svd, full_matrices=False), truncate to k, reconstruct
(+ mean, clip to [0, 1]), encode PNG (Pillow, compress_level 9, as sharp's compressionLevel 9).
Then the error curve alone: relative error for every k from the singular values (tail sums).
Prints one JSON line: median times in ms.
"""
import io, json, sys, time
import numpy as np
from PIL import Image, ImageOps
from timing import median_ms

path, k, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def pipeline(solver_full=True):
    im = ImageOps.exif_transpose(Image.open(path)).convert('RGB').resize((700, 1028), Image.BILINEAR).convert('L')
    A = np.asarray(im, dtype=np.float64)
    A = A / A.max()
    mean = A.mean()
    Ac = A - mean
    U, s, Vt = np.linalg.svd(Ac, full_matrices=False)
    R = (U[:, :k] * s[:k]) @ Vt[:k] + mean
    R = np.clip(R, 0, 1)
    out = Image.fromarray(np.round(R * 255).astype(np.uint8), 'L')
    buf = io.BytesIO()
    out.save(buf, 'PNG', compress_level=9)
    return s, float((A ** 2).sum()), float((Ac ** 2).sum()), len(buf.getvalue())


s, orig_sq, centred_sq, png_bytes = pipeline()
t_pipe = median_ms(pipeline, reps)

def curve():
    sq = s * s
    tail = np.concatenate([np.cumsum(sq[::-1])[::-1], [0.0]])  # tail[k] = sum_{i>=k} s_i^2
    tail = tail + max(0.0, centred_sq - sq.sum())
    return np.sqrt(tail / orig_sq)

err = curve()
t_curve = median_ms(curve, max(50, reps * 20), warmup=5)
print(json.dumps({"pipelineMs": t_pipe, "curveMs": t_curve, "errAtK": float(err[k]), "s0": float(s[0]), "pngBytes": png_bytes,
                  "numpy": np.__version__}))
