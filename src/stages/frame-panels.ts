/**
 * frame-panels: one labelled PNG of chosen frames side by side with what the model made
 * of them: frame | background | foreground | mask, one row per frame.
 *
 * Only the chosen frames are kept (as raw tiles in the step's checkpoint folder, so a
 * resumed run still has the frames it saw before the interruption); memory stays bounded.
 *
 * ```yaml
 * - stage: frame-panels
 *   input: model
 *   params: { frames: [30, 60, 90], path: frame-panels.png }
 * ```
 * @see background-model, write-frames
 */
import { z } from 'zod';
import { Observable, concat, defer, from } from 'rxjs';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { defineStage, type Stitcher } from '../core/stage.js';
import { boundedConcatMap } from '../core/flow.js';
import { InputError } from '../core/errors.js';
import type { FileRef, FrameBatch } from '../core/ports.js';
import { LAYERS, checkLayer, layerBytes, layerChannels, type Layer } from '../core/video/layers.js';
import { clearCheckpoints, PROGRESS_FILE } from '../core/video/io/checkpoints.js';
import { panelGrid, type RawTile } from '../core/image/collage.js';

const TITLES: Record<Layer, string> = { frames: 'frame', background: 'background', foreground: 'foreground |frame − background|', mask: 'mask' };

export const framePanels = defineStage({
  name: 'frame-panels',
  summary: 'One labelled PNG of chosen frames: frame | background | foreground | mask, a row per frame',
  description: [
    'Columns are the layers asked for (default all four: the decoded frame, the model\'s background, the foreground',
    '|frame − background| and the mask); rows are the chosen frame numbers (0-based), labelled. Frames beyond the',
    'video\'s end are left out and the figure says so; when none of them came (a video shorter than the first chosen',
    'frame, even of 1 frame) the figure shows the video\'s last frame instead and says so in its title and description.',
  ].join('\n'),
  example: '- stage: frame-panels\n  input: model\n  params: { frames: [30, 60, 90], path: frame-panels.png }',
  input: 'FrameBatch',
  output: 'File',
  params: z.strictObject({
    frames: z.array(z.number().int().min(0)).min(1).max(12).describe('frame numbers (0-based) to show, one row each'),
    layers: z.array(z.enum(LAYERS as [Layer, ...Layer[]])).min(1).default(['frames', 'background', 'foreground', 'mask']).describe('columns, left to right'),
    path: z.string().min(1).default('frame-panels.png').describe('PNG file under --out'),
    scale: z.number().positive().max(4).default(1).describe('tile size relative to the frame size'),
    title: z.string().optional().describe('title at the top (default: says what the columns are)'),
  }),
  segments: { stitch: (...a) => stitchPanels(...a) },
  operator: (p, ctx) => (source: Observable<FrameBatch>) => {
    const dir = join(ctx.checkpointDir, 'tiles');
    const want = new Set(p.frames);
    let started = false;
    let last = -1;
    let shape: { w: number; h: number } | undefined;
    const tileFile = (f: number, l: Layer) => join(dir, `${f}-${l}.raw`);
    const tileBytes = (b: FrameBatch, i: number, l: Layer) => Buffer.concat([Buffer.from([layerChannels(b, l), 0, 0, 0]), Buffer.from(Int32Array.from([b.width, b.height]).buffer), layerBytes(b, l, i)]);
    // until a chosen frame comes, the last frame seen (one frame's tiles, in memory): shown instead
    // when the video ends before every chosen frame (a 1-frame video and frames 20, 60, 100)
    let anyChosen = false;
    let lastTiles: { frame: number; tiles: Map<Layer, Buffer> } | undefined;
    const take = async (b: FrameBatch) => {
      if (!started) {
        started = true;
        if (!ctx.resume) clearCheckpoints(ctx.checkpointDir);
        await mkdir(dir, { recursive: true });
      }
      for (const l of p.layers) checkLayer(b, l);
      shape ??= { w: b.width, h: b.height };
      last = Math.max(last, b.start + b.count - 1);
      for (let i = 0; i < b.count; i++) {
        const f = b.start + i;
        if (!want.has(f)) continue;
        anyChosen = true;
        lastTiles = undefined;
        // masks are one channel; the others as decoded (gray or RGB): the first byte says which
        for (const l of p.layers) await ctx.outputs.writeNow(tileFile(f, l), tileBytes(b, i, l));
      }
      if (!anyChosen && b.count > 0) lastTiles = { frame: b.start + b.count - 1, tiles: new Map(p.layers.map((l) => [l, tileBytes(b, b.count - 1, l)])) };
      // the tiles of frames before this are on disk: a resumed model may start here
      await ctx.outputs.writeNow(join(ctx.checkpointDir, PROGRESS_FILE), JSON.stringify({ next: b.start + b.count }));
    };
    const finish = () =>
      defer(async (): Promise<FileRef[]> => {
        const have = (f: number, l: Layer) => (existsSync(tileFile(f, l)) ? tileFile(f, l) : undefined);
        const fallback = lastTiles;
        if (fallback) for (const [l, t] of fallback.tiles) await ctx.outputs.writeNow(tileFile(fallback.frame, l), t);
        // one segment of a --workers run: hand the tiles it saw to the stitcher (and its last frame's, named last-F-layer)
        if (ctx.segment) {
          const mine = p.frames.flatMap((f) => p.layers.filter((l) => have(f, l)).map((l) => ctx.writeFile(`${p.path}.tiles/${f}-${l}.raw`, readFileSync(tileFile(f, l)), { format: 'raw' })));
          const lastOnes = fallback ? p.layers.map((l) => ctx.writeFile(`${p.path}.tiles/last-${fallback.frame}-${l}.raw`, fallback.tiles.get(l)!, { format: 'raw' })) : [];
          return Promise.all([...mine, ...lastOnes]);
        }
        const { png, description } = await render(p, have, last, fallback?.frame);
        if (!p.frames.some((f) => f <= last)) ctx.log.warn({ frames: p.frames, lastFrame: last }, `frame-panels: the video ends at frame ${last}, before frame${p.frames.length > 1 ? 's' : ''} ${p.frames.join(', ')}; its last frame is shown instead`);
        return [await ctx.writeFile(p.path, png, { format: 'png', description })];
      });
    return concat(source.pipe(boundedConcatMap((b: FrameBatch) => from(take(b).then(() => [] as FileRef[])), ctx.flow, { highWaterMark: 2 })), finish()).pipe(
      (o) => new Observable<FileRef>((sub) => o.subscribe({ next: (r) => r.forEach((x) => sub.next(x)), error: (e) => sub.error(e), complete: () => sub.complete() })),
    );
  },
});

