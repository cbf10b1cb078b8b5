/**
 * Headline results of a run: the few numbers a reader looks for first, per job
 * (compression: k, error, PSNR, ratio; PCA: variance of the first components;
 * alignment: rotation, fitness, inlier RMSE, iterations, converged; video masks:
 * F-measure, precision, recall). One definition for the CLI summary and report.html.
 *
 * Takes results as values (Metrics or Alignment port values, as a run returns them)
 * or as their JSON files read back (alignment.json, *-report.json, scores.json,
 * pca-report.json), so a finished output folder gives the same headlines.
 */

export interface Headline {
  label: string;
  value: string;
  /** what the number means or how it was measured */
  note?: string;
}

export interface HeadlineGroup {
  /** what the numbers are about, e.g. 'alignment moved-curve-to-curve-30' */
  title: string;
  items: Headline[];
  /** what the result's producer warned about (e.g. low fitness, a failed global step): report.html shows them */
  warnings?: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const pct = (v: number, d = 2) => `${(100 * v).toFixed(d)}%`;
const sig = (v: number, d = 4) => (Math.abs(v) !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6) ? v.toExponential(d - 1) : String(Number(v.toPrecision(d))));

/** Entry (i, j) of a matrix held as a Matrix-like object ({ rows, cols, data }) or as nested arrays. */
function entry(m: unknown, i: number, j: number): number | undefined {
  if (Array.isArray(m)) return num((m[i] as unknown[] | undefined)?.[j]);
  if (isObj(m) && typeof m.cols === 'number' && m.data && typeof (m.data as ArrayLike<number>).length === 'number') return num((m.data as ArrayLike<number>)[i * (m.cols as number) + j]);
  return undefined;
}

/**
 * The unit axis of a 3-D rotation (right-handed with its angle in [0°, 180°]), or undefined for
 * no rotation. Near 180° the skew part vanishes: the axis is then the largest column of R + I.
 */
function rotationAxis(m: unknown, r00: number, r11: number, r22: number): number[] | undefined {
  const e = (i: number, j: number) => entry(m, i, j) ?? 0;
  let v = [e(2, 1) - e(1, 2), e(0, 2) - e(2, 0), e(1, 0) - e(0, 1)];
  const cos = (r00 + r11 + r22 - 1) / 2;
  if (cos < -0.9) {
    const cols = [0, 1, 2].map((j) => [0, 1, 2].map((i) => e(i, j) + (i === j ? 1 : 0)));
    const best = cols.reduce((a, b) => (Math.hypot(...b) > Math.hypot(...a) ? b : a));
    // sign: agree with the (small) skew part when it has one
    const dot = best[0]! * v[0]! + best[1]! * v[1]! + best[2]! * v[2]!;
    v = dot < 0 ? best.map((x) => -x) : best;
  }
  const n = Math.hypot(...v);
  if (!(n > 1e-12)) return undefined;
  return v.map((x) => (Math.abs(x / n) < 5e-4 ? 0 : x / n));
}

