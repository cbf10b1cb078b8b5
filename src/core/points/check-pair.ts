/**
 * The checks a pair of point clouds must pass before any registration: one dimension, enough
 * points for it, every coordinate finite. Each failure is an InputError naming the cloud.
 */
import { InputError } from '../errors.js';
import { assertFinite } from '../linalg/errors.js';
import type { PointCloud } from '../ports.js';

/** The dimension d of both clouds; throws when they differ, either has fewer than d + 1 points, or holds a non-finite value. */
export function checkPair(src: PointCloud, tgt: PointCloud): number {
  const d = src.points.cols;
  if (tgt.points.cols !== d) throw new InputError(`source '${src.name}' is ${d}-D but target '${tgt.name}' is ${tgt.points.cols}-D`, 'align point sets of the same dimension');
  for (const c of [src, tgt]) {
    if (c.points.rows < d + 1) throw new InputError(`'${c.name}' has ${c.points.rows} point${c.points.rows === 1 ? '' : 's'}; a ${d}-D alignment needs at least ${d + 1}`, 'give more points');
    try {
      assertFinite(c.points, `'${c.name}'`);
    } catch (e) {
      throw new InputError(`${(e as Error).message.replace('row', 'point')}`, 'remove non-finite points before aligning');
    }
  }
  return d;
}
