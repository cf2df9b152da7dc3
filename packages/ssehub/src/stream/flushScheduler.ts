/**
 * One shared flush for every stream in the process. Sends only queue bytes and mark the
 * stream dirty; a single `setImmediate` then writes each dirty stream once, so a burst of
 * events becomes one write (one system call) per client: the busier the loop, the bigger
 * the batches.
 */

import { forgetLastJoin } from './joinChunks.js';

/** Something that holds queued bytes and writes them when asked. */
export interface Flushable {
  flush(): void;
}

let dirty: Flushable[] = [];
let spare: Flushable[] = [];
let scheduled = false;

/** Coarse clock refreshed once per flush round; cheaper than a clock read per write. */
export let coarseNow = Date.now();

/** The flush round running now, or -1 outside one (joins are shared within a round). */
export let flushRound = -1;
let rounds = 0;

function flushAll(): void {
  scheduled = false;
  coarseNow = Date.now();
  // Swap lists so streams marked dirty while flushing are handled in the next round.
  const batch = dirty;
  dirty = spare;
  spare = batch;
  flushRound = rounds++;
  try {
    for (let i = 0; i < batch.length; i++) batch[i]?.flush();
  } finally {
    flushRound = -1;
    forgetLastJoin();
    batch.length = 0;
  }
}

/** Marks a stream as having queued bytes; the caller tracks that it is marked only once. */
export function scheduleFlush(stream: Flushable): void {
  dirty.push(stream);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}
