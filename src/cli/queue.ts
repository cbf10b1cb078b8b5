/**
 * `svdflow run FILE --queue URL …` (submit a flow to BullMQ workers and follow it) and
 * `svdflow status ID --redis URL`. The pipeline is validated here first, so that a bad
 * pipeline fails before anything is queued (exit 2), exactly as a local run would.
 */
import { join, relative, resolve } from 'node:path';
import { defaultRegistry } from '../stages/index.js';
import { loadPipeline, rebaseSetPaths } from '../core/pipeline.js';
import { UsageError, InputError } from '../core/errors.js';
import type { RunResult } from '../core/runner.js';
import { checkRedisUrl } from '../core/queue/connection.js';
import { openQueue, submitFlow, followFlow, flowStatus, type FlowEvent, type FlowPlan } from '../core/queue/submit.js';
import { planEach, planPca, planSegmentsFlow, relToRoot } from '../core/queue/plan.js';
import type { RunSummary } from '../core/queue/jobs.js';
import type { EachResult } from '../core/queue/process.js';

export interface QueueFlags {
  set: string[];
  out?: string;
  queue?: string;
  redis?: string;
  each?: string[];
  manifest?: string;
  shards?: string;
  segments?: string;
  detach: boolean;
  root?: string;
  /** --each children write report.html (with WebM previews) too */
  report: boolean;
  /** --each children keep their .checkpoints/ (refused with --segments, in main.ts) */
  'keep-checkpoints'?: boolean;
  'no-progress': boolean;
}

/** A worker's summary as the RunResult the local summary prints, paths under this machine's root. */
export function asRunResult(s: RunSummary, root: string): RunResult {
  const abs = (p: string) => join(root, p);
  return {
    pipeline: s.pipeline,
    status: 'succeeded',
    outDir: abs(s.outDir),
    files: s.files.map((f) => ({ kind: 'File' as const, path: abs(f.path), format: f.format, bytes: f.bytes, description: f.description, step: f.step })),
    steps: s.steps,
    durationMs: s.durationMs,
    peakRssMiB: s.peakRssMiB,
    manifest: abs(s.manifest),
    values: {},
  };
}

function positiveInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} expects a whole number >= 1, got '${v}'`, `e.g. ${flag} 4`);
  return n;
}

export async function runQueued(file: string, extra: string[], flags: QueueFlags, summaryText: (r: RunResult) => string): Promise<number> {
  const url = checkRedisUrl(flags.queue, '--queue');
  const root = resolve(flags.root ?? '.');
  const shards = positiveInt(flags.shards, '--shards');
  const segments = positiveInt(flags.segments, '--segments');
  const each = [...(flags.each ?? []), ...extra];
  const modes = [each.length || flags.manifest ? '--each/--manifest' : '', shards ? '--shards' : '', segments ? '--segments' : ''].filter(Boolean);
  if (modes.length !== 1) throw new UsageError(modes.length ? `choose one of ${modes.join(', ')}` : '--queue needs --each GLOB, --manifest FILE, --shards N or --segments N', 'e.g. svdflow run pipelines/video-background.yaml --queue redis://127.0.0.1:6379 --each "videos/*.mp4"');
  if (extra.length && !flags.each?.length) throw new UsageError(`svdflow run takes one pipeline file, got ${extra.length + 1}`, 'inputs go after --each');
  // --set paths are the shell's (relative to this folder); the workers read them relative to the
  // pipeline file under their --root, so they are sent that way (and refused outside the root)
  const p = loadPipeline(file, defaultRegistry(), { set: flags.set, cwd: process.cwd() });
  const set = rebaseSetPaths(p, flags.set, (abs, key) => {
    relToRoot(root, abs, `--set ${key}:`);
    return relative(p.baseDir, abs) || '.';
  });
  const out = resolve(flags.out ?? join('out', p.name));
  let plan: FlowPlan;
  if (shards) plan = planPca(p, { root, file, set, out, shards });
  else if (segments) plan = await planSegmentsFlow(p, { root, file, set, out, segments });
  else plan = planEach(p, { root, file, set, out, each, manifest: flags.manifest, report: flags.report, keepCheckpoints: flags['keep-checkpoints'] });

  const client = await openQueue(url);
  try {
    const { id, outcome } = await submitFlow(url, client, plan);
    const what = `${plan.children.length} ${plan.mode === 'pca' ? 'shard' : plan.mode === 'segments' ? 'segment' : 'input'}${plan.children.length === 1 ? '' : 's'}`;
    if (flags.detach) {
      console.log(id);
      process.stderr.write(`svdflow: flow ${id} (${what}) ${outcome === 'finished' ? 'has already finished' : 'queued'}; follow it with: svdflow status ${id} --redis URL\n`);
      return 0;
    }
    process.stderr.write(`svdflow: flow ${id}: ${what}, ${outcome === 'finished' ? 'already finished; nothing to redo' : outcome === 'following' ? 'already queued; following it' : outcome === 'replaced' ? 'failed before; submitted again (finished jobs are not redone)' : 'queued'}\n`);
    const t0 = performance.now();
    const ac = new AbortController();
    const onSig = () => ac.abort();
    process.on('SIGINT', onSig);
    const show = (e: FlowEvent) => {
      if (flags['no-progress'] || e.type === 'progress') return;
      const who = e.jobId === id ? 'flow' : e.label;
      process.stderr.write(`  [${e.done}/${e.total}] ${who}: ${e.type === 'active' ? 'started' : e.type}${e.detail && e.type !== 'completed' ? ` (${e.detail.split('\n')[0]})` : ''}\n`);
    };
    let r;
    try {
      r = await followFlow(url, client, id, show, ac.signal);
    } finally {
      process.off('SIGINT', onSig);
    }
    if (r.state === 'failed') {
      const f = r.failed!;
      throw new InputError(`flow ${id} failed: job ${f.jobId} (${f.label}) failed: ${f.reason}`, `fix that input, then submit the same command again; finished jobs are not redone`);
    }
    printResult(plan.mode, r.result, root, summaryText);
    process.stderr.write(`svdflow: flow ${id} finished (${((performance.now() - t0) / 1000).toFixed(2)} s here)\n`);
    return 0;
  } finally {
    await client.close();
  }
}

function printResult(mode: string, result: unknown, root: string, summaryText: (r: RunResult) => string): void {
  if (mode === 'each' || (result as EachResult | undefined)?.kind === 'each') {
    const children = (result as EachResult).children;
    for (const c of children) console.log(`${summaryText(asRunResult(c, root))}\n    (${c.label}, worker ${c.worker}${c.skipped ? ', already done before' : ''})`);
    const workers = new Set(children.filter((c) => !c.skipped).map((c) => c.worker));
    console.log(`✔ ${children.length} runs (${children.filter((c) => c.skipped).length} already done) on ${workers.size} worker${workers.size === 1 ? '' : 's'}; flow.json lists them`);
  } else {
    const s = result as RunSummary;
    console.log(`${summaryText(asRunResult(s, root))}\n    (worker ${s.worker}${s.skipped ? ', already done before' : ''})`);
  }
}

export async function statusCommand(positionals: string[], flags: QueueFlags, summaryText: (r: RunResult) => string): Promise<number> {
  if (positionals.length !== 1) throw new UsageError('svdflow status takes one flow id', 'e.g. svdflow status each-1a2b3c4d5e6f7a8b --redis redis://127.0.0.1:6379');
  const url = checkRedisUrl(flags.redis ?? flags.queue, '--redis');
  const root = resolve(flags.root ?? '.');
  const client = await openQueue(url);
  try {
    const s = await flowStatus(client, positionals[0]!);
    console.log(`flow ${s.id}: ${s.state}; ${s.completed}/${s.total} jobs completed, ${s.active} running, ${s.waiting} waiting, ${s.failed} failed`);
    for (const c of s.children) console.log(`  ${c.id}  ${c.state.padEnd(10)} ${c.label}${c.attempts > 1 ? ` (${c.attempts} attempts)` : ''}`);
    if (s.failure) {
      console.log(`✖ job ${s.failure.jobId} (${s.failure.label}) failed: ${s.failure.reason}`);
      return 1;
    }
    if (s.result) printResult(s.id.split('-')[0]!, s.result, root, summaryText);
    return 0;
  } finally {
    await client.close();
  }
}
