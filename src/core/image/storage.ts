/**
 * Storage of a rank-k factorisation, in bytes: per factorised plane k(m+n+1)
 * values (U_k: m x k, s_k: k, V_k: n x k), plus the subtracted mean, at float32 or
 * float64; planes passed through unfactorised (chroma) count one sample per pixel.
 * Compared with the raw original: m·n samples per plane, 1 byte each (2 for a 16-bit source).
 */
import type { Factorization } from '../ports.js';

export type StorageType = 'float32' | 'float64';
export const BYTES: Record<StorageType, number> = { float32: 4, float64: 8 };

export interface StorageShape {
  m: number;
  n: number;
  /** factorised planes */
  planes: number;
  /** mean values stored (1 per plane for global, m or n per plane for row/column) */
  meanValues: number;
  /** planes stored as 8-bit pixels, not factorised */
  passthroughPlanes: number;
  /** planes of the original image */
  originalPlanes: number;
  /** bytes per sample of the original: 1 (8-bit), 2 (a 16-bit PNG or TIFF) */
  sampleBytes: 1 | 2;
}

export function storageShape(f: Factorization): StorageShape {
  const F = f.factors[0]!;
  const m = F.U.rows, n = F.V.rows;
  const t = f.template;
  const centerings = t.kind === 'Matrix' ? (t.centering ? [t.centering] : []) : (t.centering ?? []);
  const passIdx = new Set((f.passthrough ?? []).map((p) => p.plane));
  const meanValues = centerings.filter((c, i) => c.mode !== 'none' && !passIdx.has(i)).reduce((a, c) => a + c.mean.length, 0);
  const sampleBytes = t.kind === 'Image' && t.bitDepth === 16 ? 2 : 1;
  return { m, n, planes: f.factors.length, meanValues, passthroughPlanes: passIdx.size, originalPlanes: f.factors.length + passIdx.size, sampleBytes };
}

/** Bytes to store the rank-k factors (and mean, and passthrough planes). */
export function lowRankBytes(k: number, s: StorageShape, type: StorageType): number {
  const b = BYTES[type];
  return s.planes * k * (s.m + s.n + 1) * b + s.meanValues * b + s.passthroughPlanes * s.m * s.n * s.sampleBytes;
}

/** Bytes of the raw original (8-bit, or 16-bit for a 16-bit source). */
export function originalBytes(s: StorageShape): number {
  return s.originalPlanes * s.m * s.n * s.sampleBytes;
}

/** Largest k (1..kMax) whose compression ratio original/lowRank is at least `target`; 0 if none. */
export function rankForRatio(target: number, s: StorageShape, type: StorageType, kMax: number): number {
  const orig = originalBytes(s);
  let best = 0;
  for (let k = 1; k <= kMax; k++) if (orig / lowRankBytes(k, s, type) >= target) best = k;
  return best;
}
