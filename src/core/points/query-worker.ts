/**
 * A helper thread of the points query team (query-team.ts): given a call's list of chunks, claims
 * and answers chunks (in place in shared memory) until none is left, then leaves the count of
 * helpers at work and wakes the caller.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { KdTree } from './kdtree.js';
import { runQueryPart } from './queries.js';
import { claimChunks, type QueryPart } from './query-team.js';

const { ctrl, online, next, helped } = workerData as { ctrl: Int32Array; online: number; next: number; helped: number };

parentPort!.on('message', ({ parts, gen }: { parts: QueryPart[]; gen: number }) => {
  // counted as at work before claiming: the caller, once every chunk is claimed, waits for this count to reach 0
  Atomics.add(ctrl, 0, 1);
  try {
    const ran = claimChunks(ctrl, next, gen, parts.length, (k) => {
      const part = parts[k]!;
      try {
        runQueryPart(part, 'tree' in part ? KdTree.fromState(part.tree) : undefined); // over the caller's shared arrays: nothing copied
      } catch {
        Atomics.store(ctrl, 1 + k, 1);
      }
    });
    Atomics.add(ctrl, helped, ran);
  } finally {
    Atomics.sub(ctrl, 0, 1);
    Atomics.notify(ctrl, 0);
  }
});
Atomics.store(ctrl, online, 1);
