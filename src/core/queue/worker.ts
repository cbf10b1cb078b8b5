/**
 * A svdflow queue worker: a BullMQ Worker on the shared queue that runs svdflow jobs.
 *
 * - Faults: BullMQ holds a lock per active job, renewed every lockMs/2. A worker killed with
 *   -9, or cut off from Redis for longer than lockMs, loses its lock; another worker's
 *   stalled check moves the job back to the waiting list and it runs again there.
 *   Ordinary failures are retried with exponential backoff; bad input (a corrupt file, an
 *   invalid pipeline, a path outside the root) fails at once, naming the job.
 * - stop(): no new jobs; running jobs get `graceMs` to finish, then are cancelled (their
 *   temporary files removed) and handed back to the queue for another worker.
 */
import { Worker, UnrecoverableError, WaitingError, type Job } from 'bullmq';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { SvdflowError, CancelledError, StageError } from '../errors.js';
import { silentLogger } from '../logging.js';
import type { Registry } from '../registry.js';
import { connect, probe, queueName, redactUrl } from './connection.js';
import { jobData } from './jobs.js';
import { processJob, WORKER_ID } from './process.js';

export interface WorkerOptions {
  url: string;
  root: string;
  registry: Registry;
  concurrency?: number;
  /** lock duration (ms): how long a dead worker's job waits before another takes it (default 30000) */
  lockMs?: number;
  log?: Logger;
}

export interface RunningWorker {
  worker: Worker;
  id: string;
  /** Stops taking jobs; running ones get graceMs to finish, then go back to the queue. */
  stop(graceMs?: number): Promise<{ handedBack: number }>;
}

/** Is this failure about the data (no use retrying)? */
function isBadInput(e: unknown): boolean {
  const inner = e instanceof StageError ? e.cause : e;
  return e instanceof SvdflowError && !(e instanceof CancelledError) && !(inner instanceof Error && !(inner instanceof SvdflowError));
}

export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  const log = o.log ?? silentLogger();
  const root = resolve(o.root);
  const lockMs = o.lockMs ?? 30_000;
  let stopping = false;
  let handedBack = 0;
  const processor = async (job: Job, token?: string, signal?: AbortSignal): Promise<unknown> => {
    const parsed = jobData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`job ${job.id} is not a svdflow job: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const label = parsed.data.label;
    const ac = new AbortController();
    const onAbort = () => ac.abort('worker stopping');
    signal?.addEventListener('abort', onAbort, { once: true });
    const t0 = performance.now();
    log.info({ job: job.id, kind: parsed.data.kind, label, attempt: job.attemptsMade + 1 }, 'job started');
    try {
      const r = await processJob(
        {
          id: String(job.id),
          data: parsed.data,
          children: async () => {
            const vals = await job.getChildrenValues();
            return Object.entries(vals)
              .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
              .map(([, v]) => v);
          },
          progress: (p) => job.updateProgress(p),
        },
        { root, registry: o.registry, log: log.child({ job: job.id }), signal: ac.signal },
      );
      log.info({ job: job.id, label, ms: Math.round(performance.now() - t0) }, 'job done');
      return r;
    } catch (e) {
      if (stopping && (ac.signal.aborted || e instanceof CancelledError)) {
        handedBack++;
        log.warn({ job: job.id, label }, 'worker stopping: job handed back to the queue');
        await job.moveToWait(token);
        throw new WaitingError();
      }
      const text = e instanceof SvdflowError ? e.text : (e as Error)?.message ?? String(e);
      log.warn({ job: job.id, label, err: text }, 'job failed');
      if (isBadInput(e)) throw new UnrecoverableError(`${label}: ${text}`);
      throw new Error(`${label}: ${text}`);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  };
  await probe(o.url);
  const conn = connect(o.url);
  const worker = new Worker(queueName(), processor, {
    connection: conn,
    concurrency: o.concurrency ?? 1,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    maxStalledCount: 3,
    autorun: false,
  });
  worker.on('error', (e) => log.warn({ err: e.message, redis: redactUrl(o.url) }, 'queue connection problem (retrying)'));
  void worker.run().catch((e) => log.error({ err: (e as Error).message }, 'worker stopped'));
  await worker.waitUntilReady();
  return {
    worker,
    id: WORKER_ID,
    stop: async (graceMs = 10_000) => {
      stopping = true;
      const closing = worker.close();
      const timer = setTimeout(() => worker.cancelAllJobs('worker stopping'), graceMs);
      try {
        await closing;
      } finally {
        clearTimeout(timer);
        conn.disconnect();
      }
      return { handedBack };
    },
  };
}
