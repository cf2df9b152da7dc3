/**
 * Backpressure with real sockets: one client stops reading (a raw `node:net` socket, paused)
 * while another reads at full speed from the same server. The slow client's queue must stay
 * bounded and its overflow policy must apply, without slowing the fast client down.
 */
import net from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodeStream, createWebStream } from '../../src/stream/createStream.js';
import type { OverflowPolicy, SseStream } from '../../src/stream/SseStream.js';
import { RecordingClient } from '../support/clients.js';
import { listen, type TestServer } from '../support/servers.js';
import { Inbox, until } from './helpers.js';

const MAX_QUEUE_BYTES = 64 * 1024;
const PAYLOAD_CHARS = 1000;
const BATCH = 50;
const MIN_EVENTS = 2000;
// Loopback kernel buffers absorb a few MB before a paused reader pushes back; stop long before this.
const MAX_EVENTS = 40_000;

/** The 1 KB payload of event `i`: its number, padded, so a torn or mixed event cannot pass. */
const payload = (i: number): string => `${i}:`.padEnd(PAYLOAD_CHARS, String.fromCharCode(97 + (i % 26)));

let server: TestServer | undefined;
const cleanups: Array<() => void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await server?.close();
  server = undefined;
});

/** Counts what a stream reports to its owner. */
interface Watch {
  overflows: number;
  dropped: number;
  disconnected: number;
  closes: number;
}

function watch(stream: SseStream): Watch {
  const seen: Watch = { overflows: 0, dropped: 0, disconnected: 0, closes: 0 };
  stream.listener = {
    streamClosed: () => seen.closes++,
    streamOverflowed: (_stream, dropped, disconnected) => {
      seen.overflows++;
      seen.dropped += dropped;
      if (disconnected) seen.disconnected++;
    },
  };
  return seen;
}

/** A raw HTTP/1.1 client on `node:net` that can stop reading its socket. */
class SlowSocket {
  readonly socket: net.Socket;
  readonly chunks: Buffer[] = [];
  bytes = 0;
  closed = false;
  #tail = '';

  constructor(port: number, path: string) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.bytes += chunk.byteLength;
      this.#tail = (this.#tail + chunk.subarray(-16).toString('latin1')).slice(-16);
    });
    this.socket.on('close', () => {
      this.closed = true;
    });
    this.socket.on('error', () => {});
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
  }

  /** Whether the chunked body has ended (its last-chunk marker arrived). */
  get bodyEnded(): boolean {
    return this.#tail.endsWith('\r\n0\r\n\r\n');
  }

  /** The response body, de-chunked; a truncated final chunk is kept as far as it arrived. */
  body(): string {
    const raw = Buffer.concat(this.chunks);
    let at = raw.indexOf('\r\n\r\n') + 4;
    const parts: Buffer[] = [];
    while (at < raw.byteLength) {
      const lineEnd = raw.indexOf('\r\n', at);
      if (lineEnd === -1) break;
      const size = Number.parseInt(raw.subarray(at, lineEnd).toString('latin1'), 16);
      if (size === 0) break;
      parts.push(raw.subarray(lineEnd + 2, Math.min(lineEnd + 2 + size, raw.byteLength)));
      at = lineEnd + 2 + size + 2;
    }
    return Buffer.concat(parts).toString('utf8');
  }

  head(): string {
    const raw = Buffer.concat(this.chunks);
    return raw.subarray(0, raw.indexOf('\r\n\r\n')).toString('latin1');
  }
}

/** Parses SSE text; an incomplete trailing event is not reported. */
function parse(text: string): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  createParser({ onEvent: (event) => events.push(event) }).feed(text);
  return events;
}

/** Checks every event is whole (its data matches its id) and returns the ids. */
function wholeEventIds(events: readonly EventSourceMessage[]): number[] {
  return events.map((event) => {
    const id = Number(event.id);
    expect(event.data).toBe(payload(id));
    return id;
  });
}

interface Run {
  slow: SseStream;
  fast: SseStream;
  slowSocket: SlowSocket;
  fastClient: RecordingClient;
  slowWatch: Watch;
  fastWatch: Watch;
  sent: number;
  maxSlowQueued: number;
  /** Milliseconds from the last send until the fast client had every event. */
  fastLagMs: number;
}

/**
 * Opens a paused slow client and a fast EventSource on one server, then writes 1 KB events
 * through both in batches until the slow client's overflow policy has clearly applied.
 */
