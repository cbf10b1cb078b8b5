/**
 * Pipeline files: YAML with a name, a description, variables and steps.
 *
 *   name: image-compress
 *   variables: { input: ../data/turtle.JPG, k: 35 }
 *   steps:
 *     - { id: image, stage: load, params: { path: "${input}", mode: gray } }
 *     - { id: svd, stage: svd, input: image }        # `input` defaults to the previous step
 *     - { id: plot, stage: report, input: svd }      # one output may feed several steps
 *
 * `loadPipeline` parses, substitutes variables (and --set overrides), validates
 * everything before anything runs (keys, stage names, params, port types between
 * connected steps, cycles, input files) and reports every issue with file:line:col.
 */
import * as fs from 'node:fs';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve, relative, basename, extname, isAbsolute } from 'node:path';
import { parseDocument, LineCounter, isMap, isScalar, isSeq, isAlias, isDocument, parse as parseYamlValue, type Node, type Document, type YAMLMap, type Pair } from 'yaml';
import { withDefaults, type Limits } from './limits.js';
import { outputNameProblem } from './outputs.js';
import { ValidationError, UsageError, didYouMean, suggestion, shownPath, type Issue, type Location } from './errors.js';
import { resolveInputPath, missingDataHint, DATA_PREFIX } from './data/locate.js';
import { isUrl } from './confine.js';
import { collectionIssues } from './collection-check.js';
import { formatZodIssues, formatPath, describeValue } from './zod-issues.js';
import type { Registry } from './registry.js';
import type { AnyStageDef } from './stage.js';
import { specKinds, portAccepts, type PortKind } from './ports.js';

export interface ResolvedStep {
  id: string;
  stage: string;
  def: AnyStageDef;
  /** id of the step feeding the main input (undefined for sources) */
  input?: string;
  /** side port -> step id */
  sides: Record<string, string>;
  /** params after validation (defaults applied) */
  params: Record<string, unknown>;
  description?: string;
  loc: Location;
  index: number;
}

/** A step left out because its `when:` is null, false, empty or 0. */
export interface SkippedStep {
  id: string;
  stage: string;
  /** the `when:` as written, e.g. "${groundTruth}" */
  when: string;
  /** what it came to */
  value: unknown;
  /** e.g. "when: ${groundTruth} is null" */
  reason: string;
  loc: Location;
  index: number;
}

export interface ResolvedPipeline {
  name: string;
  description?: string;
  /** path as given (for messages) */
  file: string;
  /** folder relative input paths resolve against */
  baseDir: string;
  variables: Record<string, unknown>;
  /** steps in a topological order */
  steps: ResolvedStep[];
  /** steps left out by their `when:` */
  skipped: SkippedStep[];
  /**
   * the `set` entries that name input paths, by their key (a variable name, or step.param), as
   * absolute paths resolved against LoadOptions.cwd (only when cwd was given); see rebaseSetPaths
   */
  setPaths: Record<string, string>;
  /** what --set changed, in the order given: a variable (with the pipeline file's value) or step.param */
  overrides?: Array<{ key: string; value: unknown; default?: unknown }>;
}

export interface LoadOptions {
  /** overrides: "name=value" (a variable) or "step.param=value" / "step.param.sub=value" */
  set?: readonly string[];
  /** check that input files exist (default true) */
  checkFiles?: boolean;
  /** how the file is named in messages (default: the path relative to cwd) */
  displayName?: string;
  /** resource limits (pipeline size, YAML aliases and depth); see limits.ts */
  limits?: Partial<Limits>;
  /**
   * folder that relative paths given through `set` resolve against: the CLI passes the shell's
   * current directory, runPipelineFile its `cwd` option (default process.cwd()); without it
   * (queue workers, whose submitter sent paths relative to the pipeline file) they are relative
   * to the pipeline file
   */
  cwd?: string;
  /** apply the file's `demo:` variable values (what `svdflow demo` runs), before `set` */
  demo?: boolean;

}

const TOP_KEYS = ['name', 'description', 'variables', 'steps', 'demo'] as const;
const STEP_KEYS = ['id', 'stage', 'input', 'inputs', 'params', 'description', 'when'] as const;
const ID_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const VAR_RE = /\$\{([^}]*)\}/g;
/** names that would reach Object.prototype through a plain object: refused as variable, step, key or --set names */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);
const own = (o: object, k: string): boolean => Object.hasOwn(o, k);

/**
 * Positions of values and keys in the YAML document. Lookups go through a
 * per-mapping index (built once per mapping), so locating every issue of a
 * file with many keys stays linear.
 */
class Locator {
  private readonly keyIndex = new WeakMap<YAMLMap, Map<string, Pair>>();
  constructor(
    private readonly doc: Document,
    private readonly lc: LineCounter,
    private readonly file: string,
  ) {}

  private pos(offset: number | undefined): Location {
    if (offset === undefined) return { file: this.file };
    const { line, col } = this.lc.linePos(offset);
    return { file: this.file, line, col };
  }

  lineCol(offset: number): { line: number; col: number } {
    return this.lc.linePos(offset);
  }

  private pair(map: YAMLMap, key: string): Pair | undefined {
    let idx = this.keyIndex.get(map);
    if (!idx) {
      idx = new Map();
      for (const p of map.items) if (isScalar(p.key) && !idx.has(String(p.key.value))) idx.set(String(p.key.value), p);
      this.keyIndex.set(map, idx);
    }
    return idx.get(key);
  }

  private child(node: unknown, key: PropertyKey): Node | undefined {
    if (isMap(node)) return (this.pair(node, String(key))?.value ?? undefined) as Node | undefined;
    if (isSeq(node) && typeof key === 'number') return node.items[key] as Node | undefined;
    return undefined;
  }

  /** Location of the value at `path`, or of the key `key` in the map at `path`. Falls back to the nearest parent. */
  at(path: readonly PropertyKey[], key?: string): Location {
    const chain: Node[] = [];
    let cur: Node | undefined = this.doc.contents ?? undefined;
    if (cur) chain.push(cur);
    for (const k of path) {
      cur = this.child(cur, k);
      if (!cur) break;
      chain.push(cur);
    }
    for (let n = Math.min(chain.length - 1, path.length); n >= 0; n--) {
      const node = chain[n]!;
      if (n === path.length && key !== undefined && isMap(node)) {
        const pair = this.pair(node, key);
        if (pair && isScalar(pair.key)) return this.pos(pair.key.range?.[0]);
      }
      if (n < path.length && isMap(node)) {
        // point at the key that is missing or wrong inside this map
        const pair = this.pair(node, String(path[n]));
        if (pair && isScalar(pair.key)) return this.pos(pair.key.range?.[0]);
      }
      return this.pos(node.range?.[0]);
    }
    return { file: this.file };
  }
}

