/**
 * Progress for long stages. On a TTY (stderr), one line per active bar, redrawn
 * at most 10 times a second: label, count, percent and ETA when the total is
 * known, and the rate. Elsewhere nothing is drawn; progress goes to the debug log.
 */
import type { Logger } from 'pino';

export interface ProgressHandle {
  tick(n?: number): void;
  setTotal(total: number): void;
  done(): void;
}

interface Bar {
  label: string;
  unit: string;
  total?: number;
  count: number;
  start: number;
  finished: boolean;
}

export class ProgressRenderer {
  private readonly bars = new Set<Bar>();
  private timer?: NodeJS.Timeout;
  private drawnLines = 0;
  constructor(
    private readonly enabled: boolean,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly log?: Logger,
  ) {}

  create(label: string, opts: { total?: number; unit?: string } = {}): ProgressHandle {
    const bar: Bar = { label, unit: opts.unit ?? 'items', total: opts.total, count: 0, start: performance.now(), finished: false };
    this.bars.add(bar);
    this.schedule();
    let lastLog = 0;
    return {
      tick: (n = 1) => {
        bar.count += n;
        const now = performance.now();
        if (this.log && now - lastLog > 2000) {
          lastLog = now;
          this.log.debug({ stage: label, count: bar.count, total: bar.total, unit: bar.unit }, 'progress');
        }
      },
      setTotal: (t: number) => {
        bar.total = t;
      },
      done: () => {
        if (bar.finished) return;
        bar.finished = true;
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

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
