/** JSON for port values: Matrix as nested lists, typed arrays as lists. */
import { Matrix } from './linalg/matrix.js';

/** A typed array as a JSON list (past `summariseOver` values, the string "[n values]"); anything else unchanged. */
export function typedArrayJson(value: unknown, summariseOver = Infinity): unknown {
  if (!ArrayBuffer.isView(value) || value instanceof DataView) return value;
  const arr = value as unknown as ArrayLike<number>;
  return arr.length > summariseOver ? `[${arr.length} values]` : Array.from(arr);
}

/** JSON.stringify replacer for manifests (run.json): typed arrays as lists, those over 64 values summarised. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typedArrayJson(value, 64);
}

export function toPlain(value: unknown): unknown {
  if (value instanceof Matrix) return value.to2D();
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return typedArrayJson(value);
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
