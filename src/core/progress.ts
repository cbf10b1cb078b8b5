/**
 * Progress for long stages. On a TTY (stderr), one line per active bar, redrawn
 * at most 10 times a second: label, count, percent and ETA when the total is
 * known, and the rate. Elsewhere nothing is drawn; progress goes to the debug log.
 */
import type { Logger } from 'pino';

export interface ProgressHandle {
  tick(n?: number): void;
  setTotal(total: number): void;
  /** sets the count (and the total) outright, e.g. from a pool task's onProgress; never lowers the count */
  set(count: number, total?: number): void;
  done(): void;
}

export interface ProgressOptions {
  total?: number;
  unit?: string;
  /** show the bar, percent and ETA only (no count or rate): for work counted in estimated units (flops) */
  percent?: boolean;
}

interface Bar {
  label: string;
  unit: string;
  total?: number;
  count: number;
  start: number;
  finished: boolean;
  percent: boolean;
}

/**
 * A segment worker of --workers (segmented-run.ts) reports its 'frames' bars (decode's) to the parent
 * over the IPC channel the parent opened, as { svdflowFrames: { count, total } }: the parent's bar shows
 * the frames done across all segments, with an ETA. At most 5 messages a second, and one when done.
 */
export const FRAMES_IPC_ENV = 'SVDFLOW_PROGRESS_IPC';
export interface FramesMessage {
  svdflowFrames: { count: number; total?: number };
}
// the channel must not keep a finished worker alive (the CLI ends by letting the event loop drain)
if (process.env[FRAMES_IPC_ENV] === '1') process.channel?.unref();

function framesReporter(): ((count: number, total: number | undefined, last: boolean) => void) | undefined {
  if (process.env[FRAMES_IPC_ENV] !== '1' || typeof process.send !== 'function') return undefined;
  let lastSent = 0;
  return (count, total, last) => {
    const now = performance.now();
    if (!last && now - lastSent < 200) return;
    lastSent = now;
    try {
      if (process.connected) process.send!({ svdflowFrames: { count, total } } satisfies FramesMessage);
    } catch {
      /* the parent is gone: nothing to report to */
    }
  };
}

export class ProgressRenderer {
  private readonly bars = new Set<Bar>();
  private timer?: NodeJS.Timeout;
  private drawnLines = 0;
  private lastDraw = 0;
  constructor(
    private readonly enabled: boolean,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly log?: Logger,
  ) {}

  create(label: string, opts: ProgressOptions = {}): ProgressHandle {
    const bar: Bar = { label, unit: opts.unit ?? 'items', total: opts.total, count: 0, start: performance.now(), finished: false, percent: opts.percent === true };
    this.bars.add(bar);
    this.schedule();
    let lastLog = 0;
    const report = bar.unit === 'frames' ? framesReporter() : undefined;
    const changed = () => {
      const now = performance.now();
      report?.(bar.count, bar.total, false);
      if (this.log && now - lastLog > 2000) {
        lastLog = now;
        this.log.debug({ stage: label, count: bar.count, total: bar.total, unit: bar.unit }, 'progress');
      }
      // work that keeps this thread busy (a synchronous loop) gives the timer no turn: draw from here
      if (this.enabled && now - this.lastDraw >= 100) this.draw();
    };
    return {
      tick: (n = 1) => {
        bar.count += n;
        changed();
      },
      setTotal: (t: number) => {
        bar.total = t;
      },
      set: (count: number, total?: number) => {
        if (total !== undefined) bar.total = total;
        bar.count = Math.max(bar.count, count);
        changed();
      },
      done: () => {
        if (bar.finished) return;
        bar.finished = true;
        report?.(bar.count, bar.total, true);
        this.draw();
        this.bars.delete(bar);
        if (!this.bars.size) this.stop();
      },
    };
  }

  private schedule(): void {
    if (!this.enabled || this.timer) return;
    this.timer = setInterval(() => this.draw(), 100);
    this.timer.unref();
  }

  private line(b: Bar): string {
    const secs = (performance.now() - b.start) / 1000;
    const rate = secs > 0 ? b.count / secs : 0;
    let s = `${b.label.padEnd(16)} ${b.count}${b.total ? `/${b.total}` : ''} ${b.unit}`;
    if (b.total && b.percent) {
      const f = Math.min(1, b.count / b.total);
      const filled = Math.round(f * 20);
      s = `${b.label.padEnd(16)} [${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${(f * 100).toFixed(0).padStart(3)}%`;
      if (f > 0 && f < 1) s += ` ETA ${formatSeconds((secs * (1 - f)) / f)}`;
      return b.finished ? s + ' done' : s;
    }
    if (b.percent) return `${b.label.padEnd(16)} ${secs.toFixed(0)}s${b.finished ? ' done' : ''}`;
    if (b.total) {
      const f = Math.min(1, b.count / b.total);
      const width = 20;
      const filled = Math.round(f * width);
      s = `${b.label.padEnd(16)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(f * 100).toFixed(0).padStart(3)}% ${b.count}/${b.total} ${b.unit}`;
      if (rate > 0 && f < 1) s += ` ETA ${formatSeconds((b.total - b.count) / rate)}`;
    }
    s += ` ${rate.toFixed(rate < 10 ? 1 : 0)} ${b.unit}/s`;
    return b.finished ? s + ' done' : s;
  }

  draw(): void {
    if (!this.enabled) return;
    this.lastDraw = performance.now();
    let out = this.drawnLines ? `\x1b[${this.drawnLines}F` : '';
    const lines = [...this.bars].map((b) => this.line(b));
    for (const l of lines) out += `\x1b[2K${l}\n`;
    this.drawnLines = lines.length;
    this.stream.write(out);
  }

  /** Clears the bars area so that later output starts on a fresh line. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.drawnLines = 0;
  }
}

/**
 * Several parts of one job reporting (done, total) each (the planes of an image, factorised at
 * once) shown on one bar as their mean fraction, in thousandths. `parts(i)` is part i's listener.
 */
export function partsProgress(bar: ProgressHandle, parts: number): (i: number) => (done: number, total: number) => void {
  const frac = new Float64Array(parts);
  return (i) => (done, total) => {
    frac[i] = total > 0 ? Math.min(1, done / total) : 0;
    bar.set((1000 * frac.reduce((a, b) => a + b, 0)) / parts, 1000);
  };
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
