import { describe, it, expect } from 'vitest';
import { foregroundSummary, headlineResults } from '../../src/core/headline.js';
import { Matrix } from '../../src/core/linalg/matrix.js';

describe('headlineResults', () => {
  const c = Math.cos(Math.PI / 6), s = Math.sin(Math.PI / 6);
  it('reads an alignment as a value (Matrix rotation) and as its JSON file (nested arrays) alike', () => {
    const json = { kind: 'Alignment', name: 'a-to-b', method: 'icp (point-to-point)', dim: 2, rotation: [[c, -s], [s, c]], translation: [1, -2], scale: 1, fitness: 0.75, inlierRmse: 0.0123, iterations: 7, converged: false, details: { confident: true, finalStage: 'icp level 2' } };
    const value = { ...json, rotation: Matrix.from2D([[c, -s], [s, c]]), translation: Float64Array.from([1, -2]) };
    const [g] = headlineResults([json]);
    expect(g!.title).toBe('alignment a-to-b');
    const get = (l: string) => g!.items.find((i) => i.label === l)?.value;
    expect(get('rotation')).toBe('30.000°');
    expect(get('translation')).toBe('(1, -2)');
    expect(get('fitness')).toBe('0.750');
    expect(get('inlier RMSE')).toBe('0.0123');
    expect(get('converged')).toBe('NO');
    expect(get('confident')).toBe('yes');
    expect(g!.items.find((i) => i.label === 'confident')!.note).toBe('final stage: icp level 2');
    expect(headlineResults([{ ...value, translation: [1, -2] }])).toEqual([g]);
  });
  it('compression, PCA and mask scores from Metrics values or flat JSON; unknown objects skipped, duplicates once', () => {
    const comp = { kind: 'Metrics', name: 't-compression', values: { name: 't', k: 35, relError: 0.0996, energy: 0.9, psnrDb: 23.71, ssim: 0.648, ratioFloat32: 2.97, bytesFloat32: 242064, originalRawBytes: 719600, truncationReason: '5% of 700' } };
    const pca = { kind: 'Metrics', name: 'stamps-pca', values: { images: 22, rank: 21, ratioPc1: 0.49996, cumulativePc2: 0.6926, componentsFor90: 8 } };
    const scores = { precision: 0.918, recall: 0.9993, fMeasure: 0.957, pwc: 0.2258, frames: 120, groundTruth: 'gt' };
    const g = headlineResults([comp, { hello: 1 }, pca, scores, scores]);
    expect(g.map((x) => x.title)).toEqual(['compression t', 'PCA stamps', 'video masks']);
    expect(g[0]!.items.map((i) => [i.label, i.value])).toEqual([['rank k', '35'], ['relative error', '9.96%'], ['energy kept', '90.00%'], ['PSNR', '23.71 dB'], ['SSIM', '0.6480'], ['compression (float32 factors)', '2.97x']]);
    expect(g[1]!.items.find((i) => i.label === 'variance of PC1')!.value).toBe('50.0%');
    expect(g[2]!.items[0]).toEqual({ label: 'F-measure', value: '0.9570', note: 'foreground masks against gt' });
  });
  it('write-objects\' foreground CSV sums up as a headline (a video run without ground truth still has one); other CSVs do not', () => {
    const csv = 'frame,foreground,objects\n0,0,0\n1,0.25,2\n2,0.5,3\n3,0.05,1\n';
    const v = foregroundSummary(csv, 'foreground.csv')!;
    expect(v).toEqual({ kind: 'ForegroundSummary', file: 'foreground.csv', frames: 4, meanForeground: 0.2, maxForeground: 0.5, maxFrame: 2, framesWithForeground: 3, meanObjects: 1.5 });
    expect(headlineResults([v])).toEqual([{ title: 'foreground foreground.csv', items: [
      { label: 'frames', value: '4' },
      { label: 'mean foreground', value: '20.00%', note: "fraction of each frame's pixels in the mask, averaged over the frames" },
      { label: 'largest foreground', value: '50.00%', note: 'frame 2' },
      { label: 'frames with foreground', value: '3 of 4' },
      { label: 'objects per frame', value: '1.5', note: 'connected mask components of at least minArea pixels, averaged' },
    ] }]);
    expect(foregroundSummary('k,sigma\n1,2\n', 'curves.csv')).toBeUndefined();
    expect(foregroundSummary('frame,foreground,objects\n', 'empty.csv')).toBeUndefined();
  });
  it('a 16-bit compression says 16-bit in its notes, and a small error keeps two significant digits (0.0012%, not 0.00%)', () => {
    const comp = { kind: 'Metrics', name: 'g-compression', values: { name: 'g', k: 9, bitDepth: 16, relError: 1.1844e-5, psnrDb: 113.7, ratioFloat32: 5.7, bytesFloat32: 15156, originalRawBytes: 86400 } };
    const [g] = headlineResults([comp]);
    const item = (l: string) => g!.items.find((i) => i.label === l)!;
    expect(item('relative error').value).toBe('0.0012%');
    expect(item('PSNR').note).toBe('16-bit, as encoded');
    expect(item('compression (float32 factors)').note).toBe('15,156 bytes against the raw 16-bit 86,400');
    const [e] = headlineResults([{ ...comp, values: { ...comp.values, bitDepth: 8, psnrDb: undefined, psnrFloatDb: 50 } }]);
    expect(e!.items.find((i) => i.label === 'PSNR (float)')!.note).toBe('from the singular values, before 8-bit rounding');
  });
});
