/**
 * encode: writes Images as PNG, JPEG or WebP through sharp, atomically
 * (ctx.writeFile). Values are mapped back to 8 bits: the mean is added back if
 * still attached, the normalization undone, YCbCr converted to RGB, then rounded
 * and clamped to 0..255. An ImageBatch gives one file per image.
 *
 * ```yaml
 * - stage: encode
 *   params: { path: "{name}-k{k}.png" }     # turtle-k35.png after truncate to 35
 * ```
 * @see load, reconstruct
 */
import { z } from 'zod';
import { from, concatMap } from 'rxjs';
import { extname } from 'node:path';
import { defineStage } from '../core/stage.js';
import { outputFileParams } from '../core/params.js';
import { InputError } from '../core/errors.js';
import { boundedConcatMap } from '../core/flow.js';
import { encodedDepth, encodeImage, type EncodeFormat } from '../core/image/io.js';
import type { FileRef, Image, ImageBatch } from '../core/ports.js';

const EXT: Record<EncodeFormat, string> = { png: '.png', jpeg: '.jpg', webp: '.webp' };
const BY_EXT: Record<string, EncodeFormat> = { '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg', '.webp': 'webp' };

export const encode = defineStage({
  name: 'encode',
  summary: 'Write images as PNG, JPEG or WebP (8-bit; a 16-bit source as 16-bit PNG; mean and normalization undone); one file per image',
  description: [
    'path is a template under --out: {name} is the image name, {index} its position (in a batch or the stream),',
    '{k} the rank of a low-rank reconstruction (so that several ranks written to one folder keep apart).',
    'format auto takes it from the extension (.png, .jpg/.jpeg, .webp; none → .png is added).',
    'An image loaded from a 16-bit PNG or TIFF is written as a 16-bit PNG (JPEG and WebP are 8-bit: its values / 257).',
    'Files are renamed into place only when the whole run succeeds.',
  ].join('\n'),
  example: '- stage: encode\n  params: { path: "{name}-k{k}.png" }',
  input: ['Image', 'ImageBatch'] as const,
  output: 'File',
  params: z.strictObject({
    ...outputFileParams('{name}.png', 'output file name under --out; {name} = image name, {index} = position, {k} = rank of a reconstruction', ['png', 'jpeg', 'webp'], 'file format (auto: from the extension)'),
    quality: z.number().int().min(1).max(100).default(90).describe('JPEG/WebP quality'),
    lossless: z.boolean().default(false).describe('WebP: lossless'),
  }),
  operator: (params, ctx) => {
    let counter = 0;
    const write = async (img: Image, index: number): Promise<FileRef> => {
      const ext = extname(params.path).toLowerCase();
      const format: EncodeFormat = params.format !== 'auto' ? params.format : (BY_EXT[ext] ?? 'png');
      if (params.path.includes('{k}') && img.rank === undefined) {
        throw new InputError(`path ${params.path} uses {k}, but image ${img.name} is not a low-rank reconstruction (it has no rank)`, 'remove {k} from the path, or encode the output of reconstruct');
      }
      let rel = params.path.replaceAll('{name}', img.name).replaceAll('{index}', String(index)).replaceAll('{k}', String(img.rank));
      if (params.format === 'auto' && !BY_EXT[ext]) rel += EXT.png;
      const buf = await encodeImage(img, format, { quality: params.quality, lossless: params.lossless });
      return ctx.writeFile(rel, buf, { format, description: `${img.color} image ${img.name} ${img.width}x${img.height}, ${encodedDepth(img, format)}-bit` });
    };
    return boundedConcatMap(
      (v: Image | ImageBatch) =>
        v.kind === 'Image' ? from(write(v, counter++)) : from(v.images).pipe(concatMap((im, i) => write(im, i))),
      ctx.flow,
    );
  },
});
