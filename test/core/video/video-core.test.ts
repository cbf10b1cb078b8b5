/**
 * The video core without RxJS or files: the streaming model step with an in-memory
 * checkpoint store, the resume rules, the segment state machine, batch mode, and
 * the rule that the numeric files do no process or file I/O.
 */
import { describe, it, expect, expectTypeOf } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { consumersNext } from '../../../src/core/video/io/checkpoints.js';
import { join } from 'node:path';
import { ROOT } from '../../helpers.js';
import { ModelStream, type ModelStreamOptions } from '../../../src/core/video/model-stream.js';
import { checkpointDue, contiguousEnd, resumeState, statesToPrune } from '../../../src/core/video/resume.js';
import { SegmentCursor, checkJoined, parseSegmentFiles, segmentFileName } from '../../../src/core/video/video-segments.js';
import { batchModel, stackBatches } from '../../../src/core/video/batch.js';
import type { ModelScale, StreamingOptions } from '../../../src/core/video/background.js';
import { synthFrame } from '../../fixtures/synth-video.js';
import type { FrameBatch } from '../../../src/core/ports.js';
import { MemoryStore } from './memory-store.js';

const W = 160, H = 120;
function batch(start: number, count: number, objects = true): FrameBatch {
  const frames = new Uint8Array(count * W * H);
  for (let i = 0; i < count; i++) frames.set(synthFrame(start + i, { objects }).data, i * W * H);
  return { kind: 'FrameBatch', start, count, width: W, height: H, channels: 1, frames };
}


const OPTS: ModelStreamOptions = { rank: 2, forget: 0.9, threshold: 0.12, adaptive: 0, open: 1, close: 4, robust: true, updateEvery: 3, modelScale: 0.5, background: true, foreground: false, checkpointEvery: 30 };

describe('ModelStream (streaming model step, no RxJS)', () => {
  it('a resumed stream gives the same masks and backgrounds as an uninterrupted one, from the newest state the consumers allow', async () => {
    const full = new ModelStream(OPTS, new MemoryStore(), false);
    const ref: FrameBatch[] = [];
    for (let s = 0; s < 150; s += 30) ref.push((await full.push(batch(s, 30)))!);
    // interrupted run: checkpoints at 30, 60, 90; the slowest consumer has everything before frame 70
    const store = new MemoryStore(70);
    const first = new ModelStream(OPTS, store, false);
    for (let s = 0; s < 90; s += 30) await first.push(batch(s, 30));
    expect(store.list().map((s) => s.next)).toEqual([90, 60]); // 30 pruned: no consumer needs it
    let resumedAt = -1;
    const again = new ModelStream(OPTS, store, true, (at) => (resumedAt = at));
    const out: Array<FrameBatch | undefined> = [];
    for (let s = 0; s < 150; s += 30) out.push(await again.push(batch(s, 30)));
    expect(resumedAt).toBe(60);
    expect(out.slice(0, 2)).toEqual([undefined, undefined]);
    for (let k = 2; k < 5; k++) {
      expect(Buffer.from(out[k]!.mask!).equals(Buffer.from(ref[k]!.mask!)), `batch ${k} mask`).toBe(true);
      expect(Buffer.from(out[k]!.background!.buffer).equals(Buffer.from(ref[k]!.background!.buffer)), `batch ${k} background`).toBe(true);
    }
    // control: resuming without the model state (fresh model at frame 60) gives other masks, so the comparison can fail
    const cold = new ModelStream(OPTS, undefined, false);
    const coldOut = await cold.push(batch(60, 30));
    expect(Buffer.from(coldOut!.mask!).equals(Buffer.from(ref[2]!.mask!))).toBe(false);
  });
  it('a fresh run clears old states; a batch straddling the resume point is refused', async () => {
    const store = new MemoryStore();
    store.states.set(45, new Uint8Array(1));
    const s = new ModelStream({ ...OPTS, checkpointEvery: 0 }, store, false);
    await s.push(batch(0, 10));
    expect(store.cleared).toBe(1);
    expect(store.states.size).toBe(0);
    const st = new MemoryStore(undefined);
    const r = new ModelStream(OPTS, st, false);
    await r.push(batch(0, 30));
    const resumed = new ModelStream(OPTS, st, true);
    await expect((async () => { await resumed.push(batch(0, 20)); await resumed.push(batch(20, 20)); })()).rejects.toThrow('cannot resume at frame 30: batch 20..39 straddles it');
  });
  it('keeps modelScale as its literal union through the core', () => {
    expectTypeOf<StreamingOptions['modelScale']>().toEqualTypeOf<ModelScale>();
    expectTypeOf<ModelScale>().toEqualTypeOf<1 | 0.5 | 0.25>();
  });
});

