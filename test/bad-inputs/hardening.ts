/**
 * Bad-input cases of issue #14 (hardening), by class: silent success and deep
 * graphs, writes outside --out, interrupts, --resume, resource limits, atomic
 * commit, truncated containers, prototype keys, user errors reported as bugs;
 * then attacks invented for the trial. All through the CLI (see cases.ts).
 */
import { readFileSync, writeFileSync, mkdirSync, symlinkSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import type { Case } from './cases.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const POINTS = (n = 10) => `  - { id: pts, stage: generate-points, params: { shape: circle, n: ${n} } }\n`;
const chain = (n: number) => {
  let s = 'steps:\n' + POINTS();
  for (let i = 0; i < n; i++) s += `  - { id: t${i}, stage: transform, params: { ops: [{ op: translate, by: [0.001, 0] }], name: c } }\n`;
  return s + '  - { id: w, stage: write-points, params: { path: p.csv } }\n';
};
const fanOut = (n: number) => {
  let s = 'steps:\n' + POINTS(4);
  for (let i = 0; i < n; i++) s += `  - { id: t${i}, stage: transform, input: pts, params: { ops: [{ op: scale, factor: 2 }] } }\n`;
  return s;
};
/** the largest x of a write-points CSV (a circle of radius 1 moved right) */
const maxX = (file: string) => Math.max(...readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[0])));
const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'out', 'run.json'), 'utf8')) as { steps: Array<{ id: string; itemsOut: number }>; files: unknown[] };
const WRITE = (path: string, extra = '') => `steps:\n${POINTS()}  - { id: w, stage: write-points, params: { path: ${JSON.stringify(path)} } }\n${extra}`;
const IMAGE = (extra = '', rank = 2) => `steps:
  - { id: img, stage: load, params: { path: "$ROOT/data/turtle.JPG", mode: gray${extra} } }
  - { id: f, stage: svd }
  - { id: cut, stage: truncate, params: { rank: ${rank} } }
  - { id: back, stage: reconstruct }
  - { id: png, stage: encode, params: { path: out.png } }
`;
/** the image-compress job (1000x1468 gray, full SVD, rank-k image and report), to interrupt */
const SLOW_IMAGE = `steps:
  - { id: img, stage: load, params: { path: "$ROOT/data/turtle.JPG", mode: gray, resize: { width: 1000, height: 1468, fit: fill } } }
  - { id: norm, stage: normalize }
  - { id: centred, stage: center, params: { mode: global } }
  - { id: f, stage: svd }
  - { id: cut, stage: truncate, params: { percent: 5 } }
  - { id: back, stage: reconstruct, params: { clamp: true } }
  - { id: png, stage: encode, params: { path: "{name}-k.png" } }
  - { id: rep, stage: compression-report, input: cut }
`;
/** waits until the run holds its output folder (the CLI has started the run), then `ms` more */
async function afterStart(dir: string, ms: number): Promise<void> {
  for (let i = 0; i < 2000 && !existsSync(join(dir, 'out', '.svdflow.lock')); i++) await sleep(5);
  await sleep(ms);
}
/**
 * Waits until the run's log (--log-level info, on stderr) has printed `text`: a phase of the work has begun,
 * whatever the machine's speed (a fixed delay missed the work on a fast machine: the run had ended). Returns
 * early if the child ends first (the case then fails on its exit code, with what it printed).
 */
function afterLine(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve) => {
    let err = '';
    child.stderr!.on('data', (b) => {
      err += b;
      if (err.includes(text)) resolve();
    });
    child.once('exit', () => resolve());
  });
}
const VIDEO = (extra = '', rank = 2) => `steps:
  - { id: frames, stage: decode, params: { path: "$DIR/clip.mp4"${extra} } }
  - { id: batches, stage: batch-frames, params: { size: 10 } }
  - { id: model, stage: background-model, params: { rank: ${rank}, checkpointEvery: 20 } }
  - { id: vid, stage: write-video, input: model, params: { layer: mask, path: mask.mp4, segmentFrames: 40 } }
`;
const IMAGE_AT = (path: string, extra = '') => `steps:
  - { id: img, stage: load, params: { path: "${path}", mode: gray${extra} } }
  - { id: f, stage: svd }
  - { id: cut, stage: truncate, params: { rank: 2 } }
  - { id: back, stage: reconstruct }
  - { id: png, stage: encode, params: { path: out.png } }
`;
const copyClip = (dir: string, clip: string) => writeFileSync(join(dir, 'clip.mp4'), readFileSync(clip));

