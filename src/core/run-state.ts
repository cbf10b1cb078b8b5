/**
 * The state a run keeps in its output folder besides its outputs, and the rules for deleting it.
 *
 * - `.svdflow.lock`: one run per output folder (local, `--workers` parent, queue stitch), holding
 *   the owner's pid; a lock whose process is gone is taken over.
 * - `.checkpoints/` (a local run's --resume state) and `.segments/` (a `--workers` run's, or a queue
 *   flow's segments): never followed through a symbolic link; a run refuses to start when its
 *   output folder has one there.
 * - Deletion after a successful run only on a POSITIVE match: a fingerprint file equal to this run's
 *   (same steps, params and inputs), and then only the names the run makes (the step folders of the
 *   steps that checkpointed, plan.json, fingerprint.json, seg-K of the plan, the stitcher's work files);
 *   a folder whose `.svdflow.lock` names a live process is never touched; anything else stays.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { rm, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { InputError, UsageError, shownPath } from './errors.js';
import type { Fingerprint } from './fingerprint.js';
import type { SegmentPlan } from './video/segment-plan.js';

export const LOCK = '.svdflow.lock';
export const FINGERPRINT = 'fingerprint.json';

/**
 * One run per output folder at a time: `.svdflow.lock` holds the owner's pid.
 * A lock whose process has gone (a crash, kill -9) on this host is taken over.
 */
export function acquireLock(outDir: string): void {
  const file = join(outDir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() }), { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new UsageError(`cannot write to output folder ${outDir} (${(e as NodeJS.ErrnoException).code})`, 'pass a writable --out folder');
    }
    let owner: { pid?: number; host?: string; started?: string } = {};
    try {
      owner = JSON.parse(readFileSync(file, 'utf8')) as typeof owner;
    } catch {
      /* unreadable or half-written: treated as stale below */
    }
    if (typeof owner.pid === 'number' && owner.host === hostname() && processAlive(owner.pid)) {
      throw new UsageError(`another svdflow run (pid ${owner.pid}, started ${owner.started ?? '?'}) is writing to ${outDir}`, 'wait for it to finish, or pass another --out');
    }
    if (typeof owner.pid === 'number' && owner.host !== undefined && owner.host !== hostname()) {
      throw new UsageError(`a svdflow run on ${owner.host} (pid ${owner.pid}) holds ${file}`, `wait for it, or delete ${file} if that run is over`);
    }
    try {
      unlinkSync(file);
    } catch {
      /* taken by someone else meanwhile: the next attempt tells */
    }
  }
  throw new UsageError(`another svdflow run is starting in ${outDir}`, 'pass another --out');
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function releaseLock(outDir: string): void {
  try {
    const owner = JSON.parse(readFileSync(join(outDir, LOCK), 'utf8')) as { pid?: number };
    if (owner.pid === process.pid) unlinkSync(join(outDir, LOCK));
  } catch {
    /* not ours, or gone */
  }
}

/** The pid of a live run (other than this process) whose `.svdflow.lock` is in `dir`, or of another host's; undefined when none. */
export function liveLockOwner(dir: string): number | undefined {
  let owner: { pid?: number; host?: string };
  try {
    owner = JSON.parse(readFileSync(join(dir, LOCK), 'utf8')) as typeof owner;
  } catch (e) {
    // no lock; an unreadable one (half written by a run starting now) counts as live
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : -1;
  }
  if (typeof owner.pid !== 'number') return -1;
  if (owner.host !== undefined && owner.host !== hostname()) return owner.pid;
  return owner.pid !== process.pid && processAlive(owner.pid) ? owner.pid : undefined;
}

/** 'dir' (a real folder), 'link' (a symbolic link, whatever it points to), 'other' (a file...), or 'none'. */
export function entryKind(path: string): 'dir' | 'link' | 'other' | 'none' {
  try {
    const st = lstatSync(path);
    return st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'other';
  } catch {
    return 'none';
  }
}

/**
 * Refuses a run whose output folder has `.checkpoints` or `.segments` (the `names` it keeps state in)
 * as a symbolic link: writing checkpoints, a fingerprint or segments there, and deleting them after
 * the run, would act on the link's target, outside the output folder.
 */
export function refuseLinkedState(outDir: string, names: readonly string[]): void {
  for (const n of names) {
    const p = join(outDir, n);
    if (entryKind(p) !== 'link') continue;
    let target = '?';
    try {
      target = readlinkSync(p);
    } catch {
      /* gone meanwhile */
    }
    throw new InputError(`${shownPath(p)} is a symbolic link (to ${target}): the run keeps its ${n === '.segments' ? 'segments' : 'checkpoints'} there, and would write and delete through the link, outside the output folder`, 'remove the link from the output folder, or pass another --out');
  }
}

export function fingerprintHash(f: Fingerprint): string {
  return createHash('sha256').update(JSON.stringify(f)).digest('hex');
}

/** A fingerprint file: the run's Fingerprint and, for .checkpoints, the steps that asked for their folder. */
export interface FingerprintFile extends Fingerprint {
  checkpointSteps?: string[];
}

/** The fingerprint part (the hash compared) of a fingerprint file's content. */
export function fingerprintPart(f: FingerprintFile): Fingerprint {
  return { version: f.version, steps: f.steps, inputs: f.inputs };
}

