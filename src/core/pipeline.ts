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
import { dirname, resolve, relative, basename, extname } from 'node:path';
import { parseDocument, LineCounter, isMap, isPair, isScalar, isSeq, parse as parseYamlValue, type Node, type Document } from 'yaml';
import { ValidationError, UsageError, didYouMean, suggestion, type Issue, type Location } from './errors.js';
import { resolveInputPath, missingDataHint, DATA_PREFIX } from './data/locate.js';
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
}

export interface LoadOptions {
  /** overrides: "name=value" (a variable) or "step.param=value" / "step.param.sub=value" */
  set?: readonly string[];
  /** check that input files exist (default true) */
  checkFiles?: boolean;
  /** how the file is named in messages (default: the path relative to cwd) */
  displayName?: string;
}

const TOP_KEYS = ['name', 'description', 'variables', 'steps'] as const;
const STEP_KEYS = ['id', 'stage', 'input', 'inputs', 'params', 'description'] as const;
const ID_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const VAR_RE = /\$\{([^}]*)\}/g;

class Locator {
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

  /** Location of the value at `path`, or of the key `key` in the map at `path`. Falls back to the nearest parent. */
  at(path: readonly PropertyKey[], key?: string): Location {
    for (let n = path.length; n >= 0; n--) {
      const node = this.doc.getIn(path.slice(0, n) as unknown[], true) as Node | undefined;
      if (!node) continue;
      if (n === path.length && key !== undefined && isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
        if (pair && isScalar(pair.key)) return this.pos(pair.key.range?.[0]);
      }
      if (n < path.length && isMap(node)) {
        // point at the key that is missing or wrong inside this map
        const k = String(path[n]);
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === k);
        if (pair && isScalar(pair.key)) return this.pos(pair.key.range?.[0]);
      }
      return this.pos(node.range?.[0]);
    }
    return { file: this.file };
  }
}

function parseSetValue(raw: string): unknown {
  try {
    return parseYamlValue(raw);
  } catch {
    return raw;
  }
}

function substitute(value: unknown, vars: Record<string, unknown>, path: PropertyKey[], onUnknown: (name: string, path: PropertyKey[]) => void): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([^}]*)\}$/.exec(value);
    if (whole) {
      const name = whole[1]!.trim();
      if (!(name in vars)) {
        onUnknown(name, path);
        return value;
      }
      return vars[name];
    }
    return value.replace(VAR_RE, (m, n: string) => {
      const name = n.trim();
      if (!(name in vars)) {
        onUnknown(name, path);
        return m;
      }
      const v = vars[name];
      return typeof v === 'string' ? v : JSON.stringify(v);
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

function setDeep(obj: Record<string, unknown>, keys: string[], value: unknown): void {
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    if (!cur[k] || typeof cur[k] !== 'object') cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = value;
}

export function loadPipeline(file: string, registry: Registry, opts: LoadOptions = {}): ResolvedPipeline {
  const abs = resolve(file);
  const shown = opts.displayName ?? (relative(process.cwd(), abs).startsWith('..') ? abs : relative(process.cwd(), abs));
  if (!existsSync(abs)) {
    const dir = dirname(abs);
    let hint = 'check the path';
    try {
      const names = fs.readdirSync(dir).filter((n: string) => /\.ya?ml$/.test(n));
      const dym = didYouMean(basename(abs), names);
      hint = dym ? `did you mean ${relative(process.cwd(), resolve(dir, dym))}?` : names.length ? `pipelines in ${relative(process.cwd(), dir) || '.'}: ${names.join(', ')}` : hint;
    } catch {
      /* folder missing */
    }
    throw new UsageError(`pipeline file not found: ${shown}`, hint);
  }
  const text = readFileSync(abs, 'utf8');
  return parsePipeline(text, { ...opts, file: shown, baseDir: dirname(abs), defaultName: basename(abs, extname(abs)) }, registry);
}

/** What every validation phase shares: where things are, and the problems found so far. */
interface Checker {
  file: string;
  where: Locator;
  issues: Issue[];
  registry: Registry;
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
  const { doc, lc, top } = readDocument(text, file);
  const c: Checker = { file, where: new Locator(doc, lc, file), issues: [], registry };
  checkTopKeys(top, c);
  const variables = readVariables(top, c);
  const overrides = parseOverrides(opts.set ?? [], c);
  applyVariableOverrides(variables, overrides, c);
  const rawSteps = readStepList(top, c);
  const drafts = draftSteps(rawSteps, c);
  applyStepOverrides(drafts, overrides, c);
  const resolved = resolveSteps(drafts, variables, opts, c);
  const order = orderSteps(resolved, c);
  throwIfIssues(c);
  return {
    name: typeof top.name === 'string' ? top.name : (opts.defaultName ?? 'pipeline'),
    description: typeof top.description === 'string' ? top.description : undefined,
    file,
    baseDir: opts.baseDir,
    variables,
    steps: order,
  };
}

function throwIfIssues(c: Checker): void {
  if (!c.issues.length) return;
  c.issues.sort((a, b) => (a.loc?.line ?? 0) - (b.loc?.line ?? 0) || (a.loc?.col ?? 0) - (b.loc?.col ?? 0));
  throw new ValidationError(c.issues, c.file);
}

/** Phase 1: YAML text to a mapping (syntax errors end validation here). */
function readDocument(text: string, file: string): { doc: Document; lc: LineCounter; top: Record<string, unknown> } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    const issues = doc.errors.map((e): Issue => {
      const p = e.linePos?.[0];
      return { loc: { file, line: p?.line, col: p?.col }, message: `YAML syntax error: ${e.message.split('\n')[0]}`, hint: 'fix the YAML (indentation, a missing colon or quote)' };
    });
    throw new ValidationError(issues, file);
  }
  const root = doc.toJS() as unknown;
  if (!root || typeof root !== 'object' || Array.isArray(root)) {
    throw new ValidationError([{ loc: { file, line: 1, col: 1 }, message: 'a pipeline file must be a mapping with name, description, variables and steps', hint: 'see README.md, "Pipeline files"' }], file);
  }
  return { doc, lc, top: root as Record<string, unknown> };
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
  } else if (rawVars) Object.assign(variables, rawVars);
  return variables;
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
    if (name.includes('.')) {
      const [step, ...keys] = name.split('.');
      out.steps.push({ step: step!, keys, value, raw: s });
    } else out.vars.push({ name, value });
  }
  return out;
}