function alignment(a: Obj): HeadlineGroup {
  const items: Headline[] = [{ label: 'method', value: String(a.method) }];
  // a source edited before the alignment (register-bunny turns it by 180°): the result is from that pose
  const src = isObj(a.source) ? a.source : a;
  const edits = Array.isArray(src.edits) ? src.edits : Array.isArray(src.sourceEdits) ? src.sourceEdits : undefined;
  const origin = typeof src.origin === 'string' ? src.origin : typeof src.sourceOrigin === 'string' ? src.sourceOrigin : undefined;
  if (edits?.length) items.push({ label: 'source', value: `${origin ?? 'the input'}, then ${edits.join('; then ')}`, note: 'the transform below maps this edited source onto the target' });
  const dim = num(a.dim);
  const r00 = entry(a.rotation, 0, 0), r10 = entry(a.rotation, 1, 0);
  if (dim === 2 && r00 !== undefined && r10 !== undefined) items.push({ label: 'rotation', value: `${((Math.atan2(r10, r00) * 180) / Math.PI).toFixed(3)}°`, note: 'counter-clockwise, source onto target' });
  const r11 = entry(a.rotation, 1, 1), r22 = entry(a.rotation, 2, 2);
  if (dim === 3 && r00 !== undefined && r11 !== undefined && r22 !== undefined) {
    const c = Math.min(1, Math.max(-1, (r00 + r11 + r22 - 1) / 2));
    const axis = rotationAxis(a.rotation, r00, r11, r22);
    items.push({ label: 'rotation', value: `${((Math.acos(c) * 180) / Math.PI).toFixed(3)}°${axis ? ` about (${axis.map((v) => v.toFixed(3)).join(', ')})` : ''}`, note: 'angle of the rotation about its axis (a unit vector), source onto target' });
  }
  const t = Array.isArray(a.translation) ? (a.translation as number[]) : isObj(a.translation) ? Array.from(Object.values(a.translation) as number[]) : undefined;
  if (t) items.push({ label: 'translation', value: `(${t.map((v) => sig(v)).join(', ')})` });
  if (num(a.scale) !== undefined && a.scale !== 1) items.push({ label: 'scale', value: sig(a.scale as number) });
  if (num(a.fitness) !== undefined) items.push({ label: 'fitness', value: (a.fitness as number).toFixed(3), note: 'fraction of source points matched (higher is better)' });
  // no inliers: an RMSE over no pairs is 0 by definition, which would read as a perfect fit
  if (a.fitness === 0) items.push({ label: 'inlier RMSE', value: 'none (no inliers)', note: 'no source point lies within the correspondence distance of a target point: nothing matched' });
  else if (num(a.inlierRmse) !== undefined) items.push({ label: 'inlier RMSE', value: sig(a.inlierRmse as number, 3), note: 'coordinate units (lower is better)' });
  if (num(a.iterations) !== undefined) items.push({ label: 'iterations', value: String(a.iterations) });
  if (typeof a.converged === 'boolean') items.push({ label: 'converged', value: a.converged ? 'yes' : 'NO' });
  const det = isObj(a.details) ? a.details : a;
  if (typeof det.confident === 'boolean') items.push({ label: 'confident', value: det.confident ? 'yes' : 'NO', note: typeof det.finalStage === 'string' ? `final stage: ${det.finalStage}` : undefined });
  const warnings = Array.isArray(a.warnings) ? a.warnings.filter((w): w is string => typeof w === 'string') : [];
  return { title: `alignment ${String(a.name ?? '')}`.trim(), items, ...(warnings.length ? { warnings } : {}) };
}

function compression(v: Obj, name: string): HeadlineGroup {
  const items: Headline[] = [];
  items.push({ label: 'rank k', value: String(v.k), note: typeof v.truncationReason === 'string' ? v.truncationReason : undefined });
  // a small error keeps two significant digits (a 16-bit image's 0.0012% is not 0.00%)
  const rel = v.relError as number;
  if (num(v.relError) !== undefined) items.push({ label: 'relative error', value: rel > 0 && rel < 1e-4 ? `${(100 * rel).toPrecision(2)}%` : pct(rel), note: '‖A − A_k‖_F / ‖A‖_F, mean included' });
  if (num(v.energy) !== undefined) items.push({ label: 'energy kept', value: pct(v.energy as number) });
  const bits = v.bitDepth === 16 ? 16 : 8;
  if (num(v.psnrDb) !== undefined) items.push({ label: 'PSNR', value: `${(v.psnrDb as number).toFixed(2)} dB`, note: `${bits}-bit, as encoded` });
  else if (num(v.psnrFloatDb) !== undefined) items.push({ label: 'PSNR (float)', value: `${(v.psnrFloatDb as number).toFixed(2)} dB`, note: `from the singular values, before ${bits}-bit rounding` });
  if (num(v.ssim) !== undefined) items.push({ label: 'SSIM', value: (v.ssim as number).toFixed(4) });
  if (num(v.ratioFloat32) !== undefined) items.push({ label: 'compression (float32 factors)', value: `${(v.ratioFloat32 as number).toFixed(2)}x`, note: `${num(v.bytesFloat32)?.toLocaleString('en')} bytes against the raw ${bits}-bit ${num(v.originalRawBytes)?.toLocaleString('en')}` });
  return { title: `compression ${name}`.trim(), items };
}

function pca(v: Obj, name: string): HeadlineGroup {
  const items: Headline[] = [{ label: 'images', value: String(v.images) }, { label: 'components', value: String(v.rank) }];
  if (num(v.ratioPc1) !== undefined) items.push({ label: 'variance of PC1', value: pct(v.ratioPc1 as number, 1) });
  if (num(v.cumulativePc2) !== undefined) items.push({ label: 'variance of PC1-2', value: pct(v.cumulativePc2 as number, 1) });
  for (const t of [90, 95, 99]) if (num(v[`componentsFor${t}`]) !== undefined) items.push({ label: `components for ${t}%`, value: String(v[`componentsFor${t}`]) });
  return { title: `PCA ${name}`.trim(), items };
}

