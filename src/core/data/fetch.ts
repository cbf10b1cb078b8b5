/**
 * Downloads the third-party data sets (see catalog.ts) into a folder, file by file, from
 * `<baseUrl>/<repo>/<commit>/<path>` (the layout of raw files of public repositories at a
 * pinned commit), in the spirit of scikit-learn's `fetch_*`:
 * - every file's SHA-256 is checked before it takes its final name, so a final path is never
 *   half-written or wrong; a mismatch deletes the partial file and fails naming the file;
 * - files already present and correct are kept (a second fetch downloads nothing);
 * - an interrupted download leaves `<file>.part`, which the next fetch continues with an HTTP
 *   Range request (or restarts when the server ignores ranges).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { filesOf, type DataFile, type DataSet } from './catalog.js';
import { CancelledError, InputError } from '../errors.js';

export const DEFAULT_DATA_URL = 'https://raw.githubusercontent.com';

export interface FetchOptions {
  /** destination folder (the local layout of ../shared/data) */
  dir: string;
  /** checksums and sizes of every file (data/third-party/SHA256SUMS) */
  sums: Map<string, { sha256: string; size: number }>;
  /** default {@link DEFAULT_DATA_URL}, or $SVDFLOW_DATA_URL */
  baseUrl?: string;
  /** parallel downloads (default 4) */
  concurrency?: number;
  signal?: AbortSignal;
  /** called after each file: bytes of that file, and whether it was downloaded or already there */
  onFile?: (file: DataFile, how: 'downloaded' | 'present') => void;
}

export interface FetchReport {
  files: number;
  downloaded: number;
  present: number;
  bytesDownloaded: number;
}

/** The files a fetch of these sets covers, and their total size. */
export function plan(sets: DataSet[], sums: FetchOptions['sums']): { files: DataFile[]; bytes: number } {
  const files = sets.flatMap((s) => filesOf(s, sums));
  return { files, bytes: files.reduce((a, f) => a + f.size, 0) };
}

export async function fetchDataSets(sets: DataSet[], opts: FetchOptions): Promise<FetchReport> {
  const { files } = plan(sets, opts.sums);
  const baseUrl = (opts.baseUrl ?? DEFAULT_DATA_URL).replace(/\/+$/, '');
  const report: FetchReport = { files: files.length, downloaded: 0, present: 0, bytesDownloaded: 0 };
  const inner = new AbortController();
  const onAbort = () => inner.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const queue = [...files];
  let failure: unknown;
  const worker = async () => {
    for (let f = queue.shift(); f && !failure && !inner.signal.aborted; f = queue.shift()) {
      try {
        const how = await fetchOne(f, opts.dir, baseUrl, inner.signal);
        if (how === 'present') report.present++;
        else {
          report.downloaded++;
          report.bytesDownloaded += f.size;
        }
        opts.onFile?.(f, how);
      } catch (e) {
        failure ??= e;
        inner.abort(e);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  if (opts.signal?.aborted) throw new CancelledError();
  if (failure) throw failure;
  return report;
}

async function fetchOne(f: DataFile, dir: string, baseUrl: string, signal: AbortSignal): Promise<'downloaded' | 'present'> {
  const dest = join(dir, f.path);
  if (existsSync(dest) && statSync(dest).size === f.size && (await sha256File(dest)) === f.sha256) return 'present';
  mkdirSync(dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  if (f.content !== undefined) writeFileSync(part, f.content);
  else await download(`${baseUrl}/${f.source!.repo}/${f.source!.commit}/${encodeURI(f.source!.path)}`, part, f, signal);
  const got = await sha256File(part);
  if (got !== f.sha256) {
    unlinkSync(part);
    throw new InputError(
      `checksum mismatch for ${f.path}: expected SHA-256 ${f.sha256}, got ${got}; the file was not kept`,
      f.source ? `it came from ${f.source.repo} at ${f.source.commit.slice(0, 12)}; run the fetch again, and if it fails again the source or a proxy changed the file` : undefined,
    );
  }
  renameSync(part, dest);
  return 'downloaded';
}

/** Streams `url` into `part`, continuing a partial file with a Range request. */
async function download(url: string, part: string, f: DataFile, signal: AbortSignal): Promise<void> {
  let have = existsSync(part) ? statSync(part).size : 0;
  if (have >= f.size) {
    // a complete (or overlong) part file from an earlier run: check it as it is, else start over
    if (have === f.size && (await sha256File(part)) === f.sha256) return;
    unlinkSync(part);
    have = 0;
  }
  let res: Response;
  try {
    res = await fetch(url, { signal, headers: have ? { Range: `bytes=${have}-` } : {} });
  } catch (e) {
    if (signal.aborted) throw signal.reason ?? e;
    throw new InputError(`cannot download ${f.path} from ${url}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`, 'check the network (or --base-url / $SVDFLOW_DATA_URL); the next fetch continues where this one stopped');
  }
  if (res.status !== 200 && res.status !== 206) {
    await res.body?.cancel();
    throw new InputError(`cannot download ${f.path}: ${url} answered HTTP ${res.status} ${res.statusText}`, 'check --base-url / $SVDFLOW_DATA_URL; the data sets are read from <base>/<repository>/<commit>/<path>');
  }
  const append = res.status === 206 && have > 0;
  if (!res.body) throw new InputError(`cannot download ${f.path}: ${url} sent no body`);
  try {
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(part, { flags: append ? 'a' : 'w' }), { signal });
  } catch (e) {
    if (signal.aborted) throw signal.reason ?? e;
    throw new InputError(`download of ${f.path} was cut off (${(e as Error).message})`, 'run the same fetch again: it continues from the partial file');
  }
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolveHash, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolveHash(h.digest('hex')));
  });
}
