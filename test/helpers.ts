/** Shared test helpers: where the third-party data is, and temp folders. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dataRoots } from '../src/core/data/locate.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/**
 * The third-party data: the first of $SVDFLOW_DATA, ../shared/data and the user's cache
 * folder (`svdflow data fetch`) that holds it, as `data:` paths in pipelines find it.
 */
export const SHARED = dataRoots().find((r) => existsSync(join(r, 'pointclouds'))) ?? resolve(ROOT, '..', 'shared', 'data');
export const hasShared = existsSync(SHARED);
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

/** Path inside ../shared/data; tests using it are skipped with a clear message when absent. */
export function shared(rel: string): string {
  return join(SHARED, rel);
}

export function sharedMissingMessage(rel = ''): string {
  return `skipped: ${join(SHARED, rel)} is absent (third-party data: ../shared/data beside the repo, or \`npx svdflow data fetch all\`)`;
}

export function tempDir(prefix = 'svdflow-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
