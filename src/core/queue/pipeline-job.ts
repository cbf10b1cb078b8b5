/**
 * A queued job's pipeline: parsed from the job's YAML text against the stage registry
 * (only registered stages; every issue reported before anything runs), with every input
 * path it names checked to lie under the worker's root.
 */
import { dirname, join } from 'node:path';
import { resolveInputPath } from '../data/locate.js';
import { parsePipeline, type ResolvedPipeline } from '../pipeline.js';
import { confine, isUrl } from '../confine.js';
import type { Registry } from '../registry.js';
import type { PipelineRef } from './jobs.js';

export function parseJobPipeline(ref: PipelineRef, root: string, registry: Registry, extraSet: readonly string[] = []): ResolvedPipeline {
  const file = confine(root, join(root, ref.path), 'pipeline file');
  const p = parsePipeline(ref.text, { file: ref.path, baseDir: dirname(file), set: [...ref.set, ...extraSet], defaultName: ref.path.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/i, '') }, registry);
  for (const s of p.steps) {
    for (const f of s.def.inputFiles ? s.def.inputFiles(s.params) : []) {
      if (!isUrl(f)) confine(root, resolveInputPath(p.baseDir, f), `step ${s.id}: input`);
    }
  }
  return p;
}
