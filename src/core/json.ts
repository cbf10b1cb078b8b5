/** JSON for port values: Matrix as nested lists, typed arrays as lists. */
import { Matrix } from './linalg/matrix.js';

export function toPlain(value: unknown): unknown {
  if (value instanceof Matrix) return value.to2D();
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  if (Array.isArray(value)) return value.map(toPlain);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toPlain(v);
    return out;
  }
  return value;
}

export function toJsonText(value: unknown, pretty = true): string {
  return JSON.stringify(toPlain(value), null, pretty ? 2 : 0) + '\n';
}
