/**
 * The segment plan of a long video: which frames each worker owns and which
 * earlier frames it fits its model on first (warm-up). Plain, JSON-serialisable
 * data, independent of how segments are executed (worker processes here, queue
 * jobs in a distributed runner): `planSegments` makes one, `checkPlan` validates
 * one read back from JSON.
 *
 * Frame numbers are the input's (Frame.index: 0-based for videos, file numbers
 * for image sequences). Segment k owns [start, end) and decodes from
 * warmupStart = start − warmup (not before the first frame); the frames before
 * `start` only fit the model, and nothing is emitted for them. Boundaries and
 * warm-up starts lie on multiples of `align` frames from `first` (the batch size),
 * so a segment groups the same frames into batches as a one-pass run.
 */

export interface PlannedSegment {
  index: number;
  /** first frame it owns (inclusive) */
  start: number;
  /** one past its last frame; null for the last segment: until the input ends */
  end: number | null;
  /** first frame it decodes (<= start); [warmupStart, start) fits the model only */
  warmupStart: number;
}

export interface SegmentPlan {
  version: 1;
  /** Frame.index of the input's first frame */
  first: number;
  /** frames the input was expected to hold when planned (the last segment reads to the end anyway) */
  frames: number;
  /** warm-up frames before each segment but the first */
  warmup: number;
  /** boundaries lie on multiples of this many frames from `first` */
  align: number;
  segments: PlannedSegment[];
}

export interface PlanOptions {
  first: number;
  /** expected frame count (> 0) */
  frames: number;
  /** number of segments wanted (>= 1); fewer come out when the input is short */
  parts: number;
  /** warm-up frames (rounded up to a multiple of align) */
  warmup: number;
  /** batch size or other grouping the boundaries must respect (>= 1) */
  align?: number;
}

const ceilTo = (v: number, a: number) => Math.ceil(v / a) * a;

/** Splits [first, first + frames) into at most `parts` aligned segments of near-equal length. */
export function planSegments(o: PlanOptions): SegmentPlan {
  const align = Math.max(1, Math.floor(o.align ?? 1));
  if (!Number.isInteger(o.frames) || o.frames < 1) throw new RangeError(`a segment plan needs a known frame count >= 1, got ${o.frames}`);
  if (!Number.isInteger(o.parts) || o.parts < 1) throw new RangeError(`parts must be an integer >= 1, got ${o.parts}`);
  const warmup = ceilTo(Math.max(0, o.warmup), align);
  const blocks = Math.ceil(o.frames / align);
  const parts = Math.min(o.parts, blocks);
  const segments: PlannedSegment[] = [];
  for (let k = 0; k < parts; k++) {
    const start = o.first + Math.floor((k * blocks) / parts) * align;
    const end = k === parts - 1 ? null : o.first + Math.floor(((k + 1) * blocks) / parts) * align;
    segments.push({ index: k, start, end, warmupStart: Math.max(o.first, start - warmup) });
  }
  return { version: 1, first: o.first, frames: o.frames, warmup, align, segments };
}

/** The segment owning frame `n` (undefined before the first frame). */
export function segmentOf(plan: SegmentPlan, n: number): PlannedSegment | undefined {
  return plan.segments.find((s) => n >= s.start && (s.end === null || n < s.end));
}

/** Checks a plan read back from JSON (another process, a queue): contiguous, aligned, warm-up inside the input. */
export function checkPlan(plan: unknown): SegmentPlan {
  const p = plan as SegmentPlan;
  const bad = (why: string): never => {
    throw new RangeError(`invalid segment plan: ${why}`);
  };
  if (!p || p.version !== 1 || !Array.isArray(p.segments) || !p.segments.length) bad('expected { version: 1, segments: [...] } with at least one segment');
  for (const k of ['first', 'frames', 'warmup', 'align'] as const) if (!Number.isInteger(p[k])) bad(`${k} must be an integer`);
  let next = p.first;
  p.segments.forEach((s, k) => {
    const last = k === p.segments.length - 1;
    if (s.index !== k) bad(`segment ${k} has index ${s.index}`);
    if (s.start !== next) bad(`segment ${k} starts at ${s.start}, expected ${next}`);
    if (last ? s.end !== null : !(Number.isInteger(s.end) && s.end! > s.start)) bad(`segment ${k} end ${s.end} (the last ends with null, the others after their start)`);
    if (!Number.isInteger(s.warmupStart) || s.warmupStart > s.start || s.warmupStart < p.first) bad(`segment ${k} warmupStart ${s.warmupStart} outside [${p.first}, ${s.start}]`);
    if ((s.start - p.first) % p.align !== 0 || (s.warmupStart - p.first) % p.align !== 0) bad(`segment ${k} is not aligned to ${p.align} frames`);
    next = s.end ?? next;
  });
  return p;
}