function parseSetValue(raw: string): unknown {
  // a lone '-' is stdin (video=-), not YAML's list of one null
  if (raw.trim() === '-') return '-';
  try {
    return parseYamlValue(raw);
  } catch {
    return raw;
  }
}

/** longest string a substitution may produce (characters) */
const MAX_SUBSTITUTED = 1024 * 1024;
class SubstitutionTooLarge extends Error {
  constructor(readonly path: PropertyKey[]) {
    super('substitution too large');
  }
}

function substitute(value: unknown, vars: Record<string, unknown>, path: PropertyKey[], onUnknown: (name: string, path: PropertyKey[]) => void): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([^}]*)\}$/.exec(value);
    if (whole) {
      const name = whole[1]!.trim();
      if (!own(vars, name)) {
        onUnknown(name, path);
        return value;
      }
      return vars[name];
    }
    let grown = 0;
    return value.replace(VAR_RE, (m, n: string) => {
      const name = n.trim();
      if (!own(vars, name)) {
        onUnknown(name, path);
        return m;
      }
      const v = vars[name];
      const text = typeof v === 'string' ? v : JSON.stringify(v);
      grown += text.length;
      // a short string of many ${big} would otherwise grow without bound (an expansion bomb)
      if (grown > MAX_SUBSTITUTED) throw new SubstitutionTooLarge(path);
      return text;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, vars, [...path, i], onUnknown));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substitute(v, vars, [...path, k], onUnknown);
    return out;
  }
  return value;
}

/** Sets obj.k1.k2... = value along own properties only (keys are checked against RESERVED before). */
function setDeep(obj: Record<string, unknown>, keys: string[], value: unknown): void {
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    const next = own(cur, k) ? cur[k] : undefined;
    if (!next || typeof next !== 'object' || Array.isArray(next)) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = value;
}

