/**
 * Shared pieces of the `createSseServer` suite: a server on a loopback port whose every
 * connection is cut on cleanup, a raw TCP client that keeps every byte it receives, a strict
 * reader of HTTP/1.1 responses and chunked bodies, and the `Scope` of the hub suite.
 */
import { once } from 'node:events';
import net from 'node:net';
import { expect } from 'vitest';
import {
  type ConnectionAcceptor,
  createHub,
  createSseServer,
  type EventMap,
  type Hub,
  type HubOptions,
  type SseServer,
  type SseServerOptions,
} from '../../src/index.js';
import { fromQuery, type Scope } from '../hub/helpers.js';

export { fromQuery, parseEvents, Scope, waitFor } from '../hub/helpers.js';

/** A `createSseServer` listening on 127.0.0.1. */
export interface SseTestServer {
  readonly server: SseServer;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Server-side sockets, in accept order. */
  readonly sockets: net.Socket[];
}

/** A hub for a test (heartbeats off, identity from the query), closed by the scope. */
export function hubOf<Events extends EventMap = Record<string, unknown>, Meta extends object = Record<string, unknown>>(
  scope: Scope,
  options: HubOptions<Events, Meta> = {},
): Hub<Events, Meta> {
  const hub = createHub<Events, Meta>({ heartbeatMs: 0, authenticate: fromQuery, ...options });
  scope.defer(() => hub.close({ timeoutMs: 200 }));
  return hub;
}

/** `createSseServer(hub, options)` on a free loopback port; closed (connections cut) by the scope. */
export async function sseServer(scope: Scope, hub: ConnectionAcceptor, options?: SseServerOptions): Promise<SseTestServer> {
  const server = createSseServer(hub, options);
  const sockets: net.Socket[] = [];
  server.on('connection', (socket: net.Socket) => sockets.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  scope.defer(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as net.AddressInfo;
  return { server, port, url: `http://127.0.0.1:${port}`, sockets };
}

/** A plain TCP client that records every byte it receives. */
export class RawSocket {
  readonly socket: net.Socket;
  received: Buffer = Buffer.alloc(0);
  /** The server ended its side (FIN received). */
  ended = false;
  /** The socket is fully closed. */
  closed = false;
  error: Error | undefined;
  readonly connected: Promise<void>;

  constructor(port: number, options: { allowHalfOpen?: boolean } = {}) {
    this.socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: options.allowHalfOpen ?? false });
    this.connected = once(this.socket, 'connect').then(() => undefined);
    this.socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
    });
    this.socket.on('end', () => {
      this.ended = true;
    });
    this.socket.on('close', () => {
      this.closed = true;
    });
    this.socket.on('error', (error) => {
      this.error = error;
    });
  }

  /** Opens a raw connection, closed by the scope. */
  static open(scope: Scope, port: number, options?: { allowHalfOpen?: boolean }): RawSocket {
    const raw = new RawSocket(port, options);
    scope.defer(() => raw.socket.destroy());
    return raw;
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Everything received, as latin1 text (one character per byte). */
  get text(): string {
    return this.received.toString('latin1');
  }

  async until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}; got ${JSON.stringify(this.text.slice(0, 2000))}`);
      await sleep(5);
    }
  }

  /** Waits for a complete response head; returns it parsed. */
  async head(): Promise<ResponseHead> {
    await this.until(() => this.received.indexOf('\r\n\r\n') !== -1, 'a response head');
    return splitResponse(this.received).head;
  }

  /** The event-stream body received so far, de-chunked (strict; a trailing partial chunk is left out). */
  get body(): Dechunked {
    return dechunk(splitResponse(this.received).body);
  }

  /** Waits until the de-chunked body holds `text` (so far). */
  async untilBody(predicate: (text: string) => boolean, what: string, timeoutMs = 5000): Promise<void> {
    await this.until(() => this.received.indexOf('\r\n\r\n') !== -1 && predicate(this.body.text), what, timeoutMs);
  }

  closedPromise(): Promise<void> {
    return this.until(() => this.closed, 'the socket to close');
  }
}

/** A parsed response head. */
export interface ResponseHead {
  /** Every line, status line first, without the final blank line. */
  readonly lines: string[];
  readonly status: number;
  /** Values by lower-case name; repeated names keep every value. */
  readonly headers: Record<string, string[]>;
}

export function parseHead(text: string): ResponseHead {
  const lines = text.split('\r\n');
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0] ?? '');
  if (match === null) throw new Error(`not a status line: ${JSON.stringify(lines[0])}`);
  const headers: Record<string, string[]> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`not a header line: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).toLowerCase();
    (headers[name] ??= []).push(line.slice(colon + 1).trim());
  }
  return { lines, status: Number(match[1]), headers };
}

