/**
 * Atomic outputs. A stage never writes its final path directly: it writes a
 * temporary file in the same folder (same filesystem, so rename is atomic) and
 * the manager renames it into place.
 *
 * In a pipeline run ('transaction' mode) every output is renamed only when the
 * whole run succeeds: a failed or cancelled run deletes its temporary files and
 * leaves the output folder as it was. Checkpoints (`writeNow`) are renamed at once.
 * Programmatic use ('immediate' mode) renames each file as soon as it is complete.
 */
import { mkdir, rename, unlink, writeFile, stat, lstat } from 'node:fs/promises';
import { unlinkSync, realpathSync, existsSync, readdirSync, rmdirSync, lstatSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError } from './errors.js';
import { confine } from './confine.js';
import type { FileRef } from './ports.js';

export interface FileRecord extends FileRef {
  step: string;
}

export interface PendingFile {
  /** where to write now */
  tmpPath: string;
  /** where the file will be */
  finalPath: string;
  /** marks the file complete (renamed now or at the end of the run) */
  commit(): Promise<FileRef>;
  /** deletes the temporary file */
  abort(): Promise<void>;
}

let counter = 0;

/** Names under the output folder that belong to the run itself. */
const RESERVED_OUTPUTS = ['run.json', '.checkpoints', '.segments', '.svdflow.lock'];

/**
 * Why `rel` (an output name relative to the output folder) may not be written,
 * or undefined when it may: absolute paths, paths leaving the folder ('..'),
 * the run's own files and overlong names are refused.
 */
export function outputNameProblem(rel: string): string | undefined {
  if (rel.includes('\0')) return 'contains a NUL character';
  if (isAbsolute(rel)) return 'is an absolute path: outputs go under the output folder (--out)';
  const inside = relative('/out', resolve('/out', rel));
  if (inside === '' || inside.startsWith('..')) return "leaves the output folder ('..')";
  const first = inside.split(sep)[0]!;
  if (RESERVED_OUTPUTS.includes(first)) return `is ${first}, which the run writes itself`;
  if (inside.split(sep).some((part) => Buffer.byteLength(part) > 240)) return 'has a file or folder name longer than 240 bytes';
  return undefined;
}

export function tempPathFor(finalPath: string): string {
  const ext = extname(finalPath);
  return join(dirname(finalPath), `.${basename(finalPath)}.svdflow-tmp-${process.pid}-${++counter}${ext}`);
}

