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
import { mkdir, rename, unlink, writeFile, stat } from 'node:fs/promises';
import { unlinkSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
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

  constructor(
    readonly outDir: string,
    readonly mode: 'transaction' | 'immediate' = 'immediate',
    /** refuse final paths outside the output folder (queued runs) */
    readonly confined = false,
  ) {}

  /** Absolute final path for `rel` (relative to the output folder). */
  resolve(rel: string): string {
    const p = isAbsolute(rel) ? rel : resolve(this.outDir, rel);
    return this.confined ? confine(this.outDir, p, 'output file') : p;
  }

  private claim(finalPath: string, step: string): void {
    const prev = this.claimed.get(finalPath);
    if (prev !== undefined && prev !== step) {
      throw new InputError(`two steps write the same file ${finalPath} ('${prev}' and '${step}')`, `give one of them another file name (e.g. its 'path' or 'prefix' param)`);
    }
    this.claimed.set(finalPath, step);
  }

  /** Starts a file; write to `tmpPath`, then call commit() or abort(). */
  async begin(rel: string, meta: { step: string; format?: string; description?: string }): Promise<PendingFile> {
    const finalPath = this.resolve(rel);
    this.claim(finalPath, meta.step);
    await mkdir(dirname(finalPath), { recursive: true });
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
        const bytes = (await stat(tmp)).size;
        const rec: FileRecord = { kind: 'File', path: finalPath, format: meta.format ?? (extname(finalPath).slice(1) || 'bin'), bytes, description: meta.description, step: meta.step };
        if (this.mode === 'immediate') {
          await rename(tmp, finalPath);
          this.written.push(rec);
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
  async write(rel: string, data: string | Uint8Array, meta: { step: string; format?: string; description?: string }): Promise<FileRef> {
    const f = await this.begin(rel, meta);
    try {
      await writeFile(f.tmpPath, data);
    } catch (e) {
      await f.abort();
      throw e;
    }
    return f.commit();
  }

  /** Writes and renames at once, whatever the mode (checkpoints). */
  async writeNow(rel: string, data: string | Uint8Array): Promise<string> {
    const p = this.resolve(rel);
    await atomicWriteFile(p, data);
    return p;
  }

  /** Renames every staged file into place (end of a successful run). */
  async commitAll(): Promise<FileRecord[]> {
    for (const [finalPath, { tmp, rec }] of this.staged) {
      await rename(tmp, finalPath);
      this.written.push(rec);
    }
    this.staged.clear();
    return this.written;
  }

  /** Deletes every temporary and staged file (failed or cancelled run). */
  async abortAll(): Promise<void> {
    const tmps = [...this.open, ...[...this.staged.values()].map((s) => s.tmp)];
    this.open.clear();
    this.staged.clear();
    await Promise.all(tmps.map((t) => unlink(t).catch(() => undefined)));
  }

  /** Synchronous clean-up for process exit paths. */
  abortAllSync(): void {
    for (const t of [...this.open, ...[...this.staged.values()].map((s) => s.tmp)]) {
      try {
        unlinkSync(t);
      } catch {
        /* already gone */
      }
    }
    this.open.clear();
    this.staged.clear();
  }
}
