#!/usr/bin/env node
/**
 * svdflow command line.
 *
 *   svdflow run FILE [--set name=value ...] [--out DIR] [--resume] [--keep-checkpoints] [--workers N] [--threads N] [--log-level L] [--log-json] [--no-progress]
 *   svdflow validate FILE [--set name=value ...]
 *   svdflow stages [NAME] [--json]
 *   svdflow schema [--out FILE]
 *   svdflow demo [--out DIR]
 *   svdflow report DIR
 *
 * Exit codes: 0 success, 1 runtime failure, 2 invalid pipeline or usage, 130 interrupted.
 */
import { parseArgs } from 'node:util';
import { writeFileSync, readdirSync, existsSync, mkdirSync, renameSync, realpathSync, readFileSync } from 'node:fs';
import { join, resolve, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultRegistry } from '../stages/index.js';
import { loadPipeline } from '../core/pipeline.js';
import { runPipeline, svdflowVersion, type RunResult } from '../core/runner.js';
import { runSegmented } from '../core/segmented-run.js';
import { setThreadBudget } from '../core/threads.js';
import { checkPlan, type PlannedSegment } from '../core/video/segment-plan.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../core/logging.js';
import { pipelineJsonSchema } from '../core/schema.js';
import { SvdflowError, UsageError, ValidationError, CancelledError, suggestion, shownPath } from '../core/errors.js';
import { describeStage, listStages } from './stages-text.js';
import { formatSeconds } from '../core/progress.js';
import { headlineResults, type HeadlineGroup } from '../core/headline.js';
import { dataMain } from './data.js';
import type { QueueFlags } from './queue.js';
import { writeReport, writeIndex } from '../core/report/write.js';
import { formatBytes, type IndexEntry } from '../core/report/page.js';
import { resolveInputPath, missingDataHint } from '../core/data/locate.js';

import { parseLimit, type Limits } from '../core/limits.js';

const COMMANDS = ['run', 'validate', 'stages', 'schema', 'demo', 'report', 'data', 'worker', 'status', 'help'] as const;
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Interrupts (Ctrl-C, SIGTERM, and SIGHUP when the terminal closes) abort this
 * controller: a run stops its children and removes its temporary files, then the
 * CLI exits 130. A second interrupt exits at once (the run's exit hook still
 * removes its temporary files). Installed when the CLI starts, so that an
 * interrupt during validation also ends with 130.
 */
