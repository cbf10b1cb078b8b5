/**
 * Where the third-party data is on this machine. A pipeline names such a file as
 * `data:<path>` (e.g. `data:cdnet/highway/input/in%06d.jpg`); it is looked up, in order, in
 *   1. `$SVDFLOW_DATA` (where `svdflow data fetch` puts it when set),
 *   2. `../shared/data` beside the svdflow checkout (the developers' shared copy),
 *   3. the user's cache folder (`svdflow data fetch`'s default: $XDG_CACHE_HOME/svdflow/data,
 *      ~/.cache/svdflow/data, ~/Library/Caches/svdflow/data on macOS, %LOCALAPPDATA%\svdflow\data).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dataSetOf, parseChecksums, type DataSet } from './catalog.js';

export const DATA_PREFIX = 'data:';

/** The svdflow package (or checkout) root: the folder with package.json and data/. */
export const PACKAGE_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'data'))) return dir;
    dir = dirname(dir);
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
})();

/** The default download folder: $SVDFLOW_DATA, else the user's cache folder. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SVDFLOW_DATA) return resolve(env.SVDFLOW_DATA);
  if (process.platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'svdflow', 'data');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'svdflow', 'data');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'svdflow', 'data');
}

/** The folders searched for `data:` paths, in order (duplicates removed). */
export function dataRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  const roots = [env.SVDFLOW_DATA ? resolve(env.SVDFLOW_DATA) : undefined, resolve(PACKAGE_ROOT, '..', 'shared', 'data'), defaultDataDir({ ...env, SVDFLOW_DATA: '' })];
  return [...new Set(roots.filter((r): r is string => !!r))];
}

/**
 * The absolute path of a `data:` path: in the first root that has it (or, for a
 * printf-style frame pattern, its folder); where none has it, in the default download
 * folder, so that "not found" names where `svdflow data fetch` would put it.
 */
export function locateData(rel: string, env: NodeJS.ProcessEnv = process.env): string {
  const clean = rel.replace(/^\/+/, '');
  for (const root of dataRoots(env)) {
    const p = join(root, clean);
    if (existsSync(p) || (/%0?\d*d/.test(clean) && existsSync(dirname(p)))) return p;
  }
  return join(defaultDataDir(env), clean);
}

/** Resolves a path written in a pipeline: `data:` paths through {@link locateData}, others against `baseDir`. */
export function resolveInputPath(baseDir: string, p: string): string {
  return p.startsWith(DATA_PREFIX) ? locateData(p.slice(DATA_PREFIX.length)) : resolve(baseDir, p);
}

/** For a missing `data:` path: the data set to fetch and the command that does it. */
export function missingDataHint(p: string): string | undefined {
  if (!p.startsWith(DATA_PREFIX)) return undefined;
  const set: DataSet | undefined = dataSetOf(p.slice(DATA_PREFIX.length));
  const where = dataRoots().join(', ');
  return set
    ? `this is the '${set.name}' data set: download it with \`npx svdflow data fetch ${set.name}\` (looked in ${where})`
    : `data: paths are looked up in ${where}`;
}

/** The checksum list shipped with the package. */
export function shippedChecksums(): Map<string, { sha256: string; size: number }> {
  return parseChecksums(readFileSync(join(PACKAGE_ROOT, 'data', 'third-party', 'SHA256SUMS'), 'utf8'));
}
