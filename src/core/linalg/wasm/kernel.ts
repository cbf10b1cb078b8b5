/**
 * Loader of the WebAssembly SIMD GEMM micro-kernel (gemm-kernel.c, embedded base64 by
 * scripts/build-wasm.sh). Instantiated synchronously on first use; `null` when WebAssembly
 * SIMD is unavailable or SVDFLOW_NO_WASM is set, and the pure-TS kernel is used instead.
 * Memory layout (doubles): packed A at AP (MC x KC), packed B at BP (KC x NC), the C
 * block at CB (MC x NC); the first MiB is left to the module's stack.
 */
import { GEMM_KERNEL_WASM } from './gemm-kernel.wasm.js';

// the project's lib (ES2023, node types) has no WebAssembly declarations: the few used here
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};
interface WasmMemory { buffer: ArrayBuffer; grow(pages: number): number }

export interface WasmGemm {
  kernel: (kc: number, mStrips: number, nStrips: number, apByte: number, bpByte: number, cByte: number) => void;
  f64: Float64Array;
  AP: number;
  BP: number;
  CB: number;
}

let cached: WasmGemm | null | undefined;

export function wasmGemm(mc: number, kc: number, nc: number): WasmGemm | null {
  if (cached !== undefined) return cached;
  cached = null;
  try {
    if (typeof process !== 'undefined' && process.env?.SVDFLOW_NO_WASM) return null;
    const bytes = Uint8Array.from(atob(GEMM_KERNEL_WASM), (ch) => ch.charCodeAt(0));
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    const mem = inst.exports.memory as WasmMemory;
    const AP = (1 << 20) / 8;
    const BP = AP + mc * kc;
    const CB = BP + kc * nc;
    const need = (CB + mc * nc) * 8;
    if (mem.buffer.byteLength < need) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
    cached = { kernel: inst.exports.kernel_block as WasmGemm['kernel'], f64: new Float64Array(mem.buffer), AP, BP, CB };
  } catch {
    cached = null;
  }
  return cached;
}