async function writeThroughBoth(overflow: OverflowPolicy, slowEnough: (slow: SseStream, seen: Watch) => boolean): Promise<Run> {
  const streams = new Map<string, Inbox<SseStream>>([
    ['/slow', new Inbox()],
    ['/fast', new Inbox()],
  ]);
  server = await listen((req, res) => {
    streams.get(req.url ?? '')?.push(createNodeStream(req, res, { maxQueueBytes: MAX_QUEUE_BYTES, overflow }));
  });
  const port = Number(new URL(server.url).port);

  const slowSocket = new SlowSocket(port, '/slow');
  cleanups.push(() => slowSocket.socket.destroy());
  const slow = await (streams.get('/slow') as Inbox<SseStream>).next();
  await until(() => slowSocket.head().length > 0, 5000, 'the slow client response head');
  slowSocket.socket.pause();
  expect(slowSocket.head()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);

  const fastClient = new RecordingClient(`${server.url}/fast`);
  cleanups.push(() => fastClient.close());
  const fast = await (streams.get('/fast') as Inbox<SseStream>).next();

  const slowWatch = watch(slow);
  const fastWatch = watch(fast);
  let maxSlowQueued = 0;
  let sent = 0;
  while (sent < MIN_EVENTS || !slowEnough(slow, slowWatch)) {
    if (sent >= MAX_EVENTS) throw new Error(`the slow client never overflowed after ${sent} events`);
    for (let b = 0; b < BATCH; b++, sent++) {
      const event = { id: String(sent), data: payload(sent) };
      fast.send(event);
      if (!slow.closed) slow.send(event);
      expect(slow.queuedBytes).toBeLessThanOrEqual(MAX_QUEUE_BYTES);
      maxSlowQueued = Math.max(maxSlowQueued, slow.queuedBytes);
    }
    await nextTurn();
  }
  const lastSentAt = Date.now();
  await fastClient.waitFor('message', sent, 10_000);
  const fastLagMs = Date.now() - lastSentAt;
  return { slow, fast, slowSocket, fastClient, slowWatch, fastWatch, sent, maxSlowQueued, fastLagMs };
}

/** The fast client got every event, whole and in order, promptly, and its stream never overflowed. */
function expectFastClientServed(result: Run): void {
  const { fastClient, fast, fastWatch, sent, fastLagMs } = result;
  expect(fastClient.events).toHaveLength(sent);
  fastClient.events.forEach((event, i) => {
    if (event.lastEventId !== String(i) || event.data !== payload(i)) {
      throw new Error(`fast client event #${i} is ${event.lastEventId}: ${event.data.slice(0, 20)}`);
    }
  });
  expect(fastLagMs).toBeLessThan(3000);
  expect(fastWatch.overflows).toBe(0);
  expect(fast.closed).toBe(false);
  expect(fastClient.errors).toBe(0);
}

describe('SseStream backpressure (node:http, real sockets)', () => {
  it("with overflow 'disconnect', drops the slow client once its queue is full and keeps serving the fast one", async () => {
    const result = await writeThroughBoth('disconnect', (slow) => slow.closed);
    const { slow, slowSocket, slowWatch, sent, maxSlowQueued } = result;

    expect(slow.closed).toBe(true);
    expect(slow.signal.aborted).toBe(true);
    expect(slow.queuedBytes).toBe(0);
    expect(slowWatch).toEqual({ overflows: 1, dropped: 0, disconnected: 1, closes: 1 });
    expect(maxSlowQueued).toBeLessThanOrEqual(MAX_QUEUE_BYTES);
    expect(() => slow.sendData('late')).toThrow(expect.objectContaining({ code: 'ERR_SSEHUB_STREAM_CLOSED' }));
    expectFastClientServed(result);

    // What reached the slow client before the cut is a gap-free prefix of whole events.
    slowSocket.socket.resume();
    await until(() => slowSocket.closed, 10_000, 'the slow socket to close');
    expect(slowSocket.bodyEnded).toBe(false);
    const ids = wholeEventIds(parse(slowSocket.body()));
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.length).toBeLessThan(sent);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i));
  });

  it("with overflow 'drop-oldest', keeps the slow client with a bounded queue, and it later gets a suffix ending with the last event", async () => {
    const result = await writeThroughBoth('drop-oldest', (_slow, seen) => seen.dropped >= 500);
    const { slow, slowSocket, slowWatch, sent, maxSlowQueued } = result;

    expect(slow.closed).toBe(false);
    expect(slow.backpressured).toBe(true);
    expect(slowWatch.disconnected).toBe(0);
    expect(slowWatch.closes).toBe(0);
    expect(slowWatch.dropped).toBeGreaterThanOrEqual(500);
    // The bound was reached and never passed.
    expect(maxSlowQueued).toBeLessThanOrEqual(MAX_QUEUE_BYTES);
    expect(maxSlowQueued).toBeGreaterThan(MAX_QUEUE_BYTES - 2 * (PAYLOAD_CHARS + 32));
    expect(slow.queuedBytes).toBeLessThanOrEqual(MAX_QUEUE_BYTES);
    const queuedAtEnd = slow.queuedBytes;
    expectFastClientServed(result);

    // The slow client reads again: the queue drains, then the stream ends cleanly.
    slowSocket.socket.resume();
    await until(() => !slow.backpressured && slow.queuedBytes === 0, 10_000, 'the slow stream to drain');
    slow.close();
    await until(() => slowSocket.bodyEnded, 10_000, 'the end of the slow body');

    const ids = wholeEventIds(parse(slowSocket.body()));
    // Every event was either delivered or counted as dropped, each exactly once, in order.
    expect(ids.length + slowWatch.dropped).toBe(sent);
    for (let i = 1; i < ids.length; i++) expect(ids[i] as number).toBeGreaterThan(ids[i - 1] as number);
    expect(ids.at(-1)).toBe(sent - 1);
    expect(ids[0]).toBe(0);
    // The tail is a gap-free run ending with the last event, at least as long as the final queue.
    let tail = 1;
    while (tail < ids.length && ids[ids.length - 1 - tail] === sent - 1 - tail) tail++;
    expect(tail).toBeGreaterThanOrEqual(Math.floor(queuedAtEnd / (PAYLOAD_CHARS + 32)));
    expect(tail).toBeLessThan(sent);
  });
});

