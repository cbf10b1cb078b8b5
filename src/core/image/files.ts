/**
 * Finding image files: a file, a folder (its image files) or a glob whose
 * wildcards are in the last path segment (`stamps/*.jpg`, `frames/im_??.png`),
 * returned in natural order (im_2 before im_10), the same on every machine.
 */
import { readdirSync, statSync, existsSync } from 'node:fs';
import { basename, dirname, join, extname } from 'node:path';
import { InputError, shownPath, yamlFix, type ParamFix } from '../errors.js';
import type { Image, ImageBatch } from '../ports.js';

/** where relative paths point (as the loader resolves them) */
const PATH_HINT = 'check the path (paths in a pipeline file are relative to its folder; paths given with --set are relative to the current directory)';

/** Extensions read as images (sharp decodes them; case-insensitive). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif'] as const;

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Natural order (numbers compared by value), ties broken by code points so that the order is total. */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

export function isGlob(p: string): boolean {
  return /[*?[]/.test(p);
}

/**
 * The batch of images that `load` (and a PCA shard) makes of the files found at `path`: named
 * `name`, else after the folder or the pattern's last part without wildcards.
 */
export function imageBatchOf(images: Image[], path: string, color: Image['color'], name?: string): ImageBatch {
  const first = images[0]!;
  return {
    kind: 'ImageBatch',
    name: name ?? (path.replace(/[/\\]+$/, '').split(/[/\\]/).filter((s) => !isGlob(s)).pop() ?? 'images'),
    width: first.width,
    height: first.height,
    color,
    images,
  };
}

export function isImageName(name: string): boolean {
  return (IMAGE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());
}

/** `*` any run of characters but `/`, `?` one character, `[abc]` / `[a-z]` / `[!a]` a class. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let cls = pattern.slice(i + 1, end);
        if (cls.startsWith('!')) cls = '^' + cls.slice(1);
        re += `[${cls.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'i');
}

/**
 * The image files `path` names. `shown` is how to name the path in messages.
 * A single file is returned as is (decoding checks it); a folder or a glob gives
 * its image files, naturally sorted; none is an InputError.
 */
export function listImageFiles(abs: string, shown: string): { files: string[]; batch: boolean } {
  if (!isGlob(abs)) {
    if (!existsSync(abs)) throw new InputError(`image not found: ${shown}`, PATH_HINT);
    if (!statSync(abs).isDirectory()) return { files: [abs], batch: false };
    const all = readdirSync(abs).filter((n) => !n.startsWith('.')).sort(naturalCompare);
    const files = all.filter(isImageName).map((n) => join(abs, n));
    if (!files.length) {
      const others = all.slice(0, 5).join(', ');
      throw new InputError(
        `folder ${shown} has no image files${all.length ? ` (it has ${all.length} other file${all.length > 1 ? 's' : ''}: ${others}${all.length > 5 ? ', …' : ''})` : ' (it is empty)'}`,
        `put ${IMAGE_EXTENSIONS.join('/')} files there, or give a glob such as ${join(shown, '*.png')}`,
      );
    }
    return { files, batch: true };
  }
  const dir = dirname(abs);
  const pat = basename(abs);
  if (isGlob(dir)) throw new InputError(`glob ${shown}: wildcards are only supported in the file name, not in folders`, `use a folder/*.jpg pattern`);
  if (!existsSync(dir)) throw new InputError(`folder not found for glob ${shown}: ${dir}`, PATH_HINT);
  const re = globToRegExp(pat);
  const files = readdirSync(dir).filter((n) => re.test(n) && !n.startsWith('.')).sort(naturalCompare).map((n) => join(dir, n));
  if (!files.length) {
    const near = readdirSync(dir).filter(isImageName).slice(0, 5);
    throw new InputError(`glob ${shown} matches no files`, near.length ? `${shownPath(dir)} has e.g. ${near.join(', ')}` : `the folder has no image files`);
  }
  return { files, batch: true };
}

/** The error for a batch whose images differ in size (naming the odd ones and the resize that fixes it), or undefined. */
export function sizeMismatch(images: readonly Image[], path: string, shownOf: (file: string) => string, fix: ParamFix = yamlFix): InputError | undefined {
  const first = images[0]!;
  if (images.every((im) => im.width === first.width && im.height === first.height)) return undefined;
  const sizes = new Map<string, string[]>();
  for (const im of images) {
    const k = `${im.width}x${im.height}`;
    sizes.set(k, [...(sizes.get(k) ?? []), shownOf(im.source!)]);
  }
  const common = [...sizes.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
  const odds = [...sizes.entries()].filter(([k]) => k !== common[0]).flatMap(([k, names]) => names.map((n) => `${n} (${k})`));
  return new InputError(
    `images in ${path} differ in size: most are ${common[0]} (width x height), but ${odds.slice(0, 8).join(', ')}${odds.length > 8 ? `, and ${odds.length - 8} more` : ''}`,
    `remove the odd ones, or make them all the same size: ${fix('resize', `{width: ${common[0].split('x')[0]}, height: ${common[0].split('x')[1]}}`)}`,
  );
}
