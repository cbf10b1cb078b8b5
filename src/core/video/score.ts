/**
 * Scoring foreground masks by CDnet's rules: ground truth 255 is foreground,
 * 0 and 50 (shadow) are background, 85 (outside the ROI) and 170 (unknown
 * motion) are not scored; only pixels inside ROI.bmp (non-zero) and frames inside
 * temporalROI.txt count.
 */
export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export function emptyConfusion(): Confusion {
  return { tp: 0, fp: 0, tn: 0, fn: 0 };
}

/** Adds one frame: `mask` non-zero = predicted foreground; `gt` CDnet values; `roi` non-zero = scored. */
export function accumulate(c: Confusion, mask: Uint8Array, gt: Uint8Array, roi?: Uint8Array): Confusion {
  let tp = 0, fp = 0, tn = 0, fn = 0;
  for (let i = 0; i < gt.length; i++) {
    if (roi && roi[i] === 0) continue;
    const g = gt[i]!;
    const fg = g === 255;
    if (!fg && g !== 0 && g !== 50) continue;
    if (mask[i] !== 0) {
      if (fg) tp++;
      else fp++;
    } else if (fg) fn++;
    else tn++;
  }
  c.tp += tp;
  c.fp += fp;
  c.tn += tn;
  c.fn += fn;
  return c;
}

export interface MaskScores {
  precision: number;
  recall: number;
  fMeasure: number;
  /** percentage of wrong classifications */
  pwc: number;
  specificity: number;
}

/** CDnet's measures (defined as 0 when their denominator is 0). */
export function scores(c: Confusion): MaskScores {
  const div = (a: number, b: number) => (b > 0 ? a / b : 0);
  const precision = div(c.tp, c.tp + c.fp);
  const recall = div(c.tp, c.tp + c.fn);
  return {
    precision,
    recall,
    fMeasure: div(2 * precision * recall, precision + recall),
    pwc: div(100 * (c.fn + c.fp), c.tp + c.fp + c.fn + c.tn),
    specificity: div(c.tn, c.tn + c.fp),
  };
}

/** The score table printed at the end of a run. */
export function scoreTable(name: string, c: Confusion, frames: number): string {
  const s = scores(c);
  const row = (k: string, v: string) => `  ${k.padEnd(12)} ${v}`;
  return [`mask scores for ${name} (${frames} frames, CDnet rules)`, row('precision', s.precision.toFixed(4)), row('recall', s.recall.toFixed(4)), row('F-measure', s.fMeasure.toFixed(4)), row('PWC (%)', s.pwc.toFixed(4)), row('TP FP', `${c.tp} ${c.fp}`), row('FN TN', `${c.fn} ${c.tn}`)].join('\n');
}
