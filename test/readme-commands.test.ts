/**
 * Every command the README shows (its `sh` blocks, the `$ ` line of its error example, the
 * TypeScript example and the pipeline-file example), checked against what the README says it
 * does: exit code, files written, key words printed. Commands run here as written (`npx
 * svdflow` is the built CLI), in a copy of pipelines/ and data/, except those another test
 * already runs the same way: they are mapped to that test by its title, and the mapping is
 * checked. A README command with no check here fails the first test.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { ROOT, CLI, tempDir } from './helpers.js';
import { allStages } from '../src/stages/index.js';
import { ffmpegPath } from '../src/core/video/io/ffmpeg.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The commands of the README: each line of a `sh` block (comments dropped) and each `$ ` line. */
function readmeCommands(): string[] {
  const out: string[] = [];
  for (const m of README.matchAll(/```(\w*)\n([\s\S]*?)```/g)) {
    const [, lang, body] = m;
    for (const raw of body!.split('\n')) {
      if (lang === 'sh') {
        const line = raw.replace(/(^|\s+)#.*$/, '').trim();
        if (line) out.push(line);
      } else if (lang === '' && raw.startsWith('$ ')) out.push(raw.slice(2).trim());
    }
  }
  return out;
}

/** Commands another test runs as the README shows them: [test file, test title it must contain]. */
const ELSEWHERE: Record<string, [string, string]> = {
  'npm test': ['.ci/run', 'npm test'], // the suite itself: what CI runs
  'npx svdflow run pipelines/video-cdnet-highway.yaml': ['test/pipelines/video-segments.test.ts', '%s: F with 2 segments is within 0.005 of one pass'],
  'npx svdflow run pipelines/video-cdnet-highway.yaml --workers 2': ['test/pipelines/video-segments.test.ts', '%s: F with 2 segments is within 0.005 of one pass'],
  'npx svdflow run pipelines/video-cdnet-highway.yaml --resume': ['test/pipelines/video-segments.test.ts', 'resume per segment: an interrupted segmented run continues'],
  'redis-server --port 6379': ['test/queue/harness.ts', 'redis-server'],
  'svdflow worker --redis redis://:PASSWORD@host:6379 --root /mnt/shared --concurrency 1': ['test/queue/harness.ts', "'worker', '--redis', url, '--root', root"],
  'cd /mnt/shared': ['test/queue/harness.ts', 'export function cli(args: string[], cwd: string'],
  'svdflow run pipelines/video-background.yaml --queue redis://:PASSWORD@host:6379 --each "videos/*.mp4"': ['test/queue/flows.test.ts', "'--each', 'videos/*.mp4'"],
  'svdflow run pipelines/stamps-pca.yaml --queue redis://host:6379 --shards 8': ['test/queue/flows.test.ts', '--shards 3: collection PCA of the stamps equals the local run'],
  'svdflow run pipelines/video-cdnet-highway.yaml --queue redis://host:6379 --segments 4': ['test/queue/flows.test.ts', '--segments 2: one video as two segment jobs'],
  'svdflow run pipelines/video-background.yaml --queue redis://host:6379 --each "videos/*.mp4" --detach': ['test/queue/flows.test.ts', '--detach prints the flow id; svdflow status reports it'],
  'svdflow status each-1a2b3c4d5e6f7a8b --redis redis://host:6379': ['test/queue/flows.test.ts', '--detach prints the flow id; svdflow status reports it'],
  'ffmpeg -i rtsp://camera/stream -c copy -f mpegts - | npx svdflow run pipelines/video-live.yaml --set video=-': ['test/pipelines/video-live.test.ts', 'stdin (--set video=-) gives the same masks, objects and foreground fractions as the file'],
  'npx svdflow run pipelines/video-live.yaml --set video=http://127.0.0.1:8080/live.ts --set segmentFrames=500': ['test/pipelines/video-live.test.ts', 'a never-ending HTTP stream cut by SIGINT keeps the segments committed before it'],
  'npx svdflow data fetch highway': ['test/core/data/fetch.test.ts', 'works through the CLI, and the pipelines then find the data there'],
};

const tmp = tempDir('svdflow-readme-');
const root = join(tmp.dir, 'root');
afterAll(() => tmp.cleanup());

/** Splits a command line as sh would (double quotes only, which is all the README uses). */
function words(cmd: string): string[] {
  return [...cmd.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** Runs a README command in the copy (npx svdflow = the built CLI). */
function sh(cmd: string, timeout = 300_000): { code: number | null; out: string; err: string } {
  const w = words(cmd);
  const args = w[0] === 'npx' ? w.slice(2) : w.slice(1);
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: root, encoding: 'utf8', timeout, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const ran = new Set<string>();
/** A check of one README command (the command must be in the README, as written). */
function command(cmd: string, check: () => void | Promise<void>, timeout = 300_000): void {
  ran.add(cmd);
  it(cmd, async () => {
    expect(readmeCommands(), 'the README shows this command').toContain(cmd);
    await check();
  }, timeout);
}

const pngSize = async (f: string) => { const m = await sharp(f).metadata(); return [m.width, m.height]; };

beforeAll(() => {
  mkdirSync(root, { recursive: true });
  cpSync(join(ROOT, 'pipelines'), join(root, 'pipelines'), { recursive: true });
  cpSync(join(ROOT, 'data'), join(root, 'data'), { recursive: true });
});

describe('README commands', () => {
  it('every command in the README is checked here or mapped to the test that runs it', () => {
    const cmds = readmeCommands();
    expect(cmds.length).toBeGreaterThanOrEqual(30);
    expect(cmds.filter((c) => !ran.has(c) && !(c in ELSEWHERE))).toEqual([]);
    for (const [cmd, [file, title]] of Object.entries(ELSEWHERE)) {
      expect(cmds, `mapped command ${cmd} is still in the README`).toContain(cmd);
      expect(readFileSync(join(ROOT, file), 'utf8'), `${file} runs: ${cmd}`).toContain(title);
    }
  });

  command('npx svdflow run pipelines/image-compress.yaml', async () => {
    const r = sh('npx svdflow run pipelines/image-compress.yaml');
    expect(r.code, r.err).toBe(0);
    const dir = join(root, 'out', 'image-compress');
    expect(r.out).toContain('wrote 5 files to out/image-compress/, plus run.json (the manifest) and report.html\n');
    for (const f of ['turtle-gray-report.json', 'turtle-gray-report.csv', 'turtle-gray-report-spectrum.svg', 'turtle-gray-report-error-storage.svg', 'run.json', 'report.html']) expect(existsSync(join(dir, f)), f).toBe(true);
    // README: "the photo keeps its own size", k named in the file (5% of 720 = 36)
    expect(await pngSize(join(dir, 'turtle-gray-k36.png'))).toEqual([720, 960]);
  });

  command('npx svdflow run pipelines/image-compress.yaml --set percent=10 --out /tmp/p10', async () => {
    const out = join(tmp.dir, 'p10'); // /tmp/p10 of the README, inside this test's folder
    const r = sh(`npx svdflow run pipelines/image-compress.yaml --set percent=10 --out ${out}`);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(out, 'turtle-gray-k72.png'))).toBe(true); // 10% of 720
  });

  command('npx svdflow run pipelines/image-compress.yaml --set input=my-photo.jpg', async () => {
    const W = 517, H = 333, px = Buffer.alloc(W * H * 3);
    for (let i = 0; i < px.length; i++) px[i] = (i * 13 + (i % W)) % 256;
    await sharp(px, { raw: { width: W, height: H, channels: 3 } }).jpeg().toFile(join(root, 'my-photo.jpg'));
    const r = sh('npx svdflow run pipelines/image-compress.yaml --set input=my-photo.jpg');
    expect(r.code, r.err).toBe(0);
    expect(await pngSize(join(root, 'out', 'image-compress', 'my-photo-gray-k17.png'))).toEqual([W, H]); // any image, at its own size
  });

  command('npx svdflow run pipelines/image-compress.yaml --set width=700 --set height=1028', async () => {
    const r = sh('npx svdflow run pipelines/image-compress.yaml --set width=700 --set height=1028');
    expect(r.code, r.err).toBe(0);
    expect(await pngSize(join(root, 'out', 'image-compress', 'turtle-gray-k35.png'))).toEqual([700, 1028]);
  });

  command('npx svdflow run pipelines/image-compress.yaml --set truncate.percent=null --set truncate.energy=0.95', () => {
    const r = sh('npx svdflow run pipelines/image-compress.yaml --set truncate.percent=null --set truncate.energy=0.95');
    expect(r.code, r.err).toBe(0);
    const kept = Number(/energy kept ([\d.]+)%/.exec(r.out)?.[1]);
    expect(kept).toBeGreaterThanOrEqual(95);
    expect(kept).toBeLessThan(97); // the smallest k reaching 95%, not every value
  });

  command('npx svdflow validate pipelines/icp.yaml', () => {
    rmSync(join(root, 'out', 'icp'), { recursive: true, force: true });
    const r = sh('npx svdflow validate pipelines/icp.yaml');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/✔ pipelines\/icp\.yaml is valid: \d+ steps/);
    expect(existsSync(join(root, 'out', 'icp')), 'runs nothing').toBe(false);
  });

  command('npx svdflow stages', () => {
    const r = sh('npx svdflow stages');
    expect(r.code).toBe(0);
    for (const s of allStages) expect(r.out, s.name).toMatch(new RegExp(`^\\s*${s.name}\\b`, 'm'));
  });

  command('npx svdflow stages truncate', () => {
    const r = sh('npx svdflow stages truncate');
    expect(r.code).toBe(0);
    for (const p of ['rank', 'percent', 'energy', 'error']) expect(r.out).toMatch(new RegExp(`\\b${p}\\b`));
  });

  command('npx svdflow schema > pipeline.schema.json', () => {
    const r = sh('npx svdflow schema');
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.out);
    expect(schema.$schema).toMatch(/json-schema/);
    expect(JSON.stringify(schema)).toContain('"steps"');
  });

  // npm start = npm run build + svdflow demo (the build is what npm test's pretest does)
  const demo = () => {
    const r = sh('npx svdflow demo', 600_000);
    expect(r.code, r.err).toBe(0);
    return r;
  };
  let demoOut: { out: string } | undefined;
  command('npm install && npm start', () => {
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start).toBe('npm run build --silent && node dist/src/cli/main.js demo');
    demoOut ??= demo();
    // "prints where the results are (out/<pipeline>/)"; pipelines needing third-party data listed with their command
    expect(demoOut.out).toMatch(/Results are in out\/<pipeline-name>\//);
    // (with the data present it is 'not part of the demo'; without, 'skipped' with the fetch command)
    expect(demoOut.out).toMatch(/video-cdnet-highway\.yaml: (not part of the demo|skipped).*run(?: it with)?: npx svdflow run pipelines\/video-cdnet-highway\.yaml/);
  }, 600_000);

  command('npx svdflow demo', () => {
    demoOut ??= demo();
    // the table "What the demo writes"
    const has = (p: string, f: string) => expect(existsSync(join(root, 'out', p, f)), `out/${p}/${f}`).toBe(true);
    has('image-compress', 'turtle-gray-k36.png');
    for (const f of ['reconstructions.png', 'pca-variance.svg', 'pca-variance.csv', 'pca-mean.png', 'pca-eigenimages.png', 'pca-scatter.svg', 'generated-grid.png', 'generated-path.png', 'pca-coordinates.csv']) has('stamps-pca', f);
    for (const p of ['procrustes', 'icp', 'icp-any-angle']) for (const f of ['alignment.json', 'aligned.csv']) has(p, f);
    for (const f of ['mask.mp4', 'background.mp4', 'foreground.mp4', 'frame-panels.png', 'background.png', 'scores.json', 'objects.jsonl', 'foreground.csv']) has('video-background', f);
    for (const p of ['image-compress', 'stamps-pca', 'procrustes', 'icp', 'icp-any-angle', 'video-background']) { has(p, 'run.json'); has(p, 'report.html'); }
    expect(existsSync(join(root, 'out', 'index.html'))).toBe(true);
  }, 600_000);

  command('npx svdflow report out/icp', () => {
    if (!existsSync(join(root, 'out', 'icp', 'run.json'))) expect(sh('npx svdflow run pipelines/icp.yaml').code).toBe(0);
    rmSync(join(root, 'out', 'icp', 'report.html'));
    const r = sh('npx svdflow report out/icp');
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(join(root, 'out', 'icp', 'report.html'), 'utf8')).toMatch(/<html[\s\S]*alignment/i);
  });

  command('npx svdflow run pipelines/image-compress.yaml --set precent=10 --set truncate.rnak=20', () => {
    const r = sh('npx svdflow run pipelines/image-compress.yaml --set precent=10 --set truncate.rnak=20');
    expect(r.code).toBe(2);
    // the README prints exactly what the CLI does
    const block = /\$ npx svdflow run pipelines\/image-compress\.yaml --set precent=10 --set truncate\.rnak=20\n([\s\S]*?)```/.exec(README)![1]!;
    expect(r.err.trim()).toBe(block.trim());
  });

  const ffmpeg = (() => { try { return ffmpegPath(); } catch { return undefined; } })();
  command('npx svdflow run pipelines/video-background.yaml --set video=my-video.mp4', () => {
    // a short clip of the user's: a square crossing a textured background, no ground truth
    const mk = spawnSync(ffmpeg!, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x96:rate=25:duration=3', '-pix_fmt', 'yuv420p', join(root, 'my-video.mp4')]);
    expect(mk.status, String(mk.stderr)).toBe(0);
    rmSync(join(root, 'out', 'video-background'), { recursive: true, force: true });
    const r = sh('npx svdflow run pipelines/video-background.yaml --set video=my-video.mp4');
    expect(r.code, r.err).toBe(0);
    for (const f of ['mask.mp4', 'background.mp4', 'foreground.mp4', 'background.png', 'objects.jsonl', 'foreground.csv']) expect(existsSync(join(root, 'out', 'video-background', f)), f).toBe(true);
    expect(existsSync(join(root, 'out', 'video-background', 'scores.json')), 'no ground truth: no scoring').toBe(false);
    expect(r.out).toMatch(/skipped/);
  });

  command('npx svdflow run pipelines/video-background.yaml --set groundTruth=data/video/synthetic', () => {
    rmSync(join(root, 'out', 'video-background'), { recursive: true, force: true });
    const r = sh('npx svdflow run pipelines/video-background.yaml --set groundTruth=data/video/synthetic');
    expect(r.code, r.err).toBe(0);
    const scores = JSON.parse(readFileSync(join(root, 'out', 'video-background', 'scores.json'), 'utf8'));
    expect(JSON.stringify(scores)).toMatch(/"(fMeasure|f)":0\.9\d/); // "also scores the masks"
  });

  command('npx svdflow data list', () => {
    const r = sh('npx svdflow data list');
    expect(r.code, r.err).toBe(0);
    for (const n of ['highway', 'videos', 'caviar2', 'bunny', 'seed']) expect(r.out).toMatch(new RegExp(`\\b${n}\\b`));
  });
});

describe('README code examples', () => {
  it('the pipeline-file example (## Pipeline files) validates and runs: turtle-gray-k36.png', async () => {
    const yaml = /## Pipeline files\n\n```yaml\n([\s\S]*?)```/.exec(README)![1]!;
    writeFileSync(join(root, 'pipelines', 'readme-example.yaml'), yaml);
    const v = sh('npx svdflow validate pipelines/readme-example.yaml');
    expect(v.code, v.err).toBe(0);
    const r = sh(`npx svdflow run pipelines/readme-example.yaml --out ${join(tmp.dir, 'yaml-example')}`);
    expect(r.code, r.err).toBe(0);
    expect(await pngSize(join(tmp.dir, 'yaml-example', 'turtle-gray-k36.png'))).toEqual([720, 960]);
  }, 120_000);

  it("the TypeScript example runs as written (import from 'svdflow'): turtle-99.png and the p10 run's files", async () => {
    const ts = /```ts\n([\s\S]*?)```/.exec(README)![1]!;
    expect(ts).toContain("from 'svdflow'");
    // inside the package folder, 'svdflow' resolves to this package (its exports: the built dist/)
    const dir = join(ROOT, `.scratch-readme-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(join(dir, 'example.ts'), ts);
      const r = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(dir, 'example.ts')], { cwd: root, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(await pngSize(join(root, 'out', 'example', 'turtle-99.png'))).toEqual([720, 960]);
      // console.log(result.files.map((f) => f.path)): the p10 run's files, k = 72
      expect(r.stdout).toMatch(/out\/p10\/turtle-gray-k72\.png/);
      expect(existsSync(join(root, 'out', 'p10', 'turtle-gray-k72.png'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
