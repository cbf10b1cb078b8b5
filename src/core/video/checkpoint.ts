/**
 * Checkpoints for streaming video stages, and the resume rule that keeps a
 * resumed run equal to an uninterrupted one.
 *
 * Every stage that consumes frames and keeps state writes, into its own
 * checkpoint folder, `progress.json` = { next: first frame index it still needs }
 * once everything before it is safely on disk (video segments, PNGs, score counts).
 * The background model keeps its last few states, each tagged with the frame
 * index it stopped before. On --resume the model restarts from its newest state
 * at or before the smallest `next` of the other steps, so every consumer gets
 * every frame it still needs; consumers drop frames they already have. Batches
 * are aligned to absolute frame numbers, so the same frames are grouped and the
 * same numbers come out.
 */
import { readdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Binary state: a JSON header, then the typed arrays' bytes. */
export function encodeState(obj: Record<string, unknown>): Uint8Array {
  const arrays: Array<{ key: string; type: string; length: number; data: Uint8Array }> = [];
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v instanceof Float64Array || v instanceof Float32Array || v instanceof Uint8Array) {
      arrays.push({ key: k, type: v.constructor.name, length: v.length, data: new Uint8Array(v.buffer, v.byteOffset, v.byteLength) });
    } else plain[k] = v;
  }
  const header = new TextEncoder().encode(JSON.stringify({ plain, arrays: arrays.map(({ key, type, length }) => ({ key, type, length })) }));
  const total = 8 + header.length + arrays.reduce((s, a) => s + a.data.length + 8, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0x53564446, true);
  dv.setUint32(4, header.length, true);
  out.set(header, 8);
  let off = 8 + header.length;
  for (const a of arrays) {
    off = Math.ceil(off / 8) * 8;
    out.set(a.data, off);
    off += a.data.length;
  }
  return out.subarray(0, off);
}

export function decodeState(buf: Uint8Array): Record<string, unknown> {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 8 || dv.getUint32(0, true) !== 0x53564446) throw new Error('not an svdflow checkpoint');
  const hl = dv.getUint32(4, true);
  const head = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + hl))) as { plain: Record<string, unknown>; arrays: Array<{ key: string; type: string; length: number }> };
  const out: Record<string, unknown> = { ...head.plain };
  let off = 8 + hl;
  for (const a of head.arrays) {
    off = Math.ceil(off / 8) * 8;
    const C = a.type === 'Float64Array' ? Float64Array : a.type === 'Float32Array' ? Float32Array : Uint8Array;
    const bytes = a.length * C.BYTES_PER_ELEMENT;
    // a copy into a fresh buffer (Buffer.slice would be a view of Node's pool)
    const copy = new Uint8Array(bytes);
    copy.set(buf.subarray(off, off + bytes));
    out[a.key] = new C(copy.buffer, 0, a.length);
    off += bytes;
  }
  return out;
}

export const PROGRESS_FILE = 'progress.json';

export interface Progress {
  /** first frame index not yet safely written */
  next: number;
  [k: string]: unknown;
}

export function readProgress(checkpointDir: string): Progress | undefined {
  const f = join(checkpointDir, PROGRESS_FILE);
  if (!existsSync(f)) return undefined;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as Progress;
  } catch {
    return undefined;
  }
}

/** The smallest `next` among the other steps' progress files (undefined when none has one). */
export function peersNext(checkpointDir: string): number | undefined {
  const root = dirname(checkpointDir);
  if (!existsSync(root)) return undefined;
  let min: number | undefined;
  for (const d of readdirSync(root)) {
    if (d === basename(checkpointDir)) continue;
    const p = readProgress(join(root, d));
    if (p && Number.isFinite(p.next)) min = min === undefined ? p.next : Math.min(min, p.next);
  }
  return min;
}

/** Deletes a step's checkpoints (a fresh, non-resumed run). */
export function clearCheckpoints(checkpointDir: string): void {
  rmSync(checkpointDir, { recursive: true, force: true });
}

/** Model checkpoint files `state-<next>.bin`, newest first. */
export function listStates(checkpointDir: string): Array<{ next: number; file: string }> {
  if (!existsSync(checkpointDir)) return [];
  return readdirSync(checkpointDir)
    .map((f) => /^state-(\d+)\.bin$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ next: Number(m[1]), file: join(checkpointDir, m[0]) }))
    .sort((a, b) => b.next - a.next);
}

export function stateName(next: number): string {
  return `state-${String(next).padStart(9, '0')}.bin`;
}
