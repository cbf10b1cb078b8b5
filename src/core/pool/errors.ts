/**
 * Errors thrown inside a pool task keep their class across the thread boundary: the worker
 * sends `{ name, message, hint }` and the caller rebuilds the same class, so a stage's
 * `catch (e) { if (e instanceof LinalgError) ... }` works the same inline and pooled.
 */
import { LinalgError } from '../linalg/errors.js';
import { InputError } from '../errors.js';
import { IcpError } from '../points/icp.js';
import { PointsError } from '../points/errors.js';

export interface EncodedError {
  name: string;
  message: string;
  hint?: string;
  stack?: string;
}

export function encodeError(e: unknown): EncodedError {
  const err = e instanceof Error ? e : new Error(String(e));
  const hint = (err as { hint?: unknown }).hint;
  return { name: err.name, message: err.message, ...(typeof hint === 'string' ? { hint } : {}), ...(err.stack ? { stack: err.stack } : {}) };
}

export function decodeError(x: EncodedError): Error {
  let e: Error;
  switch (x.name) {
    case 'LinalgError': e = new LinalgError(x.message); break;
    case 'IcpError': e = new IcpError(x.message, x.hint); break;
    case 'PointsError': e = new PointsError(x.message, x.hint); break;
    case 'InputError': e = new InputError(x.message, x.hint); break;
    case 'RangeError': e = new RangeError(x.message); break;
    case 'TypeError': e = new TypeError(x.message); break;
    default: e = new Error(x.message); e.name = x.name;
  }
  if (x.stack) e.stack = `${e.name}: ${e.message}\n    (in a pool worker)\n${x.stack.split('\n').slice(1).join('\n')}`;
  return e;
}
