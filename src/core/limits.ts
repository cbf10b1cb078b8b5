/**
 * Resource limits: small inputs must not make svdflow use unbounded time or
 * memory. Each limit has a default, a clear message when it is hit, and an
 * override (`--limit name=value` on the command line, `limits` in the API;
 * per-step ones are stage params, e.g. load's `maxPixels`, svd's `maxMemoryMiB`).
 */
import { UsageError } from './errors.js';

export interface Limits {
  /** largest pipeline file, bytes */
  pipelineBytes: number;
  /** most YAML aliases (*name) a pipeline may expand */
  yamlAliases: number;
  /** deepest nesting of YAML mappings and lists */
  yamlDepth: number;
  /** most problems printed (the count of all is always given) */
  issuesShown: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  pipelineBytes: 8 * 1024 * 1024,
  yamlAliases: 100,
  yamlDepth: 64,
  issuesShown: 100,
});

/** Parses `name=value` (value a whole number, with an optional k/M/G suffix, powers of 1024). */
export function parseLimit(arg: string, into: Partial<Limits>): void {
  const m = /^([A-Za-z]+)=(\d+(?:\.\d+)?)([kKmMgG]i?[bB]?)?$/.exec(arg.trim());
  const names = Object.keys(DEFAULT_LIMITS);
  if (!m || !names.includes(m[1]!)) {
    throw new UsageError(`--limit ${arg}: expected NAME=NUMBER with NAME one of ${names.join(', ')}`, `e.g. --limit pipelineBytes=32M (defaults: ${names.map((n) => `${n}=${DEFAULT_LIMITS[n as keyof Limits]}`).join(', ')})`);
  }
  const unit = (m[3] ?? '').charAt(0).toLowerCase();
  const scale = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  into[m[1] as keyof Limits] = Math.floor(Number(m[2]) * scale);
}

export function withDefaults(l: Partial<Limits> | undefined): Limits {
  return { ...DEFAULT_LIMITS, ...(l ?? {}) };
}
