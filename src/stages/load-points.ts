/**
 * load-points: reads a point cloud from TXT, XYZ, CSV (with or without a header) or
 * PLY (ascii or binary_little_endian; vertex x, y, z and normals when present).
 *
 * ```yaml
 * - id: cloud
 *   stage: load-points
 *   params: { path: ../data/point_cloud.txt, layout: columns }
 * ```
 * @see transform, align, write-points
 */
import { z } from 'zod';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { defineStage } from '../core/stage.js';
import { fromAsync } from '../core/flow.js';
import { InputError, setForm } from '../core/errors.js';
import { parsePoints } from '../core/points/parse.js';
import type { PointCloud } from '../core/ports.js';

export const loadPoints = defineStage({
  name: 'load-points',
  summary: 'Read a point cloud (TXT, XYZ, CSV, PLY ascii/binary) as a PointCloud (n x d, normals when present)',
  description: [
    'TXT/XYZ: whitespace-separated numbers; CSV: comma, semicolon or tab, with an optional header naming',
    'x, y, z (with a unit if you like: x_mm, x [mm], X(m)) and nx, ny, nz. layout: rows = one point per line (the usual); columns = one line per coordinate',
    "(the seed's point_cloud.txt: 2 lines of 70 values); auto decides from the shape and asks when it cannot tell.",
    'XYZ lines of 6 values are x y z nx ny nz. PLY: the vertex element (x, y, z, nx, ny, nz), other elements skipped.',
    'NaN/Inf coordinates and empty files are errors naming the file and line.',
  ].join('\n'),
  example: '- stage: load-points\n  params: { path: ../data/point_cloud.txt, layout: columns }',
  input: null,
  output: 'PointCloud',
  params: z.strictObject({
    path: z.string().min(1).describe('point-cloud file, relative to the pipeline file'),
    format: z.enum(['auto', 'txt', 'xyz', 'csv', 'ply']).default('auto').describe('file format; auto = PLY by its magic line, else by extension (.csv .xyz, anything else as txt)'),
    layout: z.enum(['auto', 'rows', 'columns']).default('auto').describe('text tables: rows = one point per line, columns = one line per coordinate'),
    name: z.string().min(1).optional().describe('name of the value (default: the file name without extension)'),
    dim: z.union([z.literal(2), z.literal(3)]).optional().describe('the dimension the pipeline is made for: points of another are refused at once, naming `otherwise` (absent: any)'),
    otherwise: z.string().min(1).optional().describe('with dim: what to run for points of the other dimension, named in that error'),
  }),
  inputFiles: (p) => [p.path],
  source: (params, ctx) =>
    fromAsync(async function* () {
      const abs = ctx.resolveInput(params.path);
      let bytes: Uint8Array;
      try {
        bytes = await readFile(abs);
      } catch (e) {
        throw new InputError(`cannot read ${params.path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'check the path (relative to the pipeline file)');
      }
      const r = parsePoints(bytes, { file: params.path, format: params.format, layout: params.layout, fix: (k, v) => setForm(ctx.stepId, k, v) });
      const cols = r.points.cols;
      if (params.dim !== undefined && cols !== params.dim) {
        throw new InputError(`${params.path} has ${cols}-D points (${cols} coordinates a point), but this pipeline is ${params.dim}-D`, params.otherwise ?? `give a file of ${params.dim}-D points`);
      }
      ctx.log.info({ points: r.points.rows, dim: r.points.cols, normals: !!r.normals, layout: r.layout }, 'loaded points');
      const cloud: PointCloud = { kind: 'PointCloud', name: params.name ?? basename(params.path, extname(params.path)), points: r.points, source: abs };
      if (r.normals) cloud.normals = r.normals;
      yield cloud;
    }, ctx.flow),
});
