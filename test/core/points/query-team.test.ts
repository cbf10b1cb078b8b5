/**
 * The points query team (src/core/points/query-team.ts): ICP's nearest-neighbour queries and
 * PCA normals split over helper threads give exactly the one-thread answers (brute force for
 * the neighbours, the known normal of a plane), and the split really happened (helper parts).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Matrix, setSharedAllocation } from '../../../src/core/linalg/matrix.js';
import { KdTree } from '../../../src/core/points/kdtree.js';
import { nearestAll, runQueryPart } from '../../../src/core/points/queries.js';
import { estimateNormalsChecked } from '../../../src/core/points/normals.js';
import { icp } from '../../../src/core/points/icp.js';
import { computeFpfh, radiusNormals, orientOutward } from '../../../src/core/points/fpfh.js';
import { matchFeatures, evaluateTransform } from '../../../src/core/points/ransac.js';
import { axisAngle, homogeneous } from '../../../src/core/points/rigid.js';
import { startQueryTeam, stopQueryTeam, queryTeamReady, queryTeamStats, runQueryParts, partRange, type QueryPart } from '../../../src/core/points/query-team.js';

function lcg(seed: number): () => number {
  let x = seed;
  return () => { x = (x * 16807) % 2147483647; return x / 2147483647; };
}
const cloud = (n: number, seed: number, f = (x: number, y: number) => 0.2 * Math.sin(4 * x) * y) => {
  const r = lcg(seed), M = new Matrix(n, 3);
  for (let i = 0; i < n; i++) { const x = r(), y = r(); M.set(i, 0, x); M.set(i, 1, y); M.set(i, 2, f(x, y) + 0.001 * r()); }
  return M;
};

// the one-thread answers, before the team starts (trees and matrices in ordinary memory)
const target = cloud(20_000, 1), query = cloud(6000, 2);
const serialNormals = estimateNormalsChecked(target, { k: 30 });
const serialTree = new KdTree(target);
// a transform scored as RANSAC scores its hypotheses (every query point's nearest within a distance)
const scoreT = homogeneous(axisAngle([0, 0, 1], 1), [0.003, -0.002, 0]);
const serialScore = evaluateTransform(query, serialTree, scoreT, 0.02);
const source = query.clone();
for (let i = 0; i < source.rows; i++) source.set(i, 0, source.get(i, 0) + 0.01);
const serialIcp = icp(source, target, { estimation: 'point-to-plane', maxCorrespondenceDistance: 0.05 });
// a coarse level's clouds: too small for shared memory by default (3900 and 3000 values < 4096)
const smallTarget = cloud(1300, 5), smallSource = cloud(1000, 6);
for (let i = 0; i < smallSource.rows; i++) smallSource.set(i, 1, smallSource.get(i, 1) + 0.02);
const serialSmallIcp = icp(smallSource, smallTarget, { estimation: 'point-to-plane', maxCorrespondenceDistance: 0.1 });
// FPFH of 1500 keypoints (radius ~ 60 neighbours): the one-thread descriptors
const keys = cloud(1500, 3);
const keyNormals = orientOutward(keys, radiusNormals(keys, 0.1, 30));
const serialFpfh = computeFpfh(keys, keyNormals, { radius: 0.12, maxNeighbours: 100 });
// descriptors of a second cloud (the same surface sampled again) and the one-thread matches
const keys2 = cloud(1300, 4);
const serialFpfh2 = computeFpfh(keys2, orientOutward(keys2, radiusNormals(keys2, 0.1, 30)), { radius: 0.12, maxNeighbours: 100 });
const serialMatch = matchFeatures(serialFpfh, serialFpfh2);

beforeAll(async () => {
  setSharedAllocation(1 << 12);
  startQueryTeam(2);
  expect(await queryTeamReady()).toBe(true);
});
afterAll(() => { stopQueryTeam(); setSharedAllocation(false); });

/**
 * Runs fn until helper threads took part (at most `tries` times: on a loaded machine a helper
 * may not be scheduled before the caller has claimed every chunk of a call); the result of the
 * last run, which the test then checks, and whether helpers ran part of it.
 */
function withHelpers<T>(fn: () => T, tries = 10): { r: T; helped: boolean } {
  let r!: T;
  for (let t = 0; t < tries; t++) {
    const before = queryTeamStats().helperParts;
    r = fn();
    if (queryTeamStats().helperParts > before) return { r, helped: true };
  }
  return { r, helped: false };
}

