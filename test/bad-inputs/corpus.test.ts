/**
 * Runs every case of the bad-input corpus through the CLI: exit code, the words
 * of the message, no stack trace, no partial output file, no child process left.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readdirSync, lstatSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { CASES, type Fixtures } from './cases.js';
import { CLI, ROOT, tempDir, until } from '../helpers.js';
import { ffmpegPath } from '../../src/core/video/io/ffmpeg.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir('svdflow-bad-');
});
afterAll(() => tmp.cleanup());

const fx: Fixtures = {
  clip: join(ROOT, 'data', 'video', 'synthetic', 'clip.mp4'),
  stamp: join(ROOT, 'data', 'stamps', 'im_00.jpg'),
  writeFile(path, data) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data);
  },
  ffmpeg(args) {
    const out = args[args.length - 1]!;
    mkdirSync(dirname(out), { recursive: true });
    const r = spawnSync(ffmpegPath(), ['-loglevel', 'error', ...args]);
    if (r.status !== 0) throw new Error(`fixture ffmpeg failed: ${r.stderr}`);
  },
  async png(path, width, height) {
    mkdirSync(dirname(path), { recursive: true });
    await sharp({ create: { width, height, channels: 3, background: { r: 200, g: 100, b: 50 } } }).png().toFile(path);
  },
  cli(args, cwd, killAfterMs) {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, FORCE_COLOR: '0' } });
      let stderr = '';
      child.stderr.on('data', (b) => (stderr += b));
      child.stdout.resume();
      const t = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGINT'), killAfterMs);
      child.once('exit', (code) => {
        if (t) clearTimeout(t);
        resolve({ code, stderr });
      });
    });
  },
};

/** every file below `dir`; with `dirs`, folders too (as 'path/') */
function walk(dir: string, dirs = false): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    const st = lstatSync(p);
    return st.isDirectory() ? [...(dirs ? [p + '/'] : []), ...walk(p, dirs)] : [p];
  });
}

/** processes whose command line mentions `text` (ffmpeg children reading the case's files) */
function processesMentioning(text: string): string[] {
  const r = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.includes(text) && !l.includes('ps -eo'));
}

describe('bad-input corpus', () => {
  it('has at least 75 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(75);
  });

  it.each(CASES.map((c, i) => [i, c.name] as const))('case %i: %s', async (i) => {
    const c = CASES[i]!;
    const dir = join(tmp.dir, `case-${i}`);
    mkdirSync(dir, { recursive: true });
    const subst = (s: string) => s.replaceAll('$DIR', dir).replaceAll('$ROOT', ROOT);
    if (c.pipeline !== undefined) writeFileSync(join(dir, 'case.yaml'), subst(c.pipeline));
    await c.setup?.(dir, fx);
    const before = new Set(walk(dir, true));
    const args = (c.args ?? ['run', 'case.yaml', '--out', 'out']).map(subst);
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env: { ...process.env, FORCE_COLOR: '0', ...(c.env ?? {}) } });
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    child.stdout.resume();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    if (c.during) await c.during(child, dir);
    const code = await exited;
    const report = `case "${c.name}" printed:\n${stderr}`;
    expect(code, report).toBe(c.code);
    for (const w of c.says) {
      if (typeof w === 'string') expect(stderr, report).toContain(w);
      else expect(stderr, report).toMatch(w);
    }
    expect(stderr, 'no stack trace').not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
    // one error report (signal notices such as 'svdflow: SIGINT received' aside); exactly one when the run failed
    const reports = stderr.split('\n').filter((l) => /^svdflow: (error|unexpected|internal|.*problems? found)/.test(l)).length;
    expect(reports, 'one error report').toBe(c.code === 0 || c.code === 130 ? Math.min(reports, 1) : 1);
    // nothing written but what the case expects: no new file or folder in the case folder
    // (checkpoints of a streaming step stay, complete, so that --resume can continue; never a partial segment)
    // a successful run also writes its report page (report.html)
    const writes = c.code === 0 && c.writes ? [...c.writes, 'out/report.html'] : (c.writes ?? []);
    const expected = new Set(writes.flatMap((w) => {
      const parts = w.split('/');
      return [join(dir, w), ...parts.slice(0, -1).map((_, i) => join(dir, ...parts.slice(0, i + 1)) + '/')];
    }));
    const keptCheckpoints = existsSync(join(dir, 'out', '.checkpoints'));
    const added = walk(dir, true).filter(
      (f) =>
        !before.has(f) &&
        !expected.has(f) &&
        !(f.includes('/out/.checkpoints/') && !/part-\d+\.mkv$|svdflow-tmp/.test(f)) &&
        !(keptCheckpoints && f === join(dir, 'out') + '/'),
    );
    expect(added, 'nothing written but what the case expects').toEqual([]);
    for (const w of writes) expect(existsSync(join(dir, w)), `${w} written`).toBe(true);
    await c.check?.(dir);
    // children get a moment to exit after the run's clean-up; the assertion then lists any that did not
    await until(() => processesMentioning(dir).length === 0, 'child processes to end', 5000).catch(() => undefined);
    expect(processesMentioning(dir), 'no child process left').toEqual([]);
  }, 60_000);
});