export function loadPipeline(file: string, registry: Registry, opts: LoadOptions = {}): ResolvedPipeline {
  const abs = resolve(file);
  const shown = opts.displayName ?? shownPath(abs);
  if (!existsSync(abs)) {
    const dir = dirname(abs);
    let hint = 'check the path';
    try {
      const names = fs.readdirSync(dir).filter((n: string) => /\.ya?ml$/.test(n));
      const dym = didYouMean(basename(abs), names);
      hint = dym ? `did you mean ${shownPath(resolve(dir, dym))}?` : names.length ? `pipelines in ${shownPath(dir)}: ${names.join(', ')}` : hint;
    } catch {
      /* folder missing */
    }
    throw new UsageError(`pipeline file not found: ${shown}`, hint);
  }
  const limits = withDefaults(opts.limits);
  const st = fs.statSync(abs);
  if (st.isDirectory()) {
    const names = fs.readdirSync(abs).filter((n: string) => /\.ya?ml$/.test(n));
    throw new UsageError(`${shown} is a folder, not a pipeline file`, names.length ? `pipelines in it: ${names.slice(0, 12).join(', ')}` : 'give the path of a .yaml file');
  }
  if (!st.isFile()) throw new UsageError(`${shown} is not a regular file`, 'give the path of a .yaml file (devices and pipes are not read)');
  if (st.size > limits.pipelineBytes) {
    throw new UsageError(`pipeline file ${shown} is ${st.size} bytes, above the limit of ${limits.pipelineBytes} bytes`, `a pipeline is a short YAML file; if this one really is this large, raise the limit with --limit pipelineBytes=${st.size}`);
  }
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read pipeline file ${shown} (${code ?? (e as Error).message})`, code === 'EACCES' ? 'check its permissions' : 'check the path');
  }
  return parsePipeline(text, { ...opts, file: shown, baseDir: dirname(abs), defaultName: basename(abs, extname(abs)) }, registry);
}

/** What every validation phase shares: where things are, and the problems found so far. */
interface Checker {
  file: string;
  where: Locator;
  issues: Issue[];
  registry: Registry;
  limits: Limits;
  /** what --set gave: its text by name (input, truncate.percent), the variables' YAML values, the variables it set */
  set?: { text: Map<string, string>; yaml: Record<string, unknown>; vars: Set<string> };
}

/** A step after the first pass: its shape checked, not yet wired or validated. */
interface Draft {
  index: number;
  id: string;
  stage: string;
  def?: AnyStageDef;
  input?: string;
  /** the step names its input (input: key present) rather than defaulting to the previous step */
  explicitInput: boolean;
  sides: Record<string, string>;
  rawParams: Record<string, unknown>;
  description?: string;
  loc: Location;
  /** `when:` as written (absent: the step always runs) */
  when?: unknown;
  hasWhen: boolean;
  /** top-level params whose value the command line gave (--set step.param=…) */
  cliParams: Set<string>;
}

/** `--set` overrides, split into variables and step params. */
interface Overrides {
  vars: Array<{ name: string; value: unknown }>;
  steps: Array<{ step: string; keys: string[]; value: unknown; raw: string }>;
}

/**
 * Validates a pipeline text, one phase after another (YAML, top-level keys,
 * variables and --set, step shapes, wiring and params, order), and throws one
 * ValidationError listing every problem found.
 */
export function parsePipeline(
  text: string,
  opts: LoadOptions & { file: string; baseDir: string; defaultName?: string },
  registry: Registry,
): ResolvedPipeline {
  const file = opts.file;
  const limits = withDefaults(opts.limits);
  const { doc, lc, top } = readDocument(text, file, limits);
  const c: Checker = { file, where: new Locator(doc, lc, file), issues: [], registry, limits };
  checkKeys(doc, c);
  checkTopKeys(top, c);
  const variables = readVariables(top, c);
  if (opts.demo) applyDemoValues(top, variables, c);
  const overrides = parseOverrides(opts.set ?? [], c);
  c.set = { text: setTexts(opts.set ?? []), yaml: { ...variables }, vars: new Set(overrides.vars.map((v) => v.name)) };
  applyVariableOverrides(variables, overrides, c);
  const rawSteps = readStepList(top, c);
  const drafts = draftSteps(rawSteps, c);
  applyStepOverrides(drafts, overrides, c);
  const cliVars = new Set(overrides.vars.map((v) => v.name));
  const setPaths: Record<string, string> = {};
  const { resolved, skipped } = resolveSteps(drafts, variables, cliVars, opts, c, setPaths);
  const order = orderSteps(resolved, c);
  const name = pipelineName(top, opts.defaultName, c);
  // one image file where the steps expect a collection (load's output narrowed to Image by the path):
  // that is the data's problem, reported as for a one-image glob (exit 1) when a step's need says so
  if (c.issues.length && c.issues.every((i) => singleImageIssues.has(i)) && opts.checkFiles !== false) {
    const data = collectionIssues(order, (f) => resolveInputPath(opts.baseDir, f), file, true);
    if (data.length) {
      const e = new ValidationError(data, file, limits.issuesShown);
      e.exitCode = 1;
      throw e;
    }
  }
  throwIfIssues(c);
  if (opts.checkFiles !== false) {
    // the pipeline is sound; a collection too small for it is the data's problem (exit 1)
    const data = collectionIssues(order, (f) => resolveInputPath(opts.baseDir, f), file);
    if (data.length) {
      const e = new ValidationError(data, file, limits.issuesShown);
      e.exitCode = 1;
      throw e;
    }
  }
  return {
    name,
    description: typeof top.description === 'string' ? top.description : undefined,
    file,
    baseDir: opts.baseDir,
    variables,
    steps: order,
    skipped,
    setPaths,
    // one entry per key, the value used (a repeated --set: the last one)
    overrides: [...new Map([
      ...overrides.vars.map((v) => [v.name, { key: v.name, value: variables[v.name], default: c.set!.yaml[v.name] }] as const),
      ...overrides.steps.map((o) => { const key = [o.step, ...o.keys].join('.'); return [key, { key, value: o.value }] as const; }),
    ]).values()],
  };
}

function throwIfIssues(c: Checker): void {
  if (!c.issues.length) return;
  c.issues.sort((a, b) => (a.loc?.line ?? 0) - (b.loc?.line ?? 0) || (a.loc?.col ?? 0) - (b.loc?.col ?? 0));
  throw new ValidationError(c.issues, c.file, c.limits.issuesShown);
}

/**
 * Phase 1: YAML text to a mapping (syntax errors end validation here). Duplicate
 * keys are found by checkKeys in one pass (the parser's own check is quadratic in
 * the keys of a mapping); nesting depth and aliases are bounded (limits.ts).
 */
function readDocument(text: string, file: string, limits: Limits): { doc: Document; lc: LineCounter; top: Record<string, unknown> } {
  const lc = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: false });
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new ValidationError([{ loc: { file }, message: 'the YAML nests too deeply to be read', hint: `a pipeline nests a few levels; at most ${limits.yamlDepth} are allowed` }], file);
  }
  if (doc.errors.length) {
    const issues = doc.errors.map((e): Issue => {
      const p = e.linePos?.[0];
      return { loc: { file, line: p?.line, col: p?.col }, message: `YAML syntax error: ${e.message.split('\n')[0]}`, hint: 'fix the YAML (indentation, a missing colon or quote)' };
    });
    throw new ValidationError(issues, file);
  }
  const deep = tooDeep(doc, limits.yamlDepth);
  if (deep) {
    const { line, col } = lc.linePos(deep.range?.[0] ?? 0);
    throw new ValidationError([{ loc: { file, line, col }, message: `the YAML nests deeper than ${limits.yamlDepth} levels here`, hint: `a pipeline nests a few levels; if this is intended, raise the limit with --limit yamlDepth=N` }], file);
  }
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: limits.yamlAliases });
  } catch (e) {
    if (!(e instanceof ReferenceError || e instanceof RangeError)) throw e;
    const bomb = /alias count/i.test(e.message);
    throw new ValidationError([{ loc: { file }, message: bomb ? `the YAML aliases (*name) expand to too many values (more than ${limits.yamlAliases} alias uses)` : `the YAML cannot be read: ${e.message}`, hint: bomb ? 'write the values out, or use fewer nested aliases; raise the limit with --limit yamlAliases=N if this is intended' : 'remove circular or deeply nested aliases' }], file);
  }
  if (!root || typeof root !== 'object' || Array.isArray(root)) {
    throw new ValidationError([{ loc: { file, line: 1, col: 1 }, message: 'a pipeline file must be a mapping with name, description, variables and steps', hint: 'see README.md, "Pipeline files"' }], file);
  }
  return { doc, lc, top: root as Record<string, unknown> };
}

/** Children of a YAML node (keys and values of a mapping, items of a list). */
function yamlChildren(node: unknown): unknown[] {
  if (isMap(node)) return node.items.flatMap((p) => [p.key, p.value]);
  if (isSeq(node)) return node.items;
  return [];
}

/** The first node nested deeper than `max` (iterative: depth is what is being limited). */
function tooDeep(doc: Document, max: number): Node | undefined {
  const stack: Array<[unknown, number]> = [[doc.contents, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth >= max) return node as Node;
    for (const ch of yamlChildren(node)) stack.push([ch, depth + 1]);
  }
  return undefined;
}

/** Phase 1b, one pass over every mapping: duplicate keys, and keys that would reach Object.prototype. */
function checkKeys(doc: Document, c: Checker): void {
  const stack: unknown[] = [doc.contents];
  while (stack.length) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Map<string, number | undefined>();
      for (const p of node.items) {
        if (!isScalar(p.key)) continue;
        const k = String(p.key.value);
        const at = p.key.range?.[0];
        const loc = at === undefined ? { file: c.file } : { file: c.file, ...c.where.lineCol(at) };
        if (RESERVED.has(k)) c.issues.push({ loc, message: `'${k}' is not allowed as a key`, hint: 'rename it (names that reach JavaScript object internals are refused)' });
        else if (seen.has(k)) c.issues.push({ loc, message: `duplicate key '${k}'${seen.get(k) ? ` (first at line ${seen.get(k)})` : ''}`, hint: 'keep one of them: YAML mapping keys must be unique' });
        else seen.set(k, at === undefined ? undefined : c.where.lineCol(at).line);
      }
    }
    for (const ch of yamlChildren(node)) if (isMap(ch) || isSeq(ch)) stack.push(ch);
  }
}

/** The pipeline's name (default: the file name); it names the default output folder out/<name>, so it must be one plain folder name. */
function pipelineName(top: Record<string, unknown>, defaultName: string | undefined, c: Checker): string {
  const given = top.name;
  if (given === undefined || given === null) {
    const d = defaultName ?? 'pipeline';
    return safeFolderName(d) ? d : 'pipeline';
  }
  if (typeof given !== 'string' || !safeFolderName(given)) {
    c.issues.push({ loc: c.where.at(['name']), path: 'name', message: `name must be a plain name (it names the output folder out/<name>), got ${describeValue(given)}`, hint: "use letters, digits, '-', '_' or '.', without '/', '\\' or '..'; pick the output folder with --out" });
    return 'pipeline';
  }
  return given;
}

function safeFolderName(n: string): boolean {
  return n.length > 0 && n.length <= 200 && n !== '.' && n !== '..' && !/[/\\\x00-\x1f]/.test(n);
}

/** Phase 2: only the known top-level keys. */
function checkTopKeys(top: Record<string, unknown>, c: Checker): void {
  for (const k of Object.keys(top)) {
    if (!(TOP_KEYS as readonly string[]).includes(k)) c.issues.push({ loc: c.where.at([], k), path: k, message: `unknown top-level key '${k}'`, hint: suggestion(k, TOP_KEYS, 'keys') });
  }
}

/** Phase 3: the variables mapping. */
function readVariables(top: Record<string, unknown>, c: Checker): Record<string, unknown> {
  const variables: Record<string, unknown> = {};
  const rawVars = top.variables;
  if (rawVars !== undefined && (typeof rawVars !== 'object' || rawVars === null || Array.isArray(rawVars))) {
    c.issues.push({ loc: c.where.at(['variables']), path: 'variables', message: `expected a mapping of names to values, got ${describeValue(rawVars)}` });
  } else if (rawVars) {
    for (const [k, v] of Object.entries(rawVars)) if (!RESERVED.has(k)) variables[k] = v;
  }
  return variables;
}

/** Phase 3b: `demo:` gives values to declared variables for `svdflow demo` (e.g. the bundled clip's ground truth). */
function applyDemoValues(top: Record<string, unknown>, variables: Record<string, unknown>, c: Checker): void {
  const demo = top.demo;
  if (demo === undefined || demo === null) return;
  if (typeof demo !== 'object' || Array.isArray(demo)) {
    c.issues.push({ loc: c.where.at(['demo']), path: 'demo', message: `expected a mapping of variable names to values, got ${describeValue(demo)}` });
    return;
  }
  for (const [k, v] of Object.entries(demo)) {
    if (k in variables) variables[k] = v;
    else c.issues.push({ loc: c.where.at(['demo'], k), path: `demo.${k}`, message: `demo sets '${k}', which is not a variable`, hint: suggestion(k, Object.keys(variables), 'variables') });
  }
}

/** Phase 4a: `--set name=value` and `--set step.param=value`; malformed ones are problems like any other. */
function parseOverrides(set: readonly string[], c: Checker): Overrides {
  const out: Overrides = { vars: [], steps: [] };
  for (const s of set) {
    const eq = s.indexOf('=');
    if (eq <= 0) {
      c.issues.push({ path: `--set ${s}`, message: `--set expects name=value, got '${s}'`, hint: 'e.g. --set k=20 or --set truncate.rank=20' });
      continue;
    }
    const name = s.slice(0, eq).trim();
    const value = parseSetValue(s.slice(eq + 1));
    const bad = name.split('.').find((k) => RESERVED.has(k));
    if (bad) {
      c.issues.push({ path: `--set ${name}`, message: `'${bad}' is not allowed in a --set name`, hint: 'name a variable (--set NAME=VALUE) or a step param (--set STEP.PARAM=VALUE)' });
      continue;
    }
    if (name.includes('.')) {
      const [step, ...keys] = name.split('.');
      out.steps.push({ step: step!, keys, value, raw: s });
    } else out.vars.push({ name, value });
  }
  return out;
}

/** each --set by its name, as typed (for messages: "set by --set input=…") */
function setTexts(set: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const s of set) {
    const eq = s.indexOf('=');
    if (eq > 0) m.set(s.slice(0, eq).trim(), s.trim());
  }
  return m;
}

/** " (set by --set input=…)" when the command line gave param `key` of step `d`, else '' */
function setBy(d: Draft, key: PropertyKey | undefined, c: Checker): string {
  if (typeof key !== 'string' || !c.set) return '';
  const k = setKeyOf(d, key, c.set.vars);
  const text = k === undefined ? undefined : c.set.text.get(k);
  return text ? ` (set by --set ${text})` : '';
}

/** Phase 4b: `--set name=value` replaces a declared variable. */
function applyVariableOverrides(variables: Record<string, unknown>, o: Overrides, c: Checker): void {
  for (const { name, value } of o.vars) {
    if (own(variables, name)) {
      variables[name] = value;
      continue;
    }
    const names = Object.keys(variables);
    c.issues.push({
      path: `--set ${name}`,
      message: `the pipeline has no variable '${name}'`,
      hint: names.length ? `${suggestion(name, names, 'variables')}; or set a step's param with --set STEP.PARAM=VALUE` : `this pipeline declares no variables; set a step's param with --set STEP.PARAM=VALUE`,
    });
  }
}

/** Phase 5: the step list must exist (nothing else can be checked without it). */
function readStepList(top: Record<string, unknown>, c: Checker): unknown[] {
  const rawSteps = top.steps;
  if (!Array.isArray(rawSteps) || rawSteps.length === 0) {
    c.issues.push({ loc: c.where.at(['steps']), path: 'steps', message: rawSteps === undefined ? 'missing key steps' : 'steps must be a non-empty list', hint: 'add a list of steps, each with a stage and params' });
    throwIfIssues(c);
  }
  return rawSteps as unknown[];
}

/** Phase 6: each step's keys, stage, id, params, inputs (shapes only). */
function draftSteps(rawSteps: unknown[], c: Checker): Draft[] {
  const drafts: Draft[] = [];
  const ids = new Map<string, number>();
  rawSteps.forEach((raw, i) => {
    const d = draftStep(raw, i, c);
    if (!d) return;
    if (ids.has(d.id)) {
      const first = drafts[ids.get(d.id)!]!;
      const named = (raw as Record<string, unknown>).id !== undefined;
      c.issues.push({ loc: c.where.at(['steps', i, named ? 'id' : 'stage']), path: `steps[${i}].id`, message: `duplicate step id '${d.id}' (first used at line ${first.loc.line})`, hint: 'give each step a unique id' });
    } else ids.set(d.id, drafts.length);
    drafts.push(d);
  });
  return drafts;
}

function draftStep(raw: unknown, i: number, c: Checker): Draft | undefined {
  const { where, issues, registry } = c;
  const path = ['steps', i];
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    issues.push({ loc: where.at(path), path: `steps[${i}]`, message: `expected a mapping with stage and params, got ${describeValue(raw)}` });
    return undefined;
  }
  const step = raw as Record<string, unknown>;
  for (const k of Object.keys(step)) {
    if (!(STEP_KEYS as readonly string[]).includes(k)) issues.push({ loc: where.at(path, k), path: `steps[${i}].${k}`, message: `unknown step key '${k}'`, hint: suggestion(k, STEP_KEYS, 'keys') });
  }
  const stage = step.stage;
  if (typeof stage !== 'string') {
    issues.push({ loc: where.at(path, 'stage'), path: `steps[${i}].stage`, message: stage === undefined ? 'missing key stage' : `stage must be a name, got ${describeValue(stage)}`, hint: `one of: ${registry.names().join(', ')}` });
    return undefined;
  }
  const def = registry.get(stage);
  if (!def) issues.push({ loc: where.at([...path, 'stage']), path: `steps[${i}].stage`, message: `unknown stage '${stage}'`, hint: `${suggestion(stage, registry.names(), 'stages')} (svdflow stages lists them)` });
  let id = step.id === undefined ? stage : step.id;
  if (typeof id !== 'string' || !ID_RE.test(id) || RESERVED.has(id) || id.length > 100) {
    issues.push({ loc: where.at([...path, 'id']), path: `steps[${i}].id`, message: typeof id === 'string' && RESERVED.has(id) ? `'${id}' is not allowed as a step id` : `step id must be a name of letters, digits, _ and -, got ${describeValue(id)}`, hint: typeof id === 'string' && RESERVED.has(id) ? 'choose another id' : undefined });
    id = `#${i}`;
  }
  const params = step.params === undefined || step.params === null ? {} : step.params;
  if (typeof params !== 'object' || Array.isArray(params)) {
    issues.push({ loc: where.at([...path, 'params']), path: `steps[${i}].params`, message: `params must be a mapping, got ${describeValue(params)}` });
  }
  const sidesRaw = step.inputs ?? {};
  const sides: Record<string, string> = {};
  if (typeof sidesRaw !== 'object' || Array.isArray(sidesRaw) || sidesRaw === null) {
    issues.push({ loc: where.at([...path, 'inputs']), path: `steps[${i}].inputs`, message: `inputs must map port names to step ids, got ${describeValue(sidesRaw)}` });
  } else {
    for (const [k, v] of Object.entries(sidesRaw)) {
      if (typeof v !== 'string') issues.push({ loc: where.at([...path, 'inputs', k]), path: `steps[${i}].inputs.${k}`, message: `expected a step id, got ${describeValue(v)}` });
      else sides[k] = v;
    }
  }
  if (step.input !== undefined && typeof step.input !== 'string') issues.push({ loc: where.at([...path, 'input']), path: `steps[${i}].input`, message: `input must be a step id, got ${describeValue(step.input)}` });
  return {
    index: i,
    id: id as string,
    stage,
    def,
    input: typeof step.input === 'string' ? step.input : undefined,
    explicitInput: 'input' in step,
    sides,
    rawParams: params && typeof params === 'object' && !Array.isArray(params) ? (params as Record<string, unknown>) : {},
    description: typeof step.description === 'string' ? step.description : undefined,
    loc: where.at(path),
    when: step.when,
    hasWhen: 'when' in step,
    cliParams: new Set(),
  };
}

