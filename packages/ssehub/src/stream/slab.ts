/**
 * Small buffers cut from a shared slab: thousands of per-flush buffers then cost one
 * `ArrayBuffer` per slab instead of one each (Node's own pool only serves buffers under
 * 4 KiB). A slice pins its slab only while a write still holds it: a client that stopped
 * reading pins at most one slab, well under its queue bound.
 */
import { markAsUntransferable } from 'node:worker_threads';

const SLAB_BYTES = 128 * 1024;
/** Larger buffers get their own memory. */
export const MAX_SLICE_BYTES = 16 * 1024;

let slab: Buffer | undefined;
let offset = 0;

/** `size` bytes to fill, from the slab when small enough. */
export function allocSlice(size: number): Buffer {
  if (size > MAX_SLICE_BYTES) return Buffer.allocUnsafe(size);
  if (slab === undefined || offset + size > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    // Shared by many clients' writes: transferring it (postMessage) must not detach them all.
    markAsUntransferable(slab.buffer);
    offset = 0;
  }
  const slice = Buffer.from(slab.buffer, slab.byteOffset + offset, size);
  // 8-byte aligned, as Node's pool does.
  offset = (offset + size + 7) & ~7;
  return slice;
}
