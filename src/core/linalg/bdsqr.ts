/**
 * SVD of an upper bidiagonal matrix by implicit-shift QR (Golub-Kahan; the splitting,
 * deflation and shift rules of LINPACK dsvdc), with the Givens rotations DEFERRED:
 * the sweeps run on (d, e) alone and log their rotations; the log is replayed on the
 * vector matrices in batches. U and V are kept with the singular vectors as COLUMNS
 * (row-major), so a sweep's chain of rotations on columns (j, j+1), j = k..p-2, walks
 * one contiguous row with the shared column carried in a register (1 load + 1 store per
 * rotation and element), and a whole batch of sweeps is applied row by row while the
 * row stays in L1. Measured on the 700x700 bidiagonal of the turtle image: 0.76 s with
 * immediate row rotations vs see bench notes with the batched replay.
 */
import { LinalgError } from './errors.js';
import { newWasmInstance, WASM_HEAP } from './wasm/kernel.js';

/** Rotation log: sequences of plane rotations on columns of a row-major n x n matrix. */
class RotLog {
  count = 0;
  nseq = 0;
  /**
   * cs/sn: rotation cosines/sines; seq: 5-tuples (kind, a0, f, offset, len), kind 0 = chain
   * (j, j+1) for j = a0..a0+len-1, 1/2 = fixed partner f with columns a0 + i*(+1/-1), 3 = negate
   * column a0. The arrays may live in WebAssembly memory (see kernels.c, rot_replay).
   */
  constructor(readonly cap: number, readonly cs: Float64Array, readonly sn: Float64Array, readonly seq: Int32Array) {}
  static plain(cap: number, n: number): RotLog {
    return new RotLog(cap, new Float64Array(cap), new Float64Array(cap), new Int32Array((cap + n + 1) * 5));
  }
  /** room for `len` more rotations? */
  fits(len: number): boolean { return this.count + len <= this.cap; }
  private push(kind: number, a0: number, f: number, o: number, len: number): void {
    const q = this.nseq++ * 5, sq = this.seq;
    sq[q] = kind; sq[q + 1] = a0; sq[q + 2] = f; sq[q + 3] = o; sq[q + 4] = len;
  }
  /** chain: rotations (j, j+1) for j = k..k+len-1, in that order; returns the write offset */
  chain(k: number, len: number): number {
    const o = this.count;
    this.push(0, k, 0, o, len);
    this.count += len;
    return o;
  }
  /** fixed partner: rotations (a0 + i*step, f) for i = 0..len-1 */
  fixed(a0: number, step: number, f: number, len: number): number {
    const o = this.count;
    this.push(step > 0 ? 1 : 2, a0, f, o, len);
    this.count += len;
    return o;
  }
  flip(k: number): void { this.push(3, k, 0, 0, 0); }
  get empty(): boolean { return this.nseq === 0; }
  clear(): void { this.count = 0; this.nseq = 0; }

  /**
   * M (rows x n, row-major): M <- M G_1 G_2 ... (each G acts on two columns). Four rows at a
   * time: a chain's carried value is a loop-carried dependency, four independent chains
   * hide its latency and share the loads of (cs, sn).
   */
  apply(M: Float64Array, rows: number, n: number, lo: Int32Array): void {
    const seq = this.seq, C = this.cs, S = this.sn, ns = this.nseq * 5;
    let r = 0;
    for (; r + 3 < rows; r += 4) {
      const b0 = r * n;
      let lg = Math.min(lo[r]!, lo[r + 1]!, lo[r + 2]!, lo[r + 3]!);
      for (let q = 0; q < ns; q += 5) {
        const kind = seq[q]!;
        let a0 = seq[q + 1]!, o = seq[q + 3]!, len = seq[q + 4]!;
        if (kind === 0) {
          // columns before lg are zero in these rows: rotations among them are no-ops
          if (lg > a0 + len) continue;
          if (lg - 1 > a0) { const sk = lg - 1 - a0; a0 += sk; o += sk; len -= sk; }
          if (a0 < lg) lg = a0;
          let p = b0 + a0;
          let x0 = M[p]!, x1 = M[p + n]!, x2 = M[p + 2 * n]!, x3 = M[p + 3 * n]!;
          for (let i = o, end = o + len; i < end; i++, p++) {
            const c = C[i]!, s = S[i]!;
            const y0 = M[p + 1]!, y1 = M[p + n + 1]!, y2 = M[p + 2 * n + 1]!, y3 = M[p + 3 * n + 1]!;
            M[p] = c * x0 + s * y0; x0 = c * y0 - s * x0;
            M[p + n] = c * x1 + s * y1; x1 = c * y1 - s * x1;
            M[p + 2 * n] = c * x2 + s * y2; x2 = c * y2 - s * x2;
            M[p + 3 * n] = c * x3 + s * y3; x3 = c * y3 - s * x3;
          }
          M[p] = x0; M[p + n] = x1; M[p + 2 * n] = x2; M[p + 3 * n] = x3;
        } else {
          for (let t = 0; t < 4; t++) this.applyOne(M, b0 + t * n, q);
          if (kind !== 3) lg = Math.min(lg, seq[q + 2]!, kind === 1 ? a0 : a0 - len + 1);
        }
      }
      lo[r] = lo[r + 1] = lo[r + 2] = lo[r + 3] = lg;
    }
    for (; r < rows; r++) for (let q = 0; q < ns; q += 5) this.applyOne(M, r * n, q);
    this.clear();
  }

