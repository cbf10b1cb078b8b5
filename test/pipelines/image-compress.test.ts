/**
 * The image-compress job end to end: the default pipeline on the bundled photo (small size through
 * --set for speed, one run at the default size), a user's own odd-sized image with every target, colour, and bad inputs through the CLI / runner:
 * one clear error naming the stage and the YAML line, and no output file.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { runPipelineFile } from '../../src/index.js';
import { ROOT, CLI, tempDir } from '../helpers.js';

const PIPE = join(ROOT, 'pipelines', 'image-compress.yaml');
const tmp = tempDir('svdflow-imgc-');
afterAll(() => tmp.cleanup());
const small = ['width=140', 'height=206'];

describe('pipelines/image-compress.yaml', () => {
  it('default: the photo at its own size (720 x 960 gray), k = 5% of 720 = 36, report with curves, PNG named with k', async () => {
    const out = join(tmp.dir, 'default');
    const r = await runPipelineFile(PIPE, { outDir: out, progress: false });
    const rep = JSON.parse(readFileSync(join(out, 'turtle-gray-report.json'), 'utf8'));
    expect(rep.values).toMatchObject({ rows: 960, cols: 720, k: 36, truncatedBy: 'percent', singularValues: 720 });
    expect(rep.values.relError).toBeGreaterThan(0.01);
    expect(rep.values.relError).toBeLessThan(0.3);
    expect(rep.values.bytesFloat32).toBe(36 * (960 + 720 + 1) * 4 + 4);
    const meta = await sharp(join(out, 'turtle-gray-k36.png')).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([720, 960, 1]);
    expect(r.files.map((f) => f.path.slice(out.length + 1)).sort()).toEqual(['turtle-gray-k36.png', 'turtle-gray-report-error-storage.svg', 'turtle-gray-report-spectrum.svg', 'turtle-gray-report.csv', 'turtle-gray-report.json']);
  }, 60_000);

  it("a user's own image of odd size keeps its size and aspect; every target names the file with the k it chose, and the ranks coexist", async () => {
    // 517 x 333 with structure (a gradient plus a few bars), not a resize of the bundled photo
    const W = 517, H = 333;
    const px = Buffer.alloc(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 3;
      px[i] = (x * 255) / W; px[i + 1] = (y * 255) / H; px[i + 2] = ((x >> 5) + (y >> 4)) % 2 ? 220 : 30;
    }
    const photo = join(tmp.dir, 'my photo.jpg');
    await sharp(px, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 92 }).toFile(photo);
    const out = join(tmp.dir, 'mine');
    const ks: number[] = [];
    for (const target of [[], ['truncate.percent=null', 'truncate.rank=12'], ['truncate.percent=null', 'truncate.energy=0.999'], ['truncate.percent=null', 'truncate.error=0.05']]) {
      await runPipelineFile(PIPE, { outDir: out, progress: false, set: [`input=${photo}`, ...target] });
      const rep = JSON.parse(readFileSync(join(out, 'my photo-gray-report.json'), 'utf8'));
      expect([rep.values.rows, rep.values.cols]).toEqual([H, W]);
      ks.push(rep.values.k);
      if (target[1]?.startsWith('truncate.error')) expect(rep.values.relError).toBeLessThanOrEqual(0.05);
      if (target[1]?.startsWith('truncate.energy')) expect(rep.values.energy).toBeGreaterThanOrEqual(0.999);
    }
    expect(ks[0]).toBe(17); // 5% of min(333, 517) = 16.65 → 17
    expect(ks[1]).toBe(12);
    const pngs = readdirSync(out).filter((n) => n.endsWith('.png')).sort();
    expect(pngs).toEqual([...new Set(ks)].map((k) => `my photo-gray-k${k}.png`).sort());
    for (const f of pngs) {
      const meta = await sharp(join(out, f)).metadata();
      expect([meta.width, meta.height]).toEqual([W, H]);
    }
  }, 90_000);

  it('resize only when asked: width alone keeps the aspect, width and height stretch to exactly that size', async () => {
    const a = join(tmp.dir, 'w-only');
    await runPipelineFile(PIPE, { outDir: a, progress: false, set: ['width=180'] });
    expect(await sharp(join(a, 'turtle-gray-k9.png')).metadata()).toMatchObject({ width: 180, height: 240 }); // 720 x 960 → 180 x 240; 5% of 180 = 9
    const b = join(tmp.dir, 'both');
    await runPipelineFile(PIPE, { outDir: b, progress: false, set: ['width=140', 'height=206'] });
    expect(await sharp(join(b, 'turtle-gray-k7.png')).metadata()).toMatchObject({ width: 140, height: 206 });
  }, 60_000);

  it('mode=rgb and mode=ycbcr decode in colour', async () => {
    for (const mode of ['rgb', 'ycbcr']) {
      const out = join(tmp.dir, mode);
      await runPipelineFile(PIPE, { outDir: out, progress: false, set: [...small, `mode=${mode}`] });
      const meta = await sharp(join(out, `turtle-${mode}-k7.png`)).metadata();
      expect([meta.width, meta.height, meta.channels]).toEqual([140, 206, 3]);
      const rep = JSON.parse(readFileSync(join(out, `turtle-${mode}-report.json`), 'utf8'));
      expect(rep.values.planes).toBe(mode === 'rgb' ? 'R,G,B' : 'Y');
      expect(rep.values.k).toBe(7); // 5% of 140
    }
  }, 60_000);

  const bad: Array<[string, (dir: string) => { file?: string; set: string[] }, RegExp[]]> = [
    ['missing file', () => ({ set: [...small, 'input=/nonexistent/photo.jpg'] }), [/input file not found: .*photo\.jpg/, /image-compress\.yaml:\d+/, /steps\[0\]\.params\.path/]],
    ['text file named .jpg', (d) => { writeFileSync(join(d, 'fake.jpg'), 'not a JPEG\n'); return { set: [...small, `input=${join(d, 'fake.jpg')}`] }; }, [/image-compress\.yaml:\d+/, /step 'image' \(stage load\) failed/, /fake\.jpg: it is not an image/]],
    ['rank larger than min(m, n)', () => ({ set: [...small, 'truncate.percent=null', 'truncate.rank=141'] }), [/step 'truncate' \(stage truncate\) failed/, /rank 141 is larger than min\(rows, cols\) = min\(206, 140\) = 140/]],
    ['percent 0', () => ({ set: ['percent=0'] }), [/image-compress\.yaml:\d+/, /steps\[4\]\.params\.percent/, /stage truncate/]],
    ['percent 150', () => ({ set: ['percent=150'] }), [/image-compress\.yaml:\d+/, /steps\[4\]\.params\.percent/, /stage truncate/]],
    ['unknown key', (d) => {
      const f = join(d, 'image-compress.yaml');
      writeFileSync(f, readFileSync(PIPE, 'utf8').replace('params: { by: max }', 'params: { by: max, scale: 2 }').replaceAll('../data/', join(ROOT, 'data') + '/'));
      return { file: f, set: small };
    }, [/image-compress\.yaml:\d+/, /unknown key 'scale'/, /stage normalize/]],
  ];
  for (const [what, make, words] of bad) {
    it(`bad input: ${what} → one clear error, no output file`, async () => {
      const d = tempDir('svdflow-imgc-bad-');
      try {
        const { file, set } = make(d.dir);
        const out = join(d.dir, 'out');
        const err = await runPipelineFile(file ?? PIPE, { outDir: out, progress: false, set }).then(() => undefined, (e: Error) => e);
        expect(err, what).toBeInstanceOf(Error);
        for (const w of words) expect(err!.message).toMatch(w);
        const left = existsSync(out) ? readdirSync(out, { recursive: true }).filter((n) => !String(n).startsWith('.checkpoints')) : [];
        expect(left).toEqual([]);
      } finally {
        d.cleanup();
      }
    }, 30_000);
  }

  it.skipIf(!existsSync(CLI))('the CLI exits 1 for a bad image and 2 for an invalid pipeline, naming the stage and line', () => {
    const d = tempDir('svdflow-imgc-cli-');
    try {
      writeFileSync(join(d.dir, 'fake.jpg'), 'not a JPEG\n');
      const r1 = spawnSync(process.execPath, [CLI, 'run', PIPE, '--no-progress', '--out', join(d.dir, 'o1'), '--set', `input=${join(d.dir, 'fake.jpg')}`], { encoding: 'utf8', cwd: ROOT });
      expect(r1.status).toBe(1);
      expect(r1.stderr).toMatch(/pipelines\/image-compress\.yaml:\d+:\d+ step 'image' \(stage load\) failed: cannot read .*fake\.jpg: it is not an image/);
      const r2 = spawnSync(process.execPath, [CLI, 'run', PIPE, '--no-progress', '--out', join(d.dir, 'o2'), '--set', 'percent=150'], { encoding: 'utf8', cwd: ROOT });
      expect(r2.status).toBe(2);
      expect(r2.stderr).toMatch(/image-compress\.yaml:\d+:\d+ steps\[4\]\.params\.percent.*stage truncate/);
      expect(existsSync(join(d.dir, 'o1')) ? readdirSync(join(d.dir, 'o1')).filter((n) => n.endsWith('.png')) : []).toEqual([]);
    } finally {
      d.cleanup();
    }
  }, 30_000);
});
