/**
 * What a run's checkpoints were made from: the resolved pipeline (every step's
 * stage, wiring and params) and its input files. `--resume` compares the
 * fingerprint stored beside the checkpoints with the current one and refuses to
 * mix runs, naming what changed.
 *
 * Input files are identified by size, modification time and a SHA-256 of their
 * first and last MiB (hashing whole videos on every resume would cost minutes);
 * folders and image sequences by the names, sizes and times of their files.
 */
import { createHash } from 'node:crypto';
import { openSync, readSync, closeSync, statSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { resolveInputPath } from './data/locate.js';
import type { ResolvedPipeline } from './pipeline.js';
import { toPlain } from './json.js';

const jsonText = (v: unknown): string => JSON.stringify(toPlain(v));

export interface Fingerprint {
  version: 1;
  steps: Record<string, { stage: string; input?: string; inputs: Record<string, string>; params: string }>;
  inputs: Record<string, string>;
}

const MIB = 1024 * 1024;

function fileId(path: string): string {
  const st = statSync(path);
  if (st.isDirectory()) {
    const entries = readdirSync(path, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort();
    const h = createHash('sha256');
    for (const n of entries) {
      const s = statSync(join(path, n));
      h.update(`${n}\0${s.size}\0${Math.round(s.mtimeMs)}\n`);
    }
    return `folder of ${entries.length} files, ${h.digest('hex').slice(0, 16)}`;
  }
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(MIB, st.size));
    readSync(fd, buf, 0, buf.length, 0);
    h.update(buf);
    if (st.size > MIB) {
      const n = Math.min(MIB, st.size - MIB);
      const tail = Buffer.alloc(n);
      readSync(fd, tail, 0, n, st.size - n);
      h.update(tail);
    }
  } finally {
    closeSync(fd);
  }
  return `${st.size} bytes, modified ${new Date(st.mtimeMs).toISOString()}, ${h.digest('hex').slice(0, 16)}`;
}

/**
 * The absolute paths of every input file the run reads (what its fingerprint identifies): an output
 * naming one of them is refused (OutputManager.protect), by local, --workers and queue runs alike.
 */
export function inputPathsOf(p: ResolvedPipeline): string[] {
  return p.steps.flatMap((s) => (s.def.inputFiles?.(s.params as never) ?? []).map((f) => resolveInputPath(p.baseDir, f)));
}

export function fingerprintOf(p: ResolvedPipeline): Fingerprint {
  const steps: Fingerprint['steps'] = {};
  const inputs: Fingerprint['inputs'] = {};
  for (const s of p.steps) {
    steps[s.id] = { stage: s.stage, input: s.input, inputs: s.sides, params: jsonText(s.params) };
    for (const f of s.def.inputFiles?.(s.params as never) ?? []) {
      const abs = resolveInputPath(p.baseDir, f);
      const target = existsSync(abs) ? abs : dirname(abs);
      inputs[abs] = existsSync(target) ? fileId(target) : 'missing';
    }
  }
  return { version: 1, steps, inputs };
}

/** What differs between the fingerprint of the checkpoints (`was`) and the current one, in words; empty when they match. */
export function fingerprintChanges(was: Fingerprint, now: Fingerprint): string[] {
  const out: string[] = [];
  const short = (s: string) => (s.length > 80 ? s.slice(0, 77) + '...' : s);
  for (const [id, s] of Object.entries(now.steps)) {
    const o = Object.hasOwn(was.steps, id) ? was.steps[id] : undefined;
    if (!o) out.push(`step '${id}' is new`);
    else if (o.stage !== s.stage) out.push(`step '${id}' was stage ${o.stage}, is ${s.stage}`);
    else if (o.input !== s.input || jsonText(o.inputs) !== jsonText(s.inputs)) out.push(`step '${id}' reads other steps`);
    else if (o.params !== s.params) out.push(`params of step '${id}' changed: ${paramDiff(o.params, s.params).map(short).join(', ')}`);
  }
  for (const id of Object.keys(was.steps)) if (!Object.hasOwn(now.steps, id)) out.push(`step '${id}' was removed`);
  for (const [f, idNow] of Object.entries(now.inputs)) {
    const o = Object.hasOwn(was.inputs, f) ? was.inputs[f] : undefined;
    if (o === undefined) out.push(`input ${f} is new`);
    else if (o !== idNow) out.push(`input ${f} changed (was ${o}; now ${idNow})`);
  }
  for (const f of Object.keys(was.inputs)) if (!Object.hasOwn(now.inputs, f)) out.push(`input ${f} is no longer read`);
  return out;
}

function paramDiff(a: string, b: string): string[] {
  const pa = JSON.parse(a) as Record<string, unknown>;
  const pb = JSON.parse(b) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(pa), ...Object.keys(pb)])];
  return keys.filter((k) => JSON.stringify(pa[k]) !== JSON.stringify(pb[k])).map((k) => `${k} ${JSON.stringify(pa[k]) ?? '(unset)'} → ${JSON.stringify(pb[k]) ?? '(unset)'}`);
}