describe('SseStream backpressure (Web stream, unread body)', () => {
  const eventBytes = (i: number): number => Buffer.byteLength(`id: ${i}\ndata: ${payload(i)}\n\n`);

  it("with overflow 'drop-oldest', bounds the queue and delivers the head, then a gap-free tail ending with the last event", async () => {
    const max = 8 * 1024;
    const { stream, response } = createWebStream(undefined, { maxQueueBytes: max, overflow: 'drop-oldest' });
    const seen = watch(stream);
    const total = 400;
    for (let i = 0; i < total; i++) {
      stream.send({ id: String(i), data: payload(i) });
      if (stream.backpressured) expect(stream.queuedBytes).toBeLessThanOrEqual(max);
      if (i % 20 === 19) await nextTurn();
    }
    expect(stream.backpressured).toBe(true);
    expect(stream.closed).toBe(false);
    expect(stream.queuedBytes).toBeLessThanOrEqual(max);
    const queuedAtEnd = stream.queuedBytes;
    expect(queuedAtEnd).toBeGreaterThan(max - eventBytes(total - 1));
    expect(seen.dropped).toBeGreaterThan(0);
    expect(seen.disconnected).toBe(0);

    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const lastEvent = `id: ${total - 1}\ndata: ${payload(total - 1)}\n\n`;
    while (!text.endsWith(lastEvent)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    stream.close();
    const ids = wholeEventIds(parse(text));
    expect(ids.length + seen.dropped).toBe(total);
    expect(ids[0]).toBe(0);
    expect(ids.at(-1)).toBe(total - 1);
    for (let i = 1; i < ids.length; i++) expect(ids[i] as number).toBeGreaterThan(ids[i - 1] as number);
    let tail = 1;
    while (tail < ids.length && ids[ids.length - 1 - tail] === total - 1 - tail) tail++;
    // The final queue held exactly the last `run` events (the oldest of them were dropped first).
    let tailBytes = 0;
    for (let i = total - tail; i < total; i++) tailBytes += eventBytes(i);
    expect(tailBytes).toBe(queuedAtEnd);
  });

  it("with overflow 'disconnect', destroys the stream when the unread queue would pass the bound", async () => {
    const max = 8 * 1024;
    const { stream, response } = createWebStream(undefined, { maxQueueBytes: max });
    const seen = watch(stream);
    let sent = 0;
    while (!stream.closed && sent < 1000) {
      stream.send({ id: String(sent), data: payload(sent) });
      sent++;
      if (stream.backpressured) expect(stream.queuedBytes).toBeLessThanOrEqual(max);
      if (sent % 20 === 0) await nextTurn();
    }
    expect(stream.closed).toBe(true);
    expect(seen).toEqual({ overflows: 1, dropped: 0, disconnected: 1, closes: 1 });
    expect(stream.signal.aborted).toBe(true);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await expect(reader.read()).rejects.toThrow('SSE stream destroyed');
  });
});