/** Phase 7: `--set step.param=value` into the step's raw params. */
function applyStepOverrides(drafts: Draft[], o: Overrides, c: Checker): void {
  for (const s of o.steps) {
    const d = drafts.find((x) => x.id === s.step);
    if (!d) {
      c.issues.push({ path: `--set ${s.raw}`, message: `no step '${s.step}'`, hint: suggestion(s.step, drafts.map((x) => x.id), 'step ids') });
      continue;
    }
    if (!s.keys.length || s.keys.some((k) => k === '')) {
      c.issues.push({ path: `--set ${s.raw}`, message: 'name a param after the step id', hint: `e.g. --set ${s.step}.rank=20` });
      continue;
    }
    setDeep(d.rawParams, s.keys, s.value);
    d.cliParams.add(s.keys[0]!);
  }
}

/** A `when:` value that leaves its step out: null (or absent), false, "", 0 or an empty list. */
export function whenSkips(v: unknown): boolean {
  return v === null || v === undefined || v === false || v === '' || v === 0 || (Array.isArray(v) && v.length === 0);
}

/**
 * Phase 8: variables substituted, `when:` evaluated (a step whose when is null, false, empty
 * or 0 is left out), params validated, then inputs wired and type-checked with the kinds each
 * step will emit (a skipped step feeding a kept one is a problem), and input files checked.
 */