const interrupt = new AbortController();
let interrupts = 0;
let running = false;
function onSignal(sig: NodeJS.Signals): void {
  interrupts++;
  if (interrupts > 1 || !running) {
    process.stderr.write(running ? '\nsvdflow: second interrupt, exiting now\n' : `\nsvdflow: ${sig} received, exiting\n`);
    process.exit(130);
  }
  process.stderr.write(`\nsvdflow: ${sig} received, stopping (press Ctrl-C again to force)\n`);
  interrupt.abort(sig);
}
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const HELP = `svdflow ${svdflowVersion()}: declarative YAML pipelines of typed RxJS stages for SVD-based signal processing

Usage:
  svdflow run FILE [--set name=value ...] [--out DIR] [--resume] [--keep-checkpoints] [--workers N] [--threads N] [--log-level L] [--log-json] [--no-progress]
  svdflow validate FILE [--set name=value ...] [--limit name=N ...]   check a pipeline without running it
  svdflow stages [NAME] [--json]                 list stages, or show one with its params
  svdflow schema [--out FILE]                    JSON Schema for pipeline files
  svdflow demo [--out DIR]                       run every pipeline in pipelines/ on the bundled data; writes out/index.html
  svdflow report DIR                             rebuild DIR/report.html from a finished run's folder (run.json and its files)
  svdflow data list | fetch [NAME|all]           the third-party data sets (svdflow data --help)

On a cluster (BullMQ on Redis; the local run above stays the default):
  svdflow worker --redis URL [--concurrency N] [--threads N] [--root DIR] [--lock-ms MS] [--grace S]
  svdflow run FILE --queue URL (--each GLOB... | --manifest FILE | --shards N | --segments N) [--root DIR] [--detach] [--report]
  svdflow status ID --redis URL

Options:
  --set name=value    override a variable, or a step's param: --set truncate.rank=20
  --limit name=N      raise or lower a resource limit: pipelineBytes, yamlAliases, yamlDepth, issuesShown
  --out DIR           output folder (default out/<pipeline-name>)
  --resume            continue from the checkpoints of an interrupted run
  --keep-checkpoints  keep the run's .checkpoints/ in the output folder after it succeeded, for inspection
                      (removed by default; a finished run cannot be resumed); with --queue --each each
                      input's run keeps its own; not with --workers N or --queue --segments N
  --workers N         split a long video into N time segments run in parallel worker processes,
                      outputs stitched in frame order (default 1)
  --threads N         thread budget of this process (run, worker): compute pool, linalg team, video
                      model thread, ffmpeg decoder (default: the cores it may use; 0 = no threads);
                      with --workers N each segment process gets the budget / N (at least 1)
  --log-level L       ${LOG_LEVELS.join(', ')} (default warn)
  --log-json          structured JSON logs on stderr
  --no-progress       no progress bars
  --queue URL         run as a flow of jobs on the workers of this Redis (redis:// or rediss://)
  --each GLOB         one job per input (files, globs; NAME=GLOB names the variable); --manifest FILE: one per line
  --shards N          collection PCA: N shard jobs, then a merge job
  --segments N        one long video: N time segment jobs (the plan of --workers), stitched by a parent job
  --root DIR          the folder every worker shares (default: the current folder)
  --detach            print the flow id and return; svdflow status ID follows it
  --report            --each: every job also writes report.html with WebM previews (default: not; svdflow report DIR later)

Exit codes: 0 success, 1 runtime failure, 2 invalid pipeline or usage, 130 interrupted (SIGINT, SIGTERM, SIGHUP).`;

/** Every option; the queue's own (--queue, --each, --shards, ...) are typed once, in queue.ts. */
interface Flags extends QueueFlags {
  limit: string[];
  resume: boolean;
  'keep-checkpoints': boolean;
  workers?: string;
  threads?: string;
  /** internal: run one segment of a plan (PLAN.json:K), as a --workers worker or a queue job */
  segment?: string;
  'log-level': string;
  'log-json': boolean;
  json: boolean;
  help: boolean;
  concurrency?: string;
  'lock-ms'?: string;
  grace?: string;
  version: boolean;
}

function parse(argv: string[]): { cmd: string; positionals: string[]; flags: Flags } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        set: { type: 'string', multiple: true, default: [] },
        limit: { type: 'string', multiple: true, default: [] },
        out: { type: 'string' },
        resume: { type: 'boolean', default: false },
        'keep-checkpoints': { type: 'boolean', default: false },
        workers: { type: 'string' },
        threads: { type: 'string' },
        segment: { type: 'string' },
        'log-level': { type: 'string', default: 'warn' },
        'log-json': { type: 'boolean', default: false },
        'no-progress': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        queue: { type: 'string' },
        redis: { type: 'string' },
        each: { type: 'string', multiple: true },
        manifest: { type: 'string' },
        shards: { type: 'string' },
        segments: { type: 'string' },
        detach: { type: 'boolean', default: false },
        report: { type: 'boolean', default: false },
        root: { type: 'string' },
        concurrency: { type: 'string' },
        'lock-ms': { type: 'string' },
        grace: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    });
  } catch (e) {
    const m = /Unknown option '(--?[^']+)'/.exec((e as Error).message);
    const opts = ['--set', '--limit', '--out', '--resume', '--keep-checkpoints', '--workers', '--threads', '--log-level', '--log-json', '--no-progress', '--json', '--help', '--version', '--queue', '--redis', '--each', '--manifest', '--shards', '--segments', '--detach', '--report', '--root', '--concurrency', '--lock-ms', '--grace'];
    throw new UsageError((e as Error).message.split('.')[0]!, m ? suggestion(m[1]!, opts, 'options') : 'see svdflow --help');
  }
  const [cmd = 'help', ...positionals] = parsed.positionals;
  const flags = parsed.values as unknown as Flags;
  // before anything starts a thread or a child: the pool, the model thread and ffmpeg read the budget when they start
  if (flags.threads !== undefined) setThreadBudget(threadsFlag(flags.threads));
  if (!(LOG_LEVELS as readonly string[]).includes(flags['log-level'])) throw new UsageError(`--log-level ${flags['log-level']} is not a level`, suggestion(flags['log-level'], LOG_LEVELS, 'levels'));
  return { cmd, positionals, flags };
}

