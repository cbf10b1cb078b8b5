/**
 * Queued jobs are data, never code: a pipeline's YAML text with --set overrides and paths
 * relative to the shared root. Workers parse each job's data with these schemas, then
 * validate the pipeline against the stage registry, before anything runs.
 *
 * A flow is a parent job with one child per input (`each`), per shard (`pca-merge`) or per
 * segment; the parent runs when every child is done. Job ids derive from the job's content,
 * so a resubmitted flow finds what is already done.
 */
import type { ThreadCounts } from '../threads.js';
import { createHash } from 'node:crypto';
import { z } from 'zod';

const rel = z.string().min(1).refine((p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..'), { message: 'must be a path relative to the root, without ..' });

export const pipelineRef = z.strictObject({
  /** the pipeline file, relative to the root (its folder is where relative paths start) */
  path: rel,
  /** its YAML text as submitted */
  text: z.string().min(1).max(1_000_000),
  set: z.array(z.string()).max(1000).default([]),
});
export type PipelineRef = z.infer<typeof pipelineRef>;

/**
 * A job's schema: its kind, the pipeline, the fields of that kind, then the output path and a
 * label (in this order: content keys hash the parsed data as JSON).
 */
function job<K extends string, S extends z.ZodRawShape>(kind: K, fields: S) {
  return z.strictObject({ kind: z.literal(kind), pipeline: pipelineRef, ...fields, out: rel, label: z.string().max(1000) });
}

/**
 * One pipeline run into its own output folder (a child of an `each` flow). report.html and
 * its WebM previews only when asked (`--report`): they are views, `svdflow report DIR` writes
 * them later, and encoding previews on every worker would cost each job more than the queue does.
 */
export const runJob = job('run', { report: z.boolean().optional(), keepCheckpoints: z.boolean().optional() });

/** One shard of a collection PCA: decode these images, run the steps before `stack`, reduce; `out` is the reduction file. */
export const shardJob = job('pca-shard', {
  svdStep: z.string().min(1),
  shard: z.number().int().min(0),
  files: z.array(rel).min(1),
});

/** Parent of an `each` flow: collects the children's results into flow.json. */
export const eachParent = job('each', {});

/** Parent of a PCA flow: merges the shards, then runs the rest of the pipeline. */
export const pcaParent = job('pca-merge', { svdStep: z.string().min(1) });

/** One time segment of a long video: the pipeline run with `segment` set, into out/.segments/seg-K. */
export const segmentJob = job('segment', {
  /** the whole plan (checked with checkPlan on the worker) and this job's segment */
  plan: z.unknown(),
  k: z.number().int().min(0),
});

/** Parent of a segments flow: stitches the segments' files in frame order. */
export const segmentsParent = job('segments', { plan: z.unknown() });

export const jobData = z.discriminatedUnion('kind', [runJob, shardJob, eachParent, pcaParent, segmentJob, segmentsParent]);
export type JobData = z.infer<typeof jobData>;
export type RunJob = z.infer<typeof runJob>;
export type ShardJob = z.infer<typeof shardJob>;

/** What a finished run job returns (paths relative to the root, so any machine can read them). */
export interface RunSummary {
  pipeline: string;
  label: string;
  outDir: string;
  files: Array<{ path: string; bytes?: number; format: string; description?: string; step: string }>;
  steps: Array<{ id: string; stage: string; itemsIn: number; itemsOut: number; firstOutputMs?: number; doneMs?: number }>;
  durationMs: number;
  peakRssMiB: number;
  manifest: string;
  worker: string;
  /** the thread budget of the worker that ran it (src/core/threads.ts) */
  threads?: ThreadCounts;
  /** true when the output folder already held this job's finished result */
  skipped?: boolean;
}

export interface ShardSummary {
  shard: number;
  file: string;
  images: number;
  components: number;
  bytes: number;
  name: string;
  durationMs: number;
  worker: string;
  skipped?: boolean;
}

/** Short content hash (hex) of a JSON-able value. */
export function contentKey(v: unknown, len = 16): string {
  return createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, len);
}
