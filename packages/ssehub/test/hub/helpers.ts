/**
 * Shared pieces of the hub suite: a scope that closes everything a test opened, a hub on a
 * loopback server, `eventsource` clients, raw HTTP readers (to see exact bytes, status codes
 * and headers) and condition waits.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import type { EventSourceInit } from 'eventsource';
import { type ClientInit, type ConnectRequest, createHub, type EventMap, type Hub, type HubOptions } from '../../src/index.js';
import { RecordingClient, sleep } from '../support/clients.js';
import { listen, type TestServer } from '../support/servers.js';

/** Resolves when `predicate` holds; rejects after `timeoutMs` naming `what`. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * The identity of a connection from its query string: `user`, `room` (repeatable) and `id`
 * (a stable client id).
 */
export function fromQuery<Meta>(request: ConnectRequest): ClientInit<Meta> {
  const params = request.query;
  const user = params.get('user');
  const id = params.get('id');
  return {
    ...(user === null ? {} : { userId: user }),
    ...(id === null ? {} : { clientId: id }),
    rooms: params.getAll('room'),
  };
}

/** What the first `connected` event carries. */
export interface Connected {
  clientId: string;
  userId: string | null;
}

/** A finished HTTP exchange. */
export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One plain HTTP request, read to the end. */
export function request(url: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** An event-stream response read as raw text, as it arrives. */
export class RawStream {
  readonly request: http.ClientRequest;
  text = '';
  status: number | undefined;
  headers: IncomingHttpHeaders | undefined;
  /** The response ended cleanly (the server finished it). */
  ended = false;
  /** The connection closed, cleanly or not. */
  closed = false;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.request = http.get(url, { agent: false, headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      this.status = res.statusCode;
      this.headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        this.text += chunk;
      });
      res.on('end', () => {
        this.ended = true;
      });
      res.on('close', () => {
        this.closed = true;
      });
      res.on('error', () => {
        this.closed = true;
      });
    });
    this.request.on('error', () => {
      this.closed = true;
    });
  }

  /** The `data` of every event of type `type` so far. */
  dataOf(type: string): string[] {
    return parseEvents(this.text)
      .filter((event) => event.event === type)
      .map((event) => event.data);
  }

  /** Lines that are exactly `:` (heartbeat comments). */
  get heartbeats(): number {
    return this.text.split('\n').filter((line) => line === ':').length;
  }

  /** Waits for the `connected` event and returns what it carries. */
  async connected(): Promise<Connected> {
    await this.until(() => this.dataOf('connected').length > 0, 'the connected event');
    return JSON.parse(this.dataOf('connected')[0] as string) as Connected;
  }

  until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    return waitFor(predicate, `${what}; got ${JSON.stringify(this.text)}`, timeoutMs);
  }

  destroy(): void {
    this.request.destroy();
  }
}

/** Parses complete events of an event-stream text (enough for these tests: LF only). */
export function parseEvents(text: string): Array<{ event: string; data: string; id: string | undefined }> {
  const events: Array<{ event: string; data: string; id: string | undefined }> = [];
  const blocks = text.split('\n\n');
  blocks.pop(); // an unfinished block, or '' after the last complete one
  for (const block of blocks) {
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    let dispatch = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'id') id = value;
      else if (field === 'data') {
        data.push(value);
        dispatch = true;
      }
    }
    if (dispatch) events.push({ event, data: data.join('\n'), id });
  }
  return events;
}

/** Everything a test opened, closed after it (in reverse order), whatever happened. */
export class Scope {
  readonly #cleanups: Array<() => unknown> = [];

  defer(cleanup: () => unknown): void {
    this.#cleanups.push(cleanup);
  }

  /** A hub served by `node:http` on 127.0.0.1. Heartbeats are off unless asked for. */
  async serve<Events extends EventMap = Record<string, unknown>, Meta extends object = Record<string, unknown>>(
    options: HubOptions<Events, Meta> = {},
  ): Promise<{ hub: Hub<Events, Meta>; server: TestServer; url: string }> {
    const hub = createHub<Events, Meta>({ heartbeatMs: 0, authenticate: fromQuery, ...options });
    this.defer(() => hub.close({ timeoutMs: 200 }));
    const server = await listen(hub.handler());
    this.defer(() => server.close());
    return { hub, server, url: server.url };
  }

  /** A real `eventsource` client recording `connected` plus `types`. */
  client(url: string, types: readonly string[] = [], init?: EventSourceInit): RecordingClient {
    const client = new RecordingClient(url, ['connected', ...types], init);
    this.defer(() => client.close());
    return client;
  }

  /** A raw reader of an event stream. */
  raw(url: string, headers?: Record<string, string>): RawStream {
    const stream = new RawStream(url, headers);
    this.defer(() => stream.destroy());
    return stream;
  }

  async dispose(): Promise<void> {
    for (const cleanup of this.#cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch {
        // Cleanup is best effort: the test has already passed or failed.
      }
    }
  }
}

/** What a recording client's `connected` event carries (waits for it). */
export async function connectedOf(client: RecordingClient): Promise<Connected> {
  await client.waitFor('connected');
  return JSON.parse(client.of('connected')[0]?.data ?? '') as Connected;
}

/** The `data` of every event of `type` a recording client got. */
export function dataOf(client: RecordingClient, type: string): string[] {
  return client.of(type).map((event) => event.data);
}
