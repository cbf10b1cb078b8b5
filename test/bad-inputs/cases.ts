/**
 * The bad-input corpus: each case is a user mistake or a broken input, run
 * through the CLI, with the exit code and the words the message must contain
 * (what is wrong, where: file/line or step/stage, and what to do).
 * `corpus.test.ts` runs them and also checks that no partial output remains
 * and no child process is left.
 *
 * In pipelines, `$DIR` is the case's folder, `$ROOT` the repository.
 */
import type { ChildProcess } from 'node:child_process';

export interface Case {
  name: string;
  /** pipeline text written to $DIR/case.yaml */
  pipeline?: string;
  /** CLI arguments (default: run case.yaml --out out); $DIR and $ROOT are replaced */
  args?: string[];
  /** prepares inputs in the case folder */
  setup?: (dir: string, fx: Fixtures) => void | Promise<void>;
  /** acts on the running CLI (interrupt it, remove an input) */
  during?: (child: ChildProcess, dir: string) => Promise<void>;
  code: number;
  /** words stderr must contain, in any order */
  says: Array<string | RegExp>;
  /**
   * files (relative to the case folder) the run must add: exactly these, nothing
   * else (default: none; checkpoints of streaming steps aside)
   */
  writes?: string[];
  /** further checks on the case folder after the run (file contents, things left untouched) */
  check?: (dir: string) => void | Promise<void>;
  /** environment variables for the CLI */
  env?: Record<string, string>;
}

export interface Fixtures {
  /** the bundled synthetic clip */
  clip: string;
  /** an image of 139x170 (a stamp) */
  stamp: string;
  writeFile(path: string, data: string | Uint8Array): void;
  ffmpeg(args: string[]): void;
  png(path: string, width: number, height: number): Promise<void>;
  /** runs the CLI to completion (or until `killAfterMs`, then SIGINT), e.g. to leave checkpoints for a --resume case */
  cli(args: string[], cwd: string, killAfterMs?: number): Promise<{ code: number | null; stderr: string }>;
}

const IMAGE_TAIL = `
  - { id: norm, stage: normalize }
  - { id: f, stage: svd }
  - { id: cut, stage: truncate, params: { rank: 2 } }
  - { id: back, stage: reconstruct }
  - { id: png, stage: encode, params: { path: out.png } }
`;
const loadImage = (path: string) => `steps:\n  - { id: img, stage: load, params: { path: "${path}", mode: gray } }${IMAGE_TAIL}`;

const POINTS = (src: string, tgt = '$ROOT/data/point_cloud.txt') => `steps:
  - { id: src, stage: load-points, params: { path: "${src}" } }
  - { id: tgt, stage: load-points, params: { path: "${tgt}" } }
  - { id: al, stage: align, input: src, inputs: { target: tgt }, params: { method: procrustes } }
  - { id: out, stage: write-points, params: { path: aligned.csv } }
`;

const VIDEO = (path: string, extra = '', gt = '$ROOT/data/video/synthetic') => `steps:
  - { id: frames, stage: decode, params: { path: "${path}"${extra} } }
  - { id: batches, stage: batch-frames, params: { size: 10 } }
  - { id: model, stage: background-model, params: { rank: 2 } }
  - { id: vid, stage: write-video, input: model, params: { layer: mask, path: mask.mp4 } }
  - { id: scores, stage: evaluate-masks, input: model, params: { groundTruth: "${gt}" } }
`;

