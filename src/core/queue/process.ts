/**
 * What a worker does with each kind of job. Every job's data is parsed with its schema,
 * its pipeline validated against the registry, and every path confined to the root.
 * Outputs follow the local rules (temporary files renamed into place when the run
 * succeeds); a finished job leaves a marker in its output folder, so that a resubmitted
 * flow returns the result instead of redoing it.
 */
import { readFile, stat, unlink, rmdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import type { Logger } from 'pino';
import { runPipeline, type RunResult } from '../runner.js';
import { atomicWriteFile } from '../outputs.js';
import { confine } from '../confine.js';
import type { Registry } from '../registry.js';
import { contentKey, type JobData, type RunSummary, type ShardSummary } from './jobs.js';
import { parseJobPipeline } from './pipeline-job.js';
import { checkPlan } from '../video/segment-plan.js';
import { InputError } from '../errors.js';
import { threadCounts } from '../threads.js';
import { stitchSegments } from './segments.js';
import { findPcaChain, shardMatrix, reduceShardTo, readShard, mergeShards, mergedFactorization, pipelineAfterMerge } from './pca.js';

export const WORKER_ID = `${hostname()}:${process.pid}`;
const MARKER = '.svdflow-job.json';

export interface JobHandle {
  id: string;
  data: JobData;
  /** children's return values, in child order (parents only) */
  children(): Promise<unknown[]>;
  progress(p: Record<string, unknown>): Promise<void>;
}

export interface ProcessContext {
  root: string;
  registry: Registry;
  log: Logger;
  signal: AbortSignal;
}

type Handler<K extends JobData['kind']> = (job: JobHandle, d: Extract<JobData, { kind: K }>, ctx: ProcessContext) => Promise<unknown>;

/** What each kind of job does: a run (an `each` child or a segment), a PCA shard, or a flow's parent. */
const HANDLERS: { [K in JobData['kind']]: Handler<K> } = {
  run: runJob,
  segment: runJob,
  'pca-shard': shardJob,
  each: eachParent,
  'pca-merge': pcaParent,
  segments: segmentsParent,
};

export async function processJob(job: JobHandle, ctx: ProcessContext): Promise<unknown> {
  return (HANDLERS[job.data.kind] as Handler<JobData['kind']>)(job, job.data, ctx);
}

async function readMarker<T>(dir: string, key: string, check: (v: T) => boolean): Promise<T | undefined> {
  try {
    const m = JSON.parse(await readFile(join(dir, MARKER), 'utf8')) as { key: string; result: T };
    return m.key === key && check(m.result) ? m.result : undefined;
  } catch {
    return undefined;
  }
}

function filesExist(root: string, s: RunSummary): boolean {
  return s.files.every((f) => existsSync(join(root, f.path))) && existsSync(join(root, s.manifest));
}

/** A run's summary for the queue: paths relative to the root, so that any machine can read them. */
function summaryOf(r: RunResult, label: string, root: string): RunSummary {
  const rel = (x: string) => relative(root, x);
  return {
    pipeline: r.pipeline,
    label,
    outDir: rel(r.outDir),
    files: r.files.map((f) => ({ path: rel(f.path), bytes: f.bytes, format: f.format, description: f.description, step: f.step })),
    steps: r.steps,
    durationMs: r.durationMs,
    peakRssMiB: r.peakRssMiB,
    manifest: rel(r.manifest),
    worker: WORKER_ID,
    threads: threadCounts(),
  };
}

const writeMarker = (outDir: string, key: string, result: RunSummary) => atomicWriteFile(join(outDir, MARKER), JSON.stringify({ key, result }, null, 2) + '\n');

/** The job's output folder and content key, and its summary when that folder already holds its finished result. */
async function finishedRun(d: { out: string }, ctx: ProcessContext): Promise<{ key: string; outDir: string; done: RunSummary | undefined }> {
  const key = contentKey(d);
  const outDir = confine(ctx.root, join(ctx.root, d.out), 'output folder');
  return { key, outDir, done: await readMarker<RunSummary>(outDir, key, (s) => filesExist(ctx.root, s)) };
}

async function runJob(job: JobHandle, d: Extract<JobData, { kind: 'run' | 'segment' }>, ctx: ProcessContext): Promise<RunSummary> {
  const { key, outDir, done } = await finishedRun(d, ctx);
  if (done) {
    ctx.log.info({ job: job.id, label: d.label }, 'already done: output folder holds this job\'s result');
    return { ...done, skipped: true };
  }
  const p = parseJobPipeline(d.pipeline, ctx.root, ctx.registry);
  await job.progress({ phase: 'running', label: d.label, worker: WORKER_ID });
  const segment = d.kind === 'segment' ? checkPlan(d.plan).segments[d.k] : undefined;
  if (d.kind === 'segment' && !segment) throw new InputError(`segment ${d.k} is not in the job's plan`, 'submit the flow again');
  const r = await runPipeline(p, { outDir, root: ctx.root, signal: ctx.signal, progress: false, keepValues: 'none', log: ctx.log, report: d.kind === 'run' && d.report === true, keepCheckpoints: d.kind === 'run' && d.keepCheckpoints === true, ...(segment ? { segment } : {}) });
  const summary = summaryOf(r, d.label, ctx.root);
  await writeMarker(outDir, key, summary);
  return summary;
}

async function shardJob(job: JobHandle, d: Extract<JobData, { kind: 'pca-shard' }>, ctx: ProcessContext): Promise<ShardSummary> {
  const t0 = performance.now();
  const out = confine(ctx.root, join(ctx.root, d.out), 'shard file');
  const p = parseJobPipeline(d.pipeline, ctx.root, ctx.registry);
  const chain = findPcaChain(p, d.svdStep);
  if (existsSync(out)) {
    try {
      const r = await readShard(out, d.out);
      if (r.n === d.files.length) {
        return { shard: d.shard, file: d.out, images: r.n, components: r.US.cols, bytes: (await stat(out)).size, name: '', durationMs: 0, worker: WORKER_ID, skipped: true };
      }
    } catch {
      /* unreadable: redo */
    }
  }
  await job.progress({ phase: 'running', label: d.label, worker: WORKER_ID });
  const files = d.files.map((f) => confine(ctx.root, join(ctx.root, f), `shard ${d.shard}: input`));
  const m = await shardMatrix(p, chain, files, ctx.root, ctx.signal);
  const { components, bytes } = await reduceShardTo(m, out);
  return { shard: d.shard, file: d.out, images: files.length, components, bytes, name: m.name, durationMs: performance.now() - t0, worker: WORKER_ID };
}

export interface EachResult {
  kind: 'each';
  children: RunSummary[];
}

async function eachParent(job: JobHandle, d: Extract<JobData, { kind: 'each' }>, ctx: ProcessContext): Promise<EachResult> {
  const children = (await job.children()) as RunSummary[];
  const outDir = confine(ctx.root, join(ctx.root, d.out), 'output folder');
  await atomicWriteFile(join(outDir, 'flow.json'), JSON.stringify({ flow: job.id, pipeline: d.pipeline.path, label: d.label, children }, null, 2) + '\n');
  return { kind: 'each', children };
}

async function segmentsParent(job: JobHandle, d: Extract<JobData, { kind: 'segments' }>, ctx: ProcessContext): Promise<RunSummary> {
  const { key, outDir, done } = await finishedRun(d, ctx);
  if (done) return { ...done, skipped: true };
  const segs = (await job.children()) as RunSummary[];
  const p = parseJobPipeline(d.pipeline, ctx.root, ctx.registry);
  await job.progress({ phase: 'stitching', label: d.label, segments: segs.length, worker: WORKER_ID });
  const summary = await stitchSegments(p, d.plan, segs, ctx.root, outDir, ctx.log, WORKER_ID, d.label);
  await writeMarker(outDir, key, summary);
  return summary;
}

async function pcaParent(job: JobHandle, d: Extract<JobData, { kind: 'pca-merge' }>, ctx: ProcessContext): Promise<RunSummary> {
  const { key, outDir, done } = await finishedRun(d, ctx);
  if (done) return { ...done, skipped: true };
  const shards = ((await job.children()) as ShardSummary[]).sort((a, b) => a.shard - b.shard);
  const p = parseJobPipeline(d.pipeline, ctx.root, ctx.registry);
  const chain = findPcaChain(p, d.svdStep);
  await job.progress({ phase: 'merging', label: d.label, shards: shards.length, worker: WORKER_ID });
  const reductions = [];
  for (const s of shards) reductions.push(await readShard(confine(ctx.root, join(ctx.root, s.file), 'shard file'), s.file));
  const rank = chain.svd.params.rank as number | undefined;
  const merged = mergeShards(reductions, rank !== undefined ? { rank } : {});
  const name = (chain.stack.params.name as string | undefined) ?? shards.find((s) => s.name)?.name ?? 'images';
  const f = mergedFactorization(merged, name, shards.length);
  const after = pipelineAfterMerge(p, chain, f);
  const r = await runPipeline(after, { outDir, root: ctx.root, signal: ctx.signal, progress: false, keepValues: 'none', log: ctx.log });
  const summary = summaryOf(r, d.label, ctx.root);
  await writeMarker(outDir, key, summary);
  // the reductions were only needed for this merge
  for (const s of shards) await unlink(join(ctx.root, s.file)).catch(() => undefined);
  await rmdir(join(outDir, '.shards')).catch(() => undefined);
  return summary;
}
