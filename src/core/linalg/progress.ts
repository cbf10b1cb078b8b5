/**
 * Progress of a long linear-algebra call (svd with `onProgress`): the work is an estimate in
 * flops, split into phases (QR, bidiagonalisation, bidiagonal QR, back-transformation, ...);
 * a phase may report the fraction of it done (gebrd: per panel). Only the outermost call
 * reports (an SVD inside an SVD is part of its phase). Pure: no I/O, no clock.
 */
type Listener = (done: number, total: number) => void;

let listener: Listener | undefined;
let total = 0, base = 0, weight = 0;

/** Runs `f` with `l` listening (unless an outer call already does); ends at done = total. */
export function withProgress<T>(l: Listener | undefined, f: () => T): T {
  if (!l || listener) return f();
  listener = l;
  total = base = weight = 0;
  try {
    const r = f();
    if (total > 0) l(total, total);
    return r;
  } finally {
    listener = undefined;
  }
}

/** Runs `f` without reporting (a small inner computation that is part of the current phase). */
export function unobserved<T>(f: () => T): T {
  const l = listener;
  listener = undefined;
  try {
    return f();
  } finally {
    listener = l;
  }
}

/** Declares the whole call's work (estimated flops); phases start again from 0. */
export function progressTotal(t: number): void {
  if (!listener) return;
  total = t;
  base = weight = 0;
}

/** Starts the next phase, of `w` units: the phases before it count as done. */
export function progressPhase(w: number): void {
  if (!listener) return;
  base += weight;
  weight = w;
  listener(Math.min(base, total), total);
}

/** Within the current phase, the fraction `f` (0..1) is done. */
export function progressWithin(f: number): void {
  if (listener) listener(Math.min(total, base + weight * Math.min(1, Math.max(0, f))), total);
}
