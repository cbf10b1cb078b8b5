/**
 * transform: edits a point cloud with a list of ops applied in order: rotate
 * (degrees in 2-D; axis + degrees or quaternion in 3-D), translate, scale, matrix,
 * noise, subsample, shuffle, mirror. Seeded randomness, so YAML builds test cases.
 *
 * ```yaml
 * - stage: transform      # the seed's Procrustes demo
 *   params:
 *     ops:
 *       - { op: translate, by: [0, -1] }
 *       - { op: rotate, degrees: 34 }
 *       - { op: translate, by: [0, 1] }
 * ```
 * @see align, generate-points
 */
import { z } from 'zod';
import { map } from 'rxjs';
import { defineStage } from '../core/stage.js';
import { InputError } from '../core/errors.js';
import { applyOp, describeOp, opsMatrix, type Cloud, type PointOp } from '../core/points/ops.js';
import type { PointCloud } from '../core/ports.js';

const pivot = z.union([z.enum(['origin', 'centroid']), z.array(z.number())]).default('origin').describe("centre of the rotation or scaling: origin, centroid, or a point");
const seed = z.number().int().default(0).describe('random seed');

const op = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('rotate'),
    degrees: z.number().optional().describe('angle in degrees, counter-clockwise (2-D) or about axis (3-D, right-hand rule)'),
    axis: z.array(z.number()).length(3).optional().describe('3-D rotation axis'),
    quaternion: z.array(z.number()).length(4).optional().describe('3-D rotation as [qx, qy, qz, qw] (scalar last)'),
    about: pivot,
  }),
  z.strictObject({ op: z.literal('translate'), by: z.array(z.number()).min(1).describe('offset, one value per coordinate') }),
  z.strictObject({ op: z.literal('scale'), factor: z.number().refine((v) => v !== 0, 'factor must not be 0').describe('uniform scale factor'), about: pivot }),
  z.strictObject({ op: z.literal('matrix'), matrix: z.array(z.array(z.number())).describe('(d+1)x(d+1) homogeneous, d x (d+1) or d x d matrix, rows') }),
  z.strictObject({ op: z.literal('noise'), sigma: z.number().min(0).describe('standard deviation of gaussian noise added to every coordinate'), seed }),
  z.strictObject({
    op: z.literal('subsample'),
    every: z.number().int().min(1).optional().describe('keep every k-th point'),
    fraction: z.number().gt(0).max(1).optional().describe('keep this fraction, chosen at random (seeded), in the original order'),
    voxel: z.number().positive().optional().describe('voxel-grid size: one averaged point per occupied voxel'),
    seed,
  }),
  z.strictObject({ op: z.literal('shuffle'), seed }),
  z.strictObject({ op: z.literal('mirror'), axis: z.number().int().min(0).describe('negate this coordinate (0 = x, 1 = y, 2 = z)') }),
]);

export const transform = defineStage({
  name: 'transform',
  summary: 'Edit a point cloud: rotate, translate, scale, matrix, noise, subsample, shuffle, mirror (in order, seeded)',
  description: [
    'ops are applied in the order given. Rotations are counter-clockwise for column vectors (x\' = R x).',
    'Normals, when present, are rotated/mirrored with the points and kept through subsample/shuffle.',
    'When every op is linear, their product (the homogeneous matrix applied) is logged at info level;',
    'align recovers its inverse when the result is aligned back onto the input.',
  ].join('\n'),
  example: '- stage: transform\n  params: { ops: [ { op: rotate, degrees: 34 }, { op: translate, by: [0, 1] } ] }',
  input: 'PointCloud',
  output: 'PointCloud',
  params: z.strictObject({
    ops: z.array(op).min(1).describe('edits, applied in order'),
    name: z.string().min(1).optional().describe('name of the result; {name} is the input name (default: {name}-moved)'),
  }),
  operator: (params, ctx) =>
    map((cloud: PointCloud): PointCloud => {
      let c: Cloud = { points: cloud.points, normals: cloud.normals };
      params.ops.forEach((o, i) => {
        try {
          c = applyOp(c, o as PointOp, `ops[${i}] (${o.op})`);
        } catch (e) {
          if (e instanceof RangeError) throw new InputError(`${cloud.name}: ${e.message}`, 'fix that op in params.ops');
          throw e;
        }
      });
      if (c.points.rows === 0) throw new InputError(`${cloud.name}: the ops left no points`, 'keep more points (subsample)');
      const T = opsMatrix(params.ops as PointOp[], cloud.points);
      if (T) ctx.log.info({ transform: T.to2D() }, 'applied');
      const out: PointCloud = { kind: 'PointCloud', name: (params.name ?? '{name}-moved').replaceAll('{name}', cloud.name), points: c.points };
      if (c.normals) out.normals = c.normals;
      if (cloud.source) out.source = cloud.source;
      out.origin = cloud.origin ?? cloud.name;
      out.edits = [...(cloud.edits ?? []), `${(params.ops as PointOp[]).map(describeOp).join(', ')} (step ${ctx.stepId})`];
      return out;
    }),
});
