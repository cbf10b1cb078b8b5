/**
 * The stage contract. A stage is a name, a one-line summary, typed ports, a zod
 * params schema (the single source of the params' type, defaults, ranges and
 * docs) and an RxJS operator. `defineStage` joins them; the result is both a
 * registry entry (for YAML pipelines) and a function for TypeScript chains:
 *
 *   load({ path: 'turtle.jpg', mode: 'gray' }).pipe(normalize(), center(), svd({ rank: 35 }))
 */
import { z } from 'zod';
import { resolveInputPath } from './data/locate.js';
import { isObservable, lastValueFrom, from, type Observable, type OperatorFunction, switchMap, defer, map } from 'rxjs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { FlowControl } from './flow.js';
import { OutputManager } from './outputs.js';
import { ChildRegistry } from './children.js';
import { ProgressRenderer, type ProgressHandle, type ProgressOptions } from './progress.js';
import { silentLogger } from './logging.js';
import { UsageError } from './errors.js';
import { formatZodIssues } from './zod-issues.js';
import type { VariantArgs } from './image/planes.js';
import type { PortKind, PortOf, PortSpec } from './ports.js';
import type { FileRef, PortValue } from './ports.js';
import type { PlannedSegment } from './video/segment-plan.js';

/** What a running stage may use. One per step. */
export interface StageContext {
  /** the step id in the pipeline (the stage name when used from code) */
  stepId: string;
  stage: string;
  log: Logger;
  /** aborted when the run is cancelled or fails */
  signal: AbortSignal;
  /** the run's backpressure valve (see flow.ts) */
  flow: FlowControl;
  /** folder that relative input paths are resolved against (the pipeline file's folder) */
  baseDir: string;
  /** the run's output folder */
  outDir: string;
  resolveInput(path: string): string;
  /** writes an output file atomically; `rel` is relative to outDir */
  writeFile(rel: string, data: string | Uint8Array, meta?: { format?: string; description?: string }): Promise<FileRef>;
  outputs: OutputManager;
  children: ChildRegistry;
  progress(opts?: ProgressOptions & { label?: string }): ProgressHandle;
  /** continue from checkpoints (svdflow run --resume) */
  resume: boolean;
  /** folder for this step's checkpoints */
  checkpointDir: string;
  /**
   * Ids of the steps that read this step's output (as input or side input), when the run knows
   * its graph; a stateful step resumes only from a point every one of them has passed.
   */
  consumers?: readonly string[];
  /**
   * True when this step is the only reader of its input step's values, the run keeps none of
   * them (no fan-out, no cache for a later stratum, no kept last value) and that input step's stage
   * declares `handsOver` (its values are new and held by nobody): the values may then be reused in
   * place (normalize scales a freshly decoded image's planes instead of copying them). Only the
   * runner sets it (a stage called from code never gets it from its caller); false when unsure.
   */
  inputExclusive?: boolean;
  /**
   * Given only with inputExclusive, by the runner, when the input step's stage offers variants
   * (StageDef.variants: load's `divided`, stack's `centredRows`): asks the input step to make that
   * variant of its values in the same pass. True when it will (the reader then passes its input on
   * as it comes: the work is done), false when it will not (the reader does the work itself). Ask
   * while the operator is applied, as center and normalize do; a stage called from code never gets it.
   */
  inputVariant?: <K extends keyof VariantArgs>(name: K, ...args: VariantArgs[K]) => boolean;
  /**
   * Set when this run is one segment of a long video (`--workers N`): the source
   * decodes [warmupStart, end) and stateful steps emit only from `start` on.
   */
  segment?: PlannedSegment;
}

/**
 * How a step takes part in a segmented run (`--workers N`): 'stream' steps run in
 * every segment unchanged (sources, transforms); sinks say how their files from
 * the segments are stitched together in frame order. Steps without it refuse `--workers`.
 */
export type SegmentRole = 'stream' | { stitch: Stitcher };

/** Joins one sink step's files from every segment (in frame order) into the run's outputs. */
export type Stitcher = (parts: SegmentPart[][], out: StitchContext, params: never) => Promise<{ files: FileRef[]; value?: PortValue }>;

/** A file one segment's run wrote for a step: `rel` under that run's folder, `path` absolute. */
export interface SegmentPart {
  rel: string;
  path: string;
  format: string;
  description?: string;
}

export interface StitchContext {
  stepId: string;
  outputs: OutputManager;
  children: ChildRegistry;
  /** a folder for temporary files (lists for ffmpeg's concat) */
  workDir: string;
  log: Logger;
}

export type Sides = Record<string, PortSpec>;
export type SideValues<S extends Sides> = { [K in keyof S]: PortOf<S[K]> };

