/**
 * batch-frames: a batch is its frames one after the other. decode slices its frames out of
 * slabs of SLAB_FRAMES (the default batch size), so a batch of a slab's frames is a view of the
 * slab, not a copy; any other frames (separate buffers, a batch that straddles two slabs, gaps)
 * are copied. Known answer: the frames' own bytes, in order.
 */
import { describe, it, expect } from 'vitest';
import { lastValueFrom, toArray, from, tap } from 'rxjs';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';
import { decode } from '../../src/stages/decode.js';
import { batchFrames } from '../../src/stages/batch-frames.js';
import { SLAB_FRAMES } from '../../src/core/video/io/decode.js';
import type { Frame, FrameBatch } from '../../src/core/ports.js';

const W = 8, H = 6, D = W * H;
const frame = (index: number, data: Uint8Array): Frame => ({ kind: 'Frame', index, width: W, height: H, channels: 1, data });
const fill = (data: Uint8Array, index: number) => data.forEach((_, q) => (data[q] = (index * 7 + q) & 255));
/** each batch's bytes are its frames' bytes in order */
function expectFrames(bs: FrameBatch[], frames: Frame[]): void {
  for (const b of bs) for (let i = 0; i < b.count; i++) expect(Buffer.from(b.frames.subarray(i * D, (i + 1) * D)).equals(Buffer.from(frames[b.start - frames[0]!.index + i]!.data))).toBe(true);
  expect(bs.reduce((n, b) => n + b.count, 0)).toBe(frames.length);
}

describe('batch-frames', () => {
  it('frames one after the other in one buffer: the batch is a view of it; otherwise a copy', async () => {
    const slab = new Uint8Array(30 * D);
    const inSlab = Array.from({ length: 30 }, (_, i) => frame(i, slab.subarray(i * D, (i + 1) * D)));
    inSlab.forEach((f) => fill(f.data, f.index));
    const views = await lastValueFrom(from(inSlab).pipe(batchFrames({ size: 15 }), toArray()));
    expect(views.map((b) => [b.start, b.count, b.frames.buffer === slab.buffer, b.frames.byteOffset])).toEqual([[0, 15, true, 0], [15, 15, true, 15 * D]]);
    expectFrames(views, inSlab);
    // separate buffers, and batches of 20 over the same slab (the last 10 are one run of the slab: a view)
    const apart = Array.from({ length: 30 }, (_, i) => frame(i, new Uint8Array(D)));
    apart.forEach((f) => fill(f.data, f.index));
    const copies = await lastValueFrom(from(apart).pipe(batchFrames({ size: 15 }), toArray()));
    expect(copies.every((b) => apart.every((f) => f.data.buffer !== b.frames.buffer))).toBe(true);
    expectFrames(copies, apart);
    const twenty = await lastValueFrom(from(inSlab).pipe(batchFrames({ size: 20 }), toArray()));
    expectFrames(twenty, inSlab);
    // a frame out of place (the slab's frame 3 where 2 should be): copied, in the order the frames came
    const shuffled = [inSlab[0]!, inSlab[1]!, { ...inSlab[3]!, index: 2 }, { ...inSlab[2]!, index: 3 }];
    const [b] = await lastValueFrom(from(shuffled).pipe(batchFrames({ size: 4 }), toArray()));
    expect(b!.frames.buffer).not.toBe(slab.buffer);
    expect(Buffer.from(b!.frames.subarray(2 * D, 3 * D)).equals(Buffer.from(inSlab[3]!.data))).toBe(true);
  });

  it('decoded frames: batches of the default size are views of the decoder\'s slabs, with the decoded bytes', async () => {
    const CLIP = join(ROOT, 'data/video/synthetic/clip.mp4');
    const frames: Frame[] = [];
    const batches = await lastValueFrom(decode({ path: CLIP, color: 'gray' }).pipe(tap((f: Frame) => frames.push({ ...f, data: f.data })), batchFrames({ size: SLAB_FRAMES }), toArray()));
    const d = frames[0]!.data.length;
    expect(frames.length).toBeGreaterThan(2 * SLAB_FRAMES);
    expect(batches.length).toBe(Math.ceil(frames.length / SLAB_FRAMES));
    for (const b of batches) {
      for (let i = 0; i < b.count; i++) {
        const f = frames[b.start + i]!;
        expect(f.data.buffer).toBe(b.frames.buffer); // the same memory: not copied
        expect(f.data.byteOffset).toBe(b.frames.byteOffset + i * d);
      }
    }
    // and the bytes are the decoded frames': a decode without batching gives the same
    const plain = await lastValueFrom(decode({ path: CLIP, color: 'gray' }).pipe(toArray()));
    for (const b of batches) for (let i = 0; i < b.count; i++) expect(Buffer.from(b.frames.subarray(i * d, (i + 1) * d)).equals(Buffer.from(plain[b.start + i]!.data))).toBe(true);
  });
});
