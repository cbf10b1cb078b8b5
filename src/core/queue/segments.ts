/**
 * One long video as a flow: the segment plan of `--workers` (core/video/segment-plan.ts,
 * made by planPipelineSegments) gives one child job per segment, each a run of the same
 * pipeline with `segment` set (decode from its warm-up start, emit only its own frames) into
 * out/.segments/seg-K; the parent stitches every sink step's files in frame order with the
 * stage's own stitcher (videos concatenated, confusion counts summed, lines in frame order)
 * and writes run.json, as `--workers N` does on one machine.
 */
import { join, relative } from 'node:path';
import type { Logger } from 'pino';
import { ChildRegistry } from '../children.js';
import { OutputManager, atomicWriteFile } from '../outputs.js';
import { writeReport } from '../report/write.js';
import { jsonReplacer, svdflowVersion, type StepStats } from '../runner.js';
import { checkPlan, type SegmentPlan } from '../video/segment-plan.js';
import type { ResolvedPipeline } from '../pipeline.js';
import { inputPathsOf } from '../fingerprint.js';
import { acquireLock, releaseLock, removeSegmentState } from '../run-state.js';
import type { SegmentPart } from '../stage.js';
import type { RunSummary } from './jobs.js';

export function segmentDir(out: string, k: number): string {
  return join(out, '.segments', `seg-${k}`);
}

/** Stitches the segments' runs (in plan order) into `outDir`; returns the run summary (paths relative to root). */
export async function stitchSegments(p: ResolvedPipeline, planData: unknown, segs: RunSummary[], root: string, outDir: string, log: Logger, worker: string, label: string): Promise<RunSummary> {
  const plan: SegmentPlan = checkPlan(planData);
  // one run per output folder, as a local run: what the stitch replaces and cleans up, it does under the lock
  acquireLock(outDir);
  try {
    return await stitchLocked(p, plan, segs, root, outDir, log, worker, label);
  } finally {
    releaseLock(outDir);
  }
}

async function stitchLocked(p: ResolvedPipeline, plan: SegmentPlan, segs: RunSummary[], root: string, outDir: string, log: Logger, worker: string, label: string): Promise<RunSummary> {
  const t0 = performance.now();
  const outputs = new OutputManager(outDir, 'transaction', true);
  // never over an input of the run (the video in --out under an output's name), as a local run
  outputs.protect(inputPathsOf(p));
  const children = new ChildRegistry();
  const workDir = join(outDir, '.segments');
  try {
    for (const step of p.steps) {
      const role = step.def.segments;
      if (!role || role === 'stream') continue;
      const parts: SegmentPart[][] = segs.map((r) => r.files.filter((f) => f.step === step.id).map((f) => ({ rel: relative(join(root, r.outDir), join(root, f.path)), path: join(root, f.path), format: f.format, description: f.description })));
      await role.stitch(parts, { stepId: step.id, outputs, children, workDir, log }, step.params as never);
    }
    const files = await outputs.commitAll();
    const steps: StepStats[] = p.steps.map((s) => ({ id: s.id, stage: s.stage, itemsIn: 0, itemsOut: 0 }));
    for (const r of segs) for (const st of r.steps) {
      const t = steps.find((x) => x.id === st.id);
      if (t) { t.itemsIn += st.itemsIn; t.itemsOut += st.itemsOut; }
    }
    const durationMs = performance.now() - t0 + Math.max(...segs.map((s) => s.durationMs));
    const peakRssMiB = Math.max(...segs.map((s) => s.peakRssMiB), process.resourceUsage().maxRSS / 1024);
    const manifest = join(outDir, 'run.json');
    await atomicWriteFile(manifest, JSON.stringify({
      pipeline: p.name,
      description: p.description,
      file: p.file,
      status: 'succeeded',
      started: new Date(Date.now() - durationMs).toISOString(),
      durationMs: Math.round(durationMs),
      peakRssMiB: Math.round(peakRssMiB * 10) / 10,
      versions: { svdflow: svdflowVersion(), node: process.version },
      variables: p.variables,
      queue: { segments: segs.map((s, k) => ({ ...plan.segments[k], worker: s.worker, durationMs: Math.round(s.durationMs), threads: s.threads })) },
      plan: { first: plan.first, frames: plan.frames, warmup: plan.warmup, align: plan.align },
      steps: p.steps.map((s) => ({ id: s.id, stage: s.stage, input: s.input, inputs: s.sides, params: s.params, ...steps.find((x) => x.id === s.id) })),
      files: files.map((f) => ({ path: relative(outDir, f.path), bytes: f.bytes, format: f.format, step: f.step, description: f.description })),
    }, jsonReplacer, 2) + '\n').catch(async (e: unknown) => {
      await outputs.rollback();
      throw e;
    });
    // the run is complete: the files it replaced (kept aside by commitAll until now) are deleted, as a local run's
    await outputs.finalize();
    // the segment folders of its plan, and its work files (never through a link; a user's files in .segments/ stay)
    await removeSegmentState(workDir, plan.segments.length, p.steps.map((s) => s.id), log);
    // report.html, as a local run writes it
    await writeReport(outDir, { warn: (m) => log.warn(m) }).catch((e: unknown) => log.warn({ err: e }, 'report.html was not written'));
    const rel = (x: string) => relative(root, x);
    return { pipeline: p.name, label, outDir: rel(outDir), files: files.map((f) => ({ path: rel(f.path), bytes: f.bytes, format: f.format, description: f.description, step: f.step })), steps, durationMs, peakRssMiB, manifest: rel(manifest), worker };
  } catch (e) {
    await children.close();
    await outputs.abortAll();
    throw e;
  }
}