interface StageDefBase<P extends z.ZodType, O extends PortSpec, S extends Sides> {
  /** kebab-case name used in YAML (`stage: name`) */
  name: string;
  /** one line, shown by `svdflow stages` */
  summary: string;
  /** longer docs, shown by `svdflow stages NAME` */
  description?: string;
  /** a YAML step using the stage */
  example?: string;
  /** the kind emitted, or a list when the kind depends on the params (load: Image or ImageBatch) */
  output: O;
  /** extra named inputs: single values computed by other steps before this one starts (e.g. an ICP target) */
  sides?: S;
  params: P;
  /** input files the params name (relative paths), checked to exist before anything runs */
  inputFiles?: (params: z.output<P>) => string[];
  /** part in a segmented run (--workers); absent: the stage cannot run in segments */
  segments?: SegmentRole;
  /**
   * A source reading a live stream (stdin, a network URL) with these params: returns the
   * stream's name. Such a run has no frame count and cannot be resumed or split (--resume,
   * --workers refuse it).
   */
  liveInput?: (params: z.output<P>) => string | undefined;
  /**
   * The kinds the step will emit when its params or its input's kinds tell, narrower than `output`
   * (load of a folder gives an ImageBatch; normalize passes on the kind it gets). Validation checks
   * the ports between neighbours with these, so that e.g. an ImageBatch meeting svd is caught before
   * anything runs. `params` is undefined when asked without a step (for "insert this stage" hints).
   */
  outputKinds?: (params: z.output<P>, input: readonly PortKind[], resolveInput: (path: string) => string) => readonly PortKind[];
  /**
   * Collections (checked before the run, core/collection-check.ts). A source of one: how many
   * items its batch will hold and where they come from (undefined: not a collection; an
   * InputError when it holds none).
   */
  batchSize?: (params: z.output<P>, resolveInput: (path: string) => string) => { count: number; where: string; single?: boolean } | undefined;
  /** what the step leaves of the collection's components (center by row: n - 1; svd with rank: at most rank) */
  collection?: (params: z.output<P>, counts: CollectionCounts) => CollectionCounts;
  /** what the step needs of the collection reaching it: at least `images` images or `components` components */
  needs?: (params: z.output<P>) => CollectionNeed[];
  /**
   * Every value the step emits is new, and the stage keeps no reference to it or to its memory
   * (load's decoded images, stack's matrix). Its one reader may then reuse that memory in place
   * when the run keeps none of the values (the reader's StageContext inputExclusive). Ownership
   * is the producer's declaration, not a mark on the value: a value passed on by another step,
   * re-emitted by a user's source or kept by anyone is never reused.
   */
  handsOver?: boolean;
  /**
   * Variants of its values the stage can make in the same pass (core/image/planes.ts handsOver:
   * load's `divided`, stack's `centredRows`): for each, the context entries under which its operator
   * (or source) makes them instead. A handsOver step's sole reader in a run, nothing kept, may take
   * one (the runner offers them on its input); from code the stage's own wrapper offers them.
   */
  variants?: { [K in keyof VariantArgs]?: (...args: VariantArgs[K]) => Record<symbol, unknown> };
}

/** A collection's size along a pipeline: images, and principal components left (n - 1 once centred by row). */
export interface CollectionCounts {
  images: number;
  components: number;
}

export interface CollectionNeed {
  images?: number;
  components?: number;
  /** what asks for it, e.g. "components [1, 2]" */
  why: string;
  /** how to ask for less, e.g. "--set map.components=[1,1]" (the step id is filled in) */
  fix?: string;
}

export interface SourceStageDef<P extends z.ZodType, O extends PortSpec, S extends Sides> extends StageDefBase<P, O, S> {
  input: null;
  source: (params: z.output<P>, ctx: StageContext, sides: SideValues<S>) => Observable<PortOf<O>>;
}

export interface TransformStageDef<P extends z.ZodType, I extends PortSpec, O extends PortSpec, S extends Sides> extends StageDefBase<P, O, S> {
  input: I;
  operator: (params: z.output<P>, ctx: StageContext, sides: SideValues<S>) => OperatorFunction<PortOf<I>, PortOf<O>>;
}

export type AnyStageDef = SourceStageDef<z.ZodType, PortSpec, Sides> | TransformStageDef<z.ZodType, PortSpec, PortSpec, Sides>;

/** How sides may be given from code: values, or observables whose last value is used. */
export type SideInputs<S extends Sides> = { [K in keyof S]: PortOf<S[K]> | Observable<PortOf<S[K]>> };

export interface CallOptions<S extends Sides> {
  sides?: SideInputs<S>;
  ctx?: Partial<StageContext>;
}

type HasSides<S extends Sides> = keyof S extends never ? false : true;

/*
 * From code, a stage whose output is one of several kinds (load: Image or ImageBatch;
 * reconstruct: Image or Matrix) can be narrowed with a type argument when the caller
 * knows which: `reconstruct<Image>()`. Pipelines check the actual kind at run time.
 */