function resolveSteps(drafts: Draft[], variables: Record<string, unknown>, cliVars: Set<string>, opts: LoadOptions & { baseDir: string }, c: Checker, setPaths: Record<string, string>): { resolved: ResolvedStep[]; skipped: SkippedStep[] } {
  const byId = new Map(drafts.map((d) => [d.id, d]));
  const stepIds = drafts.map((d) => d.id);
  const onUnknownVar = (name: string, path: PropertyKey[]) => {
    c.issues.push({ loc: c.where.at(path), path: formatPath(path), message: `unknown variable '\${${name}}'`, hint: Object.keys(variables).length ? suggestion(name, Object.keys(variables), 'variables') : 'declare it under variables:' });
  };
  const skipped = new Map<string, SkippedStep>();
  const params = new Map<string, Record<string, unknown>>();
  const parsed = new Map<string, Record<string, unknown> | undefined>();
  for (const d of drafts) {
    if (d.hasWhen) {
      const v = substitute(d.when, variables, ['steps', d.index, 'when'], onUnknownVar);
      if (whenSkips(v)) {
        const written = typeof d.when === 'string' ? d.when : JSON.stringify(d.when);
        skipped.set(d.id, { id: d.id, stage: d.stage, when: written, value: v ?? null, reason: `when: ${written} is ${JSON.stringify(v ?? null)}`, loc: d.loc, index: d.index });
        continue;
      }
    }
    let p: Record<string, unknown>;
    try {
      p = substitute(d.rawParams, variables, ['steps', d.index, 'params'], onUnknownVar) as Record<string, unknown>;
    } catch (e) {
      if (!(e instanceof SubstitutionTooLarge)) throw e;
      c.issues.push({ loc: c.where.at(e.path), path: formatPath(e.path), message: `substituting variables makes this value longer than ${MAX_SUBSTITUTED} characters`, hint: 'use the variable fewer times, or a shorter value' });
      continue;
    }
    params.set(d.id, p);
    if (!d.def) continue;
    const ok = validateParams(d, d.def, p, c);
    if (ok && opts.cwd) resolveCommandLinePaths(d, d.def, p, ok, cliVars, opts.cwd, (key, abs) => {
      // a variable: the path it holds (a param may add to it, e.g. ${dir}/a.png)
      setPaths[key] = key.includes('.') || variables[key] == null ? abs : resolve(opts.cwd!, String(variables[key]));
    });
    parsed.set(d.id, ok);
  }
  const kinds = inferKinds(drafts, byId, parsed, skipped, opts.baseDir);
  const resolved: ResolvedStep[] = [];
  const writes = new Map<string, string>();
  drafts.forEach((d, n) => {
    if (!d.def || skipped.has(d.id) || !params.has(d.id)) return;
    const def = d.def;
    const w: Wiring = { byId, stepIds, skipped, kinds, c };
    wireMainInput(d, def, drafts[n - 1], w);
    wireSides(d, def, w);
    const ok = parsed.get(d.id);
    const p = params.get(d.id)!;
    if (ok && opts.checkFiles !== false) checkInputFiles(d, def, p, ok, opts.baseDir, opts.cwd, c);
    if (ok) checkOutputNames(d, def, ok, writes, c);
    resolved.push({ id: d.id, stage: d.stage, def, input: def.input === null ? undefined : d.input, sides: d.sides, params: ok ?? p, description: d.description, loc: d.loc, index: d.index });
  });
  return { resolved, skipped: [...skipped.values()] };
}

