/**
 * Cancellation of heavy stages through the CLI (issue #15 item 2): SIGINT, SIGTERM or SIGHUP
 * sent while an SVD of a 4000x4000 image or a 10^6-point ICP is computing (in the compute
 * pool's worker threads) ends the run within a second with exit 130; nothing is written and
 * no temp file is left. (The first signal now ends the run in ~0.1-0.2 s, so a second one
 * usually finds the process gone; main.ts keeps a forcing handler installed until exit.)
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { CLI, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does it in pretest)`);
  tmp = tempDir('svdflow-cancel-');
  const n = 4000;
  const px = Buffer.alloc(n * n);
  let x = 1;
  for (let i = 0; i < px.length; i++) { x = (x * 1103515245 + 12345) & 0x7fffffff; px[i] = (x >> 16) & 255; }
  await sharp(px, { raw: { width: n, height: n, channels: 1 } }).png({ compressionLevel: 1 }).toFile(join(tmp.dir, 'big.png'));
  writeFileSync(join(tmp.dir, 'svd.yaml'), `name: big-svd
steps:
  - { id: img, stage: load, params: { path: big.png, mode: gray } }
  - { id: f, stage: svd }
  - { id: cut, stage: truncate, params: { rank: 5 } }
  - { id: back, stage: reconstruct }
  - { id: png, stage: encode, params: { path: big-k.png } }
`);
  writeFileSync(join(tmp.dir, 'icp.yaml'), `name: big-icp
steps:
  - { id: target, stage: generate-points, params: { shape: uniform, n: 1000000, dim: 3, seed: 1 } }
  - id: source
    stage: transform
    input: target
    params: { ops: [ { op: rotate, degrees: 3, axis: [0, 0, 1], about: centroid }, { op: noise, sigma: 0.001, seed: 2 } ] }
  - { id: fit, stage: align, input: source, inputs: { target: target }, params: { method: icp, maxCorrespondenceDistance: 0.05 } }
  - { id: report, stage: write-json, input: fit, params: { path: alignment.json } }
`);
});
afterAll(() => tmp?.cleanup());

interface Outcome { code: number | null; afterSignalMs: number; err: string; stillComputing: boolean }

/**
 * Runs a pipeline, waits until the heavy stage has started computing (its 'started' log line)
 * plus `delayMs`, sends the signal(s), and measures how long the process takes to exit.
 */
function interrupt(file: string, out: string, signals: NodeJS.Signals[], delayMs = 1200): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [CLI, 'run', file, '--out', out, '--log-level', 'info', '--log-json', '--no-progress'], { cwd: tmp.dir });
    let err = '';
    let sentAt = 0;
    let armed = false;
    let stillComputing = false;
    c.stderr.on('data', (d: Buffer) => {
      err += d;
      if (!armed && /"msg":"(svd|registration) started"/.test(err)) {
        armed = true;
        setTimeout(() => {
          // control: the stage has not finished (no 'done'/'aligned' line yet), so the exit is the signal's doing
          stillComputing = !/"msg":"(svd done|aligned)"/.test(err);
          sentAt = performance.now();
          for (const s of signals) c.kill(s);
        }, delayMs);
      }
    });
    c.on('error', reject);
    c.on('exit', (code) => resolve({ code, afterSignalMs: sentAt ? performance.now() - sentAt : NaN, err, stillComputing }));
  });
}

const listing = (dir: string) => (existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String) : []);

describe('interrupting heavy stages (compute pool)', () => {
  it('SIGINT during an SVD of a 4000x4000 image: exit 130 within 1 s, nothing written, no temp files', async () => {
    const out = join(tmp.dir, 'out-svd');
    const r = await interrupt(join(tmp.dir, 'svd.yaml'), out, ['SIGINT']);
    expect(r.stillComputing).toBe(true);
    expect(r.code).toBe(130);
    expect(r.afterSignalMs).toBeLessThan(1000);
    expect(r.err).toMatch(/SIGINT received, stopping/);
    expect(listing(out)).toEqual([]);
  });

  // SIGTERM (a service manager) and SIGHUP (a closed terminal) end the run as Ctrl-C does
  it.each(['SIGTERM', 'SIGHUP'] as const)('%s during a 10^6-point ICP: exit 130 within 1 s, nothing written', async (sig) => {
    const out = join(tmp.dir, `out-icp-${sig}`);
    const r = await interrupt(join(tmp.dir, 'icp.yaml'), out, [sig]);
    expect(r.stillComputing).toBe(true);
    expect(r.code).toBe(130);
    expect(r.afterSignalMs).toBeLessThan(1000);
    expect(r.err).toMatch(new RegExp(`${sig} received`));
    expect(listing(out)).toEqual([]);
  });
});