describe('points query team', () => {
  it('nearest neighbours of 6000 points, split over the team: the brute-force answers', () => {
    const tree = new KdTree(target);
    expect(tree.shared).toBe(true);
    const n = query.rows;
    const q = new Float64Array(new SharedArrayBuffer(8 * 3 * n));
    q.set(query.data);
    const idx = new Int32Array(new SharedArrayBuffer(4 * n)), dist = new Float64Array(new SharedArrayBuffer(8 * n));
    expect(withHelpers(() => nearestAll(tree, q, n, 0.02 ** 2, idx, dist)).helped).toBe(true); // control: helpers did part of it
    let found = 0;
    for (let i = 0; i < n; i++) {
      let best = Infinity, bi = -1;
      for (let j = 0; j < target.rows; j++) {
        const a = target.data[3 * j]! - q[3 * i]!, b = target.data[3 * j + 1]! - q[3 * i + 1]!, c = target.data[3 * j + 2]! - q[3 * i + 2]!;
        const dd = a * a + b * b + c * c;
        if (dd < best) { best = dd; bi = j; }
      }
      if (best <= 0.02 ** 2) { found++; expect(idx[i]).toBe(bi); expect(dist[i]).toBe(best); } else expect(idx[i]).toBe(-1);
    }
    expect(found).toBeGreaterThan(n / 2);
  });

  it('a k-d tree of 20000 points built by subtrees over the team: the one-thread tree, every array to the last bit', () => {
    const { r, helped } = withHelpers(() => new KdTree(target));
    expect(helped).toBe(true); // control: helpers built some subtrees
    const a = r.state(), b = serialTree.state();
    expect(a.pts.buffer).toBeInstanceOf(SharedArrayBuffer);
    for (const key of ['pts', 'index', 'pos', 'lo', 'hi', 'axis', 'split', 'left', 'right', 'box'] as const) {
      expect(a[key].length, key).toBe(b[key].length);
      expect(Array.from(a[key] as ArrayLike<number>), key).toEqual(Array.from(b[key] as ArrayLike<number>));
    }
    // and it answers as brute force (the tree is a valid one, not only equal): 30 nearest of some points
    const idx = new Int32Array(30), dist = new Float64Array(30);
    for (let i = 0; i < target.rows; i += 997) {
      r.knnInto(target.data, 3 * i, 30, idx, dist);
      const all = Array.from({ length: target.rows }, (_, j) => ({ j, d: (target.data[3 * j]! - target.data[3 * i]!) ** 2 + (target.data[3 * j + 1]! - target.data[3 * i + 1]!) ** 2 + (target.data[3 * j + 2]! - target.data[3 * i + 2]!) ** 2 }));
      all.sort((x, y) => x.d - y.d || x.j - y.j);
      expect(Array.from(idx)).toEqual(all.slice(0, 30).map((x) => x.j));
    }
  });

  it('RANSAC\'s scoring of a transform split over the team: the one-thread fitness and inlier RMSE to the last bit', () => {
    const tree = new KdTree(target);
    const { r, helped } = withHelpers(() => evaluateTransform(query, tree, scoreT, 0.02));
    expect(helped).toBe(true);
    expect(r).toEqual(serialScore);
    expect(r.inliers).toBeGreaterThan(query.rows / 2); // the control: most points do score
  });

  it('normals split over the team: identical to the one-thread normals, and those of a plane are its normal', () => {
    // the tree built first: a large tree's build is split over the team too, which the control would count
    const tree = new KdTree(target);
    const { r, helped } = withHelpers(() => estimateNormalsChecked(target, { k: 30, tree }));
    expect(helped).toBe(true);
    expect(r.normals.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(r.normals.data)).toEqual(Array.from(serialNormals.normals.data));
    expect(r.stats).toEqual(serialNormals.stats);
    // an exact plane z = 0.3 x - 0.2 y: normal ±(-0.3, 0.2, 1)/|.|
    const plane = cloud(8000, 5, (x, y) => 0.3 * x - 0.2 * y);
    for (let i = 0; i < plane.rows; i++) plane.set(i, 2, 0.3 * plane.get(i, 0) - 0.2 * plane.get(i, 1));
    const pn = estimateNormalsChecked(plane, { k: 20, viewpoint: [0, 0, 10] }).normals;
    const l = Math.hypot(0.3, 0.2, 1);
    let err = 0;
    for (let i = 0; i < plane.rows; i++) err = Math.max(err, Math.abs(pn.get(i, 0) + 0.3 / l), Math.abs(pn.get(i, 1) - 0.2 / l), Math.abs(pn.get(i, 2) - 1 / l));
    expect(err).toBeLessThan(1e-9);
  });

  it('point-to-plane ICP with the team: the same transform, to the last bit, as one thread', () => {
    const tree = new KdTree(target);
    const { r, helped } = withHelpers(() => icp(source, target, { estimation: 'point-to-plane', maxCorrespondenceDistance: 0.05, targetTree: tree }));
    expect(helped).toBe(true);
    expect(Array.from(r.transform.data)).toEqual(Array.from(serialIcp.transform.data));
    expect(r.rmseHistory).toEqual(serialIcp.rmseHistory);
    expect(r.iterations).toBe(serialIcp.iterations);
  });

  it('ICP on clouds below the shared-memory size (a coarse level): its operands go to shared memory for the team, the transform is the one-thread one to the last bit', () => {
    expect(smallTarget.data.buffer instanceof SharedArrayBuffer).toBe(false);
    const r = icp(smallSource, smallTarget, { estimation: 'point-to-plane', maxCorrespondenceDistance: 0.1, targetTree: new KdTree(smallTarget) });
    // the normals (estimated here, split over the team when enough are new at once) are shared; one thread: plain
    expect(r.targetNormals!.data.buffer instanceof SharedArrayBuffer).toBe(true);
    expect(serialSmallIcp.targetNormals!.data.buffer instanceof SharedArrayBuffer).toBe(false);
    expect(Array.from(r.transform.data)).toEqual(Array.from(serialSmallIcp.transform.data));
    expect(r.rmseHistory).toEqual(serialSmallIcp.rmseHistory);
    expect(r.iterations).toBeGreaterThan(1);
  });

  it('FPFH split by point ranges over the team (both passes): the one-thread descriptors to the last bit', () => {
    const { r, helped } = withHelpers(() => computeFpfh(keys, keyNormals, { radius: 0.12, maxNeighbours: 100, tree: new KdTree(keys) }));
    expect(helped).toBe(true); // control: helpers did part of the passes
    expect(Array.from(r.data)).toEqual(Array.from(serialFpfh.data));
    // and they are histograms: each 11-bin block of a point with neighbours sums to 200 (its SPFH's 100 + the weighted 100)
    let blocks = 0;
    for (let i = 0; i < r.rows; i++) for (let b = 0; b < 3; b++) {
      let s = 0;
      for (let h = 0; h < 11; h++) s += r.get(i, 11 * b + h);
      if (s > 0) { blocks++; expect(Math.abs(s - 200)).toBeLessThan(1e-9); }
    }
    expect(blocks).toBeGreaterThan(3 * 1400);
  });

  it('descriptor matching split by source rows over the team: the one-thread matches (and they are mutual nearest descriptors)', () => {
    const { r: m, helped } = withHelpers(() => matchFeatures(serialFpfh, serialFpfh2));
    expect(helped).toBe(true);
    expect(m.mutual).toBe(true);
    expect(Array.from(m.src)).toEqual(Array.from(serialMatch.src));
    expect(Array.from(m.dst)).toEqual(Array.from(serialMatch.dst));
    // known answer, by brute force on a sample: each kept pair is the nearest descriptor both ways
    const d2 = (a: number, b: number) => { let s = 0; for (let h = 0; h < 33; h++) s += (serialFpfh.get(a, h) - serialFpfh2.get(b, h)) ** 2; return s; };
    for (let k = 0; k < m.count; k += 25) {
      const a = m.src[k]!, b = m.dst[k]!, dab = d2(a, b);
      for (let j = 0; j < serialFpfh2.rows; j++) expect(d2(a, j)).toBeGreaterThanOrEqual(dab * (1 - 1e-9) - 1e-9);
      for (let i = 0; i < serialFpfh.rows; i++) expect(d2(i, b)).toBeGreaterThanOrEqual(dab * (1 - 1e-9) - 1e-9);
    }
    expect(m.count).toBeGreaterThan(100);
  });

  it('chunks go to whichever thread is free: with a slow caller the helpers run most of them, and the answers are unchanged', () => {
    const tree = new KdTree(target);
    const n = query.rows, chunks = 16;
    const q = new Float64Array(new SharedArrayBuffer(8 * 3 * n));
    q.set(query.data);
    const idx = new Int32Array(new SharedArrayBuffer(4 * n)), dist = new Float64Array(new SharedArrayBuffer(8 * n));
    const want = new Int32Array(n), wd = new Float64Array(n);
    tree.nearestRange(q, 0.02 ** 2, want, wd, 0, n);
    const list: QueryPart[] = [];
    for (let p = 0; p < chunks; p++) { const [from, to] = partRange(n, chunks, p); list.push({ op: 'nearest', tree: tree.state(), q, maxDistSq: 0.02 ** 2, idx, dist, from, to, warm: false }); }
    const before = queryTeamStats().helperParts;
    let mine = 0;
    runQueryParts(list, (part) => {
      mine++;
      const t0 = performance.now();
      while (performance.now() - t0 < 25) { /* a caller slowed down (descheduled, or costly queries) */ }
      runQueryPart(part, tree);
    });
    const helped = queryTeamStats().helperParts - before;
    expect(helped + mine).toBe(chunks); // every chunk run once
    expect(helped).toBeGreaterThan(chunks / 2); // a fixed half each would leave the helpers 8
    expect(Array.from(idx)).toEqual(Array.from(want));
    expect(Array.from(dist)).toEqual(Array.from(wd));
  });
});
