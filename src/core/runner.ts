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
import { jsonReplacer } from './json.js';
/** (defined in json.ts; re-exported for callers that import it from here) */
export { jsonReplacer };
import { connectable, defer, from, Subject, Subscription, tap, type Observable, type Connectable, type OperatorFunction } from 'rxjs';
import type { VariantArgs } from './image/planes.js';
import { mkdir, stat, writeFile, unlink, rm } from 'node:fs/promises';
import { existsSync, statSync, readFileSync, readdirSync, rmdirSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { fingerprintOf, fingerprintChanges, type Fingerprint } from './fingerprint.js';
import { resolve, relative, join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { FlowControl, asyncHop, HOP_EVERY } from './flow.js';
import { writeReport } from './report/write.js';
import { OutputManager, atomicWriteFile, type FileRecord } from './outputs.js';
import { ChildRegistry } from './children.js';
import { ProgressRenderer } from './progress.js';
import { silentLogger } from './logging.js';
import { threadCounts } from './threads.js';
import { blasStatus, blasUsage } from './linalg/native.js';
import { decoderSummary, withDecoderCounts, type DecoderCounts } from './image/jpeg.js';
import { turboJpegStatus } from './image/turbojpeg.js';
import { confine, isUrl } from './confine.js';
import { CancelledError, InputError, StageError, SvdflowError, UsageError, shownPath } from './errors.js';
import { resolveInputPath } from './data/locate.js';
import { consumers, type ResolvedPipeline, type ResolvedStep } from './pipeline.js';
import type { StageContext } from './stage.js';
import type { PlannedSegment } from './video/segment-plan.js';
import { specKinds, type PortValue } from './ports.js';
import { FINGERPRINT, acquireLock, entryKind, fingerprintHash, refuseLinkedState, releaseLock, removeSupersededSegments, type FingerprintFile } from './run-state.js';

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
  /**
   * keep `.checkpoints/` after a run that succeeded (default false: they only serve --resume of an
   * unfinished run, and a completed run has nothing to resume; a segment's are its segmented run's)
   */
  keepCheckpoints?: boolean;
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
  /** steps left out by their `when:` (e.g. scoring without ground truth) */
  skipped?: Array<{ id: string; stage: string; reason: string }>;
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

/** Checks that the output folder can be created and written; returns the first folder it had to create, if any. */
export async function prepareOutDir(outDir: string): Promise<string | undefined> {
  try {
    const st = await stat(outDir).catch(() => undefined);
    if (st && !st.isDirectory()) throw new UsageError(`output path ${outDir} is a file, not a folder`, 'pass another --out folder');
    const made = await mkdir(outDir, { recursive: true });
    const probe = join(outDir, `.svdflow-write-probe-${process.pid}`);
    await writeFile(probe, '');
    await unlink(probe);
    return made;
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
  /** the first folder of the output path this run created (removed again, with the output folder, if the run leaves them empty) */
  createdOutDir?: string;
  fingerprint: Fingerprint;
  fingerprintWritten?: boolean;
  /** the steps that asked for their checkpoint folder: the only ones a finished run removes */
  checkpointSteps?: Set<string>;
  /** synchronous last-resort clean-up if the process exits mid-run (a second Ctrl-C) */
  onExit: () => void;
  /** images decoded by each decoder in this run (withDecoderCounts), for run.json */
  decoders: DecoderCounts;
}

/** Which steps run in which stratum, and who reads each step. */
interface Plan {
  level: Map<string, number>;
  users: ReturnType<typeof consumers>;
  maxLevel: number;
  keepLast: (id: string) => boolean;
  /** steps since the last point where values start from a fresh stack (a source, a cached stratum, a hop) */
  depth: Map<string, number>;
}

export async function runPipeline(p: ResolvedPipeline, opts: RunOptions = {}): Promise<RunResult> {
  // the run's own image-decoder counts: every decode in its async context (its steps, whatever they await),
  // so that two runs at once in one process do not count each other's images in their run.json
  return withDecoderCounts((decoders) => runPipelineCounted(p, opts, decoders));
}

async function runPipelineCounted(p: ResolvedPipeline, opts: RunOptions, decoders: DecoderCounts): Promise<RunResult> {
  const run = await openRun(p, opts, decoders);
  const plan = planRun(p, opts);
  const cancelled = cancellation(run);
  try {
    if (opts.resume) {
      refuseLiveResume(p);
      checkResume(run);
    }
    if (opts.signal?.aborted) throw new CancelledError();
    for (let lv = 0; lv <= plan.maxLevel; lv++) await Promise.race([runStratum(run, plan, lv), cancelled.promise]);
    return await commitRun(run);
  } catch (e) {
    await abortRun(run, e);
    throw e;
  } finally {
    cancelled.dispose();
    run.progress.stop();
    releaseLock(run.outDir);
    process.off('exit', run.onExit);
    if (run.createdOutDir) removeIfEmpty(run.outDir, run.createdOutDir);
  }
}

/** Removes `dir`, then its parents up to `top`, while they are empty. */
function removeIfEmpty(dir: string, top = dir): void {
  for (let d = dir; ; d = dirname(d)) {
    try {
      if (readdirSync(d).length) return;
      rmdirSync(d);
    } catch {
      return;
    }
    if (d === top || dirname(d) === d) return;
  }
}

/**
 * Writes the run's fingerprint beside the checkpoints, with the steps that have asked for their checkpoint
 * folder so far (rewritten when a step first does): a later run removes only those steps' folders.
 */
function writeFingerprint(run: Run): void {
  const dir = join(run.outDir, '.checkpoints');
  // never through a link (refused at run start; made one meanwhile: refused here)
  refuseLinkedState(run.outDir, ['.checkpoints']);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${FINGERPRINT}.svdflow-tmp-${process.pid}`);
  const file: FingerprintFile = { ...run.fingerprint, checkpointSteps: [...(run.checkpointSteps ?? [])] };
  writeFileSync(tmp, JSON.stringify(file, null, 1));
  renameSync(tmp, join(dir, FINGERPRINT));
}

/** A live input (stdin, a network stream) cannot be read again from where a run stopped. */
function refuseLiveResume(p: ResolvedPipeline): void {
  for (const s of p.steps) {
    const live = s.def.liveInput?.(s.params as never);
    if (live !== undefined) throw new UsageError(`--resume: step '${s.id}' reads the live stream ${live === '-' ? '- (stdin)' : live}, which cannot be read again from where the run stopped`, 'run without --resume; the segments of a live run (liveSegments) already written stay in the output folder');
  }
}

/**
 * --resume continues only the run the checkpoints were made by: same steps,
 * params and inputs. A completed run has nothing to resume.
 */
function checkResume(run: Run): void {
  const cp = join(run.outDir, '.checkpoints');
  const fpFile = join(cp, FINGERPRINT);
  const shown = shownPath(run.outDir);
  if (existsSync(fpFile)) {
    let was: Fingerprint;
    try {
      was = JSON.parse(readFileSync(fpFile, 'utf8')) as Fingerprint;
    } catch {
      throw new UsageError(`--resume: the checkpoint fingerprint ${shownPath(fpFile)} cannot be read`, 'run without --resume to start over');
    }
    const wellFormed = was !== null && typeof was === 'object' && was.version === 1 && typeof was.steps === 'object' && was.steps !== null && typeof was.inputs === 'object' && was.inputs !== null;
    const changes = wellFormed ? fingerprintChanges(was, run.fingerprint) : ['the checkpoint fingerprint is not one this svdflow wrote'];
    if (changes.length) {
      throw new UsageError(`--resume: the checkpoints in ${shown}/.checkpoints were made by a different run: ${changes.slice(0, 6).join('; ')}${changes.length > 6 ? `; and ${changes.length - 6} more` : ''}`, 'resume with the same pipeline, --set values and inputs, or run without --resume to start over');
    }
    return;
  }
  const manifest = join(run.outDir, 'run.json');
  if (existsSync(manifest)) {
    let m: { status?: string; started?: string; fingerprint?: string } = {};
    try {
      m = JSON.parse(readFileSync(manifest, 'utf8')) as typeof m;
    } catch {
      /* not ours */
    }
    if (m.status === 'succeeded') {
      const same = m.fingerprint === fingerprintHash(run.fingerprint);
      throw new UsageError(`--resume: nothing to resume: the run into ${shown} completed (started ${m.started ?? '?'}, see run.json)${same ? '' : ', and with other settings or inputs than these'}`, 'run without --resume to run it again');
    }
  }
  const left = existsSync(cp) ? readdirSync(cp).filter((n) => !n.startsWith('.')) : [];
  if (left.length) throw new UsageError(`--resume: the checkpoints in ${shown}/.checkpoints carry no fingerprint, so it cannot be told whether they belong to this pipeline and these inputs`, 'run without --resume to start over');
}

/** Phase 1: the output folder checked and the run's resources made. */
async function openRun(p: ResolvedPipeline, opts: RunOptions, decoders: DecoderCounts): Promise<Run> {
  const t0 = performance.now();
  const log = opts.log ?? silentLogger();
  const outDir = resolve(opts.outDir ?? join('out', p.name));
  const createdOutDir = await prepareOutDir(outDir);
  try {
    if (opts.root) confine(opts.root, outDir, 'output folder');
    acquireLock(outDir);
    try {
      // its checkpoints are written, and cleared, under .checkpoints: never through a link to elsewhere
      refuseLinkedState(outDir, ['.checkpoints']);
    } catch (e) {
      releaseLock(outDir);
      throw e;
    }
  } catch (e) {
    if (createdOutDir) removeIfEmpty(outDir, createdOutDir);
    throw e;
  }
  log.info({ pipeline: p.name, outDir, steps: p.steps.length }, 'run started');
  // a native BLAS library asked for by path (SVDFLOW_BLAS) that does not load: said once, then the WebAssembly (or, under SVDFLOW_NO_WASM, TypeScript) kernels run
  const blasEnv = process.env.SVDFLOW_BLAS;
  if (blasEnv && blasEnv !== 'off' && blasEnv !== '0') {
    const b = blasStatus();
    if (b.backend !== 'openblas') log.warn(`native BLAS not used: ${b.reason}; the ${b.backend === 'ts' ? 'TypeScript' : 'WebAssembly'} kernels run instead`);
  }
  // likewise a TurboJPEG library asked for by path (SVDFLOW_JPEG): sharp decodes every image instead
  const jpegEnv = process.env.SVDFLOW_JPEG;
  if (jpegEnv && jpegEnv !== 'off' && jpegEnv !== '0') {
    const j = turboJpegStatus();
    if (!j.loaded) log.warn(`TurboJPEG not used: ${j.reason}; sharp decodes every image instead`);
  }
  const outputs = new OutputManager(outDir, 'transaction', opts.root !== undefined);
  const children = new ChildRegistry();
  const onExit = () => {
    children.killAllSync();
    outputs.abortAllSync();
    releaseLock(outDir);
    if (createdOutDir) removeIfEmpty(outDir, createdOutDir);
  };
  process.on('exit', onExit);
  let fingerprint: Fingerprint;
  try {
    fingerprint = fingerprintOf(p);
    // a run never writes over its own inputs (--out pointing at the input folder, a path naming an input)
    outputs.protect(Object.keys(fingerprint.inputs));
  } catch (e) {
    onExit();
    process.off('exit', onExit);
    throw e;
  }
  return {
    createdOutDir,
    fingerprint,
    onExit,
    p,
    opts,
    t0,
    started: new Date(),
    log,
    outDir,
    outputs,
    children,
    flow: new FlowControl(),
    progress: new ProgressRenderer(opts.progress ?? (process.stderr.isTTY === true), process.stderr, log),
    abort: new AbortController(),
    stats: new Map(p.steps.map((s) => [s.id, { id: s.id, stage: s.stage, itemsIn: 0, itemsOut: 0 }])),
    connections: new Subscription(),
    cache: new Map(),
    last: new Map(),
    decoders,
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
    depth: chainDepths(p, level),
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

/**
 * How deep each step sits in a synchronous chain: a value passes down a chain of
 * synchronous steps as nested calls, so every HOP_EVERY steps the runner inserts an
 * async hop (stack depth stays bounded whatever the number of steps).
 */
function chainDepths(p: ResolvedPipeline, level: Map<string, number>): Map<string, number> {
  const depth = new Map<string, number>();
  for (const s of p.steps) {
    const up = s.input !== undefined && level.get(s.input) === level.get(s.id) ? depth.get(s.input)! + 1 : 0;
    depth.set(s.id, up >= HOP_EVERY ? 0 : up);
  }
  return depth;
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

function stepContext(run: Run, s: ResolvedStep, consumers: readonly string[], inputExclusive = false): StageContext {
  const { p, log, abort, flow, outDir, outputs, children, progress, opts } = run;
  const checkpointDir = join(outDir, '.checkpoints', s.id);
  return {
    // a step that keeps checkpoints gets them marked with the run's fingerprint (for --resume)
    get checkpointDir() {
      if (!run.checkpointSteps?.has(s.id)) {
        (run.checkpointSteps ??= new Set()).add(s.id);
        writeFingerprint(run);
        run.fingerprintWritten = true;
      }
      return checkpointDir;
    },
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
    segment: opts.segment,
    consumers,
    inputExclusive,
  };
}

/**
 * The variant (StageDef.variants) each step of a run was asked for by its sole reader
 * (StageContext inputVariant), and, once the step's node is subscribed, the one it makes: asked
 * while the graph is built, fixed when the step starts (a later ask gets the truth: what it makes).
 */
interface VariantChoice { name: keyof VariantArgs; args: unknown[] }
const chosenVariants = new WeakMap<Run, { asked: Map<string, VariantChoice>; made: Map<string, VariantChoice | undefined> }>();

/** One step's output as a connectable: its upstream (a node of this stratum or a cached earlier one) through its operator. */
function stepNode(run: Run, plan: Plan, s: ResolvedStep, nodes: Map<string, Connectable<unknown>>): Connectable<unknown> {
  // the only reader of its input's values, none of them kept, and that input's stage declares its
  // values new and held by nobody (handsOver): the step may reuse them in place
  const readers = s.input !== undefined ? plan.users.get(s.input) ?? [] : [];
  const producer = s.input !== undefined ? run.p.steps.find((x) => x.id === s.input) : undefined;
  const exclusive = producer?.def.handsOver === true && nodes.has(producer.id) && readers.length === 1 && readers[0]!.step === s.id && !plan.keepLast(producer.id);
  const ctx = stepContext(run, s, [...new Set((plan.users.get(s.id) ?? []).map((u) => u.step))], exclusive);
  const st = run.stats.get(s.id)!;
  const sides: Record<string, unknown> = {};
  for (const [port, src] of Object.entries(s.sides)) sides[port] = run.last.get(src);
  const chosen = chosenVariants.get(run) ?? chosenVariants.set(run, { asked: new Map(), made: new Map() }).get(run)!;
  // as the sole reader of a handsOver step (nothing kept), this step's own operator (never a stage it
  // calls from code: defineStage drops the entry) may ask that step for a variant it offers; the
  // input observable itself is not marked (it is the producer's multicast, which others may see)
  const offered = exclusive ? producer!.def.variants : undefined;
  if (offered) {
    ctx.inputVariant = (name, ...args) => {
      if (!offered[name]) return false;
      if (chosen.made.has(producer!.id)) return chosen.made.get(producer!.id)?.name === name;
      chosen.asked.set(producer!.id, { name, args });
      return true;
    };
  }
  // the step's values, made under `c` (its context, or a variant's: the same context plus the entries the stage names)
  const make = (c: StageContext): Observable<unknown> => {
    if (s.def.input === null) return s.def.source(s.params, c, sides as never) as Observable<unknown>;
    let up: Observable<unknown> = nodes.get(s.input!) ?? from(run.cache.get(s.input!) ?? []);
    if (plan.depth.get(s.id) === 0 && nodes.has(s.input!)) up = up.pipe(asyncHop(run.flow));
    const input = up.pipe(
      tap((v) => {
        checkInputKind(s, v);
        st.itemsIn++;
      }),
    );
    return (s.def.operator(s.params, c, sides as never) as OperatorFunction<unknown, unknown>)(input);
  };
  const own = make(ctx);
  // a variant its reader asked for (see above), made by the same operator under the variant's context entries
  let obs: Observable<unknown> = defer(() => {
    const v = chosen.asked.get(s.id);
    chosen.made.set(s.id, v);
    const entries = v && (s.def.variants?.[v.name] as ((...a: unknown[]) => Record<symbol, unknown>) | undefined)?.(...v.args);
    return entries ? make(Object.assign(Object.create(ctx) as StageContext, entries)) : own;
  });
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

/**
 * A value of a kind the stage does not take (validation narrows kinds where the params tell, but
 * not every stage's output kind is known before it runs): one clear error instead of a TypeError
 * deep inside the stage.
 */
function checkInputKind(s: ResolvedStep, v: unknown): void {
  if (s.def.input === null) return;
  const want = specKinds(s.def.input);
  const kind = (v as { kind?: string } | null)?.kind;
  if (want.includes('Any') || want.includes(kind as never)) return;
  throw new InputError(
    `stage ${s.stage} takes ${want.join(' or ')}, but step '${s.input}' gave it ${kind ?? typeof v}`,
    `insert a step that turns ${kind ?? 'it'} into ${want.join(' or ')} (svdflow stages lists every stage's ports${kind === 'ImageBatch' && want.includes('Matrix') ? '; stack turns an ImageBatch into a Matrix' : ''})`,
  );
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
      for (const s of steps) nodes.set(s.id, stepNode(run, plan, s, nodes));
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
  const { outDir, outputs } = run;
  const manifest = join(outDir, 'run.json');
  if (existsSync(manifest) && !statSync(manifest).isFile()) {
    throw new InputError(`cannot write run.json: the output folder has a folder of that name`, 'remove or rename it, or pass another --out; nothing was replaced');
  }
  const files = await outputs.commitAll();
  try {
    return await writeManifest(run, files);
  } catch (e) {
    await outputs.rollback();
    throw e;
  }
}

async function writeManifest(run: Run, files: FileRecord[]): Promise<RunResult> {
  const { p, outDir, outputs, stats, log } = run;
  const durationMs = performance.now() - run.t0;
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  const manifestPath = await writeRunManifest(outDir, {
    p, started: run.started, durationMs, peakRssMiB, stepStats: (id) => stats.get(id), files,
    skipped: skippedOf(p), fingerprint: fingerprintHash(run.fingerprint), decoders: run.decoders,
  });
  await outputs.finalize();
  // the run is complete: its checkpoints no longer describe an unfinished run, and only served --resume
  // of one (912 KiB for a 4 s clip, 11 MB for 60 s): removed unless asked to keep them. Only what this
  // run wrote: its fingerprint and its own steps' folders; anything else in .checkpoints/ (another
  // pipeline's unfinished run in the same --out, a file of the user's) stays, and so does the folder then
  if (run.fingerprintWritten && entryKind(join(outDir, '.checkpoints')) === 'dir') {
    const dir = join(outDir, '.checkpoints');
    await unlink(join(dir, FINGERPRINT)).catch(() => undefined);
    if (!run.opts.keepCheckpoints && !run.opts.segment) {
      for (const id of run.checkpointSteps ?? []) {
        await rm(join(dir, id), { recursive: true, force: true }).catch((e: unknown) => log.warn({ err: e, step: id }, 'the checkpoints of the finished run were not removed'));
      }
      removeIfEmpty(dir);
    }
  }
  // what an interrupted --workers run of this same pipeline left for its --resume (positive match only;
  // --keep-checkpoints keeps it too: it is resume state as .checkpoints/ is)
  if (!run.opts.segment && !run.opts.keepCheckpoints) await removeSupersededSegments(outDir, run.fingerprint, p.steps.map((s) => s.id), log);
  const report = run.opts.report === false ? undefined : await writeReportQuietly(outDir, run.abort.signal, log);
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
    skipped: skippedOf(p),
  };
}

export { removeSupersededSegments, removeSupersededCheckpoints } from './run-state.js';

export interface ManifestParts {
  p: ResolvedPipeline;
  started: Date;
  durationMs: number;
  peakRssMiB: number;
  stepStats: (id: string) => StepStats | undefined;
  files: FileRecord[];
  /** keys placed after the variables (a segmented run's workers, segments and plan) */
  extra?: Record<string, unknown>;
  skipped?: NonNullable<RunResult['skipped']>;
  fingerprint?: string;
  /** the images each decoder read in this run (a segmented run: its segments', summed) */
  decoders: DecoderCounts;
}

/** Writes the run.json of a finished run (local, or stitched from segments) atomically; returns its path. */
export async function writeRunManifest(outDir: string, m: ManifestParts): Promise<string> {
  const { p } = m;
  const manifestPath = join(outDir, 'run.json');
  const manifest = {
    pipeline: p.name,
    description: p.description,
    file: p.file,
    status: 'succeeded',
    started: m.started.toISOString(),
    durationMs: Math.round(m.durationMs),
    peakRssMiB: Math.round(m.peakRssMiB * 10) / 10,
    versions: { svdflow: svdflowVersion(), node: process.version },
    // the thread budget this process ran with and what it gave the pool, team, model thread and decoder
    threads: threadCounts(),
    // what ran the exact SVDs and large products: OpenBLAS (native), the WebAssembly kernels ('wasm'), the
    // TypeScript ones ('ts': SVDFLOW_NO_WASM or no SIMD), or nothing that needed either ('unused'), with the number of native calls and why
    linalg: blasUsage(),
    // which decoder read the images (TurboJPEG for plain JPEGs, sharp for the rest), how many each, and why sharp
    decoder: decoderSummary(m.decoders),
    variables: p.variables,
    // what the command line changed (--set): the description above is the pipeline's, written for its own values
    overrides: p.overrides ?? [],
    ...m.extra,
    steps: p.steps.map((s) => ({ id: s.id, stage: s.stage, input: s.input, inputs: s.sides, params: s.params, ...m.stepStats(s.id) })),
    ...(m.skipped ? { skipped: m.skipped } : {}),
    files: m.files.map((f) => ({ path: relative(outDir, f.path), bytes: f.bytes, format: f.format, step: f.step, description: f.description })),
    ...(m.fingerprint !== undefined ? { fingerprint: m.fingerprint } : {}),
  };
  await atomicWriteFile(manifestPath, JSON.stringify(manifest, jsonReplacer, 2) + '\n');
  return manifestPath;
}

/** report.html of a finished run: a view of files already committed, so a failure to write it only warns. */
export function writeReportQuietly(outDir: string, signal: AbortSignal | undefined, log: Logger): Promise<string | undefined> {
  return writeReport(outDir, { signal, warn: (m) => log.warn(m) }).catch((e: unknown) => {
    log.warn({ err: e }, 'report.html was not written');
    return undefined;
  });
}

function skippedOf(p: ResolvedPipeline): NonNullable<RunResult['skipped']> {
  return (p.skipped ?? []).map((k) => ({ id: k.id, stage: k.stage, reason: k.reason }));
}

/** Phase 4 on failure: the graph torn down, children stopped, temporary files removed. */
async function abortRun(run: Run, e: unknown): Promise<void> {
  run.connections.unsubscribe();
  if (!run.abort.signal.aborted) run.abort.abort('failed');
  await run.children.close();
  await run.outputs.abortAll();
  run.log.debug({ err: e }, 'run failed');
}

