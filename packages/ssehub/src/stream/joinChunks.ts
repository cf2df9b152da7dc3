/**
 * Joins a stream's queued chunks into the one buffer its flush writes. Under load every client
 * gets such a join on every flush, so two things keep it cheap:
 *
 * - Within one flush round, a join of exactly the same chunks as the previous join is that
 *   join again: a broadcast queues the same events for every client, so the round joins (and
 *   copies) them once, not once per client. Chunks are encoded bytes, never changed once queued.
 * - The join itself is cut from a shared slab (see `slab.ts`).
 */
import { allocSlice, MAX_SLICE_BYTES } from './slab.js';

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
  const joined = allocSlice(total);
  let at = 0;
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i] as Uint8Array;
    joined.set(chunk, at);
    at += chunk.byteLength;
  }
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