/** Splits received bytes into the first response head and everything after it. */
export function splitResponse(bytes: Buffer): { head: ResponseHead; body: Buffer } {
  const end = bytes.indexOf('\r\n\r\n');
  if (end === -1) throw new Error(`no complete head in ${JSON.stringify(bytes.toString('latin1'))}`);
  return { head: parseHead(bytes.toString('latin1', 0, end)), body: bytes.subarray(end + 4) };
}

/** A chunked body read so far. */
export interface Dechunked {
  /** The data of every complete chunk, as UTF-8. */
  readonly text: string;
  /** The size of every complete data chunk, in order. */
  readonly sizes: number[];
  /** The last chunk (`0\r\n\r\n`) was received. */
  readonly complete: boolean;
  /** Bytes after the last chunk (must be none), or of a chunk still arriving. */
  readonly rest: Buffer;
}

/** Reads a chunked body strictly: any framing error throws. */
export function dechunk(body: Buffer): Dechunked {
  const parts: Buffer[] = [];
  const sizes: number[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd === -1) break;
    const sizeText = body.toString('latin1', at, lineEnd);
    if (!/^[0-9a-f]+$/.test(sizeText)) throw new Error(`bad chunk size line ${JSON.stringify(sizeText)} at ${at}`);
    const size = Number.parseInt(sizeText, 16);
    if (size === 0) {
      if (body.length < lineEnd + 4) break;
      if (body.toString('latin1', lineEnd + 2, lineEnd + 4) !== '\r\n') throw new Error('bad last chunk');
      return { text: Buffer.concat(parts).toString('utf8'), sizes, complete: true, rest: body.subarray(lineEnd + 4) };
    }
    const dataEnd = lineEnd + 2 + size;
    if (body.length < dataEnd + 2) break;
    if (body.toString('latin1', dataEnd, dataEnd + 2) !== '\r\n') throw new Error(`chunk of ${size} bytes not followed by CRLF`);
    parts.push(body.subarray(lineEnd + 2, dataEnd));
    sizes.push(size);
    at = dataEnd + 2;
  }
  return { text: Buffer.concat(parts).toString('utf8'), sizes, complete: false, rest: body.subarray(at) };
}

/** An HTTP date within a few seconds of now. */
export function expectRecentDate(value: string | undefined): void {
  expect(value).toMatch(
    /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/,
  );
  expect(Math.abs(Date.parse(value as string) - Date.now())).toBeLessThan(5000);
}

/** The head lines of an event stream, the date line matched loosely (checked by `expectRecentDate`). */
export function streamHeadLines(extra: string[] = []): unknown[] {
  return [
    'HTTP/1.1 200 OK',
    'content-type: text/event-stream; charset=utf-8',
    'cache-control: no-cache, no-transform',
    'x-accel-buffering: no',
    ...extra,
    expect.stringMatching(/^date: /),
    'connection: close',
    'transfer-encoding: chunked',
  ];
}

/** A request head for the event stream. */
export function getHead(target = '/events', headers: Record<string, string> = {}): string {
  let head = `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return `${head}\r\n`;
}

/** One complete fixed-length response (for refusals): head and body, with nothing after it. */
export function completeOf(bytes: Buffer): { head: ResponseHead; body: string } {
  const { head, body } = splitResponse(bytes);
  const length = Number(head.headers['content-length']?.[0]);
  expect(body.byteLength).toBe(length);
  return { head, body: body.toString('utf8') };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
