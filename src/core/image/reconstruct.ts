/**
 * The rank-k value of a Factorization, rebuilt as the kind that was factorised (Image or
 * Matrix) with the mean added back; used by the reconstruct stage and by compression-report.
 */
import { addMeanClamped, applyMean, clampInPlace } from './planes.js';
import { rebuild } from './lowrank.js';
import type { Factorization, Image, MatrixValue } from '../ports.js';
import type { Matrix } from '../linalg/index.js';

/** The rank-k value (mean added back; clamped to the value range when `clamp`). */
export function reconstructValue(f: Factorization, k: number, clamp: boolean, name = f.name): Image | MatrixValue {
  const t = f.template;
  if (t.kind === 'Matrix') {
    let M: Matrix = rebuild(f.factors[0]!, k);
    const centred = t.centering && t.centering.mode !== 'none';
    if (centred && clamp && t.layout) addMeanClamped(M, t.centering!, t.layout.range[0], t.layout.range[1]);
    else {
      if (centred) M = applyMean(M, t.centering!, 1, M);
      if (clamp && t.layout) clampInPlace(M, t.layout.range[0], t.layout.range[1]);
    }
    const { centering: _c, ...rest } = t;
    return { ...rest, name, matrix: M };
  }
  const nPlanes = t.color === 'gray' ? 1 : 3;
  const planes: Matrix[] = new Array(nPlanes);
  for (const p of f.passthrough ?? []) planes[p.plane] = p.matrix.clone();
  let next = 0;
  for (let i = 0; i < nPlanes; i++) if (!planes[i]) planes[i] = rebuild(f.factors[next++]!, k);
  planes.forEach((P, i) => {
    const c = t.centering?.[i];
    if (c && c.mode !== 'none' && clamp) addMeanClamped(P, c, t.range[0], t.range[1]);
    else {
      if (c && c.mode !== 'none') applyMean(P, c, 1, P);
      if (clamp) clampInPlace(P, t.range[0], t.range[1]);
    }
  });
  const { centering: _c, ...rest } = t;
  return { ...rest, name, planes, rank: k };
}
