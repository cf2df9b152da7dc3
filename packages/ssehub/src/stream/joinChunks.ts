/**
 * Joins a stream's queued chunks into the one buffer its flush writes. Under load every client
 * gets such a join on every flush, so two things keep it cheap:
 *
 * - Within one flush round, a join of exactly the same chunks as the previous join is that
 *   join again: a broadcast queues the same events for every client, so the round joins (and
 *   copies) them once, not once per client. Chunks are encoded bytes, never changed once queued.
 * - A join of up to {@link MAX_SLICE_BYTES} is cut from a shared slab, so thousands of joins
 *   cost one `ArrayBuffer` per slab instead of one each (Node's own pool only serves buffers
 *   under 4 KiB). A slice pins its slab only while a write still holds it: a client that
 *   stopped reading pins at most one slab, well under its queue bound.
 */
import { markAsUntransferable } from 'node:worker_threads';

const SLAB_BYTES = 128 * 1024;
const MAX_SLICE_BYTES = 16 * 1024;

let slab: Buffer | undefined;
let offset = 0;

let lastRound = -1;
let lastChunks: Uint8Array[] = [];
let lastJoined: Uint8Array | undefined;

function sameAsLast(chunks: readonly Uint8Array[]): boolean {
  if (chunks.length !== lastChunks.length) return false;
  for (let i = 0; i < chunks.length; i++) if (chunks[i] !== lastChunks[i]) return false;
  return true;
}

function copy(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (total > MAX_SLICE_BYTES) return Buffer.concat(chunks, total);
  if (slab === undefined || offset + total > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    // Shared by many clients' writes: transferring it (postMessage) must not detach them all.
    markAsUntransferable(slab.buffer);
    offset = 0;
  }
  const joined = new Uint8Array(slab.buffer, slab.byteOffset + offset, total);
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

/**
 * One buffer holding `chunks` in order; `total` is the sum of their lengths. `round` names the
 * flush round the join belongs to (-1 outside one: nothing is reused).
 */
export function joinChunks(chunks: readonly Uint8Array[], total: number, round: number): Uint8Array {
  if (round >= 0 && round === lastRound && lastJoined !== undefined && sameAsLast(chunks)) return lastJoined;
  const joined = copy(chunks, total);
  if (round >= 0) {
    lastRound = round;
    lastChunks = chunks.slice();
    lastJoined = joined;
  } else if (lastJoined !== undefined) {
    lastChunks = [];
    lastJoined = undefined;
  }
  return joined;
}

/** Forgets the last join (the end of a flush round), so it pins nothing afterwards. */
export function forgetLastJoin(): void {
  lastChunks = [];
  lastJoined = undefined;
}
