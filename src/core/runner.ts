/**
 * Runs a validated pipeline as one RxJS graph.
 *
 * - Every step's output is a connectable backed by a Subject, so one output feeds
 *   any number of steps (fan-out) and no branch misses a value: all subscriptions
 *   are made first, then the graph is connected from the sinks back to the sources.
 * - Side inputs (`inputs:`) are single values: the steps that compute them run in
 *   an earlier stratum, and their values are replayed to later consumers.
 * - Backpressure: one FlowControl valve per run (see flow.ts).
 * - Any error, or the abort signal (Ctrl-C), tears the whole graph down: every
 *   subscription ends, child processes are killed, and temporary outputs are deleted.
 * - Outputs are renamed into place only when the whole run succeeds, then run.json
 *   (the manifest) is written.
 */
import { connectable, from, Subject, Subscription, tap, type Observable, type Connectable, type OperatorFunction } from 'rxjs';
import { mkdir, stat, writeFile, unlink } from 'node:fs/promises';
import { resolve, relative, join } from 'node:path';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { FlowControl } from './flow.js';
import { writeReport } from './report/write.js';
import { OutputManager, atomicWriteFile, type FileRecord } from './outputs.js';
import { ChildRegistry } from './children.js';
import { ProgressRenderer } from './progress.js';
import { silentLogger } from './logging.js';
import { confine, isUrl } from './confine.js';
import { CancelledError, StageError, SvdflowError, UsageError } from './errors.js';
import { resolveInputPath } from './data/locate.js';
import { consumers, type ResolvedPipeline, type ResolvedStep } from './pipeline.js';
import type { StageContext } from './stage.js';
import type { PlannedSegment } from './video/segment-plan.js';
import { specKinds, type PortValue } from './ports.js';

export interface RunOptions {
  /** output folder (default out/<pipeline-name>, relative to cwd) */
  outDir?: string;
  log?: Logger;
  signal?: AbortSignal;
  /** continue from checkpoints */
  resume?: boolean;
  /** draw progress bars (default: stderr is a TTY) */
  progress?: boolean;
  /**
   * which steps' last values to keep for `RunResult.values`: 'all' (default), 'sinks'
   * (the steps whose output nobody consumes, e.g. Metrics, Files; what the CLI uses), or
   * 'none'. Keeping every step's last value holds e.g. a whole frame batch per step until
   * the run ends. Side inputs are always kept.
   */
  keepValues?: 'sinks' | 'all' | 'none' | boolean;
  /** write report.html (and WebM previews of the videos) after run.json (default true) */
  report?: boolean;
  /** run only this segment of a long video (a worker of `--workers N`; see core/segmented-run.ts) */
  segment?: PlannedSegment;
  /**
   * confine the run (a queue worker's --root): input paths must lie under this folder and
   * every output under the output folder; anything else is an InputError.
   */
  root?: string;
}

export interface StepStats {
  id: string;
  stage: string;
  itemsIn: number;
  itemsOut: number;
  /** ms from run start to the step's first output */
  firstOutputMs?: number;
  /** ms from run start to the step's completion */
  doneMs?: number;
}

export interface RunResult {
  pipeline: string;
  status: 'succeeded';
  outDir: string;
  files: FileRecord[];
  steps: StepStats[];
  durationMs: number;
  /** peak resident set size of this process, MiB (getrusage maxrss) */
  peakRssMiB: number;
  manifest: string;
  /** report.html (undefined when RunOptions.report is false or it could not be written) */
  report?: string;
  /** last value of each step (see RunOptions.keepValues) */
  values: Record<string, PortValue | undefined>;
}

const require = createRequire(import.meta.url);
export function svdflowVersion(): string {
  try {
    return (require('../../package.json') as { version: string }).version;
  } catch {
    try {
      return (require('../../../package.json') as { version: string }).version;
    } catch {
      return 'unknown';
    }
  }
}

