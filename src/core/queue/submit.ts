/**
 * Submitting flows and following them. A flow is a BullMQ parent job with one child per
 * input, shard or segment; its id derives from what it computes (pipeline text, --set
 * values, inputs, output folder), so submitting the same work again finds the flow:
 * a finished one is reported without redoing anything, a running one is followed, and a
 * failed one is replaced, its finished children answering from their output folders.
 */
import { FlowProducer, Queue, QueueEvents, type Job, type FlowJob } from 'bullmq';
import type { Redis } from 'ioredis';
import { UsageError, InputError } from '../errors.js';
import { connect, probe, queueName } from './connection.js';
import { contentKey, type JobData } from './jobs.js';

export interface FlowPlan {
  /** 'each' | 'pca' | 'segments' */
  mode: string;
  parent: JobData;
  children: JobData[];
}

export const CHILD_OPTS = { attempts: 3, backoff: { type: 'exponential', delay: 1000 }, failParentOnFailure: true } as const;

export function flowId(plan: FlowPlan): string {
  return `${plan.mode}-${contentKey({ parent: plan.parent, children: plan.children })}`;
}

export function childId(flow: string, i: number): string {
  return `${flow}-c${String(i).padStart(4, '0')}`;
}

export interface QueueClient {
  queue: Queue;
  conn: Redis;
  close(): Promise<void>;
}

export async function openQueue(url: string): Promise<QueueClient> {
  await probe(url);
  const conn = connect(url, { blocking: false });
  const queue = new Queue(queueName(), { connection: conn });
  try {
    await queue.waitUntilReady();
    await conn.ping();
  } catch (e) {
    await queue.close().catch(() => undefined);
    conn.disconnect();
    throw new InputError(`cannot reach Redis: ${(e as Error).message}`, 'check the URL, that redis-server runs there, and the password');
  }
  return {
    queue,
    conn,
    close: async () => {
      await queue.close().catch(() => undefined);
      conn.disconnect();
    },
  };
}

export type SubmitOutcome = 'added' | 'following' | 'finished' | 'replaced';

/** Adds the flow unless the same flow is already there (see the file comment). */
export async function submitFlow(url: string, client: QueueClient, plan: FlowPlan): Promise<{ id: string; outcome: SubmitOutcome }> {
  const id = flowId(plan);
  const existing = await client.queue.getJob(id);
  let outcome: SubmitOutcome = 'added';
  if (existing) {
    const state = await existing.getState();
    if (state === 'completed') return { id, outcome: 'finished' };
    if (state !== 'failed') return { id, outcome: 'following' };
    try {
      await existing.remove({ removeChildren: true });
    } catch (e) {
      throw new UsageError(`flow ${id} failed earlier and some of its jobs are still running (${(e as Error).message})`, `wait for them (svdflow status ${id}), then submit again`);
    }
    outcome = 'replaced';
  }
  const pconn = connect(url, { blocking: false });
  const producer = new FlowProducer({ connection: pconn });
  try {
    const q = queueName();
    const flow: FlowJob = {
      name: plan.parent.kind,
      queueName: q,
      data: plan.parent,
      opts: { jobId: id, attempts: 2, backoff: { type: 'exponential', delay: 1000 } },
      children: plan.children.map((c, i) => ({ name: c.kind, queueName: q, data: c, opts: { jobId: childId(id, i), ...CHILD_OPTS } })),
    };
    await producer.add(flow);
  } finally {
    await producer.close();
    pconn.disconnect();
  }
  return { id, outcome };
}

export interface FlowEvent {
  type: 'active' | 'progress' | 'completed' | 'failed' | 'stalled' | 'retrying';
  jobId: string;
  label?: string;
  detail?: string;
  /** children finished so far, of total */
  done: number;
  total: number;
}

export interface FlowOutcome {
  id: string;
  state: 'completed' | 'failed';
  result?: unknown;
  /** the failed child (or the parent), with its reason */
  failed?: { jobId: string; label: string; reason: string };
}

/** Children ids of a flow: the ones a parent job depends on. */
async function childIds(parent: Job): Promise<string[]> {
  const deps = await parent.getDependencies({ processed: { count: 10_000 }, unprocessed: { count: 10_000 }, failed: { count: 10_000 }, ignored: { count: 10_000 } } as never);
  const keys = [...Object.keys(deps.processed ?? {}), ...(deps.unprocessed ?? []), ...((deps as { failed?: string[] }).failed ?? []), ...Object.keys((deps as { ignored?: Record<string, string> }).ignored ?? {})];
  return [...new Set(keys.map((k) => k.split(':').pop()!))].sort();
}

/** Why a flow failed: the first failed child with its reason, or the parent's own reason. */
export async function failureOf(client: QueueClient, parent: Job): Promise<{ jobId: string; label: string; reason: string }> {
  for (const cid of await childIds(parent)) {
    const c = await client.queue.getJob(cid);
    if (c && (await c.getState()) === 'failed') return { jobId: cid, label: (c.data as JobData).label, reason: c.failedReason };
  }
  const m = /child [^:]+:[^:]+:(\S+) failed/.exec(parent.failedReason ?? '');
  if (m) {
    const c = await client.queue.getJob(m[1]!);
    if (c) return { jobId: m[1]!, label: (c.data as JobData).label, reason: c.failedReason };
  }
  return { jobId: String(parent.id), label: (parent.data as JobData).label, reason: parent.failedReason ?? 'unknown' };
}