export const CASES: Case[] = [
  // ---- the pipeline file itself (exit 2, nothing runs)
  { name: 'YAML syntax error', pipeline: 'steps:\n  - { id: a, stage: load\n', code: 2, says: ['case.yaml:', 'YAML syntax error', 'fix the YAML'] },
  { name: 'unknown stage', pipeline: loadImage('$ROOT/data/turtle.JPG').replace('stage: svd', 'stage: sdv'), code: 2, says: ['case.yaml:4:', "unknown stage 'sdv'", "did you mean 'svd'?"] },
  { name: 'misspelled param', pipeline: loadImage('$ROOT/data/turtle.JPG').replace('{ rank: 2 }', '{ rnak: 2 }'), code: 2, says: ['case.yaml:5:', "unknown key 'rnak' (stage truncate)", "did you mean 'rank'?"] },
  { name: 'wrong param type', pipeline: loadImage('$ROOT/data/turtle.JPG').replace('{ rank: 2 }', '{ rank: two }'), code: 2, says: ['case.yaml:5:', 'steps[3].params.rank', 'expected an integer, got "two"'] },
  { name: 'out-of-range value', pipeline: loadImage('$ROOT/data/turtle.JPG').replace('{ rank: 2 }', '{ percent: 150 }'), code: 2, says: ['case.yaml:5:', 'steps[3].params.percent', '<= 100', 'got 150'] },
  { name: 'percent zero', pipeline: loadImage('$ROOT/data/turtle.JPG').replace('{ rank: 2 }', '{ percent: 0 }'), code: 2, says: ['case.yaml:5:', 'steps[3].params.percent', 'got 0'] },
  { name: 'port type mismatch', pipeline: loadImage('$ROOT/data/turtle.JPG').replace('{ id: back, stage: reconstruct }', '{ id: back, stage: reconstruct, input: norm }'), code: 2, says: ['case.yaml:6:', 'type mismatch', 'expects Factorization', "from step 'norm' (stage normalize)", "insert a step between them: 'svd'"] },
  { name: 'cycle', pipeline: 'steps:\n  - { id: a, stage: normalize, input: b }\n  - { id: b, stage: normalize, input: a }\n', code: 2, says: ['case.yaml:3:5', 'the steps form a cycle: b → a → b', 'a DAG'] },
  { name: 'missing input file', pipeline: loadImage('$DIR/turtle.jpg'), code: 2, says: ['case.yaml:2:', 'input file not found', 'turtle.jpg'] },
  { name: 'unknown top-level key', pipeline: 'nmae: x\n' + loadImage('$ROOT/data/turtle.JPG'), code: 2, says: ['case.yaml:1:1', "unknown top-level key 'nmae'", "did you mean 'name'?"] },
  { name: 'unknown variable', pipeline: 'variables: { input: x }\n' + loadImage('${inptu}'), code: 2, says: ['case.yaml:3:', "unknown variable '${inptu}'", "did you mean 'input'?"] },
  { name: 'duplicate step id', pipeline: loadImage('$ROOT/data/turtle.JPG').replace('{ id: f, stage: svd }', '{ id: norm, stage: svd }'), code: 2, says: ["duplicate step id 'norm'", 'unique id'] },
  { name: 'missing side input', pipeline: 'steps:\n  - { id: src, stage: load-points, params: { path: "$ROOT/data/point_cloud.txt" } }\n  - { id: al, stage: align }\n', code: 2, says: ['case.yaml:3:', "needs input port 'target'", 'inputs: { target:'] },
  { name: '--set of an unknown name', pipeline: 'variables: { rank: 2 }\n' + loadImage('$ROOT/data/turtle.JPG'), args: ['run', 'case.yaml', '--out', 'out', '--set', 'rnak=3'], code: 2, says: ["no variable 'rnak'", "did you mean 'rank'?"] },
  { name: '--set of an unknown step', pipeline: loadImage('$ROOT/data/turtle.JPG'), args: ['run', 'case.yaml', '--out', 'out', '--set', 'cutt.rank=3'], code: 2, says: ["no step 'cutt'", "did you mean 'cut'?"] },
  { name: 'pipeline file not found', args: ['run', 'nope.yaml'], code: 2, says: ['pipeline file not found: ', 'nope.yaml'] },
  { name: 'unknown command', args: ['rnu', 'case.yaml'], code: 2, says: ["unknown command 'rnu'", "did you mean 'run'?"] },
  { name: 'unknown option', args: ['run', 'case.yaml', '--outt', 'x'], code: 2, says: ["Unknown option '--outt'", "did you mean '--out'?"] },
  // ---- output folder problems (exit 2, before anything runs)
  { name: 'output path is a file', pipeline: loadImage('$ROOT/data/turtle.JPG'), setup: (d, fx) => fx.writeFile(`${d}/taken`, 'x'), args: ['run', 'case.yaml', '--out', 'taken'], code: 2, says: ['is a file, not a folder', '--out'] },
  { name: 'output folder not writable', pipeline: loadImage('$ROOT/data/turtle.JPG'), setup: (d, fx) => fx.writeFile(`${d}/afile`, 'x'), args: ['run', 'case.yaml', '--out', 'afile/sub'], code: 2, says: ['cannot write to output folder', 'afile/sub', 'ENOTDIR', '--out'] },
  // ---- images (exit 1: the data is bad)
  { name: 'text file named .jpg', pipeline: loadImage('$DIR/notes.jpg'), setup: (d, fx) => fx.writeFile(`${d}/notes.jpg`, 'these are my notes, not a picture\n'), code: 1, says: ["step 'img' (stage load)", 'notes.jpg', 'not an image'] },
  { name: 'truncated JPEG', pipeline: loadImage('$DIR/cut.jpg'), setup: (d, fx) => fx.writeFile(`${d}/cut.jpg`, readHead(fx.stamp, 3000)), code: 1, says: ["step 'img' (stage load)", 'cut.jpg'] },
  { name: 'rank larger than the data allows', pipeline: loadImage(`$ROOT/data/stamps/im_00.jpg`).replace('{ rank: 2 }', '{ rank: 500 }'), code: 1, says: ["step 'cut' (stage truncate)", 'rank 500', 'set rank between 1 and 139'] },
  {
    name: 'images of mixed sizes in a batch',
    pipeline: 'steps:\n  - { id: imgs, stage: load, params: { path: "$DIR/imgs" } }\n  - { id: st, stage: stack }\n  - { id: j, stage: write-json }\n',
    setup: async (d, fx) => {
      await fx.png(`${d}/imgs/a.png`, 20, 10);
      await fx.png(`${d}/imgs/b.png`, 20, 10);
      await fx.png(`${d}/imgs/c.png`, 12, 10);
    },
    code: 1,
    says: ["step 'imgs' (stage load)", 'differ in size', 'c.png (12x10)', 'resize'],
  },
  { name: 'empty folder', pipeline: 'steps:\n  - { id: imgs, stage: load, params: { path: "$DIR/empty" } }\n  - { id: j, stage: write-json }\n', setup: (d, fx) => fx.writeFile(`${d}/empty/.keep`, ''), code: 1, says: ['steps[0] (imgs)', 'empty', 'no image', 'nothing was run'] }, // found when the pipeline is validated
  { name: 'unreadable input (a folder where a file is expected)', pipeline: POINTS('$DIR/cloud.txt'), setup: (d, fx) => fx.writeFile(`${d}/cloud.txt/inside`, ''), code: 1, says: ["step 'src' (stage load-points)", 'cloud.txt', 'EISDIR'] },
  // ---- point clouds
  { name: 'point file with NaN', pipeline: POINTS('$DIR/nan.txt'), setup: (d, fx) => fx.writeFile(`${d}/nan.txt`, '0 0\n1 0\nNaN 1\n0 1\n'), code: 1, says: ["step 'src' (stage load-points)", 'nan.txt:3:', "column 1 is 'NaN'", 'remove or fix that point'] },
  { name: 'point file with Inf', pipeline: POINTS('$DIR/inf.csv'), setup: (d, fx) => fx.writeFile(`${d}/inf.csv`, 'x,y\n0,0\n1,inf\n0,1\n'), code: 1, says: ["step 'src' (stage load-points)", 'inf.csv:3:', 'not a finite number'] },
  { name: 'point file with one point', pipeline: POINTS('$DIR/one.txt'), setup: (d, fx) => fx.writeFile(`${d}/one.txt`, '0.5 0.5\n'), code: 1, says: ["step 'al' (stage align)", "'one' has 1 point", 'at least 3', 'give more points'] },
  { name: 'point rows of different lengths', pipeline: POINTS('$DIR/ragged.txt'), setup: (d, fx) => fx.writeFile(`${d}/ragged.txt`, '0 0\n1 0 3\n0 1\n'), code: 1, says: ["step 'src' (stage load-points)", 'ragged.txt:2:', '3 values, but line 1 has 2'] },
  { name: 'empty point file', pipeline: POINTS('$DIR/empty.txt'), setup: (d, fx) => fx.writeFile(`${d}/empty.txt`, ''), code: 1, says: ["step 'src' (stage load-points)", 'empty.txt'] },
  { name: 'PLY with a bad header', pipeline: POINTS('$DIR/bad.ply'), setup: (d, fx) => fx.writeFile(`${d}/bad.ply`, 'ply\nformat ascii 1.0\nelement vertex three\nproperty float x\nend_header\n'), code: 1, says: ["step 'src' (stage load-points)", 'bad.ply:3:', "'element vertex three' needs a name and a whole count"] },
  { name: 'mismatched dimensions', pipeline: POINTS('$DIR/three.txt'), setup: (d, fx) => fx.writeFile(`${d}/three.txt`, '0 0 0\n1 0 0\n0 1 0\n0 0 1\n'), code: 1, says: ["step 'al' (stage align)", '3', '2'] },
  // ---- videos
  { name: 'corrupt video', pipeline: VIDEO('$DIR/bad.mp4'), setup: (d, fx) => fx.writeFile(`${d}/bad.mp4`, 'this is not a video at all, just text\n'.repeat(50)), code: 1, says: ["step 'frames' (stage decode)", 'bad.mp4', 'Invalid data'] },
  { name: 'truncated video', pipeline: VIDEO('$DIR/trunc.mp4'), setup: (d, fx) => fx.writeFile(`${d}/trunc.mp4`, readHead(fx.clip, 20000)), code: 1, says: ["step 'frames' (stage decode)", 'trunc.mp4'] },
  { name: 'video with no video stream', pipeline: VIDEO('$DIR/sound.m4a'), setup: (d, fx) => fx.ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-y', `${d}/sound.m4a`]), code: 1, says: ["step 'frames' (stage decode)", 'sound.m4a', 'no video stream'] },
  { name: 'zero-frame video', pipeline: VIDEO('$DIR/zero.mp4'), setup: (d, fx) => fx.ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=10', '-frames:v', '0', '-y', `${d}/zero.mp4`]), code: 1, says: ["step 'frames' (stage decode)", 'zero.mp4'] },
  { name: 'frame range past the end', pipeline: VIDEO('$ROOT/data/video/synthetic/clip.mp4', ', start: 100000'), code: 1, says: ["step 'frames' (stage decode)", 'start 100000 is after the last frame (119)', 'choose start below 120'] },
  {
    name: 'ground truth of another size',
    pipeline: VIDEO('$ROOT/data/video/synthetic/clip.mp4', ', scale: 0.5'),
    code: 1,
    says: ["step 'scores' (stage evaluate-masks)", 'is 160x120, the masks are 80x60', 'decode at the ground truth size'],
  },
];

import { readFileSync } from 'node:fs';
function readHead(path: string, bytes: number): Uint8Array {
  return readFileSync(path).subarray(0, bytes);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
CASES.push(
  {
    name: 'interrupted run (SIGINT) mid-video',
    pipeline: VIDEO('$ROOT/data/video/synthetic/clip.mp4', ', loop: 400'),
    during: async (child, dir) => {
      // interrupt once frames flow (the model has its checkpoint folder), not at a fixed time
      const { existsSync } = await import('node:fs');
      for (let i = 0; i < 1000 && !existsSync(`${dir}/out/.checkpoints/model`); i++) await sleep(10);
      await sleep(200); // the clip loops 400 times: the run is far from its end
      child.kill('SIGINT');
    },
    code: 130,
    says: ['SIGINT received', 'run cancelled', 'no output was written'],
  },
  {
    name: 'an input that disappears mid-run',
    pipeline: `steps:
  - { id: frames, stage: decode, params: { path: "$DIR/seq/in%06d.png" } }
  - { id: batches, stage: batch-frames, params: { size: 10 } }
  - { id: model, stage: background-model, params: { rank: 2 } }
  - { id: vid, stage: write-video, params: { layer: mask, path: mask.mp4 } }
`,
    setup: (d, fx) => fx.ffmpeg(['-stream_loop', '7', '-i', fx.clip, '-start_number', '1', '-y', `${d}/seq/in%06d.png`]),
    during: async (_child, dir) => {
      const { rmSync, existsSync } = await import('node:fs');
      // wait until frames flow (write-video has made its folder), then remove the sequence
      for (let i = 0; i < 500 && !existsSync(`${dir}/out/.checkpoints/vid`); i++) await sleep(10);
      rmSync(`${dir}/seq`, { recursive: true, force: true });
    },
    code: 1,
    says: ["step 'frames' (stage decode)", 'seq/in%06d.png: the image sequence ended after', 'of its 960 frames', 'restore them'],
  },
);

import { HARDENING } from './hardening.js';
CASES.push(...HARDENING);