function limitsOf(flags: Flags): Partial<Limits> {
  const l: Partial<Limits> = {};
  for (const a of flags.limit) parseLimit(a, l);
  return l;
}

function needFile(positionals: string[], cmd: string): string {
  if (positionals.length !== 1) throw new UsageError(`svdflow ${cmd} takes one pipeline file${positionals.length ? `, got ${positionals.length}` : ''}`, `e.g. svdflow ${cmd} pipelines/image-compress.yaml`);
  return positionals[0]!;
}

/** a run's wall-clock duration, once: 0.30 s, 12.41 s, 2m05s */
export function durationText(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(2)} s` : formatSeconds(ms / 1000);
}

/**
 * The CLI's summary of a run. peak RSS is the process's (getrusage maxrss): for one `svdflow run`
 * that is the run's; in the demo (several pipelines in one process, `rssSoFar`) it is the peak of
 * every run so far, and says so.
 */
export function summaryText(r: RunResult, opts: { rssSoFar?: boolean } = {}): string {
  const lines: string[] = [];
  lines.push(`✔ ${r.pipeline}: finished in ${durationText(r.durationMs)}, ${opts.rssSoFar ? 'process peak RSS so far' : 'peak RSS'} ${r.peakRssMiB.toFixed(0)} MiB`);
  // columns as wide as their longest entry (compression-report, long file names), so that they line up
  const w = Math.max(4, ...r.steps.map((s) => s.id.length));
  const sw = Math.max(14, ...r.steps.map((s) => s.stage.length));
  lines.push(`  ${'step'.padEnd(w)}  ${'stage'.padEnd(sw)} ${'in'.padStart(6)} ${'out'.padStart(6)}  done at`);
  for (const s of r.steps) lines.push(`  ${s.id.padEnd(w)}  ${s.stage.padEnd(sw)} ${String(s.itemsIn).padStart(6)} ${String(s.itemsOut).padStart(6)}  ${s.doneMs !== undefined ? (s.doneMs / 1000).toFixed(2) + ' s' : '-'}`);
  for (const k of r.skipped ?? []) lines.push(`  skipped: ${k.id} (${k.stage}): ${k.reason}`);
  const results = runHeadlines(r);
  if (results.length) {
    lines.push('  results:');
    for (const g of results) lines.push(`    ${g.title}: ${g.items.map((i) => `${i.label} ${i.value}`).join(', ')}`);
  }
  // the manifest and the report page are written too (not listed below: they describe the files)
  lines.push(`  wrote ${r.files.length} file${r.files.length === 1 ? '' : 's'} to ${shownPath(r.outDir)}/, plus run.json (the manifest)${r.report ? ' and report.html' : ''}`);
  const fw = Math.min(60, Math.max(36, ...r.files.map((f) => relative(r.outDir, f.path).length)));
  for (const f of byPath(r.files)) lines.push(`    ${relative(r.outDir, f.path).padEnd(fw)} ${formatBytes(f.bytes ?? 0).padStart(9)}  ${f.description ?? ''}`);
  return lines.join('\n');
}

const NATURAL = new Intl.Collator('en', { numeric: true });

/**
 * files sorted by path (the order they were committed in interleaves the steps' files), numbers
 * in names by value ({index} names: frame-2 before frame-10); paths the collation finds equal
 * (frame-01, frame-1) in code-point order, so the order never depends on the input's
 */
export function byPath<T extends { path: string }>(files: readonly T[]): T[] {
  return [...files].sort((a, b) => NATURAL.compare(a.path, b.path) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The headline results (src/core/headline.ts, as report.html shows them) of a run: its JSON files and its last values. */
export function runHeadlines(r: RunResult): HeadlineGroup[] {
  const docs: unknown[] = [];
  for (const f of r.files) {
    if (!f.path.endsWith('.json') || f.path.endsWith('run.json')) continue;
    try {
      docs.push(JSON.parse(readFileSync(f.path, 'utf8')));
    } catch {
      /* not ours to judge here */
    }
  }
  return headlineResults([...docs, ...Object.values(r.values ?? {})]);
}

function workersFlag(v: string | undefined): number {
  if (v === undefined) return 1;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new UsageError(`--workers ${v} is not a worker count`, 'give an integer from 1 to 256, e.g. --workers 2');
  return n;
}

function threadsFlag(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 0 || n > 1024) throw new UsageError(`--threads ${v} is not a thread count`, 'give an integer from 0 (no worker threads) to 1024, e.g. --threads 1');
  return n;
}

/** --segment PLAN.json:K (a --workers worker, or a queue job): segment K of a saved plan. */
function readSegment(v: string): PlannedSegment {
  const m = /^(.*):(\d+)$/.exec(v);
  if (!m || !existsSync(m[1]!)) throw new UsageError(`--segment ${v}: expected PLAN.json:INDEX with an existing plan file`, 'this option is used by --workers; run without it');
  const plan = checkPlan(JSON.parse(readFileSync(m[1]!, 'utf8')));
  const seg = plan.segments[Number(m[2])];
  if (!seg) throw new UsageError(`--segment ${v}: the plan has ${plan.segments.length} segments`, `give an index from 0 to ${plan.segments.length - 1}`);
  return seg;
}

async function runFile(file: string, flags: Flags, outDir?: string, demo = false): Promise<RunResult> {
  const log = createLogger({ level: flags['log-level'] as LogLevel, json: flags['log-json'] });
  const registry = defaultRegistry();
  const p = loadPipeline(file, registry, { set: flags.set, limits: limitsOf(flags), demo, cwd: process.cwd() });
  running = true;
  const common = { outDir: outDir ?? flags.out, log, signal: interrupt.signal, resume: flags.resume, keepCheckpoints: flags['keep-checkpoints'], progress: flags['no-progress'] ? false : undefined };
  // on a terminal, say what runs before the (possibly long) first step; progress bars follow
  if (!flags['no-progress'] && process.stderr.isTTY) process.stderr.write(`▶ ${p.name} (${p.steps.length} steps${p.skipped.length ? `, ${p.skipped.length} skipped` : ''}) → ${shownPath(resolve(common.outDir ?? join('out', p.name)))}/\n`);
  const workers = workersFlag(flags.workers);
  if (workers > 1) return runSegmented(file, p, { ...common, workers, set: flags.set });
  return runPipeline(p, { ...common, keepValues: 'sinks', ...(flags.segment ? { segment: readSegment(flags.segment), report: false } : {}) });
}

async function demo(flags: Flags): Promise<number> {
  const dir = join(ROOT, 'pipelines');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort() : [];
  if (!files.length) {
    console.log('svdflow demo: no pipelines in pipelines/ yet.');
    return 0;
  }
  const base = resolve(flags.out ?? 'out');
  const rows: string[] = [];
  const index: IndexEntry[] = [];
  // a pipeline the demo skips may still have a report from an earlier run of it into the same folder
  const earlier = (name: string, status: string, description?: string) => {
    const rep = join(base, name, 'report.html');
    index.push({ pipeline: name, description, status: existsSync(rep) ? `${status}; report of an earlier run` : status, report: existsSync(rep) ? `${name}/report.html` : undefined });
  };
  let failures = 0;
  for (const f of files) {
    const file = join(dir, f);
    let p;
    try {
      p = loadPipeline(file, defaultRegistry(), { set: flags.set, limits: limitsOf(flags), demo: true });
    } catch (e) {
      const missing = e instanceof ValidationError && e.issues.every((i) => i.message.startsWith('input file not found'));
      const fetchCmd = missing ? e.issues.map((i) => /`(npx svdflow data fetch \w+)`/.exec(i.hint ?? '')?.[1]).find(Boolean) : undefined;
      rows.push(`  - ${f}: skipped (${missing ? 'its input data is absent: ' + e.issues.map((i) => i.message.replace('input file not found: ', '')).join(', ') + (fetchCmd ? `; get it with: ${fetchCmd}` : '') + `; then run: npx svdflow run pipelines/${f}` : 'invalid'})`);
      earlier(f.replace(/\.ya?ml$/, ''), missing ? 'skipped: input data absent' : 'invalid');
      if (!missing) {
        failures++;
        console.error(e instanceof SvdflowError ? e.text : e);
      }
      continue;
    }
    const external = p.steps
      .flatMap((s) => (s.def.inputFiles ? s.def.inputFiles(s.params) : []))
      .map((x) => resolveInputPath(p.baseDir, x))
      .filter((x) => relative(ROOT, x).startsWith('..'));
    if (external.length) {
      rows.push(`  - ${f}: not part of the demo: it reads data outside the project (${shownPath(external[0]!)}); run it with: npx svdflow run pipelines/${f}`);
      earlier(p.name, `not part of the demo (reads ${relative(ROOT, external[0]!)}); run: npx svdflow run pipelines/${f}`, p.description);
      continue;
    }
    console.log(`\n▶ ${p.name}: ${p.description ?? f}`);
    try {
      const r = await runFile(file, { ...flags, set: flags.set }, join(base, p.name), true);
      console.log(summaryText(r, { rssSoFar: true }));
      rows.push(`  - ${f}: ${r.files.length} files in ${shownPath(r.outDir)}/ (${durationText(r.durationMs)})`);
      for (const x of byPath(r.files)) rows.push(`      ${shownPath(x.path)}`);
      index.push({ pipeline: p.name, description: p.description, status: r.report ? 'ran' : 'ran (report.html not written: see the warnings)', durationMs: r.durationMs, files: r.files.length, report: r.report ? relative(base, r.report) : undefined });
    } catch (e) {
      failures++;
      if (e instanceof CancelledError) throw e;
      console.error(e instanceof SvdflowError ? e.text : e);
      rows.push(`  - ${f}: FAILED`);
      index.push({ pipeline: p.name, description: p.description, status: 'FAILED' });
    }
  }
  console.log(`\nsvdflow demo: ${files.length} pipelines in pipelines/\n${rows.join('\n')}`);
  console.log(`\nResults are in ${shownPath(base)}/<pipeline-name>/ (each has a run.json manifest and a report.html).`);
  const indexPath = await writeIndex(base, index);
  console.log(`Reports of every pipeline: ${shownPath(indexPath)}  (open it in a browser)`);
  return failures ? 1 : 0;
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'data') return dataMain(argv.slice(1));
  const { cmd, positionals, flags } = parse(argv);
  if (flags.version) {
    console.log(svdflowVersion());
    return 0;
  }
  if (flags.help || cmd === 'help') {
    console.log(HELP);
    return 0;
  }
  switch (cmd) {
    case 'run': {
      // the queue (bullmq, ioredis) is loaded only when asked for: local runs start without it
      // a segmented run (--workers N, --queue --segments N) keeps each segment's checkpoints in .segments/ only until it
      // succeeds, then removes the folder: there are no run checkpoints to keep (--queue --each: each run keeps its own)
      const segmented = flags.queue ? flags.segments !== undefined && `--segments ${flags.segments}` : flags.workers !== undefined && workersFlag(flags.workers) > 1 && `--workers ${flags.workers}`;
      if (flags['keep-checkpoints'] && segmented) {
        throw new UsageError(`--keep-checkpoints is not supported with ${segmented}: a segmented run keeps each segment's checkpoints in .segments/ while it is unfinished (for --resume) and removes them when it succeeds`, `drop --keep-checkpoints, or run without ${segmented.split(' ')[0]} to keep the checkpoints of one run`);
      }
      if (flags.queue && flags.threads !== undefined) throw new UsageError('--threads sets the budget of the process that runs the work; with --queue that is each worker', 'start the workers with svdflow worker --redis URL --threads N');
      if (flags.queue) return (await import('./queue.js')).runQueued(positionals[0] ?? needFile(positionals, 'run'), positionals.slice(1), flags, summaryText);
      const queued = (['each', 'manifest', 'shards', 'segments', 'detach', 'report', 'root'] as const).filter((k) => flags[k] !== undefined && flags[k] !== false);
      if (queued.length) throw new UsageError(`--${queued[0]} runs on queue workers and needs --queue URL`, 'e.g. --queue redis://127.0.0.1:6379 (start workers with svdflow worker --redis URL)');
      const r = await runFile(needFile(positionals, 'run'), flags);
      console.log(summaryText(r));
      return 0;
    }
    case 'validate': {
      const file = needFile(positionals, 'validate');
      const p = loadPipeline(file, defaultRegistry(), { set: flags.set, limits: limitsOf(flags), cwd: process.cwd() });
      console.log(`✔ ${file} is valid: ${p.steps.length} steps (${p.steps.map((s) => s.id).join(' → ')})`);
      return 0;
    }
    case 'stages': {
      const reg = defaultRegistry();
      if (positionals.length > 1) throw new UsageError('svdflow stages takes at most one stage name');
      if (positionals[0]) {
        const def = reg.get(positionals[0]);
        if (!def) throw new UsageError(`unknown stage '${positionals[0]}'`, suggestion(positionals[0], reg.names(), 'stages'));
        console.log(flags.json ? JSON.stringify({ name: def.name, summary: def.summary, input: def.input, sides: def.sides ?? {}, output: def.output, params: reg.paramsJsonSchema(def.name) }, null, 2) : describeStage(def, reg));
      } else console.log(flags.json ? JSON.stringify(reg.all().map((d) => ({ name: d.name, summary: d.summary, input: d.input, sides: d.sides ?? {}, output: d.output })), null, 2) : listStages(reg));
      return 0;
    }
    case 'schema': {
      const text = JSON.stringify(pipelineJsonSchema(defaultRegistry()), null, 2) + '\n';
      if (flags.out) {
        mkdirSync(dirname(resolve(flags.out)), { recursive: true });
        const tmp = `${flags.out}.tmp-${process.pid}`;
        writeFileSync(tmp, text);
        renameSync(tmp, flags.out);
      } else process.stdout.write(text);
      return 0;
    }
    case 'report': {
      if (positionals.length !== 1) throw new UsageError(`svdflow report takes one output folder${positionals.length ? `, got ${positionals.length}` : ''}`, 'e.g. svdflow report out/icp');
      const dir = resolve(positionals[0]!);
      if (!existsSync(dir)) throw new UsageError(`folder not found: ${positionals[0]}`, 'give the output folder of a run, e.g. out/icp');
      if (!existsSync(join(dir, 'run.json'))) throw new UsageError(`${positionals[0]} has no run.json, so it is not the output folder of a finished run`, 'give the folder a run wrote (out/<pipeline>/), or run the pipeline first');
      const log = createLogger({ level: flags['log-level'] as LogLevel, json: flags['log-json'] });
      const path = await writeReport(dir, { warn: (m) => log.warn(m) });
      console.log(`wrote ${shownPath(path)}`);
      return 0;
    }
    case 'demo':
      return demo(flags);
    case 'worker':
      return (await import('./worker.js')).workerCommand(flags);
    case 'status':
      return (await import('./queue.js')).statusCommand(positionals, flags, summaryText);
    default:
      throw new UsageError(`unknown command '${cmd}'`, `${suggestion(cmd, COMMANDS, 'commands')} (svdflow --help)`);
  }
}