/** Writes data to `path` atomically (temp file + rename). */
export async function atomicWriteFile(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

export class OutputManager {
  /** files complete but not yet renamed (transaction mode) */
  private readonly staged = new Map<string, { tmp: string; rec: FileRecord }>();
  /** temporary files being written */
  private readonly open = new Set<string>();
  readonly written: FileRecord[] = [];
  private readonly claimed = new Map<string, string>();
  /** the run has failed or been cancelled: no new file starts, late ones are deleted */
  private closed = false;
  /** folders this run created (removed again, when empty, if it fails) */
  private readonly madeDirs = new Set<string>();
  /** input files of the run: never written */
  private readonly inputs = new Set<string>();
  /** files replaced by commitAll, kept until finalize() (rollback() puts them back) */
  private replaced: Array<{ finalPath: string; backup?: string }> = [];

  constructor(
    readonly outDir: string,
    readonly mode: 'transaction' | 'immediate' = 'immediate',
    /** refuse final paths outside the output folder (queued runs) */
    readonly confined = false,
  ) {}

  /**
   * Absolute final path for `rel` (relative to the output folder). Refuses what
   * would land outside the folder or on the run's own files: names can come from
   * data ({name} of an image), so this is checked for every file.
   */
  resolve(rel: string): string {
    const problem = outputNameProblem(rel);
    if (problem) throw new InputError(`output file name '${rel}' ${problem}`, "file names come from the step's path/prefix param and, through {name}, from the data: give a relative name without '..'");
    const p = resolve(this.outDir, rel);
    return this.confined ? confine(this.outDir, p, 'output file') : p;
  }

  /** Absolute path of `rel` inside `dir` (a checkpoint folder under the output folder); refuses names that leave it. */
  inside(dir: string, rel: string): string {
    const p = resolve(dir, rel);
    const r = relative(dir, p);
    if (rel.includes('\0') || isAbsolute(rel) || r === '' || r.startsWith('..') || isAbsolute(r)) throw new InputError(`file name '${rel}' leaves its folder`, "give a relative name without '..'");
    return p;
  }

  /** Marks files as inputs of the run: an output naming one of them is refused. */
  protect(paths: Iterable<string>): void {
    for (const p of paths) this.inputs.add(resolve(p));
  }

  private claim(finalPath: string, step: string): void {
    if (this.inputs.has(finalPath)) throw new InputError(`output file ${finalPath} is an input of this run; writing it would destroy the input`, 'pass another --out, or give the output another name');
    const prev = this.claimed.get(finalPath);
    if (prev !== undefined && prev !== step) {
      throw new InputError(`two steps write the same file ${finalPath} ('${prev}' and '${step}')`, `give one of them another file name (e.g. its 'path' or 'prefix' param)`);
    }
    if (prev !== undefined) {
      throw new InputError(`two values of step '${step}' map to the same file ${relative(this.outDir, finalPath)}, so one would overwrite the other`, "put {index} in the step's path (e.g. {name}-{index}.png), or give the values distinct names");
    }
    this.claimed.set(finalPath, step);
  }

  private realOut?: string;
  /**
   * Refuses a path whose existing folders lead outside the output folder through
   * a symbolic link (mkdir and writes would follow it).
   */
  private confine(finalPath: string): void {
    // the output folder as an absolute path: a relative one (from code: { outDir: 'out/example' }) never
    // equals a folder of the final path, and a missing one under an existing out/ was looked up
    const out = resolve(this.outDir);
    let dir = dirname(finalPath);
    while (!existsSync(dir)) {
      // nothing of the path exists from the output folder down: no link can lead elsewhere
      if (dir === out || relative(out, dir).startsWith('..')) return;
      dir = dirname(dir);
    }
    this.realOut ??= realpathSync(out);
    const real = realpathSync(dir);
    const r = relative(this.realOut, real);
    if (r.startsWith('..') || isAbsolute(r)) throw new InputError(`output file ${relative(this.outDir, finalPath)} would be written outside the output folder: ${relative(this.outDir, dir) || '.'} leads to ${real} (a symbolic link)`, 'remove the link from the output folder, or pass another --out');
  }

  /** files published at once (live segments, their index): the step may rewrite them */
  private readonly published = new Map<string, string>();

  /**
   * Starts a file; write to `tmpPath`, then call commit() or abort().
   * `now`: the commit renames it into place at once, whatever the mode, and it stays
   * whatever happens to the run (a live run's finished segments and their growing index,
   * which the same step may rewrite).
   */
  async begin(rel: string, meta: { step: string; format?: string; description?: string }, now = false): Promise<PendingFile> {
    const finalPath = this.resolve(rel);
    if (!(now && this.published.get(finalPath) === meta.step)) this.claim(finalPath, meta.step);
    if (now) this.published.set(finalPath, meta.step);
    this.confine(finalPath);
    if (this.closed) throw new Error('the run is over');
    const made = await mkdir(dirname(finalPath), { recursive: true });
    if (made) this.madeDirs.add(made);
    const tmp = tempPathFor(finalPath);
    this.open.add(tmp);
    let done = false;
    return {
      tmpPath: tmp,
      finalPath,
      commit: async () => {
        if (done) throw new Error(`file ${finalPath} committed twice`);
        done = true;
        this.open.delete(tmp);
        if (this.closed) {
          await unlink(tmp).catch(() => undefined);
          throw new Error('the run is over');
        }
        const bytes = (await stat(tmp)).size;
        const rec: FileRecord = { kind: 'File', path: finalPath, format: meta.format ?? (extname(finalPath).slice(1) || 'bin'), bytes, description: meta.description, step: meta.step };
        if (this.mode === 'immediate' || now) {
          await rename(tmp, finalPath);
          const was = this.written.findIndex((w) => w.path === finalPath);
          if (was >= 0) this.written[was] = rec;
          else this.written.push(rec);
        } else {
          const old = this.staged.get(finalPath);
          if (old) await unlink(old.tmp).catch(() => undefined);
          this.staged.set(finalPath, { tmp, rec });
        }
        const { step: _s, ...ref } = rec;
        return ref;
      },
      abort: async () => {
        if (done) return;
        done = true;
        this.open.delete(tmp);
        await unlink(tmp).catch(() => undefined);
      },
    };
  }

  /** Writes a whole file (atomically, per the mode). */
  write(rel: string, data: string | Uint8Array, meta: { step: string; format?: string; description?: string }): Promise<FileRef> {
    return this.writeWhole(rel, data, meta, false);
  }

  /** Writes a whole file and renames it into place at once, whatever the mode; it stays if the run fails (see begin's `now`). */
  publish(rel: string, data: string | Uint8Array, meta: { step: string; format?: string; description?: string }): Promise<FileRef> {
    return this.writeWhole(rel, data, meta, true);
  }

  private async writeWhole(rel: string, data: string | Uint8Array, meta: { step: string; format?: string; description?: string }, now: boolean): Promise<FileRef> {
    const f = await this.begin(rel, meta, now);
    try {
      await writeFile(f.tmpPath, data);
    } catch (e) {
      await f.abort();
      throw e;
    }
    return f.commit(); // deletes the file if the run ended meanwhile
  }

  /** Writes and renames at once, whatever the mode (checkpoints: absolute paths under the output folder's .checkpoints/). */
  async writeNow(rel: string, data: string | Uint8Array): Promise<string> {
    const p = this.inside(join(this.outDir, '.checkpoints'), relative(join(this.outDir, '.checkpoints'), resolve(this.outDir, rel)));
    this.confine(p);
    await atomicWriteFile(p, data);
    return p;
  }

  /**
   * Renames every staged file into place (end of a successful run), all or
   * nothing: every destination is checked before the first rename, and a file
   * replaced is kept aside until finalize(), so that a failure part-way (or
   * rollback()) puts the folder back as it was.
   */
  async commitAll(): Promise<FileRecord[]> {
    const entries = [...this.staged];
    for (const [finalPath] of entries) {
      const st = await lstat(finalPath).catch(() => undefined);
      if (st?.isDirectory()) {
        throw new InputError(`cannot write ${relative(this.outDir, finalPath)}: the output folder has a folder of that name`, 'remove or rename that folder, or pass another --out; nothing was replaced');
      }
    }
    try {
      for (const [finalPath, { tmp, rec }] of entries) {
        const entry: { finalPath: string; backup?: string } = { finalPath };
        if (existsSync(finalPath)) {
          entry.backup = tempPathFor(finalPath).replace('.svdflow-tmp-', '.svdflow-old-');
          await rename(finalPath, entry.backup);
        }
        this.replaced.push(entry);
        await rename(tmp, finalPath);
        this.staged.delete(finalPath);
        this.written.push(rec);
      }
    } catch (e) {
      await this.rollback();
      const code = (e as NodeJS.ErrnoException).code;
      throw new InputError(`could not put the outputs in place (${code ?? (e as Error).message}); the output folder was left as it was`, code === 'ENOSPC' ? 'free some disk space' : code === 'EACCES' || code === 'EPERM' ? 'check the permissions of the output folder' : 'check the output folder');
    }
    return this.written;
  }

  /** Undoes commitAll: new files removed, replaced ones put back. */
  async rollback(): Promise<void> {
    for (const { finalPath, backup } of this.replaced.reverse()) {
      if (backup) await rename(backup, finalPath).catch(() => undefined);
      else await unlink(finalPath).catch(() => undefined);
    }
    this.replaced = [];
    this.written.length = 0;
    await this.abortAll();
  }

  /**
   * The run is complete: the files commitAll replaced are deleted. So are the copies an earlier run
   * that crashed between its commit and this step left of the files this run has now written again
   * (`.NAME.svdflow-old-PID-N.EXT` beside NAME, exactly the name commitAll makes, of a process no longer
   * alive on this host): they are older versions of a file this run has replaced. Copies of files this
   * run did not write stay (after a crash inside a commit, such a copy can be the only one).
   */
  async finalize(): Promise<void> {
    for (const { backup } of this.replaced) if (backup) await unlink(backup).catch(() => undefined);
    this.replaced = [];
    const byDir = new Map<string, Set<string>>();
    for (const w of this.written) {
      const d = dirname(w.path);
      if (!byDir.has(d)) byDir.set(d, new Set());
      byDir.get(d)!.add(basename(w.path));
    }
    for (const [dir, names] of byDir) {
      let list: string[];
      try {
        list = readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of list) {
        const m = /^\.(.+)\.svdflow-old-(\d+)-\d+(.*)$/.exec(n);
        if (!m || !names.has(m[1]!) || m[3] !== extname(m[1]!)) continue;
        const pid = Number(m[2]);
        if (pid === process.pid || pidAlive(pid)) continue;
        const p = join(dir, n);
        if (lstatSync(p, { throwIfNoEntry: false })?.isFile()) await unlink(p).catch(() => undefined);
      }
    }
  }

  /** Deletes every temporary and staged file (failed or cancelled run), and the folders it made that stay empty. */
  async abortAll(): Promise<void> {
    this.abortAllSync();
  }

  /** Synchronous clean-up, also for process exit paths. */
  abortAllSync(): void {
    this.closed = true;
    for (const t of [...this.open, ...[...this.staged.values()].map((s) => s.tmp)]) {
      try {
        unlinkSync(t);
      } catch {
        /* already gone */
      }
    }
    this.open.clear();
    this.staged.clear();
    // temporary files of this process that a child or a late write left (ffmpeg's output, a write in flight)
    sweepTemp(this.outDir, `.svdflow-tmp-${process.pid}-`);
    for (const d of [...this.madeDirs].sort((a, b) => b.length - a.length)) removeEmptyTree(d);
    this.madeDirs.clear();
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Visits the tree below `dir` without following links, depth first: `file` for each entry that
 * is not a folder, `after` for each folder once its entries are visited. Entries that vanish
 * or cannot be read are passed over (a cleanup must not fail the run it cleans up after).
 */
function walkTree(dir: string, file: (path: string, name: string) => void, after?: (dir: string) => void): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const p = join(dir, n);
    let isDir: boolean;
    try {
      isDir = lstatSync(p).isDirectory();
    } catch {
      continue;
    }
    if (isDir) walkTree(p, file, after);
    else file(p, n);
  }
  after?.(dir);
}

const quietly = (f: () => void): void => {
  try {
    f();
  } catch {
    /* gone, or not empty */
  }
};

/** Deletes files whose name contains `marker` below `dir` (not following links). */
function sweepTemp(dir: string, marker: string): void {
  walkTree(dir, (p, n) => n.includes(marker) && quietly(() => unlinkSync(p)));
}

/** Removes `dir` and its sub-folders when they hold no file. */
function removeEmptyTree(dir: string): void {
  walkTree(dir, () => undefined, (d) => quietly(() => rmdirSync(d)));
}
