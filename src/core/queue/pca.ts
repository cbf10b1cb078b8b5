/**
 * Collection PCA as a flow: shard children decode their images, run the steps between
 * `load` and `stack` (per-image steps such as normalize), and reduce (src/core/pca/shards.ts);
 * the parent merges the reductions into the Factorization that `svd` would have emitted
 * after `center { mode: row }`, then runs the rest of the pipeline on it.
 */
import { from, lastValueFrom, of, type OperatorFunction } from 'rxjs';
import { z } from 'zod';
import { readFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { UsageError, InputError } from '../errors.js';
import { decodeImage } from '../image/io.js';
import { imageBatchOf, listImageFiles } from '../image/files.js';
import { reduceShard, mergeShards, encodeShard, decodeShard, type MergedPca } from '../pca/shards.js';
import { standaloneContext, type AnyStageDef } from '../stage.js';
import { atomicWriteFile } from '../outputs.js';
import type { ResolvedPipeline, ResolvedStep } from '../pipeline.js';
import type { Factorization, Image, MatrixValue } from '../ports.js';

export interface PcaChain {
  load: ResolvedStep;
  /** per-image steps between load and stack, in order */
  perImage: ResolvedStep[];
  stack: ResolvedStep;
  center: ResolvedStep;
  svd: ResolvedStep;
}

const PER_IMAGE = ['normalize'];
const SHAPE = 'load (a folder or glob) → [normalize] → stack → center { mode: row } → svd';

/** The load → … → svd chain of a collection PCA pipeline (the svd step named, or the only one). */
export function findPcaChain(p: ResolvedPipeline, svdStep?: string): PcaChain {
  const byId = new Map(p.steps.map((s) => [s.id, s]));
  const svds = p.steps.filter((s) => s.stage === 'svd' && (svdStep === undefined || s.id === svdStep));
  if (svds.length !== 1) throw new UsageError(`--shards needs one svd step in ${p.file}, found ${svds.length}`, `sharding runs a collection PCA: ${SHAPE}`);
  const svd = svds[0]!;
  const up = (s: ResolvedStep, want: string): ResolvedStep => {
    const prev = s.input ? byId.get(s.input) : undefined;
    if (!prev || prev.stage !== want) throw new UsageError(`--shards: step '${s.id}' takes its input from ${prev ? `'${prev.id}' (stage ${prev.stage})` : 'nothing'}, expected a ${want} step`, `sharding runs a collection PCA: ${SHAPE}`);
    return prev;
  };
  const center = up(svd, 'center');
  if (center.params.mode !== 'row') throw new UsageError(`--shards: step '${center.id}' centres by ${String(center.params.mode)}, expected mode: row (the mean image)`, `sharding runs a collection PCA: ${SHAPE}`);
  const stack = up(center, 'stack');
  const perImage: ResolvedStep[] = [];
  let cur = stack.input ? byId.get(stack.input) : undefined;
  while (cur && cur.stage !== 'load') {
    if (!PER_IMAGE.includes(cur.stage) || Object.keys(cur.sides).length) throw new UsageError(`--shards: step '${cur.id}' (stage ${cur.stage}) sits between load and stack; only per-image steps (${PER_IMAGE.join(', ')}) can run on shards`, `sharding runs a collection PCA: ${SHAPE}`);
    perImage.unshift(cur);
    cur = cur.input ? byId.get(cur.input) : undefined;
  }
  if (!cur) throw new UsageError(`--shards: no load step feeds step '${stack.id}'`, `sharding runs a collection PCA: ${SHAPE}`);
  return { load: cur, perImage, stack, center, svd };
}

/** The image files of the chain's load step (absolute, in load's natural order). */
export function shardInputFiles(p: ResolvedPipeline, chain: PcaChain): string[] {
  const path = String(chain.load.params.path);
  const { files, batch } = listImageFiles(resolve(p.baseDir, path), path);
  if (!batch) throw new UsageError(`--shards: load step '${chain.load.id}' reads one file (${path}); a collection PCA needs a folder or glob`, 'set the images variable to a folder');
  return files;
}

/** Decodes a shard's files and runs the per-image steps and stack on them. */
export async function shardMatrix(p: ResolvedPipeline, chain: PcaChain, files: string[], root: string, signal?: AbortSignal): Promise<MatrixValue> {
  const lp = chain.load.params as { path: string; mode: Image['color']; resize?: { width?: number; height?: number; fit?: 'fill' } ; name?: string; maxPixels?: number };
  const images: Image[] = [];
  for (const f of files) {
    if (signal?.aborted) throw new InputError('shard cancelled');
    images.push(await decodeImage(f, { mode: lp.mode, resize: lp.resize, shown: relative(root, f), ...(lp.maxPixels !== undefined ? { maxPixels: lp.maxPixels } : {}) }));
  }
  const batch = imageBatchOf(images, lp.path, lp.mode, lp.name);
  const ops = [...chain.perImage, chain.stack].map((s) => {
    const def = s.def as Extract<AnyStageDef, { operator: unknown }>;
    return def.operator(s.params, standaloneContext(s.stage, { stepId: s.id, baseDir: p.baseDir }), {}) as OperatorFunction<unknown, unknown>;
  });
  const out = await lastValueFrom((from([batch]) as ReturnType<typeof from<unknown[]>>).pipe(...(ops as [OperatorFunction<unknown, unknown>])));
  return out as MatrixValue;
}

/** Reduces one shard and writes its reduction atomically to `outFile`. */
export async function reduceShardTo(m: MatrixValue, outFile: string): Promise<{ components: number; bytes: number }> {
  const r = reduceShard(m.matrix, m.layout ? { layout: m.layout } : {});
  const bytes = encodeShard(r);
  await atomicWriteFile(outFile, bytes);
  return { components: r.US.cols, bytes: bytes.byteLength };
}

export async function readShard(file: string, shown: string) {
  return decodeShard(new Uint8Array(await readFile(file)), shown);
}

/** The Factorization `svd` emits after `center { mode: row }` on the stacked matrix, from the merge. */
export function mergedFactorization(m: MergedPca, name: string, shards: number): Factorization {
  if (!m.layout) throw new InputError('the shards carry no image layout', 'build the collection with stack');
  return {
    kind: 'Factorization',
    name,
    factors: [{ U: m.U, s: m.s, V: m.V, normSq: m.normSq, rank: m.s.length }],
    solver: `merge of ${shards} shards`,
    template: { kind: 'Matrix', name, layout: m.layout, centering: { mode: 'row', mean: m.mean } },
    originalNormSq: [m.originalNormSq],
  };
}

/**
 * The pipeline with the svd step replaced by a source that emits `f`; the steps that only
 * fed it (load, stack, center…) are dropped unless another step still needs them.
 */
export function pipelineAfterMerge(p: ResolvedPipeline, chain: PcaChain, f: Factorization): ResolvedPipeline {
  const injected: AnyStageDef = {
    name: 'svd',
    summary: 'the merged shards',
    input: null,
    output: 'Factorization',
    params: z.any(),
    source: () => of(f),
  } as AnyStageDef;
  const byId = new Map(p.steps.map((s) => [s.id, s]));
  const swapped = p.steps.map((s) => (s.id === chain.svd.id ? { ...s, def: injected, input: undefined, sides: {} } : s));
  const deps = (s: ResolvedStep) => [s.input, ...Object.values(s.sides)].filter((x): x is string => !!x);
  // strict ancestors of svd
  const anc = new Set<string>();
  const walk = (id: string) => {
    for (const d of deps(byId.get(id)!)) if (!anc.has(d)) { anc.add(d); walk(d); }
  };
  walk(chain.svd.id);
  const keep = new Set<string>();
  const need = (id: string) => {
    if (keep.has(id)) return;
    keep.add(id);
    for (const d of deps(swapped.find((s) => s.id === id)!)) need(d);
  };
  for (const s of swapped) if (!anc.has(s.id)) need(s.id);
  return { ...p, steps: swapped.filter((s) => keep.has(s.id)) };
}

export { mergeShards };