const ERRNO_HINTS: Record<string, string> = {
  ENOSPC: 'free some disk space, or pass another --out',
  EACCES: 'check the permissions',
  EPERM: 'check the permissions',
  EISDIR: 'a folder is where a file was expected: rename or remove it',
  ENOTDIR: 'a file is where a folder was expected: rename or remove it',
  ENOENT: 'a file or folder disappeared while svdflow used it',
  EMFILE: 'too many open files: raise the limit (ulimit -n)',
  EROFS: 'the file system is read-only: pass another --out',
  ENAMETOOLONG: 'use shorter file names',
};

function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f\x9b]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function reportError(e: unknown, debug: boolean): number {
  // control characters (terminal escape sequences from file names or YAML) are shown as \xNN, never sent to the terminal
  const print = (t: string) => process.stderr.write(printable(t));
  if (e instanceof SvdflowError) {
    print(`svdflow: ${e instanceof ValidationError ? '' : 'error: '}${e.text}\n`);
    if (debug && e.cause instanceof Error && e.cause.stack) print(`${e.cause.stack}\n`);
    return e.exitCode;
  }
  const err = e as Error;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    // the system refused something (a full disk, permissions, a folder where a file was expected): not a bug
    const path = (e as NodeJS.ErrnoException).path;
    print(`svdflow: error: ${err.message}\n  → ${ERRNO_HINTS[code] ?? 'check the paths and the disk'}${path ? ` (${path})` : ''}\n`);
    if (debug && err.stack) print(`${err.stack}\n`);
    return 1;
  }
  print(`svdflow: unexpected error: ${err?.message ?? String(e)}\n  → this is a bug in svdflow; rerun with --log-level debug for the stack and report it\n`);
  if (debug && err?.stack) print(`${err.stack}\n`);
  return 1;
}

