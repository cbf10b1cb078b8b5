#!/usr/bin/python3
"""Reference singular values for test/linalg/suite.test.ts, from NumPy (LAPACK gesdd).

Run from the repository root:  /usr/bin/python3 test/linalg/suite/make_reference.py
It rewrites test/linalg/suite/reference.json. The matrices are rebuilt in the test by the same
recipes: Gaussian entries come from svdflow's seededRandom (xoshiro128** seeded through
splitmix32, Box-Muller), ported below bit for bit except for the last bits of log/sin/cos
(libm vs V8), which moves singular values by ~eps * sigma_1 at most (Weyl: |ds| <= ||dA||_2).
The test checks the first entries of each generated matrix against `head` below.
Cases whose answer is known by construction (graded, clustered, repeated, rank-deficient,
zeros, identity) are built in the test itself and need no reference.
"""
import json, math, os, sys
import numpy as np

SEED = 20  # issue #20; every Gaussian case uses SEED + its index
M32 = 0xFFFFFFFF


def imul(a, b):
    return ((a & M32) * (b & M32)) & M32


def rotl(v, k):
    v &= M32
    return ((v << k) | (v >> (32 - k))) & M32


class SeededRandom:
    """Port of src/core/linalg/random.ts."""

    def __init__(self, seed):
        self.x = (int(math.floor(seed)) & M32) ^ 0x9E3779B9
        s = [self.splitmix() for _ in range(4)]
        if (s[0] | s[1] | s[2] | s[3]) == 0:
            s[0] = 1
        self.s = s
        self.spare = None

    def splitmix(self):
        self.x = (self.x + 0x9E3779B9) & M32
        z = self.x
        z = imul(z ^ (z >> 16), 0x85EBCA6B)
        z = imul(z ^ (z >> 13), 0xC2B2AE35)
        return (z ^ (z >> 16)) & M32

    def u32(self):
        s0, s1, s2, s3 = self.s
        r = imul(rotl(imul(s1, 5), 7), 9)
        t = (s1 << 9) & M32
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return r

    def next(self):
        return ((self.u32() >> 5) * 67108864 + (self.u32() >> 6)) / 9007199254740992

    def gaussian(self):
        if self.spare is not None:
            g, self.spare = self.spare, None
            return g
        u = 0.0
        while u == 0.0:
            u = self.next()
        v = self.next()
        r = math.sqrt(-2 * math.log(u))
        self.spare = r * math.sin(2 * math.pi * v)
        return r * math.cos(2 * math.pi * v)


def gaussian(m, n, seed):
    g = SeededRandom(seed)
    return np.array([g.gaussian() for _ in range(m * n)], dtype=np.float64).reshape(m, n)


def integers(m, n, seed):
    """Integers in [-1024, 1024]: k * 2^-1074 is an exact subnormal."""
    g = SeededRandom(seed)
    return np.array([math.floor(g.next() * 2049) - 1024 for _ in range(m * n)], dtype=np.float64).reshape(m, n)


def kahan(n, c, s):
    K = np.zeros((n, n))
    p = 1.0
    for i in range(n):
        K[i, i] = p
        K[i, i + 1:] = -c * p
        p = p * s
    return K


def hilbert(n):
    return np.array([[1.0 / (i + j + 1) for j in range(n)] for i in range(n)])


cases = {
    # recipe names are read by suite.test.ts
    'gaussian-120x80': ('gaussian', 120, 80, SEED + 1),
    'gaussian-50x900': ('gaussian', 50, 900, SEED + 2),
    'gaussian-900x50': ('gaussian', 900, 50, SEED + 3),
    'gaussian-500x1': ('gaussian', 500, 1, SEED + 4),
    'gaussian-1x500': ('gaussian', 1, 500, SEED + 5),
    'kahan-100': ('kahan', 100, 100, None),
    'hilbert-12': ('hilbert', 12, 12, None),
    'integers-60x40': ('integers', 60, 40, SEED + 6),
}

out = {'seed': SEED, 'numpy': np.__version__, 'kahan': {'c': 0.28, 's': 0.96}, 'cases': {}}
for name, (kind, m, n, seed) in cases.items():
    if kind == 'gaussian':
        A = gaussian(m, n, seed)
    elif kind == 'integers':
        A = integers(m, n, seed)
    elif kind == 'kahan':
        A = kahan(n, 0.28, 0.96)
    else:
        A = hilbert(n)
    s = np.linalg.svd(A, compute_uv=False)
    out['cases'][name] = {
        'recipe': kind, 'rows': m, 'cols': n, 'seed': seed,
        'head': [float(v) for v in A.reshape(-1)[:4]],
        's': [float(v) for v in s],
    }

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'reference.json')
with open(path, 'w') as f:
    json.dump(out, f, indent=1)
    f.write('\n')
print(f'wrote {path} ({len(cases)} cases, numpy {np.__version__})', file=sys.stderr)
