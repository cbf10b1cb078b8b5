/**
 * A real Redis and real worker processes for the queue tests: redis-server (Debian
 * package) on a free port on 127.0.0.1 without persistence, and `svdflow worker`
 * processes from dist/. Locally a missing redis-server skips the tests with a message
 * naming it; with CI=true it is a failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { CLI, ROOT, until as untilEvery } from '../helpers.js';

/** Waits until `pred()` holds: queue events take longer, so a minute by default, polled every 100 ms. */
export const until = (pred: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> => untilEvery(pred, what, ms, 100);

/** every process the harness started, so that a failed or timed-out test still ends them */
const spawned = new Set<ChildProcess>();
function track(p: ChildProcess): ChildProcess {
  spawned.add(p);
  p.once('exit', () => spawned.delete(p));
  return p;
}
process.once('exit', () => {
  for (const p of spawned) p.kill('SIGKILL');
});

/** Kills (SIGKILL) every worker and redis-server still running. */
export async function killAll(): Promise<void> {
  await Promise.all([...spawned].map((p) => stopProc(p, 'SIGKILL')));
}

export function findRedisServer(): string | undefined {
  if (process.env.SVDFLOW_REDIS_SERVER) return process.env.SVDFLOW_REDIS_SERVER;
  if (existsSync('/usr/bin/redis-server')) return '/usr/bin/redis-server';
  const w = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return w.status === 0 && w.stdout.trim() ? w.stdout.trim() : undefined;
}

export const REDIS_SERVER = findRedisServer();
export const REDIS_MISSING = 'skipped: redis-server not found (looked at /usr/bin/redis-server and PATH; install the Debian package: apt-get install redis-server)';
if (!REDIS_SERVER && process.env.CI === 'true') throw new Error(`CI=true and ${REDIS_MISSING.replace('skipped: ', '')}`);
if (!REDIS_SERVER) console.warn(REDIS_MISSING);

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

function waitFor(child: ChildProcess, re: RegExp, what: string, ms = 30_000, stream: 'stdout' | 'stderr' | 'both' = 'both'): Promise<void> {
  return new Promise((res, rej) => {
    let buf = '';
    const timer = setTimeout(() => rej(new Error(`${what} did not start within ${ms} ms:\n${buf}`)), ms);
    const on = (d: Buffer) => {
      buf += d.toString();
      if (re.test(buf)) {
        clearTimeout(timer);
        res();
      }
    };
    if (stream !== 'stderr') child.stdout?.on('data', on);
    if (stream !== 'stdout') child.stderr?.on('data', on);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`${what} exited (${code}) before it was ready:\n${buf}`));
    });
  });
}

export interface RedisHandle {
  url: string;
  port: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export async function startRedis(extra: string[] = [], scheme = 'redis', auth = ''): Promise<RedisHandle> {
  const port = await freePort();
  const tls = extra.includes('--tls-cert-file');
  const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...(tls ? ['--port', '0', '--tls-port', String(port)] : ['--port', String(port)]), ...extra];
  const proc = track(spawn(REDIS_SERVER!, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  await waitFor(proc, /Ready to accept connections/, 'redis-server');
  return {
    url: `${scheme}://${auth}127.0.0.1:${port}`,
    port,
    proc,
    stop: () => stopProc(proc),
  };
}

export function stopProc(p: ChildProcess, sig: NodeJS.Signals = 'SIGTERM', ms = 10_000): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    const t = setTimeout(() => {
      p.kill('SIGKILL');
    }, ms);
    p.once('exit', () => {
      clearTimeout(t);
      res();
    });
    p.kill(sig);
  });
}

export interface WorkerHandle {
  proc: ChildProcess;
  /** host:pid, as results name it */
  id: string;
  log: () => string;
  stop(sig?: NodeJS.Signals): Promise<void>;
  exited: Promise<number | null>;
}

export async function startWorker(url: string, root: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<WorkerHandle> {
  const proc = track(spawn(process.execPath, [CLI, 'worker', '--redis', url, '--root', root, '--lock-ms', '4000', '--log-level', 'info', '--log-json', ...extra], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } }));
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => (buf += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (buf += d.toString()));
  const exited = new Promise<number | null>((res) => proc.once('exit', (c) => res(c)));
  await waitFor(proc, /svdflow worker .*stop with/, 'svdflow worker');
  const id = /svdflow worker (\S+):/.exec(buf)?.[1] ?? `?:${proc.pid}`;
  return { proc, id, log: () => buf, stop: (sig = 'SIGTERM') => stopProc(proc, sig, 15_000), exited };
}


export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI (from dist) with `cwd`, collecting its output. */
export function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => res({ code, stdout, stderr }));
  });
}

/** A shared root: the repo's pipelines and bundled data copied into `dir`. */
export function makeRoot(dir: string): string {
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, 'pipelines'), join(dir, 'pipelines'), { recursive: true });
  cpSync(join(ROOT, 'data'), join(dir, 'data'), { recursive: true });
  // video-background.yaml scores only when given ground truth; the queue tests compare scores too,
  // so their copy scores every clip (copies of the bundled one) against the bundled masks
  const vb = join(dir, 'pipelines', 'video-background.yaml');
  writeFileSync(vb, readFileSync(vb, 'utf8').replace(/\n {2}groundTruth: null[^\n]*/, '\n  groundTruth: ../data/video/synthetic'));
  return dir;
}

/** A TCP proxy to Redis that can be cut (every connection dropped, new ones refused) and restored. */
export class CuttableProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly target: number) {}

  async start(port = 0): Promise<number> {
    this.server = createServer((c) => {
      const up = createConnection(this.target, '127.0.0.1');
      this.sockets.add(c).add(up);
      const drop = () => { c.destroy(); up.destroy(); this.sockets.delete(c); this.sockets.delete(up); };
      c.on('error', drop).on('close', drop);
      up.on('error', drop).on('close', drop);
      c.pipe(up).pipe(c);
    });
    await new Promise<void>((res) => this.server!.listen(port, '127.0.0.1', () => res()));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  /** drops every connection and stops listening */
  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((res) => this.server!.close(() => res()));
  }

  async restore(): Promise<void> {
    await this.start(this.port);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((res) => (this.server?.listening ? this.server.close(() => res()) : res()));
  }
}