function masks(v: Obj, name: string): HeadlineGroup {
  const items: Headline[] = [];
  if (num(v.fMeasure) !== undefined) items.push({ label: 'F-measure', value: (v.fMeasure as number).toFixed(4), note: `foreground masks against ${typeof v.groundTruth === 'string' ? v.groundTruth : 'the ground truth'}` });
  if (num(v.precision) !== undefined) items.push({ label: 'precision', value: (v.precision as number).toFixed(4) });
  if (num(v.recall) !== undefined) items.push({ label: 'recall', value: (v.recall as number).toFixed(4) });
  if (num(v.pwc) !== undefined) items.push({ label: 'PWC', value: `${(v.pwc as number).toFixed(3)}%`, note: 'percentage of wrong classifications' });
  if (num(v.frames) !== undefined) items.push({ label: 'frames scored', value: String(v.frames) });
  return { title: `video masks ${name}`.trim(), items };
}

/**
 * The per-frame foreground CSV of write-objects (frame,foreground,objects) summed up for the report's
 * headline: a video run without ground truth has no scores, but its masks' foreground fraction says
 * what the run found. Undefined for any other CSV.
 */
export function foregroundSummary(csv: string, file: string): Obj | undefined {
  const lines = csv.split('\n');
  if (lines[0]?.trim() !== 'frame,foreground,objects') return undefined;
  let frames = 0, sum = 0, objects = 0, withFg = 0, max = -1, maxFrame = -1;
  for (let i = 1; i < lines.length; i++) {
    const [f, fg, ob] = lines[i]!.split(',').map(Number);
    if (!Number.isFinite(f) || !Number.isFinite(fg) || lines[i]!.trim() === '') continue;
    frames++;
    sum += fg!;
    objects += Number.isFinite(ob) ? ob! : 0;
    if (fg! > 0) withFg++;
    if (fg! > max) (max = fg!), (maxFrame = f!);
  }
  if (!frames) return undefined;
  return { kind: 'ForegroundSummary', file, frames, meanForeground: sum / frames, maxForeground: max, maxFrame, framesWithForeground: withFg, meanObjects: objects / frames };
}

function foreground(v: Obj): HeadlineGroup {
  const frames = v.frames as number;
  return {
    title: `foreground ${String(v.file ?? '')}`.trim(),
    items: [
      { label: 'frames', value: String(frames) },
      { label: 'mean foreground', value: pct(v.meanForeground as number), note: 'fraction of each frame\'s pixels in the mask, averaged over the frames' },
      { label: 'largest foreground', value: pct(v.maxForeground as number), note: `frame ${String(v.maxFrame)}` },
      { label: 'frames with foreground', value: `${String(v.framesWithForeground)} of ${frames}` },
      { label: 'objects per frame', value: (v.meanObjects as number).toFixed(1), note: 'connected mask components of at least minArea pixels, averaged' },
    ],
  };
}

/** Headline groups for every recognised result among `values`, in order; others are skipped. */
export function headlineResults(values: readonly unknown[]): HeadlineGroup[] {
  const out: HeadlineGroup[] = [];
  const seen = new Set<string>();
  for (const x of values) {
    if (!isObj(x)) continue;
    let g: HeadlineGroup | undefined;
    if (x.kind === 'Alignment') g = alignment(x);
    else if (x.kind === 'ForegroundSummary') g = foreground(x);
    else {
      const v = isObj(x.values) ? x.values : x;
      const name = typeof x.name === 'string' ? x.name : typeof v.name === 'string' ? v.name : '';
      if (num(v.relError) !== undefined && v.k !== undefined) g = compression(v, typeof v.name === 'string' ? v.name : name);
      else if (num(v.ratioPc1) !== undefined) g = pca(v, name.replace(/-pca$/, ''));
      else if (num(v.fMeasure) !== undefined) g = masks(v, name === 'mask-scores' ? '' : name);
    }
    if (!g || !g.items.length) continue;
    const key = JSON.stringify(g);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(g);
  }
  return out;
}
