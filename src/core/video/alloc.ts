/**
 * Buffers that the caller fills entirely before anyone reads them (a decoded frame, a batch of
 * frames, a batch's masks or backgrounds), taken without zero-filling: `new Uint8Array(n)` clears
 * every byte first, which for the per-frame and per-batch buffers of a video run is a memset of
 * each frame's size (plus the kernel's page clearing) that the fill then overwrites. The memory
 * is Buffer.allocUnsafeSlow's (its own ArrayBuffer, never the shared pool, so it can be
 * transferred to or from a worker); the views are plain typed arrays (a Buffer's slice() would
 * not copy).
 */
export function unfilledBytes(n: number): Uint8Array {
  return new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n);
}

/** `n` floats, not zeroed (see unfilledBytes). */
export function unfilledFloats(n: number): Float32Array {
  return new Float32Array(Buffer.allocUnsafeSlow(4 * n).buffer, 0, n);
}
