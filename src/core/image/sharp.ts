/**
 * sharp (libvips), loaded on its first call instead of when a module that may use it is
 * imported: every stage module is imported by the registry, so an eager import put libvips
 * (~9 MiB of resident memory) into runs that never touch an image file (a video pipeline's
 * peak RSS, issue #16). Calls and types are sharp's own (`sharp(...)`, `Sharp.Metadata`).
 */
import { createRequire } from 'node:module';
import type Sharp from 'sharp';

export type { default as Sharp } from 'sharp';

let loaded: typeof Sharp | undefined;

/** `sharp(input?, options?)` (every overload), loading the library on first use; sharp's static members are not forwarded. */
export const sharp = ((...a: unknown[]) => {
  loaded ??= createRequire(import.meta.url)('sharp') as typeof Sharp;
  return (loaded as unknown as (...x: unknown[]) => ReturnType<typeof Sharp>)(...a);
}) as unknown as typeof Sharp;

/** whether sharp has been loaded in this process (tests) */
export const sharpLoaded = (): boolean => loaded !== undefined;
