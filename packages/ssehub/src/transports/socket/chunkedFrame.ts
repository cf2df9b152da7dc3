/**
 * HTTP/1.1 chunked framing (`<hex length>\r\n<bytes>\r\n`) for the socket transport, in one
 * buffer, so each flush is a single write of a single buffer. A broadcast hands every client
 * the same joined buffer within a flush round; it is framed once for all of them.
 */
import { flushRound } from '../../stream/flushScheduler.js';
import { allocSlice } from '../../stream/slab.js';

/** What ends a chunked body. */
export const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

let lastRound = -1;
let lastChunk: Uint8Array | undefined;
let lastFramed: Buffer | undefined;

/** `chunk` framed as one HTTP/1.1 chunk (it must not be empty). */
export function frameChunk(chunk: Uint8Array): Buffer {
  const round = flushRound;
  if (round >= 0 && round === lastRound && chunk === lastChunk) return lastFramed as Buffer;
  const size = chunk.byteLength.toString(16);
  const framed = allocSlice(size.length + chunk.byteLength + 4);
  let at = framed.write(size, 0, 'latin1');
  framed[at++] = 13;
  framed[at++] = 10;
  framed.set(chunk, at);
  at += chunk.byteLength;
  framed[at++] = 13;
  framed[at] = 10;
  if (round >= 0) {
    lastRound = round;
    lastChunk = chunk;
    lastFramed = framed;
  }
  return framed;
}
