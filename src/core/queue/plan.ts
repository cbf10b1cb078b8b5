/**
 * Flow plans built by the submitting CLI from a validated pipeline: paths become relative
 * to the shared root (every machine mounts it somewhere else), and each child gets its job.
 */
import { readFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { UsageError, InputError, suggestion } from '../errors.js';
import { isInside, isUrl } from '../confine.js';
import { globToRegExp, isGlob, naturalCompare } from '../image/files.js';
import type { ResolvedPipeline } from '../pipeline.js';
import type { FlowPlan } from './submit.js';
import { contentKey, type JobData, type PipelineRef } from './jobs.js';
import { findPcaChain, shardInputFiles } from './pca.js';
import { shardRanges } from '../pca/shards.js';
import { planPipelineSegments } from '../segmented-run.js';

export function relToRoot(root: string, p: string, what: string): string {
  const abs = resolve(p);
  if (!isInside(root, abs)) throw new UsageError(`${what} ${abs} is outside the shared root ${resolve(root)}`, 'workers see only the folder given as --root (default: the current folder); put it there or pass another --root');
  return relative(resolve(root), abs) || '.';
}

export function pipelineRef(root: string, p: ResolvedPipeline, file: string, set: readonly string[]): PipelineRef {
  return { path: relToRoot(root, file, 'pipeline file'), text: readFileSync(file, 'utf8'), set: [...set] };
}

/** Expands the --each arguments (files, globs with wildcards in the file name) in order. */
export function expandInputs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (isUrl(a)) { out.push(a); continue; }
    if (!isGlob(a)) {
      if (!existsSync(a)) throw new UsageError(`--each: input not found: ${a}`, 'check the path (relative to the current folder)');
      out.push(resolve(a));
      continue;
    }
    const dir = dirname(a);
    if (isGlob(dir)) throw new UsageError(`--each ${a}: wildcards only in the file name, not in folders`, 'e.g. --each "videos/*.mp4"');
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--each ${a}: folder ${dir} not found`, 'check the path');
    const re = globToRegExp(basename(a));
    const found = readdirSync(dir).filter((n) => re.test(n) && !n.startsWith('.')).sort(naturalCompare);
    if (!found.length) throw new UsageError(`--each ${a} matches no files`, `${dir} holds ${readdirSync(dir).slice(0, 5).join(', ') || 'nothing'}`);
    out.push(...found.map((n) => resolve(dir, n)));
  }
  return out;
}

/** Manifest lines: a path (sets the input variable) or NAME=VALUE pairs; # comments. Relative paths are relative to the manifest. */
export function readManifest(file: string): Array<{ input?: string; set: Array<[string, string]>; line: number }> {
  if (!existsSync(file)) throw new UsageError(`--manifest ${file} not found`, 'give a text file with one input (or NAME=VALUE pairs) per line');
  const base = dirname(resolve(file));
  const rows: Array<{ input?: string; set: Array<[string, string]>; line: number }> = [];
  readFileSync(file, 'utf8').split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    if (!line.includes('=')) {
      rows.push({ input: isUrl(line) ? line : resolve(base, line), set: [], line: i + 1 });
      return;
    }
    const set: Array<[string, string]> = [];
    for (const tok of line.split(/\s+/)) {
      const eq = tok.indexOf('=');
      if (eq <= 0) throw new UsageError(`${file}:${i + 1}: expected NAME=VALUE pairs or one path, got '${tok}'`, 'e.g. source=scans/a.ply target=scans/b.ply');
      set.push([tok.slice(0, eq), tok.slice(eq + 1)]);
    }
    rows.push({ set, line: i + 1 });
  });
  if (!rows.length) throw new UsageError(`--manifest ${file} lists no inputs`, 'one input per line');
  return rows;
}

/** The variable that names the pipeline's input: the one whose value is a source step's path. */
export function inputVariable(p: ResolvedPipeline): string {
  for (const s of p.steps) {
    if (s.def.input !== null || typeof s.params.path !== 'string') continue;
    const v = Object.entries(p.variables).find(([, val]) => val === s.params.path);
    if (v) return v[0];
  }
  throw new UsageError(`--each: cannot tell which variable of ${p.file} names the input`, `name it: --each NAME=GLOB (variables: ${Object.keys(p.variables).join(', ') || 'none'})`);
}

function pathVar(p: ResolvedPipeline, root: string, v: string, what: string): string {
  if (isUrl(v)) return v;
  relToRoot(root, v, what);
  return relative(p.baseDir, v) || '.';
}

/** What every flow plan is given: the root the workers share, the pipeline file, the --set entries and --out. */
interface FlowOptions {
  root: string;
  file: string;
  set: readonly string[];
  out: string;
}

export interface EachOptions extends FlowOptions {
  /** --each values (files or globs), optionally "NAME=GLOB" for the first */
  each?: readonly string[];
  manifest?: string;
  /** each child also writes report.html with WebM previews (default: not; `svdflow report DIR` writes it later) */
  report?: boolean;
  /** each child keeps its .checkpoints/ after it succeeded (--keep-checkpoints), as a local run */
  keepCheckpoints?: boolean;
}

export function planEach(p: ResolvedPipeline, o: EachOptions): FlowPlan {
  const ref = pipelineRef(o.root, p, o.file, o.set);
  const out = relToRoot(o.root, o.out, 'output folder');
  let variable: string | undefined;
  let args = [...(o.each ?? [])];
  const m = args[0] ? /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(args[0]) : null;
  if (m) {
    variable = m[1]!;
    args[0] = m[2]!;
    if (!(variable in p.variables)) throw new UsageError(`--each ${variable}=…: the pipeline has no variable '${variable}'`, suggestion(variable, Object.keys(p.variables), 'variables'));
  }
  const items: Array<{ name: string; set: string[]; label: string }> = [];
  if (o.manifest) {
    for (const row of readManifest(o.manifest)) {
      if (row.input !== undefined) {
        const v = variable ?? inputVariable(p);
        items.push({ name: basename(row.input, extname(row.input)), set: [`${v}=${pathVar(p, o.root, row.input, `${o.manifest}:${row.line}: input`)}`], label: relative(o.root, row.input) });
      } else {
        const set = row.set.map(([k, v]) => {
          if (!(k in p.variables)) throw new UsageError(`${o.manifest}:${row.line}: the pipeline has no variable '${k}'`, suggestion(k, Object.keys(p.variables), 'variables'));
          const abs = resolve(dirname(resolve(o.manifest!)), v);
          return `${k}=${existsSync(abs) ? pathVar(p, o.root, abs, `${o.manifest}:${row.line}: ${k}`) : v}`;
        });
        items.push({ name: row.set.map(([, v]) => basename(v, extname(v))).join('_'), set, label: `${o.manifest}:${row.line}` });
      }
    }
  } else {
    if (!args.length) throw new UsageError('--each needs inputs', 'e.g. --each "videos/*.mp4" (or --manifest FILE)');
    const v = variable ?? inputVariable(p);
    for (const f of expandInputs(args)) items.push({ name: isUrl(f) ? `item` : basename(f, extname(f)), set: [`${v}=${pathVar(p, o.root, f, '--each: input')}`], label: isUrl(f) ? f : relative(o.root, f) });
  }
  const seen = new Map<string, number>();
  const children: JobData[] = items.map((it) => {
    const n = (seen.get(it.name) ?? 0) + 1;
    seen.set(it.name, n);
    const name = (n === 1 ? it.name : `${it.name}-${n}`).replace(/[^A-Za-z0-9._-]/g, '_');
    return { kind: 'run', pipeline: { ...ref, set: [...ref.set, ...it.set] }, out: join(out, name), label: it.label, ...(o.report ? { report: true } : {}), ...(o.keepCheckpoints ? { keepCheckpoints: true } : {}) };
  });
  return { mode: 'each', parent: { kind: 'each', pipeline: ref, out, label: `${p.name} over ${children.length} inputs` }, children };
}

export interface SegmentsOptions extends FlowOptions {
  segments: number;
}

/** One long video in time segments (the plan of --workers), one child job each, stitched by the parent. */
export async function planSegmentsFlow(p: ResolvedPipeline, o: SegmentsOptions): Promise<FlowPlan> {
  const ref = pipelineRef(o.root, p, o.file, o.set);
  const out = relToRoot(o.root, o.out, 'output folder');
  const plan = await planPipelineSegments(p, o.segments);
  const children: JobData[] = plan.segments.map((s) => ({
    kind: 'segment',
    pipeline: ref,
    plan,
    k: s.index,
    out: join(out, '.segments', `seg-${s.index}`),
    label: `segment ${s.index + 1} (frames ${s.start}-${s.end === null ? 'end' : s.end - 1}, warm-up from ${s.warmupStart})`,
  }));
  return { mode: 'segments', parent: { kind: 'segments', pipeline: ref, plan, out, label: `${p.name}: ${children.length} segments stitched` }, children };
}

export interface PcaOptions extends FlowOptions {
  shards: number;
}

export function planPca(p: ResolvedPipeline, o: PcaOptions): FlowPlan {
  const chain = findPcaChain(p);
  const ref = pipelineRef(o.root, p, o.file, o.set);
  const out = relToRoot(o.root, o.out, 'output folder');
  const files = shardInputFiles(p, chain).map((f) => relToRoot(o.root, f, `step ${chain.load.id}: image`));
  if (files.length < 2) throw new InputError(`--shards: the collection has ${files.length} image`, 'a PCA needs at least two images');
  const children: JobData[] = shardRanges(files.length, o.shards).map(([a, b], q) => ({
    kind: 'pca-shard',
    pipeline: ref,
    svdStep: chain.svd.id,
    shard: q,
    files: files.slice(a, b),
    out: join(out, '.shards', `shard-${String(q).padStart(4, '0')}-${contentKey({ ref, files: files.slice(a, b) }, 8)}.bin`),
    label: `shard ${q + 1} (images ${a + 1}-${b})`,
  }));
  return { mode: 'pca', parent: { kind: 'pca-merge', pipeline: ref, svdStep: chain.svd.id, out, label: `${p.name}: merge of ${children.length} shards` }, children };
}