/** Phase 4b: `--set name=value` replaces a declared variable. */
function applyVariableOverrides(variables: Record<string, unknown>, o: Overrides, c: Checker): void {
  for (const { name, value } of o.vars) {
    if (name in variables) {
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
  if (typeof id !== 'string' || !ID_RE.test(id)) {
    issues.push({ loc: where.at([...path, 'id']), path: `steps[${i}].id`, message: `step id must be a name of letters, digits, _ and -, got ${describeValue(id)}` });
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
  }
}

/** Phase 8: variables substituted, inputs wired and type-checked, params validated, input files checked. */
function resolveSteps(drafts: Draft[], variables: Record<string, unknown>, opts: LoadOptions & { baseDir: string }, c: Checker): ResolvedStep[] {
  const byId = new Map(drafts.map((d) => [d.id, d]));
  const stepIds = drafts.map((d) => d.id);
  const onUnknownVar = (name: string, path: PropertyKey[]) => {
    c.issues.push({ loc: c.where.at(path), path: formatPath(path), message: `unknown variable '\${${name}}'`, hint: Object.keys(variables).length ? suggestion(name, Object.keys(variables), 'variables') : 'declare it under variables:' });
  };
  const resolved: ResolvedStep[] = [];
  drafts.forEach((d, n) => {
    const params = substitute(d.rawParams, variables, ['steps', d.index, 'params'], onUnknownVar) as Record<string, unknown>;
    if (!d.def) return;
    const def = d.def;
    wireMainInput(d, def, drafts[n - 1], byId, stepIds, c);
    wireSides(d, def, byId, stepIds, c);
    const parsed = validateParams(d, def, params, c);
    if (parsed && opts.checkFiles !== false) checkInputFiles(d, def, params, parsed, opts.baseDir, c);
    resolved.push({ id: d.id, stage: d.stage, def, input: def.input === null ? undefined : d.input, sides: d.sides, params: parsed ?? params, description: d.description, loc: d.loc, index: d.index });
  });
  return resolved;
}

function wireMainInput(d: Draft, def: AnyStageDef, previous: Draft | undefined, byId: Map<string, Draft>, stepIds: string[], c: Checker): void {
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
  const from = byId.get(d.input);
  if (!from) c.issues.push({ loc: c.where.at([...path, 'input']), path: `steps[${d.index}].input`, message: `no step with id '${d.input}'`, hint: suggestion(d.input, stepIds, 'step ids') });
  else if (from.def) checkPort(def.input, from, 'input', `steps[${d.index}].input`, [...path, d.input === previous?.id && !d.explicitInput ? 'stage' : 'input'], c);
}

function wireSides(d: Draft, def: AnyStageDef, byId: Map<string, Draft>, stepIds: string[], c: Checker): void {
  const path = ['steps', d.index];
  const declared = def.sides ?? {};
  for (const [port, src] of Object.entries(d.sides)) {
    if (!(port in declared)) {
      c.issues.push({ loc: c.where.at([...path, 'inputs'], port), path: `steps[${d.index}].inputs.${port}`, message: `stage ${def.name} has no input port '${port}'`, hint: Object.keys(declared).length ? suggestion(port, Object.keys(declared), 'ports') : `stage ${def.name} takes only its main input (input:)` });
      continue;
    }
    const from = byId.get(src);
    if (!from) c.issues.push({ loc: c.where.at([...path, 'inputs', port]), path: `steps[${d.index}].inputs.${port}`, message: `no step with id '${src}'`, hint: suggestion(src, stepIds, 'step ids') });
    else if (from.def) checkPort(declared[port]!, from, port, `steps[${d.index}].inputs.${port}`, [...path, 'inputs', port], c);
  }
  for (const port of Object.keys(declared)) {
    if (!(port in d.sides)) c.issues.push({ loc: c.where.at(path), path: `steps[${d.index}].inputs`, message: `stage ${def.name} needs input port '${port}' (${specKinds(declared[port]!).join(' or ')})`, hint: `add inputs: { ${port}: <step id> }` });
  }
}

function checkPort(accepts: Parameters<typeof specKinds>[0], from: Draft, port: string, pathText: string, locPath: PropertyKey[], c: Checker): void {
  const out = from.def!.output;
  if (portAccepts(accepts, out)) return;
  const want = specKinds(accepts);
  const bridges = [...new Set(specKinds(out).flatMap((o) => c.registry.bridges(o, want)))];
  c.issues.push({
    loc: c.where.at(locPath),
    path: pathText,
    message: `type mismatch: ${port === 'input' ? 'input' : `input port '${port}'`} expects ${want.join(' or ')}, got ${specKinds(out).join(' or ')} from step '${from.id}' (stage ${from.stage})`,
    hint: bridges.length ? `insert a step between them: ${bridges.map((b) => `'${b}'`).join(' or ')}` : `connect a step that produces ${want.join(' or ')}`,
  });
}

/** The params through the stage's schema; undefined (and issues) when they do not pass. */
function validateParams(d: Draft, def: AnyStageDef, params: Record<string, unknown>, c: Checker): Record<string, unknown> | undefined {
  const r = def.params.safeParse(params, { reportInput: true });
  if (r.success) return r.data as Record<string, unknown>;
  const path = ['steps', d.index];
  for (const pi of formatZodIssues(r.error.issues, def.params)) {
    const isKey = pi.message.startsWith('unknown key');
    const p = [...path, 'params', ...pi.pathParts];
    c.issues.push({ loc: isKey ? c.where.at(p.slice(0, -1), String(pi.pathParts[pi.pathParts.length - 1])) : c.where.at(p), path: `steps[${d.index}].params${pi.path ? '.' + pi.path : ''}`, message: `${pi.message} (stage ${def.name})`, hint: pi.hint });
  }
  return undefined;
}

/** Input files the params name must exist (globs and image sequences are checked when read). */
function checkInputFiles(d: Draft, def: AnyStageDef, params: Record<string, unknown>, parsed: Record<string, unknown>, baseDir: string, c: Checker): void {
  if (!def.inputFiles) return;
  const path = ['steps', d.index];
  for (const f of def.inputFiles(parsed)) {
    const absF = resolveInputPath(baseDir, f);
    if (existsSync(absF) || /[*?[]/.test(f)) continue;
    const key = Object.entries(params).find(([, v]) => v === f)?.[0];
    let hint = missingDataHint(f) ?? `paths are relative to the pipeline file's folder (${relative(process.cwd(), baseDir) || '.'})`;
    try {
      const near = fs.readdirSync(dirname(absF));
      const dym = didYouMean(basename(absF), near);
      if (dym && !f.startsWith(DATA_PREFIX)) hint = `did you mean '${relative(baseDir, resolve(dirname(absF), dym))}'? (${hint})`;
    } catch {
      /* folder absent */
    }
    c.issues.push({ loc: c.where.at(key ? [...path, 'params', key] : [...path, 'params']), path: `steps[${d.index}].params${key ? '.' + key : ''}`, message: `input file not found: ${relative(process.cwd(), absF)}`, hint });
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
  for (const s of steps) for (const d of deps(s)) users.set(d, [...(users.get(d) ?? []), s.id]);
  const ready = steps.filter((s) => indeg.get(s.id) === 0).map((s) => s.id);
  const out: ResolvedStep[] = [];
  while (ready.length) {
    const id = ready.shift()!;
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
