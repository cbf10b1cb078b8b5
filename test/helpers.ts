/** Shared test helpers: where the third-party data is, and temp folders. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dataRoots } from '../src/core/data/locate.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/**
 * The third-party data: the first of $SVDFLOW_DATA, ../shared/data and the user's cache
 * folder (`svdflow data fetch`) that holds it, as `data:` paths in pipelines find it.
 * SVDFLOW_TEST_SHARED points elsewhere (e.g. an empty folder, to check the skip messages).
 */
export const SHARED = process.env.SVDFLOW_TEST_SHARED
  ? resolve(process.env.SVDFLOW_TEST_SHARED)
  : (dataRoots().find((r) => existsSync(join(r, 'pointclouds'))) ?? resolve(ROOT, '..', 'shared', 'data'));
export const hasShared = existsSync(SHARED);
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

/** Path inside ../shared/data; tests using it are skipped with a clear message when absent. */
export function shared(rel: string): string {
  return join(SHARED, rel);
}

/**
 * The reason a test that needs `rel` in ../shared/data is skipped. It is also printed on stderr
 * when the test file is collected, so that the test output names the missing path (vitest does not
 * show skipped tests' names). In CI (CI=true) nothing may be skipped: a missing path is an error.
 */
export function sharedMissingMessage(rel = ''): string {
  const path = join(SHARED, rel);
  const msg = `skipped: ${path} is absent (third-party data: ../shared/data beside the repo, or \`npx svdflow data fetch all\`)`;
  if (process.env.CI === 'true') throw new Error(`${path} is absent, and CI=true runs every test: put the third-party data in ../shared/data or run npx svdflow data fetch all`);
  process.stderr.write(`svdflow tests: ${msg}\n`);
  return msg;
}

/** Is this path inside ../shared/data present? */
export function hasSharedPath(rel: string): boolean {
  return existsSync(join(SHARED, rel));
}

export function tempDir(prefix = 'svdflow-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The built CLI, or an error saying how to build it (npm test builds it in pretest). */
export function requireCli(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does it in pretest)`);
}

/** Runs the built CLI (from the project root unless `cwd`), colours off: its exit code and both outputs. */
export function cli(args: string[], opts: { cwd?: string } = {}): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? ROOT, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * Waits until `pred()` holds (polled every `everyMs`), or fails after `ms` naming `what`. Tests wait for an
 * event this way, never with a fixed sleep: the code gets faster and the machine may be loaded.
 */
export async function until(pred: () => boolean | Promise<boolean>, what: string, ms = 10_000, everyMs = 10): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