/** A fingerprint file read back, or undefined when missing, unreadable or not one svdflow wrote. */
export function readFingerprintFile(file: string): FingerprintFile | undefined {
  try {
    if (entryKind(file) !== 'other') return undefined;
    const f = JSON.parse(readFileSync(file, 'utf8')) as FingerprintFile;
    return f !== null && typeof f === 'object' && f.version === 1 && typeof f.steps === 'object' && f.steps !== null && typeof f.inputs === 'object' && f.inputs !== null ? f : undefined;
  } catch {
    return undefined;
  }
}

/** True when `file` is a fingerprint file of exactly this run (same steps, params, inputs). */
function sameRun(file: string, fingerprint: Fingerprint): FingerprintFile | undefined {
  const f = readFingerprintFile(file);
  return f && fingerprintHash(fingerprintPart(f)) === fingerprintHash(fingerprint) ? f : undefined;
}

const quietly = (f: () => void): void => {
  try {
    f();
  } catch {
    /* not empty, or gone */
  }
};

/** A step id usable as one folder name below .checkpoints (no separator, not '.' or '..'). */
const plainName = (n: unknown): n is string => typeof n === 'string' && n !== '' && n !== '.' && n !== '..' && !/[\\/\0]/.test(n);

/**
 * The `.checkpoints/` an interrupted local run of this same pipeline (its fingerprint.json equal to
 * `fingerprint`) left in `outDir`, removed by a run that has since succeeded there (under its lock):
 * the fingerprint and the folders of the steps that checkpointed (listed in it), as a local run
 * removes its own; anything else stays. A linked .checkpoints is never followed; a fingerprint that
 * lists no steps (an older svdflow's) removes nothing.
 */
export async function removeSupersededCheckpoints(outDir: string, fingerprint: Fingerprint, log: Logger): Promise<void> {
  const dir = join(outDir, '.checkpoints');
  if (entryKind(dir) !== 'dir') return;
  const f = sameRun(join(dir, FINGERPRINT), fingerprint);
  if (!f || !Array.isArray(f.checkpointSteps)) return;
  const ids = f.checkpointSteps.filter((id) => plainName(id) && Object.hasOwn(fingerprint.steps, id));
  for (const id of ids) await rm(join(dir, id), { recursive: true, force: true }).catch((e: unknown) => log.warn({ err: e, step: id }, 'the checkpoints of the interrupted run were not removed'));
  await unlink(join(dir, FINGERPRINT)).catch(() => undefined);
  quietly(() => rmdirSync(dir));
}

/** The segment plan in `.segments/plan.json` (only its count of segments is used here), or undefined. */
function planCount(root: string): number | undefined {
  try {
    const plan = JSON.parse(readFileSync(join(root, 'plan.json'), 'utf8')) as Partial<SegmentPlan>;
    return Array.isArray(plan.segments) && plan.segments.length > 0 && plan.segments.length <= 4096 ? plan.segments.length : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes, from a `.segments/` folder `root`, what a segmented run made there: seg-0 ... seg-(count-1),
 * plan.json, fingerprint.json and the stitcher's work files (<step>-concat.txt of `stepIds`); the
 * folder itself when nothing else is left. Nothing when `root` is a link or a segment folder's lock
 * names a live run (returns false then).
 */
export async function removeSegmentState(root: string, count: number, stepIds: readonly string[], log: Logger): Promise<boolean> {
  if (entryKind(root) !== 'dir') return false;
  const segs = Array.from({ length: count }, (_, k) => join(root, `seg-${k}`));
  for (const d of segs) {
    const pid = entryKind(d) === 'dir' ? liveLockOwner(d) : undefined;
    if (pid !== undefined) {
      log.warn({ dir: d, pid }, 'segment folder left in place: a run is writing to it');
      return false;
    }
  }
  for (const d of segs) await rm(d, { recursive: true, force: true }).catch((e: unknown) => log.warn({ err: e, dir: d }, 'a segment folder was not removed'));
  for (const n of ['plan.json', FINGERPRINT, ...stepIds.filter(plainName).map((id) => `${id}-concat.txt`)]) await unlink(join(root, n)).catch(() => undefined);
  quietly(() => rmdirSync(root));
  return true;
}

/**
 * The `.segments/` an interrupted `--workers N` run of this same pipeline (same steps, params and inputs:
 * its .segments/fingerprint.json equal to this run's) left in `outDir`, removed once a run there has
 * succeeded: it only served `--resume` of that run, whose outputs this one has now written. No
 * fingerprint (a plan only, an older svdflow's, a user's folder), another run's, a link, or a segment
 * still running: it stays.
 */
export async function removeSupersededSegments(outDir: string, fingerprint: Fingerprint, stepIds: readonly string[], log: Logger): Promise<void> {
  const root = join(outDir, '.segments');
  if (entryKind(root) !== 'dir') return;
  const count = planCount(root);
  if (count === undefined || !sameRun(join(root, FINGERPRINT), fingerprint)) {
    log.debug({ dir: root }, '.segments/ not told to be this run\'s: left in place');
    return;
  }
  await removeSegmentState(root, count, stepIds, log);
}

/** Lists `dir`'s entries, or [] when it cannot be read. */
export function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