export type SourceStage<P extends z.ZodType, O extends PortSpec, S extends Sides> = SourceStageDef<P, O, S> & {
  readonly def: SourceStageDef<P, O, S>;
} & (HasSides<S> extends true
    ? <Out extends PortOf<O> = PortOf<O>>(params: z.input<P>, opts: CallOptions<S> & { sides: SideInputs<S> }) => Observable<Out>
    : <Out extends PortOf<O> = PortOf<O>>(params?: z.input<P>, opts?: CallOptions<S>) => Observable<Out>);

export type TransformStage<P extends z.ZodType, I extends PortSpec, O extends PortSpec, S extends Sides> = TransformStageDef<P, I, O, S> & {
  readonly def: TransformStageDef<P, I, O, S>;
} & (HasSides<S> extends true
    ? <Out extends PortOf<O> = PortOf<O>>(params: z.input<P>, opts: CallOptions<S> & { sides: SideInputs<S> }) => OperatorFunction<PortOf<I>, Out>
    : <Out extends PortOf<O> = PortOf<O>>(params?: z.input<P>, opts?: CallOptions<S>) => OperatorFunction<PortOf<I>, Out>);

export type AnyStage = (SourceStage<z.ZodType, PortSpec, Sides> | TransformStage<z.ZodType, PortSpec, PortSpec, Sides>) & { def: AnyStageDef };

/** Parses params with the stage's schema; throws one readable error listing every issue. */
export function parseParams<P extends z.ZodType>(stageName: string, schema: P, params: unknown): z.output<P> {
  const r = schema.safeParse(params ?? {}, { reportInput: true });
  if (r.success) return r.data;
  const issues = formatZodIssues(r.error.issues, schema);
  throw new UsageError(`invalid params for stage ${stageName}:\n${issues.map((i) => `  ✖ ${i.path ? i.path + ': ' : ''}${i.message}${i.hint ? ` (${i.hint})` : ''}`).join('\n')}`);
}

/** A context for stages used from code, outside a pipeline run. */
export function standaloneContext(stage: string, overrides: Partial<StageContext> = {}): StageContext {
  const baseDir = overrides.baseDir ?? process.cwd();
  const outDir = overrides.outDir ?? resolve(process.cwd(), 'out');
  const outputs = overrides.outputs ?? new OutputManager(outDir, 'immediate');
  const progress = new ProgressRenderer(false);
  const ctx: StageContext = {
    stepId: stage,
    stage,
    log: silentLogger(),
    signal: new AbortController().signal,
    flow: new FlowControl(),
    baseDir,
    outDir,
    resolveInput: (p) => resolveInputPath(baseDir, p),
    writeFile: (rel, data, meta) => outputs.write(rel, data, { step: ctx.stepId, ...meta }),
    outputs,
    children: new ChildRegistry(),
    progress: (o = {}) => progress.create(o.label ?? ctx.stepId, o),
    resume: false,
    checkpointDir: resolve(outDir, '.checkpoints', stage),
    ...overrides,
  };
  return ctx;
}

function resolveSides<S extends Sides>(sides: SideInputs<S> | undefined): Observable<SideValues<S>> {
  return defer(async () => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(sides ?? {})) out[k] = isObservable(v) ? await lastValueFrom(v) : v;
    return out as SideValues<S>;
  });
}

export function defineStage<P extends z.ZodType, O extends PortSpec, S extends Sides = Record<never, never>>(def: SourceStageDef<P, O, S>): SourceStage<P, O, S>;
export function defineStage<P extends z.ZodType, I extends PortSpec, O extends PortSpec, S extends Sides = Record<never, never>>(def: TransformStageDef<P, I, O, S>): TransformStage<P, I, O, S>;
export function defineStage(def: AnyStageDef): AnyStage {
  if (!/^[a-z][a-z0-9-]*$/.test(def.name)) throw new Error(`stage name '${def.name}' must be kebab-case`);
  const call = (params?: unknown, opts: CallOptions<Sides> = {}) => {
    const p = parseParams(def.name, def.params, params);
    // inputExclusive and inputVariant are the runner's to give (a composite stage forwarding its own ctx must not pass them on)
    const ctx = standaloneContext(def.name, { ...opts.ctx, inputExclusive: undefined, inputVariant: undefined });
    const needSides = Object.keys(def.sides ?? {});
    const missing = needSides.filter((k) => !(opts.sides && k in opts.sides));
    if (missing.length) throw new UsageError(`stage ${def.name} needs side input${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, `pass { sides: { ${missing.map((m) => `${m}: …`).join(', ')} } } as the second argument`);
    const sides$ = resolveSides(opts.sides);
    if (def.input === null) {
      return sides$.pipe(switchMap((sides) => def.source(p, ctx, sides)));
    }
    return (source: Observable<unknown>) =>
      sides$.pipe(switchMap((sides) => source.pipe(def.operator(p, ctx, sides) as OperatorFunction<unknown, unknown>)));
  };
  Object.defineProperty(call, 'name', { value: def.name });
  const { name: _name, ...rest } = def;
  return Object.assign(call, rest, { def }) as unknown as AnyStage;
}

