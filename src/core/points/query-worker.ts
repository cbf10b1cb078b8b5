/**
 * A helper thread of the points query team (query-team.ts): answers the range of queries it
 * is sent, in place in shared memory, then decrements the caller's counter and wakes it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { KdTree } from './kdtree.js';
import { runQueryPart } from './queries.js';
import type { QueryPart } from './query-team.js';

const { ctrl, online } = workerData as { ctrl: Int32Array; online: number };

parentPort!.on('message', ({ part, slot }: { part: QueryPart; slot: number }) => {
  try {
    runQueryPart(part, 'tree' in part ? KdTree.fromState(part.tree) : undefined); // over the caller's shared arrays: nothing copied
  } catch {
    Atomics.store(ctrl, 1 + slot, 1);
  }
  Atomics.sub(ctrl, 0, 1);
  Atomics.notify(ctrl, 0);
});
Atomics.store(ctrl, online, 1);
