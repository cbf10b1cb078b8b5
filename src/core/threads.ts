/**
 * The thread budget: how many cores one svdflow process may keep busy. One number drives every
 * thread count svdflow chooses, so that N processes on one machine (queue workers, the segment
 * processes of `--workers N`) can share its cores instead of each sizing itself to all of them:
 *
 * | what                                   | threads                         |
 * |----------------------------------------|---------------------------------|
 * | compute pool (src/core/pool)           | budget (0: every task inline)   |
 * | linalg / points team of a pool worker  | budget − 1 helpers              |
 * | video model thread                     | on when budget >= 1             |
 * | ffmpeg decoder (-threads)              | budget (at least 1)             |
 *
 * (ffmpeg encoders always run with -threads 1.) Default: the cores this process may run on
 * (os.availableParallelism(), which follows `taskset` and cgroup CPU sets); SVDFLOW_THREADS
 * overrides it; `svdflow run|worker --threads N` sets it for the process and its children. The
 * value lives in SVDFLOW_THREADS so that worker threads (which copy the environment when they
 * start) and child processes see the same budget.
 */
import { availableParallelism } from 'node:os';

const ENV = 'SVDFLOW_THREADS';

/** The budget of this process: SVDFLOW_THREADS if set (an integer >= 0), else the cores it may run on. */
export function threadBudget(): number {
  const env = process.env[ENV];
  const n = env !== undefined && env !== '' ? Number(env) : NaN;
  return Number.isInteger(n) && n >= 0 ? n : availableParallelism();
}

/** Sets the budget for this process and the processes and threads it starts from now on. */
export function setThreadBudget(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`a thread budget is an integer >= 0, got ${n}`);
  process.env[ENV] = String(n);
}

/** The budget of each of `parts` processes sharing `budget` (at least 1 each, unless the budget is 0: no threads anywhere). */
export function shareBudget(budget: number, parts: number): number {
  return budget === 0 ? 0 : Math.max(1, Math.floor(budget / Math.max(1, parts)));
}

/** The environment that gives a child process the budget `n`. */
export function budgetEnv(n: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, [ENV]: String(n) };
}

/** What a budget gives each mechanism (see the table above). */
export interface ThreadCounts {
  budget: number;
  /** compute pool worker threads (0: tasks run inline) */
  pool: number;
  /** helper threads of each pool worker's linalg and points teams (SVDFLOW_TEAM overrides) */
  team: number;
  /** the streaming video model runs on its own thread */
  modelThread: boolean;
  /** ffmpeg decoder threads (-threads) */
  decoder: number;
}

export function threadCounts(budget = threadBudget()): ThreadCounts {
  const teamEnv = Number(process.env.SVDFLOW_TEAM ?? NaN);
  return {
    budget,
    pool: budget,
    team: Number.isInteger(teamEnv) && teamEnv >= 0 ? teamEnv : Math.max(0, budget - 1),
    modelThread: budget >= 1,
    decoder: Math.max(1, budget),
  };
}