  private applyOne(M: Float64Array, base: number, q: number): void {
    const seq = this.seq, C = this.cs, S = this.sn;
    const kind = seq[q]!, a0 = seq[q + 1]!, f = seq[q + 2]!, o = seq[q + 3]!, len = seq[q + 4]!;
    if (kind === 0) {
      let p = base + a0;
      let x = M[p]!;
      for (let i = o, end = o + len; i < end; i++, p++) {
        const y = M[p + 1]!, c = C[i]!, s = S[i]!;
        M[p] = c * x + s * y;
        x = c * y - s * x;
      }
      M[p] = x;
    } else if (kind === 3) {
      M[base + a0] = -M[base + a0]!;
    } else {
      const step = kind === 1 ? 1 : -1;
      const pf = base + f;
      let y = M[pf]!;
      for (let i = 0, a = base + a0; i < len; i++, a += step) {
        const x = M[a]!, c = C[o + i]!, s = S[o + i]!;
        M[a] = c * x + s * y;
        y = c * y - s * x;
      }
      M[pf] = y;
    }
  }
}

/**
 * U and V (n x n, starting as the identity) with their rotation logs: in WebAssembly memory as
 * interleaved row pairs (replayed by the SIMD rot_replay, two rows per f64x2), or plain
 * row-major arrays replayed in TS when WebAssembly SIMD is unavailable.
 */
interface VectorStore {
  logU: RotLog;
  logV: RotLog;
  flush(): void;
  /** U and V row-major (n x n, vectors as columns) */
  finish(): { U: Float64Array; V: Float64Array };
}

function tsStore(n: number): VectorStore {
  const U = new Float64Array(n * n), V = new Float64Array(n * n);
  const loU = new Int32Array(n), loV = new Int32Array(n);
  for (let i = 0; i < n; i++) { U[i * n + i] = 1; V[i * n + i] = 1; loU[i] = i; loV[i] = i; }
  // a small bidiagonal needs ~n² rotations in all: a log of that size (not LOG_CAP) saves allocation
  const cap = Math.min(LOG_CAP, Math.max(256, 4 * n * n));
  const logU = RotLog.plain(cap, n), logV = RotLog.plain(cap, n);
  return {
    logU, logV,
    flush() { if (!logU.empty) logU.apply(U, n, n, loU); if (!logV.empty) logV.apply(V, n, n, loV); },
    finish() { this.flush(); return { U, V }; },
  };
}