// run as a program (node dist/src/cli/main.js, or the npm bin link, a symlink: compare real paths)
const realArgv1 = (() => {
  try {
    return process.argv[1] ? realpathSync(process.argv[1]) : '';
  } catch {
    return '';
  }
})();
const isMain = realArgv1 === realpathSync(fileURLToPath(import.meta.url));
if (isMain) {
  const argv = process.argv.slice(2);
  const debug = argv.some((a, i) => (a === '--log-level' && ['debug', 'trace'].includes(argv[i + 1] ?? '')) || /^--log-level=(debug|trace)$/.test(a));
  // The run has stopped its children and written (or removed) its files when main
  // settles; if a handle still keeps the event loop alive after that, exit anyway.
  const settle = (code: number) => {
    // An interrupt ends with 130 even when it came too late to stop the run (after its files
    // were committed): the user was told 'stopping', and 130 is what the interrupt promises.
    process.exitCode = interrupts > 0 && code === 0 ? 130 : code;
    // The run is over (its files committed or removed): an interrupt from now on ends the
    // process at once with 130 (onSignal), instead of aborting a run that already finished and
    // then exiting 0.
    running = false;
    // The process ends as soon as the event loop is empty. Left to itself, Node's teardown after
    // 'exit' closes the signal handles, which gives the signals their default action back while it
    // still stops worker threads: a Ctrl-C in that window killed the process BY SIGINT (no exit
    // code) instead of exit 130 (test/bad-inputs: the second Ctrl-C case, under load). Exiting from
    // the 'exit' event (process.exit there goes straight to the native exit, handlers still
    // installed, the signal then ignored) skips that window, for every run, interrupted or not:
    // the first interrupt may arrive just after the run settled. Added last, after the
    // native-call exit hook (linalg/native.ts) and the runner's, which must run first.
    process.once('exit', (c) => process.exit(c));
    setTimeout(() => process.exit(), 3000).unref();
  };
  // A run ends with exit 0 only if it settled: if the event loop empties first (a
  // promise that never settles), say so and fail instead of exiting 0 silently.
  // local runs (run, demo) stop on a signal through `interrupt`; data, worker and queued runs handle their own
  const localRun = (argv[0] === 'run' || argv[0] === 'demo') && !argv.some((a) => a === '--queue' || a.startsWith('--queue='));
  if (localRun) for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
  let settled = false;
  process.once('beforeExit', () => {
    if (settled) return;
    process.stderr.write('svdflow: internal error: the command stopped before it finished (nothing was left to run, but it never completed)\n  → this is a bug in svdflow; rerun with --log-level debug and report it\n');
    process.exitCode = 1;
  });
  main(argv)
    .then((c) => {
      settled = true;
      settle(c);
    })
    .catch((e) => {
      settled = true;
      settle(reportError(e, debug));
    });
}
