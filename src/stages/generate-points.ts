/**
 * generate-points: a synthetic point set, for demos and tests built in YAML:
 * the seed's curve y = a·x·sin(b·x), a circle, or uniform random points in a box.
 *
 * ```yaml
 * - id: target
 *   stage: generate-points
 *   params: { shape: curve, n: 30, from: 0, to: 29 }
 * ```
 * @see transform, align
 */
import { z } from 'zod';
import { of } from 'rxjs';
import { defineStage } from '../core/stage.js';
import { Matrix } from '../core/linalg/matrix.js';
import { seededRandom } from '../core/linalg/random.js';
import { xSinCurve } from '../core/points/ops.js';
import type { PointCloud } from '../core/ports.js';

const n = z.number().int().min(1).describe('number of points');
const name = z.string().min(1).optional().describe('name of the value (default: the shape)');

export const generatePoints = defineStage({
  name: 'generate-points',
  summary: "Generate points: the seed's curve y = a·x·sin(b·x), a circle, or a uniform random box (seeded)",
  description: [
    'shape curve: n points with x evenly spaced over [from, to] and y = a·x·sin(b·x) (the seed ICP demo:',
    'n 30 over [0, 29] as target, n 31 over [0, 30] as source, a 0.2, b 0.5).',
    'shape circle: n points on a circle of the given radius (2-D). shape uniform: n points uniform in [low, high]^dim.',
  ].join('\n'),
  example: '- stage: generate-points\n  params: { shape: curve, n: 30, from: 0, to: 29, a: 0.2, b: 0.5 }',
  input: null,
  output: 'PointCloud',
  params: z.discriminatedUnion('shape', [
    z.strictObject({
      shape: z.literal('curve'),
      n,
      from: z.number().default(0).describe('first x'),
      to: z.number().describe('last x'),
      a: z.number().default(0.2).describe('amplitude factor a in y = a·x·sin(b·x)'),
      b: z.number().default(0.5).describe('frequency b in y = a·x·sin(b·x)'),
      name,
    }),
    z.strictObject({
      shape: z.literal('circle'),
      n,
      radius: z.number().positive().default(1).describe('circle radius'),
      name,
    }),
    z.strictObject({
      shape: z.literal('uniform'),
      n,
      dim: z.number().int().min(1).max(16).default(3).describe('coordinates per point'),
      low: z.number().default(0).describe('lower bound of every coordinate'),
      high: z.number().default(1).describe('upper bound of every coordinate'),
      seed: z.number().int().default(0).describe('random seed'),
      name,
    }),
  ]),
  source: (p) => {
    let points: Matrix;
    if (p.shape === 'curve') points = xSinCurve(p.n, p.from, p.to, p.a, p.b);
    else if (p.shape === 'circle') {
      points = new Matrix(p.n, 2);
      for (let i = 0; i < p.n; i++) {
        const t = (2 * Math.PI * i) / p.n;
        points.data[2 * i] = p.radius * Math.cos(t);
        points.data[2 * i + 1] = p.radius * Math.sin(t);
      }
    } else {
      const rng = seededRandom(p.seed);
      points = new Matrix(p.n, p.dim);
      for (let i = 0; i < p.n * p.dim; i++) points.data[i] = p.low + (p.high - p.low) * rng.next();
    }
    const cloud: PointCloud = { kind: 'PointCloud', name: p.name ?? p.shape, points };
    return of(cloud);
  },
});
