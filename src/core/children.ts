/**
 * Child processes started by stages (ffmpeg). Every child is registered, so
 * that cancellation or a failure anywhere in the graph ends it: SIGTERM, then
 * SIGKILL if it has not exited after a grace period.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export class ChildRegistry {
  private readonly children = new Set<ChildProcess>();
  private closed = false;
  private readonly pending = new Set<Promise<unknown>>();

  /**
   * Starts a child. After `close()` (the run has failed or been cancelled) this
   * throws instead: asynchronous work that outlives its subscription must not
   * start processes that nobody will stop.
   */
  spawn(command: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    if (this.closed) throw new Error(`not starting ${command}: the run is over`);
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    child.once('error', () => this.children.delete(child));
    return child;
  }

  get size(): number {
    return this.children.size;
  }

  pids(): number[] {
    return [...this.children].map((c) => c.pid).filter((p): p is number => typeof p === 'number');
  }

  /** Ends one child: SIGTERM, then SIGKILL after `graceMs`. Resolves when it has exited. */
  static kill(child: ChildProcess, graceMs = 2000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      t.unref();
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.stdin?.destroy();
      child.kill('SIGTERM');
    });
  }

  async killAll(graceMs = 2000): Promise<void> {
    await Promise.all([...this.children].map((c) => ChildRegistry.kill(c, graceMs)));
  }

  /**
   * Clean-up that a synchronous teardown starts but cannot await (a killed encoder's partial
   * file to delete): close() waits for it, so the run's own clean-up sees its result.
   */
  track(work: Promise<unknown>): void {
    const p: Promise<unknown> = work.catch(() => undefined).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Kills every child, waits for tracked clean-up, and refuses new children. */
  async close(graceMs = 2000): Promise<void> {
    this.closed = true;
    await this.killAll(graceMs);
    await Promise.all([...this.pending]);
  }

  /** Last resort on process exit: SIGKILL without waiting. */
  killAllSync(): void {
    for (const c of this.children) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}
