/**
 * Runs every case of the bad-input corpus through the CLI: exit code, the words
 * of the message, no stack trace, no partial output file, no child process left.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { CASES, type Fixtures } from './cases.js';
import { CLI, ROOT, tempDir } from '../helpers.js';
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
};

/** every file below `dir` */
function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** processes whose command line mentions `text` (ffmpeg children reading the case's files) */
function processesMentioning(text: string): string[] {
  const r = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.includes(text) && !l.includes('ps -eo'));
}

describe('bad-input corpus', () => {
  it('has at least 30 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES.map((c, i) => [i, c.name] as const))('case %i: %s', async (i) => {
    const c = CASES[i]!;
    const dir = join(tmp.dir, `case-${i}`);
    mkdirSync(dir, { recursive: true });
    await c.setup?.(dir, fx);
    const subst = (s: string) => s.replaceAll('$DIR', dir).replaceAll('$ROOT', ROOT);
    if (c.pipeline) writeFileSync(join(dir, 'case.yaml'), subst(c.pipeline));
    const before = new Set(walk(dir));
    const args = (c.args ?? ['run', 'case.yaml', '--out', 'out']).map(subst);
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env: { ...process.env, FORCE_COLOR: '0' } });
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
    expect(stderr.trim().split('\n').filter((l) => l.startsWith('svdflow:')).length, 'one error').toBeLessThanOrEqual(2);
    // nothing written: no new file in the case folder except the (empty) output folder
    // (checkpoints of a streaming step stay, complete, so that --resume can continue; never a partial segment)
    const added = walk(dir).filter((f) => !before.has(f) && existsSync(f) && !(f.includes('/out/.checkpoints/') && !/part-\d+\.mkv$|svdflow-tmp/.test(f)));
    expect(added, 'no partial output').toEqual([]);
    await new Promise((r) => setTimeout(r, 100));
    expect(processesMentioning(dir), 'no child process left').toEqual([]);
  }, 60_000);
});
