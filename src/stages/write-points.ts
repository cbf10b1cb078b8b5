/**
 * write-points: writes a point cloud, or an alignment's aligned source, as PLY
 * (binary_little_endian or ascii), CSV (with a header) or TXT/XYZ.
 *
 * ```yaml
 * - stage: write-points
 *   input: fit
 *   params: { path: aligned.ply }
 * ```
 * @see load-points, align
 */
import { z } from 'zod';
import { concatMap } from 'rxjs';
import { defineStage } from '../core/stage.js';
import { outputFileParams } from '../core/params.js';
import { InputError } from '../core/errors.js';
import { formatFromPath } from '../core/points/parse.js';
import { formatCsv, formatPly, formatTxt } from '../core/points/write.js';
import type { PointCloud } from '../core/ports.js';

export const writePoints = defineStage({
  name: 'write-points',
  summary: "Write a PointCloud, or an Alignment's aligned source, as PLY, CSV or TXT/XYZ",
  description: [
    'The format follows the file extension (.ply, .csv, .txt, .xyz) unless format is given. PLY stores doubles',
    '(x, y[, z] and normals when present); CSV has a header x,y[,z][,nx,ny,nz]; TXT has one point per line, or',
    "one line per coordinate with layout: columns (the seed's point_cloud.txt layout).",
  ].join('\n'),
  example: '- stage: write-points\n  input: fit\n  params: { path: aligned.ply }',
  input: ['PointCloud', 'Alignment'] as const,
  output: 'File',
  params: z.strictObject({
    ...outputFileParams('{name}.ply', 'file name under --out; {name} is the cloud name', ['ply', 'csv', 'txt', 'xyz'], 'auto = from the extension'),
    binary: z.boolean().default(true).describe('PLY: binary_little_endian (true) or ascii'),
    layout: z.enum(['rows', 'columns']).default('rows').describe('TXT: one point per line, or one line per coordinate'),
    normals: z.boolean().default(true).describe('write normals when the cloud has them'),
  }).refine((p) => p.format !== 'auto' || formatFromPath(p.path) !== undefined, {
    // depends on params only, so validate reports it before anything runs (#18 item 3)
    message: 'cannot tell the point format from the path\'s extension: end path with .ply, .csv, .txt or .xyz, or set format',
    path: ['path'],
  }),
  operator: (p, ctx) =>
    concatMap(async (v) => {
      const cloud: PointCloud = v.kind === 'Alignment' ? v.aligned : v;
      const rel = p.path.replaceAll('{name}', cloud.name);
      const fmt = p.format !== 'auto' ? p.format : formatFromPath(rel);
      if (!fmt) throw new InputError(`cannot tell the point format of '${rel}' from its extension`, 'end the path with .ply, .csv, .txt or .xyz, or set format'); // only when {name} hid it
      const normals = p.normals ? cloud.normals : undefined;
      const data = fmt === 'ply' ? formatPly(cloud.points, normals, { binary: p.binary, comment: `svdflow ${cloud.name}` })
        : fmt === 'csv' ? formatCsv(cloud.points, normals)
        : formatTxt(cloud.points, p.layout, fmt === 'xyz' ? normals : undefined);
      return ctx.writeFile(rel, data, { format: fmt, description: `${cloud.points.rows} ${cloud.points.cols}-D points (${cloud.name})` });
    }),
});
