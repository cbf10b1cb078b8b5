/**
 * Errors that svdflow shows to people. Every message says what is wrong, where
 * (file:line:col, or step and stage) and what to do. Stack traces are only
 * printed at --log-level debug.
 */
import { relative, resolve, isAbsolute, sep } from 'node:path';

/** Where in a pipeline file something is. */
export interface Location {
  file?: string;
  line?: number;
  col?: number;
}

export function formatLocation(loc: Location | undefined): string {
  if (!loc?.file) return '';
  return `${loc.file}${loc.line ? `:${loc.line}${loc.col ? `:${loc.col}` : ''}` : ''}`;
}

/**
 * A path as shown to the user: relative to the current directory when it lies inside it
 * (photos/a.jpg), else absolute as given (/tmp/my photos/a.jpg), never a ../../ climb.
 */
export function shownPath(abs: string, from: string = process.cwd()): string {
  const r = relative(from, abs);
  if (r === '') return '.';
  return r === '..' || r.startsWith('..' + sep) || isAbsolute(r) ? resolve(from, abs) : r;
}

/** Base class: an error whose message is meant for the user as it is. */
export class SvdflowError extends Error {
  /** CLI exit code: 1 runtime failure, 2 invalid pipeline or usage, 130 interrupted */
  exitCode: number;
  hint?: string;
  constructor(message: string, opts: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'SvdflowError';
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? 1;
  }
  /** message plus hint, as printed */
  get text(): string {
    return this.hint ? `${this.message}\n  → ${this.hint}` : this.message;
  }
}

/** Bad input data or a bad value found while running (not a bug). Stages throw this. */
export class InputError extends SvdflowError {
  constructor(message: string, hint?: string, cause?: unknown) {
    super(message, { hint, exitCode: 1, cause });
    this.name = 'InputError';
  }
}

/** Usage error of the CLI or the API (exit code 2). */
export class UsageError extends SvdflowError {
  constructor(message: string, hint?: string) {
    super(message, { hint, exitCode: 2 });
    this.name = 'UsageError';
  }
}

export interface Issue {
  loc?: Location;
  /** dotted path inside the pipeline, e.g. steps[2].params.rank */
  path?: string;
  message: string;
  hint?: string;
}

export function formatIssue(i: Issue): string {
  const where = [formatLocation(i.loc), i.path].filter(Boolean).join(' ');
  return `${where ? where + ': ' : ''}${i.message}${i.hint ? `\n    → ${i.hint}` : ''}`;
}

/** The pipeline is invalid: every issue found, reported together (exit code 2). */
export class ValidationError extends SvdflowError {
  issues: Issue[];
  constructor(issues: Issue[], file?: string, shown = 100) {
    const head = `${file ? file + ': ' : ''}${issues.length} problem${issues.length === 1 ? '' : 's'} found; nothing was run.`;
    const listed = issues.slice(0, shown).map((i) => '✖ ' + formatIssue(i));
    if (issues.length > shown) listed.push(`… and ${issues.length - shown} more (the first ${shown} are shown; --limit issuesShown=N shows more)`);
    super(`${head}\n${listed.join('\n')}`, { exitCode: 2 });
    this.name = 'ValidationError';
    this.issues = issues;
  }
  override get text(): string {
    return this.message;
  }
}

/** A stage failed while running; names the step, its stage and its place in the file. */
export class StageError extends SvdflowError {
  stepId: string;
  stage: string;
  loc?: Location;
  constructor(stepId: string, stage: string, cause: unknown, loc?: Location) {
    const inner = cause instanceof Error ? cause.message : String(cause);
    const where = formatLocation(loc);
    super(`${where ? where + ' ' : ''}step '${stepId}' (stage ${stage}) failed: ${inner}`, {
      hint: cause instanceof SvdflowError ? cause.hint : undefined,
      exitCode: cause instanceof SvdflowError && cause.exitCode !== 2 ? cause.exitCode : 1,
      cause,
    });
    this.name = 'StageError';
    this.stepId = stepId;
    this.stage = stage;
    this.loc = loc;
  }
}

/** The run was cancelled (Ctrl-C / abort signal). */
export class CancelledError extends SvdflowError {
  constructor(reason = 'interrupted') {
    super(`run cancelled (${reason}); no output was written and child processes were stopped`, { exitCode: 130 });
    this.name = 'CancelledError';
  }
}

/** Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  const m = a.length, n = b.length;
  if (!m) return n;
  if (!n) return m;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1);
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const c = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + c);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[n]!;
}

/** The closest candidate, if it is close enough to be a likely typo. */
export function didYouMean(name: string, candidateList: Iterable<string>): string | undefined {
  const candidates = [...candidateList];
  let best: string | undefined;
  let bestD = Infinity;
  const lower = name.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestD) { bestD = d; best = c; }
  }
  if (best === undefined) return undefined;
  if (bestD > 0 && lower.length >= 3) {
    // a prefix of a name ("trunc" for "truncate") is a likely abbreviation
    const prefixed = candidates.filter((c) => c.toLowerCase().startsWith(lower)).sort((a, b) => a.length - b.length);
    if (prefixed.length && editDistance(lower, prefixed[0]!.toLowerCase()) < bestD + 4) return prefixed[0];
  }
  const limit = Math.max(2, Math.floor(Math.max(name.length, best.length) / 3));
  return bestD <= limit ? best : undefined;
}

/** "did you mean 'x'?" or a list of choices. */
export function suggestion(name: string, candidates: readonly string[], what = 'one of'): string {
  const dym = didYouMean(name, candidates);
  if (dym) return `did you mean '${dym}'?`;
  const list = candidates.length > 12 ? candidates.slice(0, 12).join(', ') + ', …' : candidates.join(', ');
  return `expected ${what}: ${list}`;
}

/**
 * A step's param as the command-line override that sets it: `--set fit.global.voxel=4.3`, quoted for
 * a shell when the value has spaces or YAML braces (`--set "load.resize={width: 64, height: 48}"`).
 * Hints name this form, which works whatever the pipeline file says.
 */
/** How a hint names setting a step's param: YAML by default (`layout: rows`); stages pass one that gives setForm's --set. */
export type ParamFix = (param: string, value: string) => string;
export const yamlFix: ParamFix = (param, value) => `${param}: ${value}`;

export function setForm(stepId: string, param: string, value: unknown): string {
  const v = typeof value === 'string' ? value : JSON.stringify(value);
  const arg = `${stepId}.${param}=${v}`;
  return /^[\w.,:=@/+-]+$/.test(arg) ? `--set ${arg}` : `--set "${arg.replace(/(["\\$`])/g, '\\$1')}"`;
}
