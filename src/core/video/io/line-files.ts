/**
 * Text files that grow frame by frame (JSON Lines, CSV) and survive an
 * interruption: written in a step's checkpoint folder, with `progress.json` =
 * { next frame, byte length of each file } after each append; --resume cuts the
 * files back to those lengths and continues; `commit` links them into the outputs.
 */
import { open, mkdir, truncate, copyFile, type FileHandle } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { OutputManager } from '../../outputs.js';
import type { FileRef } from '../../ports.js';
import { PROGRESS_FILE, clearCheckpoints, readProgress } from './checkpoints.js';

type Names = Record<string, string | undefined>;

export class LineFiles {
  private constructor(
    private readonly dir: string,
    private readonly names: Record<string, string>,
    private readonly handles: Map<string, FileHandle>,
    private readonly bytes: Map<string, number>,
    /** first frame not yet written */
    public next: number,
    private readonly writeNow: (path: string, data: string) => Promise<unknown>,
  ) {}

  /** Opens (fresh, or resumed from progress.json) the files `names` (key -> name under --out); `header` starts each .csv. */
  static async open(dir: string, names: Names, header: string, first: number, resume: boolean, writeNow: (path: string, data: string) => Promise<unknown>): Promise<LineFiles> {
    const keep = Object.fromEntries(Object.entries(names).filter((e): e is [string, string] => !!e[1]));
    const prog = resume ? (readProgress(dir) as { next: number; bytes: Record<string, number> } | undefined) : undefined;
    if (!prog) clearCheckpoints(dir);
    await mkdir(join(dir, 'files'), { recursive: true });
    const handles = new Map<string, FileHandle>();
    const bytes = new Map<string, number>();
    for (const [key, name] of Object.entries(keep)) {
      const file = join(dir, 'files', key + extname(name));
      const len = prog?.bytes[key];
      if (len !== undefined && existsSync(file)) await truncate(file, len);
      const h = await open(file, len !== undefined && existsSync(file) ? 'a' : 'w');
      let n = len ?? 0;
      if (len === undefined && extname(name).toLowerCase() === '.csv') n += (await h.write(header)).bytesWritten;
      handles.set(key, h);
      bytes.set(key, n);
    }
    const files = new LineFiles(dir, keep, handles, bytes, prog?.next ?? -Infinity, writeNow);
    // a fresh start records its first frame at once, so a resumed model never starts after frames these files lack
    if (!prog) await files.append(first, {});
    return files;
  }

  /**
   * Appends text to each file, then records that frames before `next` are written. A `close()` while this
   * runs (a cancelled run's teardown) records nothing: the record would claim frames that some of the
   * files lack, and --resume would skip them; without it, --resume cuts every file back to the last record.
   */
  async append(next: number, text: Record<string, string>): Promise<void> {
    for (const [key, h] of [...this.handles]) {
      const t = text[key];
      if (!t) continue;
      if (this.closed) return;
      try {
        const { bytesWritten } = await h.write(t);
        this.bytes.set(key, this.bytes.get(key)! + bytesWritten);
        await h.datasync();
      } catch (e) {
        if (this.closed) return;
        throw e;
      }
    }
    if (this.closed) return;
    this.next = Math.max(this.next, next);
    if (!Number.isFinite(this.next)) this.next = next;
    await this.writeNow(join(this.dir, PROGRESS_FILE), JSON.stringify({ next: this.next, bytes: Object.fromEntries(this.bytes) }));
  }

  private closed = false;

  async close(): Promise<void> {
    this.closed = true;
    const hs = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(hs.map((h) => h.close().catch(() => undefined)));
  }

  /** Closes the files and links them into the run's outputs. */
  async commit(outputs: OutputManager, step: string, descriptions: Record<string, string>): Promise<FileRef[]> {
    await this.close();
    const refs: FileRef[] = [];
    for (const [key, name] of Object.entries(this.names)) {
      const src = join(this.dir, 'files', key + extname(name));
      const f = await outputs.begin(name, { step, format: extname(name).slice(1), description: descriptions[key] });
      await copyFile(src, f.tmpPath); // a copy, not a link: a later --resume appends to the checkpoint file
      refs.push(await f.commit());
    }
    return refs;
  }
}
