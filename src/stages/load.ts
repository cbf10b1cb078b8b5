/**
 * load: reads images through sharp (JPEG, PNG, WebP, TIFF, GIF, AVIF), EXIF
 * orientation applied, as gray, rgb or ycbcr planes of 0..255 values; plain JPEGs through
 * libturbojpeg when it is installed (the same pixels, see core/image/jpeg.ts).
 * A file gives one Image; a folder or a glob (`stamps/*.jpg`) gives one
 * ImageBatch in natural order (im_2 before im_10).
 *
 * ```yaml
 * - stage: load
 *   params: { path: ../data/turtle.JPG, mode: gray, resize: { width: 700, height: 1028 } }
 * ```
 * @see normalize, encode
 */
import { z } from 'zod';
import { map, type Observable } from 'rxjs';
import { existsSync, statSync } from 'node:fs';
import { defineStage } from '../core/stage.js';
import { fromAsync } from '../core/flow.js';
import { InputError, setForm, shownPath } from '../core/errors.js';
import { decodeImage, decodeImages, type ResizeSpec } from '../core/image/io.js';
import { threadBudget } from '../core/threads.js';
import { listImageFiles, isGlob, imageBatchOf, sizeMismatch } from '../core/image/files.js';
import { handsOver, variantOf } from '../core/image/planes.js';
import type { StageContext } from '../core/stage.js';
import type { Image, ImageBatch } from '../core/ports.js';

/** internal ctx key (from code only): divide the planes by this as they are filled (see `load` below) */
const DIVIDE_BY = Symbol('svdflow.load.divideBy');

// As in sharp, a side that is null or absent follows the aspect ratio, and neither side keeps the
// input's size: a pipeline can leave `width: null, height: null` variables for the user to set.
/** sharp/libvips cannot make images wider or taller than this */
const MAX_SIDE = 65535;
const resizeSchema = z.strictObject({
  width: z.number().int().min(1).max(MAX_SIDE).nullish().describe('width in pixels (columns); null or absent: follows the aspect ratio (both absent: no resize)'),
  height: z.number().int().min(1).max(MAX_SIDE).nullish().describe('height in pixels (rows); null or absent: follows the aspect ratio (both absent: no resize)'),
  fit: z.enum(['fill', 'cover', 'contain', 'inside', 'outside']).default('fill').describe("when both sides are given: fill stretches to exactly width x height; cover crops; contain pads; inside/outside keep the aspect ratio (sharp's fit)"),
});

/** The resize to apply, or undefined when no side is given (null counts as not given). */
function resizeOf(r: z.output<typeof resizeSchema> | null | undefined): ResizeSpec | undefined {
  if (!r || (r.width == null && r.height == null)) return undefined;
  // one side only: the other follows the aspect ratio (sharp's fill would keep the input's other side)
  const both = r.width != null && r.height != null;
  return { width: r.width ?? undefined, height: r.height ?? undefined, fit: both ? r.fit : 'inside' };
}