export const HARDENING: Case[] = [
  // ---- 1. no silent success; no recursion proportional to the number of steps
  { name: '5,000-step chain runs (no stack overflow, no silent exit 0)', pipeline: chain(5000), code: 0, says: [], writes: ['out/p.csv', 'out/run.json'], check: (d) => expect(maxX(join(d, 'out/p.csv'))).toBeCloseTo(1 + 5000 * 0.001, 6) },
  { name: '120-step chain (across async hops) gives the exact result', pipeline: chain(120), code: 0, says: [], writes: ['out/p.csv', 'out/run.json'], check: (d) => expect(maxX(join(d, 'out/p.csv'))).toBeCloseTo(1.12, 9) },
  {
    name: '5,000-way fan-out runs, every branch gets the value',
    pipeline: fanOut(5000),
    code: 0,
    says: [],
    writes: ['out/run.json'],
    check: (d) => {
      const m = manifest(d);
      expect(m.steps).toHaveLength(5001);
      expect(m.steps.every((s) => s.itemsOut === 1)).toBe(true);
    },
  },
  // ---- 2. every written path inside the output folder
  { name: 'absolute output path refused at validation', pipeline: WRITE('$DIR/owned.csv'), code: 2, says: ['case.yaml:3:', 'steps[1].params.path', 'is an absolute path', 'relative to the output folder'] },
  { name: "output path with '..' refused at validation", pipeline: WRITE('../escaped.csv'), code: 2, says: ['steps[1].params.path', "leaves the output folder ('..')"] },
  { name: "output path with '..' in the middle that leaves", pipeline: WRITE('a/../../escaped.csv'), code: 2, says: ["leaves the output folder ('..')"] },
  { name: "harmless '..' that stays inside is fine", pipeline: WRITE('a/../inside.csv'), code: 0, says: [], writes: ['out/inside.csv', 'out/run.json'] },
  { name: 'pipeline name escaping out/ refused (default output folder)', pipeline: 'name: ../../escape\n' + WRITE('p.csv'), args: ['run', 'case.yaml'], code: 2, says: ['case.yaml:1:7', 'name must be a plain name', "without '/'"] },
  { name: 'pipeline name that is an absolute path refused', pipeline: `name: "$DIR/abs"\n` + WRITE('p.csv'), args: ['run', 'case.yaml'], code: 2, says: ['name must be a plain name'] },
  { name: "compression-report prefix with '..' refused", pipeline: IMAGE().replace('  - { id: png, stage: encode, params: { path: out.png } }\n', '  - { id: rep, stage: compression-report, input: cut, params: { prefix: "../rep" } }\n'), code: 2, says: ['steps[4].params.prefix', "leaves the output folder"] },
  { name: "write-frames pattern with '..' refused before it writes anything", pipeline: VIDEO().replace(/  - \{ id: vid.*\n/, '  - { id: fr, stage: write-frames, input: model, params: { layer: mask, path: "../../../f%06d.png" } }\n'), setup: (d, fx) => copyClip(d, fx.clip), code: 2, says: ['steps[3].params.path', "leaves the output folder"] },
  { name: "an output named run.json refused (the manifest's name)", pipeline: WRITE('run.json').replace('params: { path: "run.json" }', 'params: { path: "run.json", format: csv }'), code: 2, says: ['is run.json, which the run writes itself'] },
  { name: 'an output inside .checkpoints refused', pipeline: WRITE('.checkpoints/x.csv'), code: 2, says: ['is .checkpoints, which the run writes itself'] },
  { name: 'two steps writing one fixed file refused at validation', pipeline: WRITE('p.csv', '  - { id: w2, stage: write-points, input: pts, params: { path: ./p.csv } }\n'), code: 2, says: ["steps 'w' and 'w2' both write p.csv"] },
  { name: 'an output name with a NUL byte refused', pipeline: WRITE('a\0b.csv'), code: 2, says: ['contains a NUL character'] },
  { name: 'an overlong output file name refused', pipeline: WRITE('x'.repeat(300) + '.csv'), code: 2, says: ['longer than 240 bytes'] },
  {
    name: "a data-derived name ({name} = '..') refused at run time, nothing written",
    pipeline: `steps:\n${POINTS()}  - { id: mv, stage: transform, params: { ops: [{ op: scale, factor: 2 }], name: ".." } }\n  - { id: w, stage: write-points, params: { path: "{name}/escaped.csv" } }\n`,
    code: 1,
    says: ["step 'w' (stage write-points)", "output file name '../escaped.csv' leaves the output folder"],
    check: (d) => expect(existsSync(join(d, 'escaped.csv'))).toBe(false),
  },
  {
    name: 'two items of one step mapping to one file (a.jpg, a.png -> {name}.png) refused',
    pipeline: 'steps:\n  - { id: imgs, stage: load, params: { path: "$DIR/imgs", mode: gray } }\n  - { id: png, stage: encode, params: { path: "{name}.png" } }\n',
    setup: async (d, fx) => {
      await fx.png(`${d}/imgs/a.png`, 12, 10);
      await fx.png(`${d}/imgs/b.png`, 12, 10);
      writeFileSync(`${d}/imgs/a.jpg`, readFileSync(fx.stamp));
    },
    code: 1,
    says: ["step 'imgs' (stage load)", 'differ in size'],
  },
  {
    name: 'two same-sized items of one step mapping to one file refused',
    pipeline: 'steps:\n  - { id: imgs, stage: load, params: { path: "$DIR/imgs", mode: gray } }\n  - { id: png, stage: encode, params: { path: "{name}.png" } }\n',
    setup: async (d, fx) => {
      await fx.png(`${d}/imgs/a.png`, 12, 10);
      const sharp = (await import('sharp')).default;
      await sharp({ create: { width: 12, height: 10, channels: 3, background: { r: 1, g: 2, b: 3 } } }).jpeg().toFile(`${d}/imgs/a.jpg`);
    },
    code: 1,
    says: ["step 'png' (stage encode)", "two values of step 'png' map to the same file a.png", '{index}'],
  },
  {
    name: 'a symbolic link in the output folder leading outside refused',
    pipeline: WRITE('link/p.csv'),
    setup: (d) => {
      mkdirSync(join(d, 'elsewhere'));
      mkdirSync(join(d, 'out'));
      symlinkSync(join(d, 'elsewhere'), join(d, 'out', 'link'));
    },
    code: 1,
    says: ['would be written outside the output folder', 'symbolic link'],
    check: (d) => expect(readdirSync(join(d, 'elsewhere'))).toEqual([]),
  },
  // ---- 6. atomic commit
  {
    name: 'a folder where an output file goes: nothing replaced, no run.json',
    pipeline: WRITE('a.csv', '  - { id: w2, stage: write-points, input: pts, params: { path: b.csv } }\n'),
    setup: (d, fx) => {
      fx.writeFile(join(d, 'out', 'a.csv'), 'old a\n');
      fx.writeFile(join(d, 'out', 'b.csv', 'keep'), 'a folder named b.csv\n');
    },
    code: 1,
    says: ['cannot write b.csv: the output folder has a folder of that name', 'nothing was replaced'],
    check: (d) => {
      expect(readFileSync(join(d, 'out', 'a.csv'), 'utf8')).toBe('old a\n');
      expect(existsSync(join(d, 'out', 'run.json'))).toBe(false);
    },
  },
  {
    name: 'a successful run replaces older outputs (the neighbour of the atomic commit)',
    pipeline: WRITE('a.csv'),
    setup: (d, fx) => fx.writeFile(join(d, 'out', 'a.csv'), 'old a\n'),
    code: 0,
    says: [],
    writes: ['out/run.json'],
    check: (d) => {
      expect(readFileSync(join(d, 'out', 'a.csv'), 'utf8')).toMatch(/^x,y\n/);
      expect(readdirSync(join(d, 'out')).filter((n) => n.includes('svdflow-'))).toEqual([]);
    },
  },
  // ---- 8. prototype keys
  { name: '--set __proto__=1 refused', pipeline: 'variables: { n: 3 }\n' + WRITE('p.csv'), args: ['run', 'case.yaml', '--out', 'out', '--set', '__proto__=1'], code: 2, says: ["'__proto__' is not allowed in a --set name"] },
  { name: '--set constructor=1 refused', pipeline: 'variables: { n: 3 }\n' + WRITE('p.csv'), args: ['run', 'case.yaml', '--out', 'out', '--set', 'constructor=1'], code: 2, says: ["'constructor' is not allowed in a --set name"] },
  { name: '--set toString=1 is an unknown variable', pipeline: 'variables: { n: 3 }\n' + WRITE('p.csv'), args: ['run', 'case.yaml', '--out', 'out', '--set', 'toString=1'], code: 2, says: ["the pipeline has no variable 'toString'"] },
  { name: '--set STEP.__proto__.X refused (no prototype pollution)', pipeline: WRITE('p.csv'), args: ['run', 'case.yaml', '--out', 'out', '--set', 'w.__proto__.polluted=1'], code: 2, says: ["'__proto__' is not allowed in a --set name"] },
  { name: '${toString} is an unknown variable, not "undefined"', pipeline: 'variables: { n: 3 }\n' + WRITE('p-${toString}.csv'), code: 2, says: ["unknown variable '${toString}'", 'expected variables: n'] },
  { name: '${hasOwnProperty} is an unknown variable', pipeline: 'variables: { n: 3 }\n' + WRITE('p-${hasOwnProperty}.csv'), code: 2, says: ["unknown variable '${hasOwnProperty}'"] },
  { name: 'a __proto__ key in the YAML refused', pipeline: WRITE('p.csv').replace('shape: circle', 'shape: circle, __proto__: { n: 5 }'), code: 2, says: ["case.yaml:2:", "'__proto__' is not allowed as a key"] },
  { name: 'a variable named constructor refused', pipeline: 'variables: { constructor: 3 }\n' + WRITE('p.csv'), code: 2, says: ["'constructor' is not allowed as a key"] },
  { name: 'a step id constructor refused', pipeline: WRITE('p.csv').replace('id: w,', 'id: constructor,'), code: 2, says: ["'constructor' is not allowed as a step id"] },
  { name: 'an input port named constructor is unknown', pipeline: `steps:\n${POINTS()}  - { id: al, stage: align, inputs: { toString: pts, target: pts }, params: { method: procrustes } }\n`, code: 2, says: ["stage align has no input port 'toString'", 'expected ports: target'] },
  // ---- 9. user errors are not bugs
  { name: 'a folder given as the pipeline file', setup: (d) => void mkdirSync(join(d, 'pipes.yaml', 'inner'), { recursive: true }), args: ['run', 'pipes.yaml'], code: 2, says: ['pipes.yaml is a folder, not a pipeline file'] },
  { name: 'a device given as the pipeline file (endless input)', args: ['validate', '/dev/zero'], code: 2, says: ['/dev/zero is not a regular file'] },
  { name: 'an empty pipeline file', pipeline: '', code: 2, says: ['case.yaml', 'a pipeline file must be a mapping'] },
  { name: 'binary garbage as the pipeline file', pipeline: '\u0000\u0001\u0002PNG\r\n\u001a\n\u00ff\u00fe', code: 2, says: ['case.yaml', /YAML syntax error|must be a mapping/] },
  { name: 'YAML alias bomb', pipeline: 'variables:\n  a: &a ["x","x","x","x","x","x","x","x","x"]\n  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n  f: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n' + WRITE('p.csv'), code: 2, says: ['case.yaml', 'aliases (*name) expand to too many values', '--limit yamlAliases'] },
  { name: 'YAML nested 100 levels deep', pipeline: 'variables:\n  deep: ' + '['.repeat(100) + ']'.repeat(100) + '\n' + WRITE('p.csv'), code: 2, says: ['case.yaml:2:', 'nests deeper than 64 levels', '--limit yamlDepth'] },
  { name: 'YAML nested 100,000 levels deep', pipeline: 'variables:\n  deep: ' + '['.repeat(100000) + ']'.repeat(100000) + '\n' + WRITE('p.csv'), code: 2, says: ['case.yaml'] },
  { name: 'a few aliases are fine (the neighbour of the bomb)', pipeline: 'variables:\n  a: &a 3\n  b: *a\n' + WRITE('p.csv'), code: 0, says: [], writes: ['out/p.csv', 'out/run.json'] },
  { name: 'a duplicate key in a mapping', pipeline: WRITE('p.csv').replace('shape: circle', 'shape: circle, shape: box'), code: 2, says: ['case.yaml:2:', "duplicate key 'shape'", 'unique'] },
  // ---- 3. interrupts: the output folder exactly as before, children ended
  ...(['SIGINT', 'SIGTERM', 'SIGHUP'] as const).flatMap((sig): Case[] =>
    // two moments of the work, told by the run's own log: the full SVD has begun; the rank-k image is made
    // and the PNG and the report (PSNR, SSIM, figures) are being computed and written
    [['as the SVD starts', 'svd started'], ['while the outputs are made', 'reconstructed']].map(([when, line]) => ({
      name: `${sig} ${when} in image work: no temporary file left, folder as before`,
      pipeline: SLOW_IMAGE,
      args: ['run', 'case.yaml', '--out', 'out', '--log-level', 'info'],
      // the WebAssembly kernels: with OpenBLAS (linalg/native.ts) the SVD is over in a blink
      env: { SVDFLOW_BLAS: 'off' },
      setup: (d, fx) => fx.writeFile(join(d, 'out', 'turtle-k.png'), 'an older result\n'),
      during: async (child) => {
        await afterLine(child, `${line} {"step":"`);
        child.kill(sig);
      },
      code: 130,
      says: [`${sig} received`, 'run cancelled', 'no output was written'],
      check: (d) => {
        expect(readdirSync(join(d, 'out'))).toEqual(['turtle-k.png']);
        expect(readFileSync(join(d, 'out', 'turtle-k.png'), 'utf8')).toBe('an older result\n');
      },
    })),
  ),
  {
    name: 'SIGHUP mid-video: children ended, exit 130, no part file',
    pipeline: VIDEO(', loop: 400'),
    setup: (d, fx) => copyClip(d, fx.clip),
    during: async (child, dir) => {
      for (let i = 0; i < 1000 && !existsSync(`${dir}/out/.checkpoints/model`); i++) await sleep(10);
      await sleep(300);
      child.kill('SIGHUP');
    },
    code: 130,
    says: ['SIGHUP received', 'run cancelled'],
  },
  {
    name: 'a second Ctrl-C exits at once and still leaves no temporary file',
    pipeline: SLOW_IMAGE,
    during: async (child, dir) => {
      await afterStart(dir, 300);
      // the second as soon as the CLI has seen the first (it says so), or has already ended
      let err = '';
      const saw = new Promise<void>((resolve) => {
        child.stderr!.on('data', (b) => { err += b; if (err.includes('SIGINT received')) resolve(); });
        child.once('exit', () => resolve());
        if (child.exitCode !== null || child.signalCode !== null) resolve(); // ended before we listened
      });
      child.kill('SIGINT');
      await saw;
      child.kill('SIGINT');
    },
    code: 130,
    // the second one may come after the run has already stopped (or its files were committed:
    // an interrupt still ends with 130, src/cli/main.ts settle)
    says: ['SIGINT received'],
  },
  // ---- 4. --resume: one run's checkpoints only
  {
    name: '--resume with a changed param is refused, naming the change',
    pipeline: VIDEO(', loop: 400'),
    setup: async (d, fx) => {
      copyClip(d, fx.clip);
      await interruptedRun(d, fx);
    },
    args: ['run', 'case.yaml', '--out', 'out', '--resume', '--set', 'model.rank=3'],
    code: 2,
    says: ['--resume: the checkpoints in out/.checkpoints were made by a different run', "params of step 'model' changed: rank 2 → 3", 'run without --resume'],
  },
  {
    name: '--resume with a different input video is refused, naming it',
    pipeline: VIDEO(', loop: 400'),
    setup: async (d, fx) => {
      copyClip(d, fx.clip);
      await interruptedRun(d, fx);
      fx.ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-frames:v', '30', '-pix_fmt', 'yuv420p', '-y', join(d, 'clip.mp4')]);
    },
    args: ['run', 'case.yaml', '--out', 'out', '--resume'],
    code: 2,
    says: ['made by a different run', 'clip.mp4 changed'],
  },
  {
    name: '--resume after a completed run says so',
    pipeline: WRITE('p.csv'),
    setup: async (d, fx) => {
      const r = await fx.cli(['run', 'case.yaml', '--out', 'out'], d);
      if (r.code !== 0) throw new Error(r.stderr);
    },
    args: ['run', 'case.yaml', '--out', 'out', '--resume'],
    code: 2,
    says: ['nothing to resume: the run into out completed', 'run without --resume to run it again'],
  },
  {
    name: '--resume with checkpoints that carry no fingerprint is refused',
    pipeline: VIDEO(),
    setup: (d, fx) => {
      copyClip(d, fx.clip);
      fx.writeFile(join(d, 'out', '.checkpoints', 'model', 'progress.json'), '{"next": 20}');
    },
    args: ['run', 'case.yaml', '--out', 'out', '--resume'],
    code: 2,
    says: ['carry no fingerprint', 'run without --resume'],
  },
  {
    name: 'a second run into the same --out while one runs fails at once (lock)',
    pipeline: WRITE('p.csv'),
    setup: (d, fx) => fx.writeFile(join(d, 'out', '.svdflow.lock'), JSON.stringify({ pid: process.pid, host: hostname(), started: 'earlier' })),
    code: 2,
    says: [`another svdflow run (pid ${process.pid}, started earlier) is writing to`, 'pass another --out'],
  },
  {
    name: 'a stale lock (its process is gone) is taken over',
    pipeline: WRITE('p.csv'),
    setup: (d, fx) => fx.writeFile(join(d, 'out', '.svdflow.lock'), JSON.stringify({ pid: 2 ** 22 + 7, host: hostname(), started: 'long ago' })),
    code: 0,
    says: [],
    writes: ['out/p.csv', 'out/run.json'],
    check: (d) => expect(existsSync(join(d, 'out', '.svdflow.lock'))).toBe(false),
  },
  // ---- 5. resource limits, with clear messages and overrides
  {
    name: 'a small PNG of 16000x16000 pixels refused before decoding (pixel limit)',
    pipeline: IMAGE_AT('$DIR/huge.png'),
    setup: async (d) => {
      const sharp = (await import('sharp')).default;
      await sharp({ create: { width: 16000, height: 16000, channels: 3, background: { r: 0, g: 0, b: 0 } } }).png({ compressionLevel: 9 }).toFile(join(d, 'huge.png'));
    },
    code: 1,
    says: ["step 'img' (stage load)", 'is 16000x16000 = 256 megapixels, above the limit of 100 megapixels', 'maxPixels: 256000000'],
  },
  {
    name: 'the pixel limit can be raised (maxPixels), the neighbour of the bomb',
    pipeline: IMAGE_AT('$ROOT/data/stamps/im_00.jpg', ', maxPixels: 23630').replace('rank: 2', 'rank: 2 '),
    code: 0,
    says: [],
    writes: ['out/out.png', 'out/run.json'],
  },
  { name: 'an image just above a lowered pixel limit is refused', pipeline: IMAGE_AT('$ROOT/data/stamps/im_00.jpg', ', maxPixels: 23629'), code: 1, says: ['is 139x170 = 0.0 megapixels'.replace('0.0', '0.0'), 'above the limit'] },
  { name: 'resize to 40000x40000 refused at validation (sharp would abort the process)', pipeline: IMAGE_AT('$ROOT/data/turtle.JPG', ', resize: { width: 40000, height: 40000 }'), code: 2, says: ['steps[0].params.resize', 'resize to 40000x40000 = 1600 megapixels is above the limit of 100 megapixels'] },
  { name: 'resize wider than sharp allows refused at validation', pipeline: IMAGE_AT('$ROOT/data/turtle.JPG', ', resize: { width: 100000 }'), code: 2, says: ['steps[0].params.resize.width', '65535'] },
  { name: 'a one-sided resize that would exceed the pixel limit refused before decoding', pipeline: IMAGE_AT('$ROOT/data/turtle.JPG', ', resize: { width: 30000 }'), code: 1, says: ['resize of', 'is above the limit of 100 megapixels'] },
  {
    name: 'an SVD too large for its memory limit refused before it starts, suggesting rank:',
    pipeline: IMAGE_AT('$ROOT/data/turtle.JPG').replace('{ id: f, stage: svd }', '{ id: f, stage: svd, params: { maxMemoryMiB: 10 } }'),
    code: 1,
    says: ["step 'f' (stage svd)", 'would need about', 'MiB of memory, above the limit of 10 MiB', 'rank:', 'maxMemoryMiB'],
  },
  { name: 'the same SVD with rank: fits the limit (randomized)', pipeline: IMAGE_AT('$ROOT/data/turtle.JPG').replace('{ id: f, stage: svd }', '{ id: f, stage: svd, params: { maxMemoryMiB: 10, rank: 20 } }'), code: 0, says: [], writes: ['out/out.png', 'out/run.json'] },
  { name: 'a pipeline file above the size limit refused', pipeline: '# ' + 'x'.repeat(2000) + '\n' + WRITE('p.csv'), args: ['run', 'case.yaml', '--out', 'out', '--limit', 'pipelineBytes=1k'], code: 2, says: ['pipeline file case.yaml is', 'above the limit of 1024 bytes', '--limit pipelineBytes='] },
  { name: 'a malformed --limit is a usage error', pipeline: WRITE('p.csv'), args: ['run', 'case.yaml', '--limit', 'pipelineBytes=-3'], code: 2, says: ['--limit pipelineBytes=-3: expected NAME=NUMBER'] },
  { name: 'a raised --limit yamlDepth lets a deeper (still sane) file through', pipeline: 'variables:\n  deep: ' + '['.repeat(80) + ']'.repeat(80) + '\n' + WRITE('p.csv'), args: ['validate', 'case.yaml', '--limit', 'yamlDepth=100'], code: 0, says: [] },
  {
    name: '99,000 keys validate (near-linear duplicate check; was 381 s)',
    pipeline: 'variables:\n' + Array.from({ length: 99000 }, (_, i) => `  k${i}: ${i}\n`).join('') + WRITE('p.csv'),
    args: ['validate', 'case.yaml'],
    code: 0,
    says: [],
  },
  {
    name: '99,000 duplicate keys are all reported, the output capped',
    pipeline: 'variables:\n' + Array.from({ length: 99000 }, (_, i) => `  k${i % 1000}: ${i}\n`).join('') + WRITE('p.csv'),
    args: ['validate', 'case.yaml'],
    code: 2,
    says: ['98000 problems found', "duplicate key 'k0' (first at line 2)", '… and 97900 more', '--limit issuesShown'],
  },
  // ---- 7. truncated containers
  {
    name: 'an AVI cut to a third (no index) is reported as truncated, not decoded short with exit 0',
    pipeline: VIDEO().replace('$DIR/clip.mp4', '$DIR/third.avi'),
    setup: (d, fx) => {
      fx.ffmpeg(['-stream_loop', '5', '-i', fx.clip, '-c:v', 'mpeg4', '-y', join(d, 'full.avi')]);
      const full = readFileSync(join(d, 'full.avi'));
      writeFileSync(join(d, 'third.avi'), full.subarray(0, Math.floor(full.length / 3)));
    },
    code: 1,
    says: ["step 'frames' (stage decode)", 'third.avi is truncated or corrupt: decoded', 'its header announces 720'],
  },
  {
    name: 'the whole AVI decodes (the neighbour of the truncated one)',
    pipeline: VIDEO().replace('$DIR/clip.mp4', '$DIR/full.avi'),
    setup: (d, fx) => fx.ffmpeg(['-stream_loop', '5', '-i', fx.clip, '-c:v', 'mpeg4', '-y', join(d, 'full.avi')]),
    code: 0,
    says: [],
    writes: ['out/mask.mp4', 'out/run.json', 'out/report-media/mask.preview.webm'],
  },
  // ---- attacks invented for the trial (each found something, now fixed, or guards a fix)
  { name: 'attack: an image input that is a device (/dev/zero, read forever)', pipeline: IMAGE_AT('/dev/zero'), code: 2, says: ['steps[0].params.path', 'is not a regular file or folder'] },
  { name: 'attack: an image input that is a named pipe (blocks forever)', pipeline: IMAGE_AT('$DIR/fifo.png'), setup: (d) => void spawnSync('mkfifo', [join(d, 'fifo.png')]), code: 2, says: ['fifo.png is not a regular file or folder'] },
  { name: 'attack: an input that is a link to a device', pipeline: IMAGE_AT('$DIR/zero.png'), setup: (d) => symlinkSync('/dev/zero', join(d, 'zero.png')), code: 2, says: ['is not a regular file or folder'] },
  { name: 'attack: terminal escape sequences in a stage name are not sent to the terminal', pipeline: WRITE('p.csv').replace('stage: write-points', 'stage: "write\\e[2J\\e[31mpoints"'), code: 2, says: ['\\x1b[2J', "unknown stage"], check: () => undefined },
  { name: 'attack: a variable expansion bomb (${big} many times in one value)', pipeline: `variables:\n  big: "${'y'.repeat(60000)}"\n` + WRITE(Array.from({ length: 40 }, () => '${big}').join('') + '.csv'), code: 2, says: ['substituting variables makes this value longer than 1048576 characters'] },
  { name: 'attack: --out at the input folder, an output named like the input', pipeline: WRITE('p.csv').replace('generate-points, params: { shape: circle, n: 10 }', 'load-points, params: { path: "$DIR/in/p.csv" }'), setup: (d, fx) => fx.writeFile(join(d, 'in', 'p.csv'), 'x,y\n0,0\n1,0\n0,1\n'), args: ['run', 'case.yaml', '--out', 'in'], code: 1, says: ['is an input of this run', 'pass another --out'], check: (d) => expect(readFileSync(join(d, 'in', 'p.csv'), 'utf8')).toBe('x,y\n0,0\n1,0\n0,1\n') },
  { name: 'attack: a 10,000-character step id (checkpoint folder names)', pipeline: WRITE('p.csv').replace('id: w,', `id: ${'w'.repeat(10000)},`), code: 2, says: ['step id must be a name'] },
  { name: 'attack: a tampered checkpoint fingerprint (JSON null) is refused, not a crash', pipeline: VIDEO(), setup: (d, fx) => { copyClip(d, fx.clip); fx.writeFile(join(d, 'out', '.checkpoints', 'fingerprint.json'), 'null'); }, args: ['run', 'case.yaml', '--out', 'out', '--resume'], code: 2, says: ['made by a different run', 'not one this svdflow wrote'] },
  { name: 'attack: a folder named run.json in the output folder: nothing replaced', pipeline: WRITE('p.csv'), setup: (d, fx) => { fx.writeFile(join(d, 'out', 'p.csv'), 'old\n'); fx.writeFile(join(d, 'out', 'run.json', 'x'), ''); }, code: 1, says: ['cannot write run.json: the output folder has a folder of that name'], check: (d) => expect(readFileSync(join(d, 'out', 'p.csv'), 'utf8')).toBe('old\n') },
  { name: 'attack: a step that is its own input', pipeline: `steps:\n${POINTS()}  - { id: t, stage: transform, input: t, params: { ops: [{ op: scale, factor: 2 }] } }\n`, code: 2, says: ['the steps form a cycle: t → t'] },
  { name: 'attack: input: __proto__ names no step', pipeline: `steps:\n${POINTS()}  - { id: t, stage: transform, input: __proto__, params: { ops: [{ op: scale, factor: 2 }] } }\n`, code: 2, says: ["no step with id '__proto__'"] },
  { name: 'attack: a --set with an empty name', pipeline: WRITE('p.csv'), args: ['run', 'case.yaml', '--set', '=3'], code: 2, says: ["--set expects name=value, got '=3'"] },
  { name: 'attack: 20,000 steps that are empty mappings: every problem counted, output capped', pipeline: 'steps:\n' + '  - {}\n'.repeat(20000), code: 2, says: ['20000 problems found', 'missing key stage', '… and 19900 more'] },
  { name: 'attack: a pipeline name with control characters', pipeline: 'name: "a\\tb\\x1bc"\n' + WRITE('p.csv'), args: ['run', 'case.yaml'], code: 2, says: ['name must be a plain name'] },
  { name: 'attack: --limit yamlDepth raised far does not crash on 100,000 levels', pipeline: 'variables:\n  deep: ' + '['.repeat(100000) + ']'.repeat(100000) + '\n' + WRITE('p.csv'), args: ['validate', 'case.yaml', '--limit', 'yamlDepth=1000000'], code: 2, says: ['case.yaml'] },
  { name: 'attack: a lock file that is a folder', pipeline: WRITE('p.csv'), setup: (d) => void mkdirSync(join(d, 'out', '.svdflow.lock'), { recursive: true }), code: 2, says: ['pass another --out'] },
];

/** Leaves the checkpoints of an interrupted video run in `dir`/out. */
async function interruptedRun(dir: string, fx: Parameters<NonNullable<Case['setup']>>[1]): Promise<void> {
  const run = fx.cli(['run', 'case.yaml', '--out', 'out'], dir);
  for (let i = 0; i < 3000 && !existsSync(join(dir, 'out', '.checkpoints', 'model', 'progress.json')) && !readdirSafe(join(dir, 'out', '.checkpoints', 'model')).some((n) => n.startsWith('state-')); i++) await sleep(10);
  await sleep(300);
  process.kill(await runningPid(dir), 'SIGINT');
  const r = await run;
  if (r.code !== 130) throw new Error(`setup: the run to interrupt ended with ${r.code}: ${r.stderr}`);
}

function readdirSafe(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

/** the pid of the run holding `dir`/out (its lock file) */
async function runningPid(dir: string): Promise<number> {
  for (let i = 0; i < 500; i++) {
    try {
      return (JSON.parse(readFileSync(join(dir, 'out', '.svdflow.lock'), 'utf8')) as { pid: number }).pid;
    } catch {
      await sleep(10);
    }
  }
  throw new Error('setup: no run holds the lock');
}
