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

/** An optional system library, loaded on first use (see optionalLibrary). */
export interface OptionalLibrary<T> {
  /** the library when it is on and loads, else null (the caller's fallback runs) */
  get(): T | null;
  /** turns it on (when it loads) or off for this thread, overriding the environment; `undefined` goes back to the environment's choice. Returns whether it is now in use */
  set(on: boolean | undefined): boolean;
  /** why it is not in use: turned off by set(false), refused by the environment, or failed to load */
  reason(): string | undefined;
  /** whether this thread has already tried to load it (asking then costs nothing) */
  resolved(): boolean;
  /** whether set(false) turned it off */
  off(): boolean;
  /** why the environment rules it out without loading anything (`NAME=off`, or the caller's own refusal) */
  refusal(): string | undefined;
}

/**
 * The load-once, turn-off-able wrapper OpenBLAS and libturbojpeg share around loadNativeLibrary:
 * `NAME=off` (or 0) and the caller's `refuse` rule it out, anything else is loaded on first use.
 */
export function optionalLibrary<T>(o: Omit<Parameters<typeof loadNativeLibrary<T>>[0], 'env'> & { refuse?: (env: string | undefined) => string | undefined; offBy: string }): OptionalLibrary<T> {
  let lib: T | null | undefined, why: string | undefined, forced: boolean | undefined;
  const refusal = () => {
    const env = process.env[o.envName];
    if (env === 'off' || env === '0') return `${o.envName}=off`;
    return o.refuse?.(env);
  };
  const load = (): T | null => {
    if (lib !== undefined) return lib;
    const refused = refusal();
    if (refused) { why = refused; return (lib = null); }
    const r = loadNativeLibrary<T>({ ...o, env: process.env[o.envName] });
    why = r.reason;
    return (lib = r.lib);
  };
  const get = () => (forced === false ? null : load());
  return {
    get,
    set: (on) => { forced = on; return get() !== null; },
    reason: () => (forced === false ? `turned off (${o.offBy}(false))` : (load(), why)),
    resolved: () => lib !== undefined,
    off: () => forced === false,
    refusal,
  };
}
