import { describe, it, expect } from 'vitest';
import { lastValueFrom, of, toArray } from 'rxjs';
import { readFileSync } from 'node:fs';
import { plotAlignment } from '../../src/stages/plot-alignment.js';
import { align } from '../../src/stages/align.js';
import { generatePoints } from '../../src/stages/generate-points.js';
import { transform } from '../../src/stages/transform.js';
import { tempDir } from '../helpers.js';
import { axisTitled, legendLabels, markItems, pathYs, svgSize } from '../core/plot/svg-parse.js';
import { guardedDomain } from '../../src/core/plot/vl.js';

describe('plot-alignment', () => {
  it('writes the points plot, the error plot and an SMIL animation with one frame per iteration', async () => {
    const t = tempDir();
    try {
      const target = await lastValueFrom(generatePoints({ shape: 'curve', n: 30, from: 0, to: 29 }));
      const source = await lastValueFrom(of(target).pipe(transform({ ops: [{ op: 'rotate', degrees: 20 }, { op: 'translate', by: [1, 2] }] })));
      const a = await lastValueFrom(of(source).pipe(align({ method: 'icp' }, { sides: { target } })));
      const files = await lastValueFrom(of(a).pipe(plotAlignment({ prefix: 'demo' }, { ctx: { outDir: t.dir } }), toArray()));
      expect(files.map((f) => f.path.split('/').pop())).toEqual(['demo-points.svg', 'demo-error.svg', 'demo-correspondences.svg', 'demo-anim.svg']);
      const pts = readFileSync(files[0]!.path, 'utf8');
      expect(legendLabels(pts)).toContain('aligned source');
      expect(markItems(pts, 'symbol').length).toBe(90);
      const err = readFileSync(files[1]!.path, 'utf8');
      axisTitled(err, /inlier RMSE/);
      // fitness has its own panel with headroom above 1, so a fitness of 1 is not drawn on the frame
      const fit = axisTitled(err, /fitness \(fraction matched\)/);
      expect(fit.labels).toEqual(['0.00', '0.25', '0.50', '0.75', '1.00']);
      const fitLine = pathYs(/d="([^"]+)"/.exec(markItems(err, 'line')[1]!)![1]!);
      expect(Math.min(...fitLine)).toBeGreaterThan(2);
      // no subtitle line wider than the figure (vega's own estimate is 0.8 em per character)
      const W = svgSize(err).width;
      for (const m of err.matchAll(/<text[^>]*font-size="(\d+)px"[^>]*>([^<]*)<\/text>/g)) expect(m[2]!.length * 0.55 * Number(m[1])).toBeLessThan(W);
      // correspondences: one line per source point matched at the first iteration
      const cor = readFileSync(files[2]!.path, 'utf8');
      const pairs = markItems(cor, 'rule').length;
      expect(pairs).toBeGreaterThan(20);
      expect(pairs).toBeLessThanOrEqual(30);
      const anim = readFileSync(files[3]!.path, 'utf8');
      // the frame caption sits above the plot frame, not over the points; subtitle lines fit the width
      const frame = /<rect x="([\d.]+)" y="([\d.]+)" width="[\d.]+" height="[\d.]+" fill="none" stroke="#333"\/>/.exec(anim)!;
      const capYs = [...anim.matchAll(/<text x="[\d.]+" y="([\d.]+)" font-weight="bold" opacity=/g)].map((m) => Number(m[1]));
      expect(capYs.length).toBeGreaterThan(1);
      for (const y of capYs) expect(y).toBeLessThan(Number(frame[2]));
      const animW = Number(/<svg[^>]*width="(\d+)"/.exec(anim)![1]);
      for (const m of anim.matchAll(/<text x="[\d.]+" y="[\d.]+" text-anchor="middle" fill="#555">([^<]+)</g)) expect(m[1]!.length * 6.5).toBeLessThan(animW);
      const frames = a.history!.length;
      const values = /<animate attributeName="cx" values="([^"]+)"/.exec(anim)![1]!.split(';');
      expect(values.length).toBe(frames + 3); // every frame, then the last held 3 times
      expect(anim.match(/iteration \d+: inlier RMSE/g)!.length).toBe(frames);
    } finally {
      t.cleanup();
    }
  });
  it('a flat RMSE (changes below 1e-6 relative) is drawn flat with distinct ticks; correspondences: false skips that figure', async () => {
    const t = tempDir();
    try {
      const target = await lastValueFrom(generatePoints({ shape: 'curve', n: 30, from: 0, to: 29 }));
      const source = await lastValueFrom(of(target).pipe(transform({ ops: [{ op: 'translate', by: [0.1, 0] }] })));
      const a0 = await lastValueFrom(of(source).pipe(align({ method: 'icp' }, { sides: { target } })));
      // rounding noise in the 15th digit around 5 (a constant away from 0 would hide it behind a zero-based axis)
      const a = { ...a0, rmseHistory: [5, 5 + 3e-15, 5 - 2e-15, 5 + 1e-15] };
      expect(guardedDomain(a.rmseHistory)).toEqual([4.75, 5.25]);
      expect(guardedDomain([5, 4, 3])).toBeUndefined();
      const files = await lastValueFrom(of(a).pipe(plotAlignment({ prefix: 'flat', correspondences: false, animation: false }, { ctx: { outDir: t.dir } }), toArray()));
      expect(files.map((f) => f.path.split('/').pop())).toEqual(['flat-points.svg', 'flat-error.svg']);
      const err = readFileSync(files[1]!.path, 'utf8');
      const y = axisTitled(err, /inlier RMSE/);
      expect(new Set(y.labels).size).toBe(y.labels.length);
      const ys = pathYs(/d="([^"]+)"/.exec(markItems(err, 'line')[0]!)![1]!);
      expect(Math.max(...ys) - Math.min(...ys)).toBeLessThan(1);
    } finally {
      t.cleanup();
    }
  });
  it('Procrustes results get no animation; 3-D points are projected', async () => {
    const t = tempDir();
    try {
      const target = await lastValueFrom(generatePoints({ shape: 'uniform', n: 50, dim: 3 }));
      const source = await lastValueFrom(of(target).pipe(transform({ ops: [{ op: 'rotate', degrees: 30, axis: [1, 1, 0] }] })));
      const a = await lastValueFrom(of(source).pipe(align({ method: 'procrustes' }, { sides: { target } })));
      const files = await lastValueFrom(of(a).pipe(plotAlignment({ projection: 'pca' }, { ctx: { outDir: t.dir } }), toArray()));
      expect(files.map((f) => f.path.split('/').pop())).toEqual([`${a.name}-points.svg`, `${a.name}-error.svg`, `${a.name}-correspondences.svg`]);
      expect(readFileSync(files[0]!.path, 'utf8')).toContain('(pca view)');
      expect(markItems(readFileSync(files[2]!.path, 'utf8'), 'rule')).toHaveLength(50);
    } finally {
      t.cleanup();
    }
  });
});