/** the --set key that gave param `key` of step `d`: step.param, or the variable its value starts with */
function setKeyOf(d: Draft, key: string, cliVars: ReadonlySet<string>): string | undefined {
  if (d.cliParams.has(key)) return `${d.id}.${key}`;
  const r = d.rawParams[key];
  const m = typeof r === 'string' ? /^\$\{([^}]*)\}/.exec(r) : null;
  return m && cliVars.has(m[1]!.trim()) ? m[1]!.trim() : undefined;
}

/**
 * Paths given on the command line (--set input=photos/a.jpg, or --set step.path=…) are relative
 * to the current directory, as the shell completed them; paths written in the YAML stay relative to
 * the pipeline file. A param is a path when the stage lists it among its input files.
 */
function resolveCommandLinePaths(d: Draft, def: AnyStageDef, raw: Record<string, unknown>, parsed: Record<string, unknown>, cliVars: Set<string>, cwd: string, record: (setKey: string, abs: string) => void): void {
  if (!def.inputFiles) return;
  const setKey = (key: string) => setKeyOf(d, key, cliVars);
  for (const f of def.inputFiles(parsed)) {
    if (typeof f !== 'string' || isUrl(f) || f.startsWith(DATA_PREFIX)) continue;
    for (const key of Object.keys(parsed)) {
      const k = setKey(key);
      if (!k) continue;
      const v = parsed[key];
      if (v === f || (typeof v === 'string' && v.startsWith(f + '/'))) {
        const abs = resolve(cwd, v as string);
        parsed[key] = abs;
        raw[key] = abs;
        record(k, abs);
      }
    }
  }
}

/**
 * `set` entries with the input paths they name rewritten by `to` (the others unchanged), for
 * whoever loads the pipeline again elsewhere: a queue's workers (paths relative to the pipeline
 * file, under their root) or worker processes (absolute paths). `p` must have been loaded with
 * `cwd` (ResolvedPipeline.setPaths).
 */
export function rebaseSetPaths(p: ResolvedPipeline, set: readonly string[], to: (abs: string, key: string) => string): string[] {
  return set.map((s) => {
    const eq = s.indexOf('=');
    const abs = eq < 0 ? undefined : p.setPaths[s.slice(0, eq).trim()];
    return abs === undefined ? s : `${s.slice(0, eq)}=${to(abs, s.slice(0, eq).trim())}`;
  });
}

/** What wiring a step needs to know about the others. */
interface Wiring {
  byId: Map<string, Draft>;
  stepIds: string[];
  skipped: Map<string, SkippedStep>;
  kinds: (id: string) => PortKind[] | undefined;
  c: Checker;
}

/**
 * The kinds each step will emit: its declared output, narrowed by the stage's `outputKinds`
 * (load of a folder gives an ImageBatch; normalize and center pass on the kind they get).
 */
function inferKinds(drafts: Draft[], byId: Map<string, Draft>, parsed: Map<string, Record<string, unknown> | undefined>, skipped: Map<string, SkippedStep>, baseDir: string): (id: string) => PortKind[] | undefined {
  const memo = new Map<string, PortKind[] | undefined>();
  const visiting = new Set<string>();
  const kindsOf = (id: string): PortKind[] | undefined => {
    if (memo.has(id)) return memo.get(id);
    const d = byId.get(id);
    if (!d?.def || skipped.has(id) || visiting.has(id)) return d?.def ? specKinds(d.def.output) : undefined;
    visiting.add(id);
    const declared = specKinds(d.def.output);
    let out = declared;
    const p = parsed.get(id);
    if (d.def.outputKinds && p) {
      const prev = drafts[drafts.indexOf(d) - 1];
      const inputId = d.def.input === null ? undefined : (d.input ?? prev?.id);
      const input = inputId ? (kindsOf(inputId) ?? []) : [];
      try {
        const narrowed = d.def.outputKinds(p as never, input, (f) => resolveInputPath(baseDir, f)).filter((k) => declared.includes(k) || declared.includes('Any'));
        if (narrowed.length) out = narrowed;
      } catch {
        /* the declared kinds */
      }
    }
    visiting.delete(id);
    memo.set(id, out);
    return out;
  };
  return kindsOf;
}

function wireMainInput(d: Draft, def: AnyStageDef, previous: Draft | undefined, w: Wiring): void {
  const { c } = w;
  const path = ['steps', d.index];
  if (def.input === null) {
    if (d.input !== undefined) c.issues.push({ loc: c.where.at([...path, 'input']), path: `steps[${d.index}].input`, message: `stage ${def.name} is a source and takes no input`, hint: 'remove input:' });
    return;
  }
  if (d.input === undefined) {
    if (!previous) c.issues.push({ loc: c.where.at(path), path: `steps[${d.index}]`, message: `stage ${def.name} needs an input, and it is the first step`, hint: 'start with a source stage such as load, or set input: to a step id' });
    else d.input = previous.id;
  }
  if (d.input === undefined) return;
  const from = w.byId.get(d.input);
  const locPath = [...path, d.input === previous?.id && !d.explicitInput ? 'stage' : 'input'];
  if (!from) c.issues.push({ loc: c.where.at([...path, 'input']), path: `steps[${d.index}].input`, message: `no step with id '${d.input}'`, hint: suggestion(d.input, w.stepIds, 'step ids') });
  else if (w.skipped.has(from.id)) skippedInput(d, from, 'input', `steps[${d.index}].input`, locPath, w);
  else if (from.def) checkPort(def.input, from, 'input', `steps[${d.index}].input`, locPath, w);
}

