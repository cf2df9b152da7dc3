/**
 * Shared pieces of the stream tests: a server whose handler hands each new `SseStream` to the
 * test, raw HTTP clients that record the exact bytes, an SSE parser over those bytes, and a
 * polling wait.
 */
import http from 'node:http';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { SseStream } from '../../src/stream/SseStream.js';
import { listen, type TestServer } from '../support/servers.js';

/** Resolves when `predicate` holds, polling every few ms; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 5000, what: string | (() => string) = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Hands out server-side objects in arrival order: `next()` waits for the next one. */
export class Inbox<T> {
  readonly items: T[] = [];
  #taken = 0;
  #waiters: Array<() => void> = [];

  push(item: T): void {
    this.items.push(item);
    for (const wake of this.#waiters.splice(0)) wake();
  }

  async next(timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (this.items.length <= this.#taken) {
      if (Date.now() > deadline) throw new Error('Timed out waiting for a server-side stream');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.items[this.#taken++] as T;
  }
}

/** A loopback `node:http` server where every request opens a stream via `open`. */
export async function streamServer(
  open: (req: http.IncomingMessage, res: http.ServerResponse) => SseStream,
): Promise<{ server: TestServer; streams: Inbox<SseStream> }> {
  const streams = new Inbox<SseStream>();
  const server = await listen((req, res) => {
    streams.push(open(req, res));
  });
  return { server, streams };
}

/** A raw `http.get` that keeps every body byte, for exact wire assertions. */
export class RawClient {
  readonly request: http.ClientRequest;
  readonly response: Promise<http.IncomingMessage>;
  readonly chunks: Buffer[] = [];
  /** Set once the response body has ended cleanly. */
  ended = false;
  /** Set once the connection is gone (cleanly or not). */
  closed = false;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.request = http.get(url, { headers, agent: false });
    this.response = new Promise((resolve, reject) => {
      this.request.on('response', (res) => {
        res.on('data', (chunk: Buffer) => this.chunks.push(chunk));
        res.on('end', () => {
          this.ended = true;
        });
        res.on('close', () => {
          this.closed = true;
        });
        res.on('error', () => {});
        resolve(res);
      });
      this.request.on('error', (error) => {
        this.closed = true;
        reject(error);
      });
    });
    this.response.catch(() => {});
  }

  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  /** Waits until the body received so far equals `expected`. */
  async waitForText(expected: string, timeoutMs = 5000): Promise<void> {
    await until(
      () => this.text === expected,
      timeoutMs,
      () => `body ${JSON.stringify(expected)}, got ${JSON.stringify(this.text)}`,
    );
  }

  /** Cuts the connection from the client side. */
  disconnect(): void {
    this.request.destroy();
  }
}

/** Parses SSE text with `eventsource-parser`; trailing incomplete input is ignored. */
export function parseEvents(text: string): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event) });
  parser.feed(text);
  return events;
}
