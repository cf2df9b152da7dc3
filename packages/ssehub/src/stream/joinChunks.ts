/**
 * Joins a stream's queued chunks into the one buffer its flush writes. Under load every client
 * gets such a join on every flush; a join of up to {@link MAX_SLICE_BYTES} is cut from a shared
 * slab, so thousands of clients cost one `ArrayBuffer` per slab instead of one each (Node's own
 * pool only serves buffers under 4 KiB). A slice pins its slab only while a write still holds
 * it: a client that stopped reading pins at most one slab, well under its queue bound.
 */
import { markAsUntransferable } from 'node:worker_threads';

const SLAB_BYTES = 128 * 1024;
const MAX_SLICE_BYTES = 16 * 1024;

let slab: Buffer | undefined;
let offset = 0;

/** One buffer holding `chunks` in order; `total` is the sum of their lengths. */
export function joinChunks(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (total > MAX_SLICE_BYTES) return Buffer.concat(chunks, total);
  if (slab === undefined || offset + total > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    // Shared by many clients' writes: transferring it (postMessage) must not detach them all.
    markAsUntransferable(slab.buffer);
    offset = 0;
  }
  const joined = slab.subarray(offset, offset + total);
  let at = 0;
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i] as Uint8Array;
    joined.set(chunk, at);
    at += chunk.byteLength;
  }
  // 8-byte aligned, as Node's pool does.
  offset = (offset + total + 7) & ~7;
  return joined;
}
