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
import { loadPipeline, type LoadOptions } from './core/pipeline.js';
import { runPipeline, type RunOptions, type RunResult } from './core/runner.js';
import * as stageModule from './stages/index.js';

export * from './core/ports.js';
export * from './core/errors.js';
export { defineStage, parseParams, standaloneContext, type StageContext, type AnyStage, type AnyStageDef } from './core/stage.js';
export { Registry } from './core/registry.js';
export { loadPipeline, parsePipeline, type ResolvedPipeline, type ResolvedStep, type LoadOptions } from './core/pipeline.js';
export { runPipeline, type RunOptions, type RunResult, type StepStats } from './core/runner.js';
export { FlowControl, fromAsync, fromReadable, boundedConcatMap } from './core/flow.js';
export { OutputManager, atomicWriteFile } from './core/outputs.js';
export { createLogger } from './core/logging.js';
export { pipelineJsonSchema } from './core/schema.js';
export { defaultRegistry, allStages } from './stages/index.js';
/** The numeric core: Matrix, svd, randomizedSvd, IncrementalSvd, qr, symEig, gemm, error and energy curves. */
export * as linalg from './core/linalg/index.js';

/** Every built-in stage, callable: `stages.svd({ rank: 10 })` is an RxJS operator. */
export const stages = stageModule;

/** Validates and runs a pipeline file. */
export async function runPipelineFile(file: string, opts: RunOptions & Pick<LoadOptions, 'set'> = {}): Promise<RunResult> {
  const p = loadPipeline(file, defaultRegistry(), { set: opts.set });
  return runPipeline(p, opts);
}
