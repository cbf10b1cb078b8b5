/** Point clouds the ICP tests share. */
import { Matrix } from '../../../src/core/linalg/matrix.js';
import { seededRandom } from '../../../src/core/linalg/random.js';

/** n points of the wavy surface z = 0.3 sin(3x) cos(2y) + 0.2 x y over [-1, 1]², x and y drawn from seededRandom(seed). */
export function wavySurface(n: number, seed: number): Matrix {
  const rng = seededRandom(seed);
  const P = new Matrix(n, 3);
  for (let i = 0; i < n; i++) {
    const x = rng.next() * 2 - 1, y = rng.next() * 2 - 1;
    P.data.set([x, y, 0.3 * Math.sin(3 * x) * Math.cos(2 * y) + 0.2 * x * y], i * 3);
  }
  return P;
}
