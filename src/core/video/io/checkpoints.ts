/**
 * Checkpoint files of streaming video stages (the rules are pure, in ../resume.ts).
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
import { unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ModelStore } from '../model-stream.js';
import type { StateRef } from '../resume.js';

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
export function listStates(checkpointDir: string): StateRef[] {
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

/** Model states as files `state-<next>.bin` in a step's checkpoint folder; `write` must be atomic (ctx.outputs.writeNow). */
export class FileModelStore implements ModelStore {
  constructor(
    private readonly dir: string,
    private readonly write: (path: string, data: Uint8Array) => Promise<unknown>,
  ) {}
  list(): StateRef[] {
    return listStates(this.dir);
  }
  consumersNext(): number | undefined {
    return peersNext(this.dir);
  }
  read(s: StateRef): Uint8Array {
    return readFileSync(s.file);
  }
  async save(next: number, bytes: Uint8Array): Promise<void> {
    await this.write(join(this.dir, stateName(next)), bytes);
  }
  async remove(s: StateRef): Promise<void> {
    await unlink(s.file).catch(() => undefined);
  }
  clear(): void {
    clearCheckpoints(this.dir);
  }
}
