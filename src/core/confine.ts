/**
 * Confinement to a folder: a queue worker reads and writes only under its --root (the
 * storage all workers share), whatever a job's pipeline names. Paths are compared after
 * resolving symbolic links (of the part that exists), so a link cannot lead outside.
 * URLs that ffmpeg reads (http://, rtsp://, …) are inputs too and are not paths.
 */
import { realpathSync } from 'node:fs';
import { dirname, basename, join, relative, resolve, isAbsolute } from 'node:path';
import { InputError } from './errors.js';

/** A URL with a scheme other than file: (ffmpeg reads it; it is no path under a root). */
export function isUrl(p: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(p) && !/^file:/i.test(p);
}

/** The real path of `p`: symbolic links resolved in the part that exists, the rest appended. */
export function realish(p: string): string {
  const abs = resolve(p);
  try {
    return realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    if (parent === abs) return abs;
    return join(realish(parent), basename(abs));
  }
}

/** Is `p` (after links) `root` or inside it? */
export function isInside(root: string, p: string): boolean {
  const rel = relative(realish(root), realish(p));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** `p` resolved, or an InputError naming `what` when it leads outside `root`. */
export function confine(root: string, p: string, what: string): string {
  const abs = resolve(p);
  if (!isInside(root, abs)) {
    throw new InputError(`${what} ${abs} is outside the shared root ${resolve(root)}`, 'a queued job reads and writes only under the workers\' --root: put the file there (or start the workers with a --root that contains it)');
  }
  return abs;
}