function wireSides(d: Draft, def: AnyStageDef, w: Wiring): void {
  const { c } = w;
  const path = ['steps', d.index];
  const declared = def.sides ?? {};
  for (const [port, src] of Object.entries(d.sides)) {
    if (!own(declared, port)) {
      c.issues.push({ loc: c.where.at([...path, 'inputs'], port), path: `steps[${d.index}].inputs.${port}`, message: `stage ${def.name} has no input port '${port}'`, hint: Object.keys(declared).length ? suggestion(port, Object.keys(declared), 'ports') : `stage ${def.name} takes only its main input (input:)` });
      continue;
    }
    const from = w.byId.get(src);
    if (!from) c.issues.push({ loc: c.where.at([...path, 'inputs', port]), path: `steps[${d.index}].inputs.${port}`, message: `no step with id '${src}'`, hint: suggestion(src, w.stepIds, 'step ids') });
    else if (w.skipped.has(from.id)) skippedInput(d, from, port, `steps[${d.index}].inputs.${port}`, [...path, 'inputs', port], w);
    else if (from.def) checkPort(declared[port]!, from, port, `steps[${d.index}].inputs.${port}`, [...path, 'inputs', port], w);
  }
  for (const port of Object.keys(declared)) {
    if (!own(d.sides, port)) c.issues.push({ loc: c.where.at(path), path: `steps[${d.index}].inputs`, message: `stage ${def.name} needs input port '${port}' (${specKinds(declared[port]!).join(' or ')})`, hint: `add inputs: { ${port}: <step id> }` });
  }
}

/** A kept step reads from a step that its `when:` leaves out. */
function skippedInput(d: Draft, from: Draft, port: string, pathText: string, locPath: PropertyKey[], w: Wiring): void {
  const sk = w.skipped.get(from.id)!;
  const vars = [...sk.when.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]!.trim());
  w.c.issues.push({
    loc: w.c.where.at(locPath),
    path: pathText,
    message: `${port === 'input' ? 'input' : `input port '${port}'`} comes from step '${from.id}' (stage ${from.stage}), which is skipped: ${sk.reason}`,
    hint: `give step '${d.id}' the same when: ${sk.when}${vars.length ? `, or set ${vars.map((v) => `--set ${v}=…`).join(' ')}` : ''}`,
  });
}

function checkPort(accepts: Parameters<typeof specKinds>[0], from: Draft, port: string, pathText: string, locPath: PropertyKey[], w: Wiring): void {
  const { c } = w;
  const out = w.kinds(from.id) ?? specKinds(from.def!.output);
  if (portAccepts(accepts, out)) return;
  const want = specKinds(accepts);
  const bridges = [...new Set(out.flatMap((o) => c.registry.bridges(o, want)))];
  let hint = bridges.length ? `insert a step between them: ${bridges.map((b) => `'${b}'`).join(' or ')}` : `connect a step that produces ${want.join(' or ')}`;
  // a bridge can also go higher up, before steps that pass on whatever kind they get
  // (load a folder → normalize → center → svd: stack belongs before center)
  if (bridges.length === 1) {
    const bridgeOut = c.registry.outputFor(bridges[0]!, out);
    let top: Draft | undefined;
    for (let cur: Draft | undefined = from; cur?.def && cur.def.input !== null; cur = cur.input ? w.byId.get(cur.input) : undefined) {
      if (!portAccepts(cur.def.input, bridgeOut)) break;
      const passes = c.registry.outputFor(cur.stage, bridgeOut);
      if (!(passes.length && passes.every((k) => bridgeOut.includes(k)))) break;
      top = cur;
    }
    if (top) hint = `insert '${bridges[0]}' (${out.join(' or ')} → ${bridgeOut.join(' or ')}) before step '${top.id}' (stage ${top.stage} passes on the kind it gets, so it then works on the ${bridgeOut.join(' or ')})`;
  }
  const issue: Issue = {
    loc: c.where.at(locPath),
    path: pathText,
    message: `type mismatch: ${port === 'input' ? 'input' : `input port '${port}'`} expects ${want.join(' or ')}, got ${out.join(' or ')} from step '${from.id}' (stage ${from.stage})`,
    hint,
  };
  c.issues.push(issue);
  if (want.includes('ImageBatch') && out.length === 1 && out[0] === 'Image' && w.kinds(from.id)) singleImageIssues.add(issue);
}

/** type mismatches that are one image file given where a collection is expected (see parsePipeline) */
const singleImageIssues = new WeakSet<Issue>();

/** The params through the stage's schema; undefined (and issues) when they do not pass. */
function validateParams(d: Draft, def: AnyStageDef, params: Record<string, unknown>, c: Checker): Record<string, unknown> | undefined {
  const r = def.params.safeParse(params, { reportInput: true });
  if (r.success) return r.data as Record<string, unknown>;
  const path = ['steps', d.index];
  for (const pi of formatZodIssues(r.error.issues, def.params)) {
    const isKey = pi.message.startsWith('unknown key');
    const p = [...path, 'params', ...pi.pathParts];
    const by = isKey ? '' : setBy(d, pi.pathParts[0], c);
    const hint = pi.hint ?? (by ? setFix(d, pi.pathParts[0] as string, pi.message, c) : undefined);
    c.issues.push({ loc: isKey ? c.where.at(p.slice(0, -1), String(pi.pathParts[pi.pathParts.length - 1])) : c.where.at(p), path: `steps[${d.index}].params${pi.path ? '.' + pi.path : ''}`, message: `${pi.message} (stage ${def.name})${by}`, hint });
  }
  return undefined;
}

/**
 * The fix for a bad --set value: the same flag with a value of the expected kind, taken from the
 * pipeline file where it has one (--set percent=5), e.g. "give a number: --set percent=5".
 */
function setFix(d: Draft, key: string, message: string, c: Checker): string | undefined {
  const k = setKeyOf(d, key, c.set?.vars ?? new Set());
  if (k === undefined) return undefined;
  const m = /^(?:required: )?expected (.+?)(?:[;,] got .*)?$/.exec(message);
  if (!m) return undefined;
  const what = m[1]!;
  const yaml = k.includes('.') ? undefined : c.set?.yaml[k];
  // an inclusive bound is itself a valid value (>= 1: 1); an exclusive one (> 0) or a size (at least 1 item) is not
  const bound = /^(?:>=|<=|≥|≤|=)\s*(-?\d+(?:\.\d+)?)$/.exec(what)?.[1];
  const shaped = /^[<>≤≥=]|item|character|entr/.test(what);
  const example = yaml !== undefined && yaml !== null && typeof yaml !== 'object' ? String(yaml)
    : bound ?? (shaped ? undefined : /integer/.test(what) ? '10' : /number/.test(what) ? '5' : /boolean|true or false/.test(what) ? 'true' : undefined);
  const article = /^(a|an|one|the|true) |^at (least|most) /.test(what) ? '' : /^[<>≤≥=]/.test(what) ? 'a value ' : /^[aeiou]/.test(what) ? 'an ' : 'a ';
  return example === undefined ? `give ${article}${what} to --set ${k}` : `give ${article}${what}: --set ${k}=${example}`;
}

