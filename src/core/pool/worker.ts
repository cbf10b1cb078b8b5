/**
 * The compute pool's worker (run by piscina in a worker thread): imports the task's module
 * (cached), calls the named export with the decoded arguments, and returns the result with
 * every typed array's buffer moved, not copied (Piscina's Transferable protocol).
 * A task function may be synchronous (a whole SVD) or async. Large matrices made inside a task
 * are SharedArrayBuffer-backed and come back shared, not copied.
 */
import { Piscina } from 'piscina';
import { setSharedAllocation } from '../linalg/matrix.js';
import { threadCounts } from '../threads.js';
import { startTeam } from '../linalg/team.js';
import { useNativeInFlightBuffer } from '../linalg/native.js';
import { startQueryTeam } from '../points/query-team.js';
import { decode, encodeResult } from './codec.js';
import { encodeError, type EncodedError } from './errors.js';
import { sharedReporter, withTaskProgress } from './progress.js';

export interface TaskMessage {
  module: string;
  fn: string;
  args: unknown[];
  /** where the task's progress goes (progress.ts), when the caller listens */
  progress?: SharedArrayBuffer;
}

type Reply = { ok: unknown } | { error: EncodedError };

// Inside a task the GEMM-bound phases fan out over a thread team (linalg/team.ts): matrices of
// 16 Ki values or more live in shared memory, and budget - 1 helpers (the thread budget of
// src/core/threads.ts, the cores by default; SVDFLOW_TEAM overrides) wait for parts. Helpers are
// idle (blocked) between products, and end with this thread.
setSharedAllocation(1 << 14);
const team = threadCounts().team;
startTeam(team);
// likewise the loops of one query per point (ICP's nearest neighbours, normals): k-d trees are
// built in shared memory and the queries split over a points query team (points/query-team.ts)
startQueryTeam(team);

// native (OpenBLAS) calls are counted where the main thread's exit hook sees them (linalg/native.ts)
const shared = Piscina.workerData as { nativeInFlight?: SharedArrayBuffer } | undefined;
if (shared?.nativeInFlight) useNativeInFlightBuffer(shared.nativeInFlight);

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
    const args = decode(msg.args) as unknown[];
    const out = await withTaskProgress(msg.progress && sharedReporter(msg.progress), () => (f as (...a: unknown[]) => unknown)(...args));
    reply = { ok: encodeResult(out, transfer) };
  } catch (e) {
    reply = { error: encodeError(e) };
  }
  if (!transfer.size) return reply;
  return Piscina.move({ [Piscina.transferableSymbol]: [...transfer], [Piscina.valueSymbol]: reply } as never);
}