/** Checks that the output folder can be created and written. */
export async function prepareOutDir(outDir: string): Promise<void> {
  try {
    const st = await stat(outDir).catch(() => undefined);
    if (st && !st.isDirectory()) throw new UsageError(`output path ${outDir} is a file, not a folder`, 'pass another --out folder');
    await mkdir(outDir, { recursive: true });
    const probe = join(outDir, `.svdflow-write-probe-${process.pid}`);
    await writeFile(probe, '');
    await unlink(probe);
  } catch (e) {
    if (e instanceof SvdflowError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot write to output folder ${outDir} (${code ?? (e as Error).message})`, code === 'ENOTDIR' ? 'a part of the path is a file; pass another --out folder' : 'pass a writable --out folder');
  }
}

/** Everything one run holds: its folder, resources and counters. */
interface Run {
  p: ResolvedPipeline;
  opts: RunOptions;
  t0: number;
  started: Date;
  log: Logger;
  outDir: string;
  outputs: OutputManager;
  children: ChildRegistry;
  flow: FlowControl;
  progress: ProgressRenderer;
  abort: AbortController;
  stats: Map<string, StepStats>;
  /** every subscription and connection of the graph */
  connections: Subscription;
  /** values of steps that later strata read (side inputs, inputs across strata) */
  cache: Map<string, unknown[]>;
  /** last value of each kept step */
  last: Map<string, PortValue | undefined>;
}

/** Which steps run in which stratum, and who reads each step. */
interface Plan {
  level: Map<string, number>;
  users: ReturnType<typeof consumers>;
  maxLevel: number;
  keepLast: (id: string) => boolean;
}

export async function runPipeline(p: ResolvedPipeline, opts: RunOptions = {}): Promise<RunResult> {
  const run = await openRun(p, opts);
  const plan = planRun(p, opts);
  const cancelled = cancellation(run);
  try {
    if (opts.signal?.aborted) throw new CancelledError();
    for (let lv = 0; lv <= plan.maxLevel; lv++) await Promise.race([runStratum(run, plan, lv), cancelled.promise]);
    return await commitRun(run);
  } catch (e) {
    await abortRun(run, e);
    throw e;
  } finally {
    cancelled.dispose();
    run.progress.stop();
  }
}

/** Phase 1: the output folder checked and the run's resources made. */
async function openRun(p: ResolvedPipeline, opts: RunOptions): Promise<Run> {
  const t0 = performance.now();
  const log = opts.log ?? silentLogger();
  const outDir = resolve(opts.outDir ?? join('out', p.name));
  await prepareOutDir(outDir);
  if (opts.root) confine(opts.root, outDir, 'output folder');
  log.info({ pipeline: p.name, outDir, steps: p.steps.length }, 'run started');
  return {
    p,
    opts,
    t0,
    started: new Date(),
    log,
    outDir,
    outputs: new OutputManager(outDir, 'transaction', opts.root !== undefined),
    children: new ChildRegistry(),
    flow: new FlowControl(),
    progress: new ProgressRenderer(opts.progress ?? (process.stderr.isTTY === true), process.stderr, log),
    abort: new AbortController(),
    stats: new Map(p.steps.map((s) => [s.id, { id: s.id, stage: s.stage, itemsIn: 0, itemsOut: 0 }])),
    connections: new Subscription(),
    cache: new Map(),
    last: new Map(),
  };
}

/** Phase 2: strata (side inputs are computed in an earlier stratum) and consumers. */
function planRun(p: ResolvedPipeline, opts: RunOptions): Plan {
  const level = strata(p);
  const users = consumers(p);
  const keepMode = opts.keepValues === true ? 'all' : opts.keepValues === false ? 'none' : (opts.keepValues ?? 'all');
  return {
    level,
    users,
    maxLevel: Math.max(0, ...level.values()),
    keepLast: (id) => keepMode === 'all' || (keepMode === 'sinks' && (users.get(id) ?? []).length === 0),
  };
}

function strata(p: ResolvedPipeline): Map<string, number> {
  const level = new Map<string, number>();
  for (const s of p.steps) {
    let l = s.input ? level.get(s.input)! : 0;
    for (const src of Object.values(s.sides)) l = Math.max(l, level.get(src)! + 1);
    level.set(s.id, l);
  }
  return level;
}

/** The caller's abort signal, relayed to the run; a promise that rejects when it fires. */
function cancellation(run: Run): { promise: Promise<never>; dispose(): void } {
  const { abort, opts } = run;
  const onAbort = () => abort.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const promise = new Promise<never>((_, reject) => {
    abort.signal.addEventListener('abort', () => reject(new CancelledError(typeof abort.signal.reason === 'string' ? abort.signal.reason : 'interrupted')), { once: true });
  });
  promise.catch(() => undefined);
  return { promise, dispose: () => opts.signal?.removeEventListener('abort', onAbort) };
}

function stepContext(run: Run, s: ResolvedStep): StageContext {
  const { p, log, abort, flow, outDir, outputs, children, progress, opts } = run;
  return {
    stepId: s.id,
    stage: s.stage,
    log: log.child({ step: s.id, stage: s.stage }),
    signal: abort.signal,
    flow,
    baseDir: p.baseDir,
    outDir,
    resolveInput: (f) => (opts.root && !isUrl(f) ? confine(opts.root, resolveInputPath(p.baseDir, f), `step ${s.id}: input`) : resolveInputPath(p.baseDir, f)),
    writeFile: (rel, data, meta) => outputs.write(rel, data, { step: s.id, ...meta }),
    outputs,
    children,
    progress: (o = {}) => progress.create(o.label ?? s.id, o),
    resume: opts.resume ?? false,
    checkpointDir: join(outDir, '.checkpoints', s.id),
    segment: opts.segment,
  };
}

/** One step's output as a connectable: its upstream (a node of this stratum or a cached earlier one) through its operator. */
function stepNode(run: Run, s: ResolvedStep, nodes: Map<string, Connectable<unknown>>): Connectable<unknown> {
  const ctx = stepContext(run, s);
  const st = run.stats.get(s.id)!;
  const sides: Record<string, unknown> = {};
  for (const [port, src] of Object.entries(s.sides)) sides[port] = run.last.get(src);
  let obs: Observable<unknown>;
  if (s.def.input === null) obs = s.def.source(s.params, ctx, sides as never) as Observable<unknown>;
  else {
    const up: Observable<unknown> = nodes.get(s.input!) ?? from(run.cache.get(s.input!) ?? []);
    obs = up.pipe(
      tap(() => st.itemsIn++),
      s.def.operator(s.params, ctx, sides as never) as OperatorFunction<unknown, unknown>,
    );
  }
  const expected = specKinds(s.def.output);
  obs = obs.pipe(
    tap((v) => {
      const kind = (v as { kind?: string } | null)?.kind;
      if (!expected.includes('Any') && !expected.includes(kind as never)) throw new Error(`internal: stage ${s.stage} emitted ${kind ?? typeof v}, but declares ${expected.join(' or ')}`);
      if (st.itemsOut++ === 0) st.firstOutputMs = performance.now() - run.t0;
    }),
  );
  return connectable(obs, { connector: () => new Subject<unknown>(), resetOnDisconnect: false });
}

/** Phase 3 (per stratum): build every node, subscribe every consumer, then connect from the sinks back to the sources. */
function runStratum(run: Run, plan: Plan, lv: number): Promise<void> {
  return new Promise<void>((resolveRun, reject) => {
    const steps = run.p.steps.filter((s) => plan.level.get(s.id) === lv);
    const nodes = new Map<string, Connectable<unknown>>();
    let pending = steps.length;
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      run.connections.unsubscribe();
      reject(err);
    };
    try {
      for (const s of steps) nodes.set(s.id, stepNode(run, s, nodes));
      for (const s of steps) {
        const keep = (plan.users.get(s.id) ?? []).some((u) => plan.level.get(u.step)! > lv);
        const st = run.stats.get(s.id)!;
        if (keep) run.cache.set(s.id, []);
        run.connections.add(
          nodes.get(s.id)!.subscribe({
            next: (v) => {
              if (keep) run.cache.get(s.id)!.push(v);
              if (keep || plan.keepLast(s.id)) run.last.set(s.id, v as PortValue);
            },
            error: (e) => fail(e instanceof StageError || e instanceof CancelledError ? e : new StageError(s.id, s.stage, e, s.loc)),
            complete: () => {
              st.doneMs = performance.now() - run.t0;
              run.log.debug({ step: s.id, itemsIn: st.itemsIn, itemsOut: st.itemsOut }, 'step done');
              if (--pending === 0) resolveRun();
            },
          }),
        );
      }
      for (const s of [...steps].reverse()) {
        if (failed) break;
        run.connections.add(nodes.get(s.id)!.connect());
      }
    } catch (e) {
      const s = steps.find((x) => !nodes.has(x.id));
      fail(s ? new StageError(s.id, s.stage, e, s.loc) : e);
    }
  });
}

/** Phase 4: every staged file renamed into place, then run.json. */
async function commitRun(run: Run): Promise<RunResult> {
  const { p, outDir, outputs, stats, log } = run;
  const files = await outputs.commitAll();
  const durationMs = performance.now() - run.t0;
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  const manifestPath = join(outDir, 'run.json');
  const manifest = {
    pipeline: p.name,
    description: p.description,
    file: p.file,
    status: 'succeeded',
    started: run.started.toISOString(),
    durationMs: Math.round(durationMs),
    peakRssMiB: Math.round(peakRssMiB * 10) / 10,
    versions: { svdflow: svdflowVersion(), node: process.version },
    variables: p.variables,
    steps: p.steps.map((s) => ({ id: s.id, stage: s.stage, input: s.input, inputs: s.sides, params: s.params, ...stats.get(s.id) })),
    files: files.map((f) => ({ path: relative(outDir, f.path), bytes: f.bytes, format: f.format, step: f.step, description: f.description })),
  };
  await atomicWriteFile(manifestPath, JSON.stringify(manifest, jsonReplacer, 2) + '\n');
  let report: string | undefined;
  if (run.opts.report !== false) {
    // the page is a view of files already committed: a failure to write it fails nothing else
    report = await writeReport(outDir, { signal: run.abort.signal, warn: (m) => log.warn(m) }).catch((e: unknown) => {
      log.warn({ err: e }, 'report.html was not written');
      return undefined;
    });
  }
  log.info({ pipeline: p.name, durationMs: Math.round(durationMs), files: files.length }, 'run succeeded');
  return {
    pipeline: p.name,
    status: 'succeeded',
    outDir,
    files,
    steps: [...stats.values()],
    durationMs,
    peakRssMiB,
    manifest: manifestPath,
    report,
    values: Object.fromEntries(run.last),
  };
}

/** Phase 4 on failure: the graph torn down, children stopped, temporary files removed. */
async function abortRun(run: Run, e: unknown): Promise<void> {
  run.connections.unsubscribe();
  if (!run.abort.signal.aborted) run.abort.abort('failed');
  await run.children.close();
  await run.outputs.abortAll();
  run.log.debug({ err: e }, 'run failed');
}

/** JSON for manifests: typed arrays as lists, big ones summarised. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const arr = Array.from(value as unknown as ArrayLike<number>);
    return arr.length > 64 ? `[${arr.length} values]` : arr;
  }
  return value;
}