function wasmStore(n: number): VectorStore | null {
  if (!USE_WASM_ROTATIONS) return null;
  const inst = newWasmInstance();
  if (!inst) return null;
  const pairs = (n + 1) >> 1;
  const matBytes = pairs * n * 2 * 8;
  const seqInts = (LOG_CAP + n + 1) * 5;
  let at = WASM_HEAP;
  const take = (bytes: number) => { const p = at; at += (bytes + 15) & ~15; return p; };
  const pU = take(matBytes), pV = take(matBytes);
  const pCsU = take(LOG_CAP * 8), pSnU = take(LOG_CAP * 8), pCsV = take(LOG_CAP * 8), pSnV = take(LOG_CAP * 8);
  const pSeqU = take(seqInts * 4), pSeqV = take(seqInts * 4);
  const pLoU = take(pairs * 4), pLoV = take(pairs * 4);
  const buf = inst.reserve(at);
  if (!buf) return null;
  const Mu = new Float64Array(buf, pU, pairs * n * 2), Mv = new Float64Array(buf, pV, pairs * n * 2);
  for (let r = 0; r < n; r++) { const i = ((r >> 1) * n + r) * 2 + (r & 1); Mu[i] = 1; Mv[i] = 1; }
  const loU = new Int32Array(buf, pLoU, pairs), loV = new Int32Array(buf, pLoV, pairs);
  for (let q = 0; q < pairs; q++) { loU[q] = 2 * q; loV[q] = 2 * q; }
  const logU = new RotLog(LOG_CAP, new Float64Array(buf, pCsU, LOG_CAP), new Float64Array(buf, pSnU, LOG_CAP), new Int32Array(buf, pSeqU, seqInts));
  const logV = new RotLog(LOG_CAP, new Float64Array(buf, pCsV, LOG_CAP), new Float64Array(buf, pSnV, LOG_CAP), new Int32Array(buf, pSeqV, seqInts));
  const replay = inst.exports.rot_replay as (pairs: number, n: number, M: number, seq: number, nseq: number, cs: number, sn: number, lo: number) => void;
  const untangle = (M: Float64Array) => {
    const out = new Float64Array(n * n);
    for (let r = 0; r < n; r++) {
      const src = (r >> 1) * n * 2 + (r & 1), dst = r * n;
      for (let c = 0; c < n; c++) out[dst + c] = M[src + 2 * c]!;
    }
    return out;
  };
  return {
    logU, logV,
    flush() {
      if (!logU.empty) { replay(pairs, n, pU, pSeqU, logU.nseq, pCsU, pSnU, pLoU); logU.clear(); }
      if (!logV.empty) { replay(pairs, n, pV, pSeqV, logV.nseq, pCsV, pSnV, pLoV); logV.clear(); }
    },
    finish() { this.flush(); return { U: untangle(Mu), V: untangle(Mv) }; },
  };
}

/** Replay rotations with the WebAssembly SIMD kernel when available (default) or in TS. */
export let USE_WASM_ROTATIONS = true;
export function setWasmRotations(v: boolean): void { USE_WASM_ROTATIONS = v; }

const LOG_CAP = 16384;

/**
 * sqrt(a² + b²) without overflow or harmful underflow, for the sweeps' rotations. Math.hypot
 * (variadic, with extra NaN/Infinity handling) measured ~10x slower and ran 1.4 M times per
 * 700x700 bidiagonal.
 */
export function hyp(a: number, b: number): number {
  a = Math.abs(a); b = Math.abs(b);
  const mx = a > b ? a : b, mn = a > b ? b : a;
  if (mx === 0) return 0;
  const r = mn / mx;
  return mx * Math.sqrt(1 + r * r);
}

/**
 * SVD of the n x n upper bidiagonal (d, e): B = U diag(s) Vᵀ, s descending, U and V
 * n x n row-major with the singular vectors as columns; or only s when `vectors` is false.
 */
