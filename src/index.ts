/**
 * svdflow's programmatic API.
 *
 *   import { stages, runPipelineFile } from 'svdflow';
 *   const { load, normalize, svd } = stages;
 *   load({ path: 'photo.jpg', mode: 'gray' }).pipe(normalize(), svd({ rank: 20 })).subscribe(...)
 *
 *   const result = await runPipelineFile('pipelines/image-compress.yaml', { set: ['k=20'] });
 */
import { defaultRegistry } from './stages/index.js';
import { runSegmented } from './core/segmented-run.js';
import { resolve } from 'node:path';
import { loadPipeline, rebaseSetPaths, type LoadOptions } from './core/pipeline.js';
import { runPipeline, type RunOptions, type RunResult } from './core/runner.js';
import * as stageModule from './stages/index.js';

export * from './core/ports.js';
export * from './core/errors.js';
export { defineStage, parseParams, standaloneContext, type StageContext, type AnyStage, type AnyStageDef } from './core/stage.js';
export { Registry } from './core/registry.js';
export { loadPipeline, parsePipeline, rebaseSetPaths, type ResolvedPipeline, type ResolvedStep, type LoadOptions } from './core/pipeline.js';
export { runPipeline, type RunOptions, type RunResult, type StepStats } from './core/runner.js';
export { runSegmented, planPipelineSegments, type SegmentedRunOptions } from './core/segmented-run.js';
export { planSegments, checkPlan, segmentOf, type SegmentPlan, type PlannedSegment } from './core/video/segment-plan.js';
export { FlowControl, fromAsync, fromReadable, boundedConcatMap } from './core/flow.js';
export { OutputManager, atomicWriteFile } from './core/outputs.js';
export { createLogger } from './core/logging.js';
export { threadBudget, setThreadBudget, threadCounts, type ThreadCounts } from './core/threads.js';
export { pipelineJsonSchema } from './core/schema.js';
export { defaultRegistry, allStages } from './stages/index.js';
/** The numeric core: Matrix, svd, randomizedSvd, IncrementalSvd, qr, symEig, gemm, error and energy curves. */
export * as linalg from './core/linalg/index.js';

/** Every built-in stage, callable: `stages.svd({ rank: 10 })` is an RxJS operator. */
export const stages = stageModule;

/**
 * Validates and runs a pipeline file. Paths given in `set` resolve against `cwd` (default
 * process.cwd(), like the CLI's --set); paths written in the YAML stay relative to the file.
 * `workers: N` (N > 1) splits a long video into N time segments run in parallel worker
 * processes and stitches the outputs (needs the built CLI, `npm run build`).
 */
export async function runPipelineFile(file: string, opts: RunOptions & Pick<LoadOptions, 'set' | 'cwd'> & { workers?: number; threads?: number } = {}): Promise<RunResult> {
  const p = loadPipeline(file, defaultRegistry(), { set: opts.set, cwd: resolve(opts.cwd ?? process.cwd()) });
  // the worker processes get the paths absolute: their own cwd is this process's
  if ((opts.workers ?? 1) > 1) return runSegmented(file, p, { ...opts, set: rebaseSetPaths(p, opts.set ?? [], (abs) => abs), workers: opts.workers! });
  return runPipeline(p, opts);
}
