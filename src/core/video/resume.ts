/**
 * The resume rules of streaming video steps, as pure functions of what is on disk
 * (io/checkpoints.ts reads it).
 *
 * Every step that consumes frames records `next`, the first frame it still needs,
 * once everything before it is safely written. The model keeps states tagged with
 * the frame they stop before. On --resume the model restarts from its newest state
 * before the smallest `next` of the steps reading it (their "limit"), so every
 * consumer gets every frame it still needs, and at least one batch; consumers drop
 * frames they already have.
 */

/** A saved model state: the frame index it stops before, and where it is. */
export interface StateRef {
  next: number;
  file: string;
}

/**
 * The state to resume from: the newest (states are newest first) strictly before `limit`, so
 * that every consumer gets at least one batch again, even one that had written everything
 * before the interruption (it restores its totals, its last frame, its open files from it).
 */
export function resumeState<T extends { next: number }>(states: readonly T[], limit: number | undefined): T | undefined {
  return states.find((s) => s.next < (limit ?? Infinity));
}

/**
 * States to delete after a save (states newest first): every state a resume could
 * need stays, i.e. the newest one before the slowest consumer's progress and
 * all newer ones (the model may run several batches ahead of the writers). With no
 * consumer progress yet, the newest 4 stay.
 */
export function statesToPrune<T extends { next: number }>(states: readonly T[], limit: number | undefined): T[] {
  const keep = limit === undefined ? 4 : Math.max(1, states.findIndex((s) => s.next < limit) + 1 || states.length);
  return states.slice(keep);
}

/** A batch of frames [start, end) is followed by a checkpoint when it crosses a multiple of `every` (0 = never). */
export function checkpointDue(start: number, end: number, every: number): boolean {
  return every > 0 && Math.floor(end / every) > Math.floor(start / every);
}

/** The first frame not covered by contiguous pieces [start, end) sorted by start, or -Infinity when there are none. */
export function contiguousEnd(pieces: ReadonlyArray<{ start: number; end: number }>): number {
  if (!pieces.length) return -Infinity;
  let next = pieces[0]!.end;
  for (const s of pieces.slice(1)) if (s.start === next) next = s.end;
  return next;
}
