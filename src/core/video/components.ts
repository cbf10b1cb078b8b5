/**
 * Connected components of a binary mask (8-connectivity): bounding box, area and
 * centroid of each foreground blob, two passes with union-find over run labels.
 * Buffers are reused from frame to frame (`ComponentLabeler`), so a long stream
 * allocates only the small result per frame. Pure: no I/O.
 */

export interface Component {
  /** bounding box: left, top (pixels), width, height */
  x: number;
  y: number;
  width: number;
  height: number;
  /** foreground pixels */
  area: number;
  /** centroid (mean pixel position; pixel centres are integers) */
  cx: number;
  cy: number;
}

export class ComponentLabeler {
  private labels: Int32Array;
  private parent: Int32Array;

  constructor(readonly width: number, readonly height: number) {
    this.labels = new Int32Array(width * height);
    this.parent = new Int32Array(1024);
  }

  private find(a: number): number {
    const p = this.parent;
    while (p[a]! !== a) {
      p[a] = p[p[a]!]!;
      a = p[a]!;
    }
    return a;
  }

  private union(a: number, b: number): number {
    const ra = this.find(a), rb = this.find(b);
    if (ra === rb) return ra;
    const r = Math.min(ra, rb);
    this.parent[ra] = r;
    this.parent[rb] = r;
    return r;
  }

  /**
   * Components of `mask[mo .. mo + width*height)` (non-zero = foreground) with at
   * least `minArea` pixels, ordered by their first pixel in raster order.
   */
  label(mask: Uint8Array, mo = 0, minArea = 1): Component[] {
    const { width: w, height: h, labels } = this;
    let next = 1;
    for (let y = 0; y < h; y++) {
      const row = y * w;
      for (let x = 0; x < w; x++) {
        const i = row + x;
        if (!mask[mo + i]) {
          labels[i] = 0;
          continue;
        }
        // neighbours already visited: W, NW, N, NE
        let l = x > 0 ? labels[i - 1]! : 0;
        if (y > 0) {
          const up = i - w;
          const nw = x > 0 ? labels[up - 1]! : 0, n = labels[up]!, ne = x < w - 1 ? labels[up + 1]! : 0;
          if (nw) l = l ? this.union(l, nw) : nw;
          if (n) l = l ? this.union(l, n) : n;
          if (ne) l = l ? this.union(l, ne) : ne;
        }
        if (!l) {
          if (next >= this.parent.length) {
            const grown = new Int32Array(this.parent.length * 2);
            grown.set(this.parent);
            this.parent = grown;
          }
          this.parent[next] = next;
          l = next++;
        }
        labels[i] = l;
      }
    }
    // second pass: statistics per root
    const stats = new Map<number, { x0: number; y0: number; x1: number; y1: number; n: number; sx: number; sy: number; first: number }>();
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        const l = labels[i]!;
        if (!l) continue;
        const r = this.find(l);
        const s = stats.get(r);
        if (!s) stats.set(r, { x0: x, y0: y, x1: x, y1: y, n: 1, sx: x, sy: y, first: i });
        else {
          if (x < s.x0) s.x0 = x;
          if (x > s.x1) s.x1 = x;
          s.y1 = y;
          s.n++;
          s.sx += x;
          s.sy += y;
        }
      }
    }
    const out: Component[] = [];
    for (const s of [...stats.values()].sort((a, b) => a.first - b.first)) {
      if (s.n < minArea) continue;
      out.push({ x: s.x0, y: s.y0, width: s.x1 - s.x0 + 1, height: s.y1 - s.y0 + 1, area: s.n, cx: s.sx / s.n, cy: s.sy / s.n });
    }
    return out;
  }
}

/** Fraction of non-zero values in mask[mo .. mo + n). */
export function foregroundFraction(mask: Uint8Array, mo: number, n: number): number {
  let c = 0;
  for (let i = 0; i < n; i++) if (mask[mo + i]) c++;
  return n ? c / n : 0;
}

/** One JSON line per frame: {"frame":n,"foreground":f,"objects":[{x,y,width,height,area,cx,cy}, ...]} (centroids rounded to 0.01 px). */
export function frameLine(frame: number, fraction: number, objects: readonly Component[]): string {
  const r = (v: number) => Math.round(v * 100) / 100;
  return JSON.stringify({ frame, foreground: Math.round(fraction * 1e6) / 1e6, objects: objects.map((o) => ({ ...o, cx: r(o.cx), cy: r(o.cy) })) }) + '\n';
}