export function bidiagQr(dIn: Float64Array, eIn: Float64Array, vectors = true): { s: Float64Array; U?: Float64Array; V?: Float64Array } {
  const n = dIn.length;
  const s = Float64Array.from(dIn);
  const e = new Float64Array(n + 1);
  e.set(eIn.subarray(0, n));
  e[n - 1] = 0;
  // small blocks (divide-and-conquer leaves) replay in TS: a WebAssembly instance per call costs more
  const store = vectors ? (n >= 64 ? wasmStore(n) : null) ?? tsStore(n) : undefined;
  const logU = store?.logU, logV = store?.logV;
  const ensure = (len: number) => {
    if (!logU) return;
    if (!logU.fits(len) || !logV!.fits(len)) store!.flush();
  };
  const eps = 2 ** -52;
  const tiny = 2 ** -966;
  let p = n;
  let iter = 0;
  while (p > 0) {
    if (iter > 75 * n + 1000) throw new LinalgError('svd: bidiagonal QR did not converge');
    let k: number;
    let kase: number;
    for (k = p - 2; k >= -1; k--) {
      if (k === -1) break;
      if (Math.abs(e[k]!) <= tiny + eps * (Math.abs(s[k]!) + Math.abs(s[k + 1]!))) {
        e[k] = 0;
        break;
      }
    }
    if (k === p - 2) {
      kase = 4;
    } else {
      let ks: number;
      for (ks = p - 1; ks >= k; ks--) {
        if (ks === k) break;
        const t = (ks !== p ? Math.abs(e[ks]!) : 0) + (ks !== k + 1 ? Math.abs(e[ks - 1]!) : 0);
        if (Math.abs(s[ks]!) <= tiny + eps * t) {
          s[ks] = 0;
          break;
        }
      }
      if (ks === k) kase = 3;
      else if (ks === p - 1) kase = 1;
      else { kase = 2; k = ks; }
    }
    k++;
    switch (kase) {
      case 1: {
        // deflate negligible s[p-1]: rotations (j, p-1) on V, j = p-2 down to k
        const len = p - 1 - k;
        ensure(len);
        const o = logV ? logV.fixed(p - 2, -1, p - 1, len) : 0;
        let f = e[p - 2]!;
        e[p - 2] = 0;
        for (let j = p - 2, i = 0; j >= k; j--, i++) {
          const t = hyp(s[j]!, f);
          const cs = s[j]! / t, sn = f / t;
          s[j] = t;
          if (j !== k) { f = -sn * e[j - 1]!; e[j - 1] = cs * e[j - 1]!; }
          if (logV) { logV.cs[o + i] = cs; logV.sn[o + i] = sn; }
        }
        break;
      }
      case 2: {
        // split at negligible s[k-1]: rotations (j, k-1) on U, j = k..p-1
        const len = p - k;
        ensure(len);
        const o = logU ? logU.fixed(k, 1, k - 1, len) : 0;
        let f = e[k - 1]!;
        e[k - 1] = 0;
        for (let j = k, i = 0; j < p; j++, i++) {
          const t = hyp(s[j]!, f);
          const cs = s[j]! / t, sn = f / t;
          s[j] = t;
          f = -sn * e[j]!;
          e[j] = cs * e[j]!;
          if (logU) { logU.cs[o + i] = cs; logU.sn[o + i] = sn; }
        }
        break;
      }
      case 3: {
        // one QR sweep on s[k..p-1]
        const scale = Math.max(Math.abs(s[p - 1]!), Math.abs(s[p - 2]!), Math.abs(e[p - 2]!), Math.abs(s[k]!), Math.abs(e[k]!));
        const sp = s[p - 1]! / scale, spm1 = s[p - 2]! / scale, epm1 = e[p - 2]! / scale;
        const sk = s[k]! / scale, ek = e[k]! / scale;
        const b = ((spm1 + sp) * (spm1 - sp) + epm1 * epm1) / 2;
        const c = sp * epm1 * (sp * epm1);
        let shift = 0;
        if (b !== 0 || c !== 0) {
          shift = Math.sqrt(b * b + c);
          if (b < 0) shift = -shift;
          shift = c / (b + shift);
        }
        let f = (sk + sp) * (sk - sp) + shift;
        let g = sk * ek;
        const len = p - 1 - k;
        ensure(len);
        const oV = logV ? logV.chain(k, len) : 0;
        const oU = logU ? logU.chain(k, len) : 0;
        const vc = logV?.cs, vs = logV?.sn, uc = logU?.cs, us = logU?.sn;
        for (let j = k, i = 0; j < p - 1; j++, i++) {
          let t = hyp(f, g);
          let cs = f / t, sn = g / t;
          if (j !== k) e[j - 1] = t;
          f = cs * s[j]! + sn * e[j]!;
          e[j] = cs * e[j]! - sn * s[j]!;
          g = sn * s[j + 1]!;
          s[j + 1] = cs * s[j + 1]!;
          if (vc) { vc[oV + i] = cs; vs![oV + i] = sn; }
          t = hyp(f, g);
          cs = f / t;
          sn = g / t;
          s[j] = t;
          f = cs * e[j]! + sn * s[j + 1]!;
          s[j + 1] = -sn * e[j]! + cs * s[j + 1]!;
          g = sn * e[j + 1]!;
          e[j + 1] = cs * e[j + 1]!;
          if (uc) { uc[oU + i] = cs; us![oU + i] = sn; }
        }
        e[p - 2] = f;
        iter++;
        break;
      }
      default: {
        // convergence of s[k]
        if (s[k]! <= 0) {
          s[k] = s[k]! < 0 ? -s[k]! : 0;
          if (logV) { ensure(0); logV.flip(k); }
        }
        p--;
        break;
      }
    }
  }
  const { U, V } = store ? store.finish() : { U: undefined, V: undefined };
  // sort descending (stable), permuting the vector columns
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => s[b]! - s[a]! || a - b);
  let sorted = true;
  for (let i = 0; i < n; i++) if (order[i] !== i) { sorted = false; break; }
  if (sorted) return { s, U, V };
  const s2 = new Float64Array(n);
  for (let i = 0; i < n; i++) s2[i] = s[order[i]!]!;
  if (!U) return { s: s2 };
  const U2 = new Float64Array(n * n), V2 = new Float64Array(n * n);
  for (let r = 0; r < n; r++) {
    const b = r * n;
    for (let i = 0; i < n; i++) { U2[b + i] = U[b + order[i]!]!; V2[b + i] = V![b + order[i]!]!; }
  }
  return { s: s2, U: U2, V: V2 };
}
