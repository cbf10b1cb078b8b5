/**
 * Loading an optional system library through koffi: OpenBLAS (linalg/native.ts) and libturbojpeg
 * (image/turbojpeg.ts) are found the same way. The library named by the environment variable, or
 * else each default name in turn; `bind` declares the functions the caller uses (a missing symbol
 * fails that candidate like a missing file). Returns the bound library, or why none loaded.
 */
import { createRequire } from 'node:module';

/** a koffi function: called synchronously, or `.async(...args, callback)` on libuv's thread pool */
export type NativeFn = ((...a: unknown[]) => unknown) & { async: (...a: unknown[]) => void };

export function loadNativeLibrary<T>(o: {
  /** the environment variable that may name the library (for the reason) and its value */
  envName: string;
  env: string | undefined;
  defaults: readonly string[];
  bind: (func: (declaration: string) => NativeFn, path: string) => T;
  /** the reason when no default name loads (given the errors, one per name) */
  notFound: (errors: string) => string;
}): { lib: T; reason?: undefined } | { lib: null; reason: string } {
  let koffi: { load(p: string): { func(decl: string): NativeFn } };
  try {
    koffi = createRequire(import.meta.url)('koffi');
  } catch (e) {
    return { lib: null, reason: `the koffi package is missing (${(e as Error).message.split('\n')[0]})` };
  }
  const named = o.env !== undefined && o.env !== '' && o.env !== 'on';
  const errors: string[] = [];
  for (const p of named ? [o.env!] : o.defaults) {
    try {
      const l = koffi.load(p);
      return { lib: o.bind((d) => l.func(d), p) };
    } catch (e) {
      errors.push(`${p}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return { lib: null, reason: named ? `${o.envName}=${o.env} could not be loaded (${errors.join('; ')})` : o.notFound(errors.join('; ')) };
}
