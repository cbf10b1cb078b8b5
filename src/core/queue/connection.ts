/**
 * Redis connections for the queue (ioredis): redis://[user:password@]host:port[/db] and
 * rediss:// (TLS; a private CA through NODE_EXTRA_CA_CERTS). BullMQ needs
 * maxRetriesPerRequest: null on blocking connections; the connection retries forever with
 * a capped backoff, so a worker that loses Redis reconnects by itself.
 */
import { Redis } from 'ioredis';
import { UsageError, InputError } from '../errors.js';

/** The queue every svdflow worker and submitter uses (override with SVDFLOW_QUEUE). */
export function queueName(): string {
  return process.env.SVDFLOW_QUEUE ?? 'svdflow';
}

export function checkRedisUrl(url: string | undefined, flag: string): string {
  if (!url) throw new UsageError(`${flag} needs a Redis URL`, `e.g. ${flag} redis://127.0.0.1:6379 (rediss:// for TLS, redis://:password@host:port for a password)`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`${flag} ${url} is not a URL`, 'give redis://host:port or rediss://host:port');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new UsageError(`${flag} ${redactUrl(url)}: the scheme must be redis:// or rediss://, got ${u.protocol}//`, 'e.g. redis://127.0.0.1:6379');
  return url;
}

/** The URL with its password replaced by ***, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

/** One connection attempt, no retries: fails fast on a wrong host, port, password or TLS setup. */
export async function probe(url: string, timeoutMs = 5000): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: timeoutMs, enableOfflineQueue: false });
  let first: Error | undefined;
  r.on('error', (e: Error) => (first ??= e));
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    const msg = (first ?? (e as Error)).message.split('\n')[0]!;
    throw new InputError(`cannot reach Redis at ${redactUrl(url)}: ${msg}`, /WRONGPASS|NOAUTH|AUTH/.test(msg) ? 'check the password in the URL (redis://:PASSWORD@host:port)' : 'check the URL, that redis-server runs there (rediss:// for TLS; a private CA through NODE_EXTRA_CA_CERTS)');
  } finally {
    r.disconnect();
  }
}

export function connect(url: string, opts: { blocking?: boolean } = {}): Redis {
  const r = new Redis(url, {
    maxRetriesPerRequest: opts.blocking === false ? 2 : null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(200 * times, 2000),
    lazyConnect: false,
  });
  // connection errors show up as failed commands (and the worker's 'error' log); ioredis reconnects
  r.on('error', () => undefined);
  return r;
}