const loadStage = defineStage({
  name: 'load',
  // every image or batch is newly decoded and the stage keeps no reference: its one reader may scale it in place
  handsOver: true,
  // normalize { by: dtype } as its sole reader: the planes divided by the scale as they are filled
  variants: { divided: (scale) => ({ [DIVIDE_BY]: scale }) },
  summary: 'Read an image file (→ Image), or a folder / glob of same-sized images (→ ImageBatch)',
  description: [
    'Decodes with sharp (plain JPEGs with libturbojpeg when installed: the same pixels); EXIF orientation is applied and alpha dropped. mode gray uses BT.601 luma with',
    "Pillow's rounding (Image.convert('L')), rgb keeps R, G, B, ycbcr gives JPEG Y, Cb, Cr planes (to factorise",
    'the luminance only). Values are 0..255 (normalize scales them to [0, 1]).',
    'A folder or glob gives one ImageBatch in natural order; every image must have the same size unless',
    '`resize` is given. Unreadable files (not an image, truncated) are an error naming the file.',
  ].join('\n'),
  example: '- stage: load\n  params: { path: ../data/turtle.JPG, mode: gray, resize: { width: 700, height: 1028 } }',
  input: null,
  output: ['Image', 'ImageBatch'] as const,
  params: z.strictObject({
    path: z.string().min(1).describe('image file, folder, or glob with wildcards in the file name (e.g. stamps/*.jpg); relative to the pipeline file (given with --set: to the current directory)'),
    mode: z.enum(['gray', 'rgb', 'ycbcr']).default('rgb').describe('planes to produce: gray (1), rgb (3) or ycbcr (3: luminance + chroma)'),
    resize: resizeSchema.nullish().describe('resize every image (for a batch of different sizes, this makes them equal); absent or null: keep the size'),
    name: z.string().min(1).optional().describe('name of the value (default: the file or folder name)'),
    maxPixels: z.number().int().min(1).default(100_000_000).describe('refuse images (as stored, or after resize) of more pixels than this, before decoding them; each pixel takes about 8 bytes per plane'),
  }).superRefine((p, ctx) => {
    // a resize to both sides is known now: refuse it before anything runs (sharp aborts the process on huge ones)
    const w = p.resize?.width, h = p.resize?.height;
    if (w != null && h != null && (p.resize?.fit ?? 'fill') !== 'outside' && w * h > p.maxPixels) {
      ctx.addIssue({ code: 'custom', path: ['resize'], message: `resize to ${w}x${h} = ${Math.round((w * h) / 1e6)} megapixels is above the limit of ${Math.round(p.maxPixels / 1e6)} megapixels (maxPixels); make it smaller, or raise maxPixels to ${w * h}` });
    }
  }),
  // a glob too: a --set glob then resolves against the current directory like any --set path (its
  // folder is checked when read, and fingerprinted for --resume)
  inputFiles: (p) => [p.path],
  outputKinds: (p, _input, resolveInput) => {
    if (!p) return ['Image', 'ImageBatch'];
    if (isGlob(p.path)) return ['ImageBatch'];
    try {
      return statSync(resolveInput(p.path)).isDirectory() ? ['ImageBatch'] : ['Image'];
    } catch {
      return ['Image', 'ImageBatch'];
    }
  },
  // a folder or glob is counted before the run, so that a collection too small for the pipeline is refused then
  batchSize: (p, resolveInput) => {
    const abs = resolveInput(p.path);
    // one image file where a collection is expected is counted as 1 image, so it gets the same data error as a one-image glob
    if (!isGlob(p.path) && !(existsSync(abs) && statSync(abs).isDirectory())) return existsSync(abs) ? { count: 1, where: `file ${shownPath(abs)}`, single: true } : undefined;
    const { files, batch } = listImageFiles(abs, p.path);
    return batch ? { count: files.length, where: `${isGlob(p.path) ? 'glob' : 'folder'} ${shownPath(abs)}` } : undefined;
  },
  source: (params, ctx) =>
    fromAsync(async function* () {
      const abs = ctx.resolveInput(params.path);
      const { files, batch } = listImageFiles(abs, params.path);
      // a file under the pipeline's folder by its relative path; one elsewhere (a --set path) as it is, not as ../../..
      const shownOf = (f: string) => shownPath(f, ctx.baseDir);
      // from code, normalize piped straight onto load asks for the planes divided as they are filled
      const divideBy = (ctx as { [DIVIDE_BY]?: number })[DIVIDE_BY];
      if (!batch) {
        yield (await decodeImage(files[0]!, { mode: params.mode, resize: resizeOf(params.resize), name: params.name, shown: params.path, maxPixels: params.maxPixels, divideBy, signal: ctx.signal }));
        return;
      }
      const bar = ctx.progress({ total: files.length, unit: 'images', label: `${ctx.stepId}: decoding` });
      // a few files at once, one per core of the thread budget (TurboJPEG and sharp decode on libuv's threads)
      const opts = (f: string) => ({ mode: params.mode, resize: resizeOf(params.resize), shown: shownOf(f), maxPixels: params.maxPixels, divideBy, signal: ctx.signal });
      const images = await decodeImages(files, opts, Math.max(1, threadBudget()), ctx.signal, () => bar.tick());
      if (!images) return;
      bar.done();
      const first = images[0]!;
      const odd = sizeMismatch(images, params.path, shownOf, (k, v) => setForm(ctx.stepId, k, v));
      if (odd) throw odd;
      ctx.log.info({ images: images.length, width: first.width, height: first.height }, 'loaded image batch');
      yield imageBatchOf(images, params.path, params.mode, params.name);
    }, ctx.flow),
});

/**
 * The stage. From code, the observable it returns hands every value over (planes.ts handsOver):
 * an operator piped straight onto it, such as normalize, is the value's only holder and may reuse
 * its memory (each subscription decodes anew, so no two subscribers share a value).
 */
export const load = Object.assign(function load(...[params, opts]: Parameters<typeof loadStage>) {
  // the variant normalize { by: dtype } subscribes to instead when piped straight on: planes divided while filled
  const divided = (scale: number) => loadStage(params, { ...opts, ctx: { ...opts?.ctx, ...loadStage.def.variants!.divided!(scale) } as Partial<StageContext> });
  return handsOver(loadStage(params, opts), { divided });
}, loadStage) as typeof loadStage;

type LoadParams = Parameters<typeof load>[0];

/** `load` narrowed to one kind by `pick` (which throws on the other): still handing its values over. */
function narrowed<K extends Image | ImageBatch>(params: LoadParams, pick: (v: Image | ImageBatch) => K): Observable<K> {
  const m = map(pick);
  return handsOver(load(params).pipe(m), { divided: (scale) => variantOf(load(params), 'divided', scale)!.pipe(m) });
}

/**
 * From code: `load` of one image file, typed as Observable<Image>, so that
 * `loadImage({ path }).pipe(normalize(), svd())` type-checks. (In YAML, `load`
 * gives an Image or an ImageBatch depending on the path.)
 */
export function loadImage(params: LoadParams): Observable<Image> {
  return narrowed(params, (v) => {
    if (v.kind !== 'Image') throw new InputError(`loadImage: ${params?.path} is a folder or glob (${v.images.length} images)`, 'use loadImages for a folder or glob');
    return v;
  });
}

/** From code: `load` of a folder or glob, typed as Observable<ImageBatch>. */
export function loadImages(params: LoadParams): Observable<ImageBatch> {
  return narrowed(params, (v) => {
    if (v.kind !== 'ImageBatch') throw new InputError(`loadImages: ${params?.path} is a single file`, 'use loadImage for one file, or give a folder or glob');
    return v;
  });
}
