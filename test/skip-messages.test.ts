/**
 * Tests that need third-party data in ../shared/data say which path is missing in the test output
 * when it is absent, and in CI (CI=true) a missing path fails instead of skipping. Checked by running
 * vitest on one such file with the data folder pointed somewhere empty.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers.js';

const vitest = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');

describe('tests skipped for missing data', () => {
  it('name the missing path in the output; with CI=true they fail', () => {
    const t = tempDir('svdflow-noshared-');
    try {
      const missing = join(t.dir, 'shared-data');
      const run = (ci: boolean) => spawnSync(process.execPath, [vitest, 'run', 'test/stages/load.test.ts', '--typecheck.enabled=false'], {
        cwd: ROOT, encoding: 'utf8', env: { ...process.env, SVDFLOW_TEST_SHARED: missing, CI: ci ? 'true' : 'false', FORCE_COLOR: '0', NO_COLOR: '1' },
      });
      const local = run(false);
      expect(local.status).toBe(0);
      expect(local.stdout + local.stderr).toContain(`skipped: ${join(missing, 'seed')} is absent`);
      const ci = run(true);
      expect(ci.status).not.toBe(0);
      expect(ci.stdout + ci.stderr).toContain(`${join(missing, 'seed')} is absent, and CI=true runs every test`);
    } finally {
      t.cleanup();
    }
  }, 120_000);
});
