/**
 * Checkpoint files of streaming video stages (the rules are pure, in ../resume.ts).
 *
 * Every stage that consumes frames and keeps state writes, into its own
 * checkpoint folder, `progress.json` = { next: first frame index it still needs }
 * once everything before it is safely on disk (video segments, PNGs, score counts).
 * The background model keeps its last few states, each tagged with the frame
 * index it stopped before. On --resume the model restarts from its newest state
 * before the smallest `next` of the steps reading it, so every consumer gets
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

/**
 * The first frame that every consumer of a step still needs: the smallest `next` among their
 * progress files (checkpoint folders beside `checkpointDir`). A consumer without one has
 * recorded nothing yet, so it needs every frame: -Infinity (a resume starts from the beginning).
 * `consumers` undefined (a step run outside a pipeline): the other steps' folders that have a
 * progress file; undefined when there is none (no limit).
 */
export function consumersNext(checkpointDir: string, consumers?: readonly string[]): number | undefined {
  const root = dirname(checkpointDir);
  const ids = consumers ?? (existsSync(root) ? readdirSync(root).filter((d) => d !== basename(checkpointDir) && readProgress(join(root, d))) : []);
  if (!ids.length) return undefined;
  let min = Infinity;
  for (const id of ids) {
    const next = readProgress(join(root, id))?.next;
    min = Math.min(min, typeof next === 'number' && !Number.isNaN(next) ? next : -Infinity);
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
    /** the steps that read the model's output (see consumersNext) */
    private readonly consumers?: readonly string[],
  ) {}
  list(): StateRef[] {
    return listStates(this.dir);
  }
  consumersNext(): number | undefined {
    return consumersNext(this.dir, this.consumers);
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