type Params = { frames: number[]; layers: Layer[]; scale: number; title?: string };

/**
 * The PNG from the tile files (`tile(f, l)`: where frame f's layer l is, if it came). When none of
 * the chosen frames came, frame `lastFrame` (the video's last, its tiles there too) is shown instead.
 */
async function render(p: Params, tile: (f: number, l: Layer) => string | undefined, last: number | undefined, lastFrame?: number): Promise<{ png: Buffer; description: string }> {
  const rows = [];
  // frames past the end of a short video are left out (and said so); none at all: the last frame
  // `last` unknown (stitching segments): a frame no segment saw lies past the end
  const sorted = [...p.frames].sort((a, b) => a - b);
  const came = (f: number) => (last === undefined ? p.layers.some((l) => tile(f, l)) : f <= last);
  let shown = sorted.filter(came);
  // stitching, the last frame handed over is the video's only when no segment saw a chosen frame
  const end = last !== undefined ? `the video ends at frame ${last}` : !shown.length && lastFrame !== undefined ? `the video ends at frame ${lastFrame}` : 'past the video\'s end';
  const past = sorted.filter((f) => !came(f));
  last ??= lastFrame ?? -1;
  const frames = (fs: number[]) => `frame${fs.length === 1 ? '' : 's'} ${fs.join(', ')}`;
  let left = `${frames(past)} left out`;
  if (!shown.length && lastFrame !== undefined) {
    shown = [lastFrame];
    left += `; its last frame ${lastFrame} shown instead`;
  }
  if (!shown.length) throw new InputError(`frame-panels: frame ${sorted[0]} never came${last >= 0 ? ` (the frames ran from 0 to ${last})` : ' (no frames came at all)'}`, `choose frames between 0 and ${Math.max(0, last)}`);
  for (const f of shown) {
    const tiles: RawTile[] = [];
    for (const l of p.layers) {
      const file = tile(f, l);
      if (!file) throw new InputError(`frame-panels: frame ${f} never came${last >= 0 ? ` (the frames ran from 0 to ${last})` : ' (no frames came at all)'}`, `choose frames between 0 and ${Math.max(0, last)}`);
      const buf = readFileSync(file);
      const [w, h] = Array.from(new Int32Array(buf.buffer.slice(buf.byteOffset + 4, buf.byteOffset + 12)));
      tiles.push({ channels: buf[0] as 1 | 3, width: w!, height: h!, data: buf.subarray(12) });
    }
    rows.push({ label: `frame ${f}`, tiles });
  }
  const title = p.title ?? `${frames(shown).replace(/^f/, 'F')}: ${p.layers.map((l) => TITLES[l]).join(', ')}${past.length ? ` (${left}: ${end})` : ''}`;
  const { png, layout } = await panelGrid(rows, p.layers.map((l) => TITLES[l].split(' ')[0]!), { title, scale: p.scale });
  return { png, description: `${frames(shown)}: ${p.layers.join(' | ')} (${layout.width}x${layout.height})${past.length ? `; ${left} (${end})` : ''}` };
}

/** --workers: the tiles every segment saw, one picture. */
const stitchPanels: Stitcher = async (parts, out, p: Params & { path: string }) => {
  const tiles = new Map(parts.flat().map((t) => [basename(t.rel), t.path]));
  // the video's last frame: the highest last-F a segment handed over (shown when no chosen frame came)
  const lastFrames = [...tiles.keys()].map((k) => /^last-(\d+)-/.exec(k)?.[1]).filter((x): x is string => x !== undefined).map(Number);
  const lastFrame = lastFrames.length ? Math.max(...lastFrames) : undefined;
  const { png, description } = await render(p, (f, l) => tiles.get(`${f}-${l}.raw`) ?? (f === lastFrame ? tiles.get(`last-${f}-${l}.raw`) : undefined), undefined, lastFrame);
  return { files: [await out.outputs.write(p.path, png, { step: out.stepId, format: 'png', description })] };
};
