/**
 * Structured logs (pino), quiet by default: level 'warn' unless --log-level says
 * otherwise. Human-readable through pino-pretty on stderr, or raw JSON lines
 * with --log-json. Stages get a child logger bound to their step id.
 */
import { pino, type Logger, type Level } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogOptions {
  level?: LogLevel;
  json?: boolean;
  /** file descriptor or stream to write to (default stderr) */
  destination?: number | NodeJS.WritableStream;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? 'warn';
  const base = { level: level as Level | 'silent', base: { app: 'svdflow' } };
  if (opts.json) {
    const dest = typeof opts.destination === 'object' ? opts.destination : pino.destination({ fd: opts.destination ?? 2, sync: true });
    return pino(base, dest as never);
  }
  const stream = pretty({
    destination: typeof opts.destination === 'object' ? (opts.destination as never) : (opts.destination ?? 2),
    sync: true,
    colorize: process.stderr.isTTY ?? false,
    ignore: 'pid,hostname,app',
    // one line per message: a warning's details (step, values) after it, not a dozen lines of an object
    singleLine: true,
    translateTime: 'HH:MM:ss.l',
  });
  return pino(base, stream);
}

/** A logger that prints nothing (programmatic use without a runner). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
