import { describe, expect, it } from 'vitest';
import { scheduleFlush } from '../../src/stream/flushScheduler.js';
import { frameChunk, LAST_CHUNK } from '../../src/transports/socket/chunkedFrame.js';

/** `size` bytes that differ from their neighbours, so a misplaced copy shows. */
function pattern(size: number, seed = 0): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + seed) % 251;
  return bytes;
}

const expected = (chunk: Buffer): Buffer =>
  Buffer.concat([Buffer.from(`${chunk.byteLength.toString(16)}\r\n`, 'latin1'), chunk, Buffer.from('\r\n', 'latin1')]);

/** Runs `work` inside a real flush round of the shared scheduler. */
function inFlushRound<T>(work: () => T): Promise<T> {
  return new Promise((resolve, reject) => {
    scheduleFlush({
      flush() {
        try {
          resolve(work());
        } catch (error) {
          reject(error);
        }
      },
    });
  });
}

describe('frameChunk', () => {
  it.each([
    [1, '1'],
    [15, 'f'],
    [16, '10'],
    [255, 'ff'],
    [4096, '1000'],
    [16 * 1024, '4000'],
    [20000, '4e20'],
  ])('frames %i bytes as <%s>\\r\\n<bytes>\\r\\n', (size, hex) => {
    const chunk = pattern(size);
    const framed = frameChunk(chunk);
    expect(framed.toString('latin1', 0, hex.length + 2)).toBe(`${hex}\r\n`);
    expect(framed.byteLength).toBe(hex.length + 2 + size + 2);
    expect(framed.equals(expected(chunk))).toBe(true);
  });

  it('frames a Uint8Array that is a view into a larger buffer (only its own bytes)', () => {
    const whole = pattern(64);
    const view = new Uint8Array(whole.buffer, whole.byteOffset + 10, 20);
    expect(frameChunk(view).equals(expected(Buffer.from(view)))).toBe(true);
  });

  it('gives every call its own bytes outside a flush round: earlier frames stay intact', () => {
    const chunks = [1, 15, 16, 255, 4096, 20000, 3000, 1].map((size, seed) => pattern(size, seed));
    // Many frames in a row come from the same slab; none may overwrite another.
    const framed = [...chunks, ...chunks].map((chunk) => frameChunk(chunk));
    const again = [...chunks, ...chunks];
    framed.forEach((frame, i) => {
      expect(frame.equals(expected(again[i] as Buffer))).toBe(true);
    });
    expect(framed[0]).not.toBe(framed[chunks.length]);
  });

  it('within one flush round frames the same chunk once (a broadcast), and a new round frames anew', async () => {
    const chunk = pattern(100);
    const other = pattern(100, 3);
    const first = await inFlushRound(() => {
      const a = frameChunk(chunk);
      const b = frameChunk(chunk);
      const c = frameChunk(other);
      return { a, b, c };
    });
    expect(first.b).toBe(first.a);
    expect(first.c).not.toBe(first.a);
    expect(first.a.equals(expected(chunk))).toBe(true);
    expect(first.c.equals(expected(other))).toBe(true);
    const second = await inFlushRound(() => frameChunk(chunk));
    expect(second).not.toBe(first.a);
    expect(second.equals(expected(chunk))).toBe(true);
    // Equal content in another object is framed on its own.
    const copy = await inFlushRound(() => [frameChunk(chunk), frameChunk(Buffer.from(chunk))]);
    expect(copy[1]).not.toBe(copy[0]);
    expect(copy[1]?.equals(expected(chunk))).toBe(true);
  });
});

describe('LAST_CHUNK', () => {
  it('is the end of a chunked body with no trailers', () => {
    expect(LAST_CHUNK.toString('latin1')).toBe('0\r\n\r\n');
    expect([...LAST_CHUNK]).toEqual([0x30, 0x0d, 0x0a, 0x0d, 0x0a]);
  });
});
