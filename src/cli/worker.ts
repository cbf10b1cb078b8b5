/**
 * `svdflow worker --redis URL [--concurrency N] [--threads N] [--root DIR] [--lock-ms MS]`: runs queued
 * svdflow jobs until stopped. --threads is the process's thread budget (src/core/threads.ts; main.ts
 * sets it before anything starts): its concurrent jobs share the compute pool, each with its own model thread and decoder. SIGTERM/SIGINT: no new jobs; a running job gets --grace
 * seconds to finish, then is cancelled and handed back to the queue (exit 130).
 */
import { resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { defaultRegistry } from '../stages/index.js';
import { UsageError } from '../core/errors.js';
import { createLogger, type LogLevel } from '../core/logging.js';
import { checkRedisUrl, redactUrl } from '../core/queue/connection.js';
import { startWorker } from '../core/queue/worker.js';
import { threadBudget } from '../core/threads.js';

export interface WorkerFlags {
  redis?: string;
  concurrency?: string;
  root?: string;
  'lock-ms'?: string;
  grace?: string;
  'log-level': string;
  'log-json': boolean;
}

function num(v: string | undefined, flag: string, min: number, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`${flag} expects a number >= ${min}, got '${v}'`);
  return n;
}

export async function workerCommand(flags: WorkerFlags): Promise<number> {
  const url = checkRedisUrl(flags.redis, '--redis');
  const root = resolve(flags.root ?? '.');
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError(`--root ${root} is not a folder`, 'give the shared folder every worker sees');
  const concurrency = num(flags.concurrency, '--concurrency', 1, 1);
  if (!Number.isInteger(concurrency)) throw new UsageError(`--concurrency expects a whole number, got '${flags.concurrency}'`);
  const lockMs = num(flags['lock-ms'], '--lock-ms', 1000, 30_000);
  const graceMs = num(flags.grace, '--grace', 0, 10) * 1000;
  const level = (flags['log-level'] === 'warn' ? 'info' : flags['log-level']) as LogLevel;
  const log = createLogger({ level, json: flags['log-json'] });
  const w = await startWorker({ url, root, registry: defaultRegistry(), concurrency, lockMs, log });
  process.stderr.write(`svdflow worker ${w.id}: ${redactUrl(url)}, root ${root}, concurrency ${concurrency}, threads ${threadBudget()}; stop with Ctrl-C or SIGTERM\n`);
  return new Promise<number>((done) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`svdflow worker: second ${sig}, exiting now\n`);
        process.exit(130);
      }
      stopping = true;
      process.stderr.write(`svdflow worker: ${sig}: taking no new jobs; running ones get ${graceMs / 1000} s, then go back to the queue\n`);
      void w.stop(graceMs).then(({ handedBack }) => {
        process.stderr.write(`svdflow worker: stopped${handedBack ? `; ${handedBack} job${handedBack === 1 ? '' : 's'} handed back` : ''}\n`);
        done(130);
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