describe('resume rules', () => {
  const states = [120, 90, 60, 30, 0].map((next) => ({ next, file: String(next) }));
  it('resumes from the newest state before the slowest consumer (so every consumer gets a batch again)', () => {
    expect(resumeState(states, 70)?.next).toBe(60);
    expect(resumeState(states, 60)?.next).toBe(30);
    expect(resumeState(states, undefined)?.next).toBe(120);
    expect(resumeState(states.slice(0, 2), 10)).toBeUndefined();
  });
  it('prunes only states no resume can need (the newest 4 before any consumer progress)', () => {
    expect(statesToPrune(states, 70).map((s) => s.next)).toEqual([30, 0]);
    expect(statesToPrune(states, 60).map((s) => s.next)).toEqual([0]);
    expect(statesToPrune(states, 200).map((s) => s.next)).toEqual([90, 60, 30, 0]);
    expect(statesToPrune(states, undefined).map((s) => s.next)).toEqual([0]);
    expect(statesToPrune(states, -5)).toEqual([]);
  });
  it('the slowest consumer bounds a resume; a consumer that recorded nothing yet needs every frame', () => {
    const root = mkdtempSync(join(tmpdir(), 'svdflow-resume-'));
    try {
      const dir = (id: string) => join(root, id);
      const progress = (id: string, next: number) => (mkdirSync(dir(id), { recursive: true }), writeFileSync(join(dir(id), 'progress.json'), JSON.stringify({ next })));
      progress('video', 90);
      progress('objects', 60);
      expect(consumersNext(dir('model'), ['video', 'objects'])).toBe(60);
      expect(resumeState(states, consumersNext(dir('model'), ['video', 'objects']))?.next).toBe(30);
      // 'panels' has not written progress (it got no frame before the interruption): start from frame 0
      expect(consumersNext(dir('model'), ['video', 'objects', 'panels'])).toBe(-Infinity);
      expect(resumeState(states, consumersNext(dir('model'), ['video', 'objects', 'panels']))).toBeUndefined();
      expect(statesToPrune(states, -Infinity)).toEqual([]);
      // outside a pipeline (no graph): the folders that have progress
      expect(consumersNext(dir('model'))).toBe(60);
      expect(consumersNext(dir('model'), [])).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
  it('checkpoints when a batch crosses a multiple of checkpointEvery; joins contiguous pieces', () => {
    expect([checkpointDue(0, 30, 30), checkpointDue(30, 45, 30), checkpointDue(45, 60, 30), checkpointDue(0, 30, 0)]).toEqual([true, false, true, false]);
    expect(contiguousEnd([{ start: 0, end: 60 }, { start: 60, end: 120 }, { start: 180, end: 240 }])).toBe(120);
    expect(contiguousEnd([])).toBe(-Infinity);
  });
});

describe('video segments (pure state machine)', () => {
  it('opens and closes segments at absolute boundaries and at gaps; skips what a resumed run has', () => {
    const c = new SegmentCursor(4, 4);
    const acts = [2, 3, 4, 5, 6, 7, 8, 10, 11, 12].map((i) => ({ i, ...c.step(i) }));
    expect(acts.filter((a) => a.skip).map((a) => a.i)).toEqual([2, 3]);
    expect(acts.filter((a) => !a.skip && a.open).map((a) => a.i)).toEqual([4, 8, 10, 12]);
    expect(acts.filter((a) => !a.skip && a.close).map((a) => a.i)).toEqual([8, 10, 12]);
    expect(c.open).toEqual({ start: 12, next: 13, id: 3 });
    const one = new SegmentCursor(0);
    expect([0, 1, 2, 3000].map((i) => one.step(i)).filter((a) => !a.skip && a.open).length).toBe(2); // one piece, split only at a gap
  });
  it('names, parses and checks segment files', () => {
    expect(segmentFileName(60, 120)).toBe('seg-000000060-000000120.mkv');
    const segs = parseSegmentFiles(['x.txt', segmentFileName(60, 120), segmentFileName(0, 60)], (n) => `/d/${n}`);
    expect(segs.map((s) => [s.start, s.end])).toEqual([[0, 60], [60, 120]]);
    expect(() => checkJoined(segs)).not.toThrow();
    expect(() => checkJoined([...segs, { start: 130, end: 140, file: '' }])).toThrow('video segments do not join: 120 then 130');
  });
});

describe('batch mode (pure)', () => {
  it('stacks batches and cuts the result back: a static scene is its own background, no foreground', () => {
    const bs = [batch(0, 10, false), batch(10, 5, false)];
    const { n, d, frames } = stackBatches(bs);
    expect([n, d, frames[10 * d + 7]]).toEqual([15, W * H, bs[1]!.frames[7]]);
    const out = batchModel(bs, { rank: 2, threshold: 0.12, open: 1, close: 4, maxBatchValues: 1e9, background: true, foreground: true });
    expect(out.map((b) => [b.start, b.count, b.mask!.length])).toEqual([[0, 10, 10 * W * H], [10, 5, 5 * W * H]]);
    let err = 0;
    for (const b of out) for (let i = 0; i < b.background!.length; i++) err = Math.max(err, Math.abs(b.background![i]! - b.frames[i]! / 255), Math.abs(b.foreground![i]!));
    expect(err).toBeLessThan(2 / 255);
    expect(out.reduce((s, b) => s + b.mask!.reduce((a, v) => a + v, 0), 0)).toBe(0);
  });
});

describe('core/video layout', () => {
  it('numeric files import no process, file or stream machinery (that lives in core/video/io)', () => {
    const dir = join(ROOT, 'src/core/video');
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files).toContain('background.ts');
    const bad: string[] = [];
    for (const f of files) {
      const src = readFileSync(join(dir, f), 'utf8');
      for (const m of src.matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)) {
        if (/^(node:(fs|child_process|net|http|worker_threads)|fs|sharp|rxjs|piscina)|\/io\//.test(m[1]!)) bad.push(`${f}: ${m[1]}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
