/** Shared test helpers: where the third-party data is, and temp folders. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED = resolve(ROOT, '..', 'shared', 'data');
export const hasShared = existsSync(SHARED);
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

/** Path inside ../shared/data; tests using it are skipped with a clear message when absent. */
export function shared(rel: string): string {
  return join(SHARED, rel);
}

export function sharedMissingMessage(rel = ''): string {
  return `skipped: ${join(SHARED, rel)} is absent (third-party data lives in ../shared/data beside the repo)`;
}

export function tempDir(prefix = 'svdflow-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
