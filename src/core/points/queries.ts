/**
 * One query per point over many points, split across the points query team (query-team.ts)
 * when it runs: the nearest neighbour of every query point (ICP's correspondences) and PCA
 * normals (normals.ts). Every query is answered exactly as by the one-thread loop, so the
 * results do not depend on the split.
 */
import { KdTree } from './kdtree.js';
import { normalsRange } from './normals.js';
import { fpfhHistogramsRange, fpfhNeighboursRange } from './fpfh.js';
import { matchRange } from './ransac.js';
import { queryParts, partRange, runQueryParts, type QueryPart } from './query-team.js';

const isShared = (a: ArrayBufferView) => a.buffer instanceof SharedArrayBuffer;

/** Runs one part (a helper thread and the caller both call this). */
export function runQueryPart(p: QueryPart, tree: KdTree | undefined): void {
  if (p.op === 'match') matchRange(p.work, p.part, p.from, p.to);
  else if (p.op === 'build') KdTree.buildPart(p.tree, p.src, p.from, p.to, p.node);
  else if (!tree) throw new Error(`query part ${p.op} needs a tree`);
  else if (p.op === 'nearest') {
    tree.nearestRange(p.q, p.maxDistSq, p.idx, p.dist, p.from, p.to, p.warm, p.move, p.cert);
  }
  else if (p.op === 'fpfh') {
    if (p.pass === 1) fpfhNeighboursRange(p.work, tree, p.from, p.to);
    else fpfhHistogramsRange(p.work, p.from, p.to);
  } else {
    const st = { collinear: 0, coincident: 0, isotropic: 0 };
    normalsRange(p.P, tree.dim, p.k, tree, p.N, p.from, p.to, st, p.viewpoint, p.only);
    p.stats.set([st.collinear, st.coincident, st.isotropic], 3 * p.part);
  }
}

/**
 * The nearest tree point of each of the n query points in q (row-major): index (-1 when none
 * is within sqrt(maxDistSq)) into idx[i], squared distance into dist[i]. Split across the
 * query team when the tree, q, idx and dist are in shared memory and n is large. `warm`: idx
 * holds earlier answers (ICP's previous iteration) to start each search from; the answers are
 * the same as without (KdTree.nearestInto's hint). `move`: a (d+1)x(d+1) row-major transform
 * applied to q in place first (ICP's update), each range by the thread that queries it. `cert`:
 * per query, KdTree.nearestRange's margins (kept between calls; -1 for none): queries that moved
 * less keep their answers without a search, the same answers. `minPerPart`: queries per chunk at least.
 */
export function nearestAll(tree: KdTree, q: Float64Array, n: number, maxDistSq: number, idx: Int32Array, dist: Float64Array, warm = false, move?: Float64Array, cert?: Float64Array, minPerPart = 2048): void {
  const parts = queryParts(n, minPerPart);
  if (parts < 2 || !tree.shared || !isShared(q) || !isShared(idx) || !isShared(dist) || (cert && !isShared(cert))) {
    tree.nearestRange(q, maxDistSq, idx, dist, 0, n, warm, move, cert);
    return;
  }
  const state = tree.state();
  const list: QueryPart[] = [];
  for (let p = 0; p < parts; p++) {
    const [from, to] = partRange(n, parts, p);
    list.push({ op: 'nearest', tree: state, q, maxDistSq, idx, dist, from, to, warm, ...(move ? { move } : {}), ...(cert ? { cert } : {}) });
  }
  runQueryParts(list, (part) => runQueryPart(part, tree));
}