/**
 * Input files the params name must exist (globs and image sequences are checked when read). Paths
 * in messages are shown, and suggested, from `cwd` (LoadOptions.cwd: the folder `set` paths are
 * relative to, the shell's for the CLI, the caller's `cwd` option from code), else the process's.
 */
function checkInputFiles(d: Draft, def: AnyStageDef, params: Record<string, unknown>, parsed: Record<string, unknown>, baseDir: string, cwdOpt: string | undefined, c: Checker): void {
  if (!def.inputFiles) return;
  const path = ['steps', d.index];
  const cwd = resolve(cwdOpt ?? process.cwd());
  const own = cwd === resolve(process.cwd());
  const cwdSaid = (withPath: boolean) => (own ? `the current directory${withPath ? `, ${cwd}` : ''}` : `${cwd} (the cwd option)`);
  for (const f of def.inputFiles(parsed)) {
    const absF = resolveInputPath(baseDir, f);
    if (existsSync(absF)) {
      const st = fs.statSync(absF);
      if (!st.isFile() && !st.isDirectory()) {
        const key = Object.entries(params).find(([, v]) => v === f)?.[0];
        c.issues.push({ loc: c.where.at(key ? [...path, 'params', key] : [...path, 'params']), path: `steps[${d.index}].params${key ? '.' + key : ''}`, message: `input ${shownPath(absF, cwd)} is not a regular file or folder (a device, pipe or socket)${setBy(d, key, c)}`, hint: 'give a file or a folder: devices and pipes could be read forever' });
      }
      continue;
    }
    if (/[*?[]/.test(f)) continue;
    const key = Object.entries(params).find(([, v]) => v === f)?.[0];
    let hint = missingDataHint(f) ?? (isAbsolute(f) ? `check the path (paths given with --set are relative to ${cwdSaid(true)})` : `paths in a pipeline file are relative to its folder (${shownPath(baseDir, cwd)}); paths given with --set are relative to ${cwdSaid(false)}`);
    try {
      const near = fs.readdirSync(dirname(absF));
      const dym = didYouMean(basename(absF), near);
      // as the path was given: from the pipeline's folder (written in the YAML) or from cwd (given with --set, made absolute)
      const near1 = resolve(dirname(absF), dym ?? '');
      if (dym && !f.startsWith(DATA_PREFIX)) hint = `did you mean '${isAbsolute(f) ? shownPath(near1, cwd) : relative(baseDir, near1)}'? (${hint})`;
    } catch {
      /* folder absent */
    }
    c.issues.push({ loc: c.where.at(key ? [...path, 'params', key] : [...path, 'params']), path: `steps[${d.index}].params${key ? '.' + key : ''}`, message: `input file not found: ${shownPath(absF, cwd)}${setBy(d, key, c)}`, hint });
  }
}

/**
 * Output names known before the run: the `path` and `prefix` params of the
 * stages that take an input (sources read theirs) name files under --out. Refused
 * now (exit 2) when they would land outside it; a fixed name written by two steps
 * is refused too. Names that come from data ({name}) are checked when written.
 */
function checkOutputNames(d: Draft, def: AnyStageDef, parsed: Record<string, unknown>, writes: Map<string, string>, c: Checker): void {
  if (def.input === null) return;
  for (const key of ['path', 'prefix']) {
    const v = parsed[key];
    if (typeof v !== 'string') continue;
    const at = { loc: c.where.at(['steps', d.index, 'params', key]), path: `steps[${d.index}].params.${key}` };
    const problem = outputNameProblem(v);
    if (problem) {
      c.issues.push({ ...at, message: `output ${key} '${v}' ${problem} (stage ${def.name})`, hint: "give a name relative to the output folder, without '..'; choose the folder itself with --out" });
      continue;
    }
    if (key === 'path' && !/[{%]/.test(v)) {
      const norm = relative('/out', resolve('/out', v));
      const prev = writes.get(norm);
      if (prev !== undefined) c.issues.push({ ...at, message: `steps '${prev}' and '${d.id}' both write ${norm}`, hint: 'give one of them another path' });
      else writes.set(norm, d.id);
    }
  }
}

/** Phase 9: a topological order, or the cycle reported. */
function orderSteps(resolved: ResolvedStep[], c: Checker): ResolvedStep[] {
  return topoOrder(resolved, (cycle) => {
    const first = resolved.find((s) => s.id === cycle[0]);
    c.issues.push({ loc: first?.loc, path: `steps[${first?.index}]`, message: `the steps form a cycle: ${cycle.join(' → ')}`, hint: 'a pipeline must be a DAG: change one input: so that it points to an earlier step' });
  });
}

/** Kahn's algorithm over main and side edges; reports one cycle if there is one. */
function topoOrder(steps: ResolvedStep[], onCycle: (cycle: string[]) => void): ResolvedStep[] {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const deps = (s: ResolvedStep) => [s.input, ...Object.values(s.sides)].filter((x): x is string => !!x && byId.has(x));
  const indeg = new Map(steps.map((s) => [s.id, deps(s).length]));
  const users = new Map<string, string[]>();
  for (const s of steps) {
    for (const d of deps(s)) {
      const list = users.get(d);
      if (list) list.push(s.id);
      else users.set(d, [s.id]);
    }
  }
  const ready = steps.filter((s) => indeg.get(s.id) === 0).map((s) => s.id);
  const out: ResolvedStep[] = [];
  for (let head = 0; head < ready.length; head++) {
    const id = ready[head]!;
    out.push(byId.get(id)!);
    for (const u of users.get(id) ?? []) {
      indeg.set(u, indeg.get(u)! - 1);
      if (indeg.get(u) === 0) ready.push(u);
    }
  }
  if (out.length < steps.length) {
    // walk back along inputs from a node left over to find the cycle
    const left = new Set(steps.filter((s) => !out.includes(s)).map((s) => s.id));
    let cur = [...left][0]!;
    const seen: string[] = [];
    while (!seen.includes(cur)) {
      seen.push(cur);
      cur = deps(byId.get(cur)!).find((d) => left.has(d))!;
    }
    const cycle = seen.slice(seen.indexOf(cur)).reverse();
    onCycle([...cycle, cycle[0]!]);
  }
  return out;
}

/** Which steps consume each step's output (main or side). */
export function consumers(p: ResolvedPipeline): Map<string, Array<{ step: string; port: string }>> {
  const m = new Map<string, Array<{ step: string; port: string }>>(p.steps.map((s) => [s.id, []]));
  for (const s of p.steps) {
    if (s.input) m.get(s.input)!.push({ step: s.id, port: 'input' });
    for (const [port, src] of Object.entries(s.sides)) m.get(src)!.push({ step: s.id, port });
  }
  return m;
}

export type { PortKind };
