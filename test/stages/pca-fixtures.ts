/** Hand-built images and collections for the image-collection PCA stage tests. */
import { lastValueFrom, of } from 'rxjs';
import { Matrix } from '../../src/core/linalg/matrix.js';
import type { Factorization, Image, ImageBatch } from '../../src/core/ports.js';

/** w x h image whose plane c pixel (x, y) is base + 100c + 10y + x. */
export function testImage(name: string, w: number, h: number, color: 'gray' | 'rgb', base: number): Image {
  const planes = Array.from({ length: color === 'gray' ? 1 : 3 }, (_, c) => {
    const p = new Matrix(h, w);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) p.set(y, x, base + 100 * c + 10 * y + x);
    return p;
  });
  return { kind: 'Image', name, width: w, height: h, color, planes, range: [0, 1000] };
}

export function batchOf(images: Image[], name = 'b'): ImageBatch {
  return { kind: 'ImageBatch', name, width: images[0]!.width, height: images[0]!.height, color: images[0]!.color, images };
}

/** Deterministic pseudo-random numbers in [0, 1). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** n random images (w x h, color) with values in [0.1, 0.9]. */
export function randomBatch(n: number, w: number, h: number, color: 'gray' | 'rgb', seed = 1): ImageBatch {
  const r = lcg(seed);
  const images: Image[] = [];
  for (let j = 0; j < n; j++) {
    const planes = Array.from({ length: color === 'gray' ? 1 : 3 }, () => {
      const p = new Matrix(h, w);
      for (let i = 0; i < p.data.length; i++) p.data[i] = 0.1 + 0.8 * r();
      return p;
    });
    images.push({ kind: 'Image', name: `im_${String(j).padStart(2, '0')}`, width: w, height: h, color, planes, range: [0, 1] });
  }
  return batchOf(images, 'random');
}

/**
 * A hand-built Factorization of a d x n collection with a known mean, orthonormal U
 * (d x k, coordinate axes scaled), s and V, as svd would produce from a row-centred stack.
 */
export function knownFactorization(): Factorization {
  // 2 x 2 gray images (d = 4), n = 3, k = 2
  const U = Matrix.from2D([[1, 0], [0, 1], [0, 0], [0, 0]]);
  const s = Float64Array.from([0.4, 0.1]);
  const a = 1 / Math.sqrt(2), b = 1 / Math.sqrt(6);
  // columns orthonormal and orthogonal to (1,1,1) as for centred data
  const V = Matrix.from2D([[a, b], [0, -2 * b], [-a, b]]);
  const mean = Float64Array.from([0.5, 0.5, 0.2, 0.8]);
  return {
    kind: 'Factorization',
    name: 'X',
    solver: 'test',
    factors: [{ U, s, V, normSq: 0.17, rank: 2 }],
    template: { kind: 'Matrix', name: 'X', centering: { mode: 'row', mean }, layout: { width: 2, height: 2, color: 'gray', names: ['p', 'q', 'r'], range: [0, 1] } },
    originalNormSq: [0.17 + 3 * (0.25 + 0.25 + 0.04 + 0.64)],
  };
}

export { lastValueFrom, of };