/** Follows a flow until its parent completes or fails, reporting children's events. */
export async function followFlow(url: string, client: QueueClient, id: string, onEvent: (e: FlowEvent) => void, signal?: AbortSignal): Promise<FlowOutcome> {
  const parent0 = await client.queue.getJob(id);
  if (!parent0) throw new UsageError(`no flow ${id} in this queue`, 'check the id (svdflow run … --detach printed it) and the --queue/--redis URL');
  const kids = new Set(await childIds(parent0));
  const total = kids.size;
  const done = new Set<string>();
  const econn = connect(url);
  const events = new QueueEvents(queueName(), { connection: econn });
  await events.waitUntilReady();
  const labelOf = new Map<string, string>();
  const label = async (jobId: string) => {
    if (!labelOf.has(jobId)) labelOf.set(jobId, ((await client.queue.getJob(jobId))?.data as JobData | undefined)?.label ?? jobId);
    return labelOf.get(jobId)!;
  };
  const ours = (jobId: string) => jobId === id || kids.has(jobId);
  // the parent's own end wakes the loop below at once; the poll is only a fallback for a missed event
  let ended = false;
  let wake = () => void (ended = true);
  const emit = async (type: FlowEvent['type'], jobId: string, detail?: string) => {
    if (jobId === id && (type === 'completed' || type === 'failed')) wake();
    if (!ours(jobId)) return;
    if (type === 'completed' && jobId !== id) done.add(jobId);
    onEvent({ type, jobId, label: await label(jobId), detail, done: done.size, total });
  };
  signal?.addEventListener('abort', () => wake(), { once: true });
  events.on('active', ({ jobId }) => void emit('active', jobId));
  events.on('progress', ({ jobId, data }) => void emit('progress', jobId, typeof data === 'object' ? JSON.stringify(data) : String(data)));
  events.on('completed', ({ jobId }) => void emit('completed', jobId));
  events.on('failed', ({ jobId, failedReason }) => void emit('failed', jobId, failedReason));
  events.on('stalled', ({ jobId }) => void emit('stalled', jobId, 'its worker stopped answering; the job goes back to the queue'));
  try {
    // children finished before we listened
    for (const k of kids) {
      const c = await client.queue.getJob(k);
      if (c && (await c.getState()) === 'completed') done.add(k);
    }
    for (;;) {
      if (signal?.aborted) throw new UsageError('stopped following the flow', `it keeps running on the workers: svdflow status ${id}`);
      // the state first, then the job: a job read before it finished has no return value yet
      // even when getState() already says 'completed' (the worker finished between the two reads)
      const state = await client.queue.getJobState(id);
      if (state === 'unknown') throw new InputError(`flow ${id} disappeared from the queue`, 'it was removed by someone else; submit it again');
      if (state === 'completed' || state === 'failed') {
        const parent = await client.queue.getJob(id);
        if (!parent) throw new InputError(`flow ${id} disappeared from the queue`, 'it was removed by someone else; submit it again');
        return state === 'completed' ? { id, state, result: parent.returnvalue } : { id, state, failed: await failureOf(client, parent) };
      }
      if (!ended) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, 1000);
          wake = () => {
            clearTimeout(t);
            r();
          };
        });
      }
      ended = false;
      wake = () => void (ended = true);
    }
  } finally {
    await events.close().catch(() => undefined);
    econn.disconnect();
  }
}

export interface FlowStatus {
  id: string;
  state: string;
  total: number;
  completed: number;
  failed: number;
  active: number;
  waiting: number;
  result?: unknown;
  failure?: { jobId: string; label: string; reason: string };
  children: Array<{ id: string; label: string; state: string; attempts: number }>;
}

export async function flowStatus(client: QueueClient, id: string): Promise<FlowStatus> {
  const parent = await client.queue.getJob(id);
  if (!parent) throw new UsageError(`no flow ${id} in this queue`, 'check the id (svdflow run … --detach printed it) and the --redis URL');
  const state = await parent.getState();
  const children: FlowStatus['children'] = [];
  for (const cid of await childIds(parent)) {
    const c = await client.queue.getJob(cid);
    children.push({ id: cid, label: ((c?.data as JobData | undefined)?.label) ?? cid, state: c ? await c.getState() : 'removed', attempts: c?.attemptsMade ?? 0 });
  }
  const count = (s: string[]) => children.filter((c) => s.includes(c.state)).length;
  return {
    id,
    state,
    total: children.length,
    completed: count(['completed']),
    failed: count(['failed']),
    active: count(['active']),
    waiting: count(['waiting', 'delayed', 'prioritized', 'waiting-children']),
    ...(state === 'completed' ? { result: parent.returnvalue } : {}),
    ...(state === 'failed' ? { failure: await failureOf(client, parent) } : {}),
    children,
  };
}
