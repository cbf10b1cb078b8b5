/**
 * Loader of the WebAssembly SIMD kernels (kernels.c: GEMM micro-kernel, rotation replay; embedded base64 by
 * scripts/build-wasm.sh). Instantiated synchronously on first use; `null` when WebAssembly
 * SIMD is unavailable or SVDFLOW_NO_WASM is set, and the pure-TS kernel is used instead.
 * GEMM memory layout (doubles): packed A at AP (MC x KC), packed B at BP (KC x NC), the C
 * block at CB (MC x NC), raw copies of the A block and B panel at RA, RB; the first MiB is
 * left to the module's stack.
 */
import { LINALG_WASM } from './kernels.wasm.js';
import { LINALG_WASM_SHARED } from './kernels-shared.wasm.js';

// the project's lib (ES2023, node types) has no WebAssembly declarations: the few used here
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (desc: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
};
interface WasmMemory { buffer: ArrayBuffer; grow(pages: number): number }

export interface WasmGemm {
  /** C block (ldc = its row length) += alpha Ap Bp on its first `ncols` columns; acc = 0: the block is taken as zeros, not read */
  kernel: (kc: number, mStrips: number, nStrips: number, apByte: number, bpByte: number, cByte: number, ldc: number, alpha: number, ncols: number, acc: number) => void;
  packRows: (rows: number, kc: number, srcByte: number, ld: number, dstByte: number) => void;
  packCols: (kc: number, cols: number, srcByte: number, ld: number, dstByte: number) => void;
  f64: Float64Array;
  /** offsets in doubles: packed A, packed B, C block, raw A block, raw B panel */
  AP: number;
  BP: number;
  CB: number;
  RA: number;
  RB: number;
}

let cached: WasmGemm | null | undefined;
let compiled: object | null | undefined;
let compiledShared: object | null | undefined;

/**
 * Compiles an embedded (base64) module; null when WebAssembly SIMD is unavailable or
 * SVDFLOW_NO_WASM is set, so that the caller takes its TypeScript kernel.
 */
export function compileWasm(b64: string): object | null {
  try {
    if (typeof process !== 'undefined' && process.env?.SVDFLOW_NO_WASM) return null;
    return new WebAssembly.Module(Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0)));
  } catch {
    return null;
  }
}

/** The compiled module (cached), or null when WebAssembly SIMD is unavailable or disabled. */
function wasmModule(): object | null {
  if (compiled === undefined) compiled = compileWasm(LINALG_WASM);
  return compiled;
}

/**
 * Whether the WebAssembly SIMD kernels run in this process (false under SVDFLOW_NO_WASM or without
 * SIMD: the TypeScript kernels run instead). Compiles the module on first ask, as its first use would.
 */
export function wasmKernelsAvailable(): boolean {
  return wasmModule() !== null;
}

export interface WasmInstance {
  exports: Record<string, unknown>;
  /** grows the memory to at least `bytes` and returns its (new) buffer; null if it cannot */
  reserve(bytes: number): ArrayBuffer | null;
}

/** A fresh instance with its own memory (freed with it), or null without WebAssembly SIMD. */
export function newWasmInstance(): WasmInstance | null {
  const mod = wasmModule();
  if (!mod) return null;
  try {
    const inst = new WebAssembly.Instance(mod, {});
    const mem = inst.exports.memory as WasmMemory;
    return {
      exports: inst.exports,
      reserve(bytes: number): ArrayBuffer | null {
        try {
          if (bytes > 2 ** 32) return null;
          if (mem.buffer.byteLength < bytes) mem.grow(Math.ceil((bytes - mem.buffer.byteLength) / 65536));
          return mem.buffer;
        } catch {
          return null; // beyond the 4 GiB of wasm32 or out of memory: the caller falls back to TS
        }
      },
    };
  } catch {
    return null;
  }
}

/**
 * A fresh instance of the same kernels on a SHARED memory of exactly `bytes` (rounded up to
 * 64 KiB pages; it cannot grow beyond): its buffer is a SharedArrayBuffer, so matrices living
 * there can be handed to the thread team (team.ts). Null without WebAssembly SIMD and threads.
 */
export function newSharedWasmInstance(bytes: number): (WasmInstance & { memory: unknown }) | null {
  if (compiledShared === undefined) compiledShared = compileWasm(LINALG_WASM_SHARED);
  if (!compiledShared || bytes > 2 ** 32) return null;
  try {
    const pages = Math.max(128, Math.ceil(bytes / 65536));
    const mem = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    const inst = new WebAssembly.Instance(compiledShared, { env: { memory: mem } });
    return {
      exports: inst.exports,
      memory: mem,
      reserve: (need: number) => (need <= mem.buffer.byteLength ? mem.buffer : null),
    };
  } catch {
    return null;
  }
}

/**
 * The exports of the shared-memory kernels instantiated on an existing shared `memory` (a thread
 * team helper working on the caller's memory: only the matrix-vector kernels, which use no
 * stack, may run there concurrently with the caller). Null when it cannot be instantiated.
 */
export function sharedInstanceOn(memory: unknown): Record<string, unknown> | null {
  if (compiledShared === undefined) compiledShared = compileWasm(LINALG_WASM_SHARED);
  if (!compiledShared) return null;
  try {
    return new WebAssembly.Instance(compiledShared, { env: { memory } }).exports;
  } catch {
    return null;
  }
}

/** Start of the free memory of an instance (the first MiB holds the module's stack). */
export const WASM_HEAP = 1 << 20;

export function wasmGemm(mc: number, kc: number, nc: number): WasmGemm | null {
  if (cached !== undefined) return cached;
  cached = null;
  const inst = newWasmInstance();
  if (!inst) return cached;
  const AP = WASM_HEAP / 8;
  const BP = AP + mc * kc;
  const CB = BP + kc * nc;
  const RA = CB + mc * nc;
  const RB = RA + mc * kc;
  const buf = inst.reserve((RB + kc * nc) * 8);
  if (!buf) return cached;
  const x = inst.exports;
  cached = {
    kernel: x.kernel_block as WasmGemm['kernel'], packRows: x.pack_rows as WasmGemm['packRows'], packCols: x.pack_cols as WasmGemm['packCols'],
    f64: new Float64Array(buf), AP, BP, CB, RA, RB,
  };
  return cached;
}
