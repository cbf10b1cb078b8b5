/**
 * The compute pool's worker (run by piscina in a worker thread): imports the task's module
 * (cached), calls the named export with the decoded arguments, and returns the result with
 * every typed array's buffer moved, not copied (Piscina's Transferable protocol).
 * A task function may be synchronous (a whole SVD) or async.
 */
import { Piscina } from 'piscina';
import { decode, encodeResult } from './codec.js';
import { encodeError, type EncodedError } from './errors.js';

export interface TaskMessage {
  module: string;
  fn: string;
  args: unknown[];
}

type Reply = { ok: unknown } | { error: EncodedError };

const modules = new Map<string, Promise<Record<string, unknown>>>();

export default async function run(msg: TaskMessage): Promise<unknown> {
  let reply: Reply;
  const transfer = new Set<ArrayBuffer>();
  try {
    let mod = modules.get(msg.module);
    if (!mod) { mod = import(msg.module) as Promise<Record<string, unknown>>; modules.set(msg.module, mod); }
    const set = (await mod).tasks as { fns?: Record<string, unknown> } | undefined;
    const f = set?.fns?.[msg.fn];
    if (typeof f !== 'function') throw new Error(`pool task ${msg.fn} is not in the \`tasks\` exported by ${msg.module}`);
    const out = await (f as (...a: unknown[]) => unknown)(...(decode(msg.args) as unknown[]));
    reply = { ok: encodeResult(out, transfer) };
  } catch (e) {
    reply = { error: encodeError(e) };
  }
  if (!transfer.size) return reply;
  return Piscina.move({ [Piscina.transferableSymbol]: [...transfer], [Piscina.valueSymbol]: reply } as never);
}
