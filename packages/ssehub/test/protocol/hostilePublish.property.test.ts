/**
 * Fuzzing of the hub's publish API with hostile event names and data, read from the wire:
 * one hub served both by `hub.handler()` on node:http (read with node's HTTP client) and by
 * `createSseServer(hub)` (read with a plain TCP socket and a strict de-chunker), each stream
 * parsed by `eventsource-parser`. It proves that subscribers parse exactly the published
 * events — event type, data (strings as sent, anything else as JSON), the hub's
 * `<epoch>-<seq>` id — in order and nothing else; that an event name holding CR, LF or NUL is
 * refused with `InvalidFieldError` before the backend sees it (no seq is spent, no byte is
 * written); and that the streams go on exactly after a refusal. Subscribers, users, rooms and
 * client ids carry hostile names of their own.
 */
import http from 'node:http';
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHub, type Hub, InvalidFieldError, parseEventId } from '../../src/index.js';
import { Scope, sseServer } from '../http/helpers.js';
import { fromQuery, waitFor } from '../hub/helpers.js';
import {
  dataAsRead,
  firstDifference,
  forbiddenField,
  hostileJson,
  hostileText,
  StreamReader,
  singleLineText,
  wellFormed,
} from '../support/hostile.js';
import { listen } from '../support/servers.js';

const RUNS = 60;
const LONG_RUNS = 3;

// Subscriber identities as hostile as a query string can carry (it cannot carry lone surrogates).
const USER = 'ada\r\n\0\u2028"😀"\\ data: x';
const ROOM = 'lobby\n\ndata: forged\n\n\u0085\uFEFF';
const CLIENTS = { node: 'node\r\revent: forged\r', socket: 'socket\0\n\nid: 1-1' } as const;

const query = (clientId: string): string =>
  `/events?id=${encodeURIComponent(clientId)}&user=${encodeURIComponent(USER)}&room=${encodeURIComponent(ROOM)}`;

/** One parsed event, as the expected lists are written. */
interface Parsed {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

/** The events one connection has parsed, from its bytes, as they arrive. */
abstract class WireSubscriber {
  readonly reader = new StreamReader();
  /** Events already checked by an earlier run. */
  seen = 0;

  protected feed(bytes: Uint8Array): void {
    try {
      this.reader.feed(bytes);
    } catch (error) {
      this.reader.errors.push(String(error));
    }
  }

  /** Waits for an event of type `type` carrying `data`, past the events already seen. */
  async until(type: string, data: string): Promise<void> {
    await waitFor(
      () => this.reader.events.slice(this.seen).some((event) => event.event === type && event.data === data),
      `a "${type}" event with data ${JSON.stringify(data)} on ${this.constructor.name}; errors ${JSON.stringify(this.reader.errors)}`,
    );
  }

  /** The events parsed since the last call. */
  take(): Parsed[] {
    const events = this.reader.events.slice(this.seen);
    this.seen = this.reader.events.length;
    return events.map(({ id, event, data }) => ({ id, event, data }));
  }

  abstract close(): void;
}

/** Reads `hub.handler()` on node:http through node's HTTP client (which de-chunks). */
class HttpSubscriber extends WireSubscriber {
  readonly #request: http.ClientRequest;
  status: number | undefined;

  constructor(url: string) {
    super();
    this.#request = http.get(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      this.status = res.statusCode;
      res.on('data', (chunk: Buffer) => this.feed(chunk));
    });
    this.#request.on('error', (error) => this.reader.errors.push(String(error)));
  }

  close(): void {
    this.#request.destroy();
  }
}

/** Reads `createSseServer` with a plain socket: the head, then a strictly checked chunked body. */
class SocketSubscriber extends WireSubscriber {
  readonly #socket: net.Socket;
  #pending: Buffer = Buffer.alloc(0);
  #state: 'head' | 'size' | 'data' | 'crlf' | 'done' = 'head';
  #left = 0;
  status: number | undefined;

  constructor(port: number, target: string) {
    super();
    this.#socket = net.connect({ port, host: '127.0.0.1' });
    this.#socket.on('connect', () => this.#socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`));
    this.#socket.on('data', (chunk: Buffer) => {
      try {
        this.#dechunk(chunk);
      } catch (error) {
        this.reader.errors.push(String(error));
        this.#socket.destroy();
      }
    });
    this.#socket.on('error', (error) => this.reader.errors.push(String(error)));
  }

  #dechunk(chunk: Buffer): void {
    this.#pending = this.#pending.byteLength === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    for (;;) {
      if (this.#state === 'head') {
        const end = this.#pending.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = this.#pending.toString('latin1', 0, end);
        this.status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
        if (!/\r\ntransfer-encoding: chunked(\r\n|$)/i.test(head)) throw new Error(`not a chunked stream: ${JSON.stringify(head)}`);
        this.#pending = this.#pending.subarray(end + 4);
        this.#state = 'size';
      } else if (this.#state === 'size') {
        const end = this.#pending.indexOf('\r\n');
        if (end === -1) return;
        const line = this.#pending.toString('latin1', 0, end);
        if (!/^[0-9a-f]+$/.test(line)) throw new Error(`bad chunk size line ${JSON.stringify(line)}`);
        this.#left = Number.parseInt(line, 16);
        this.#pending = this.#pending.subarray(end + 2);
        this.#state = this.#left === 0 ? 'done' : 'data';
      } else if (this.#state === 'data') {
        if (this.#pending.byteLength === 0) return;
        const take = Math.min(this.#left, this.#pending.byteLength);
        this.feed(this.#pending.subarray(0, take));
        this.#pending = this.#pending.subarray(take);
        this.#left -= take;
        if (this.#left === 0) this.#state = 'crlf';
      } else if (this.#state === 'crlf') {
        if (this.#pending.byteLength < 2) return;
        if (this.#pending.toString('latin1', 0, 2) !== '\r\n') throw new Error('a chunk not followed by CRLF');
        this.#pending = this.#pending.subarray(2);
        this.#state = 'size';
      } else {
        if (this.#pending.byteLength > 0) throw new Error('bytes after the last chunk');
        return;
      }
    }
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** How an event is published: the API used and whom it targets. */
type Via = 'broadcast' | 'publish' | 'room' | 'user' | 'client' | 'nobody';

interface Op {
  via: Via;
  /** Undefined only with `publish` (a `message` event). */
  event: string | undefined;
  data: unknown;
  /** Hostile names added to the target (they match no connection). */
  others: string[];
}

/** The `data` a subscriber must parse for `data`: strings as sent, anything else as JSON. */
function dataOf(data: unknown): string {
  return typeof data === 'string' ? dataAsRead(data) : (JSON.stringify(data) ?? '');
}

const eventName = fc.oneof(
  { weight: 3, arbitrary: singleLineText(16) },
  { weight: 2, arbitrary: forbiddenField() },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const payload = fc.oneof(
  { weight: 3, arbitrary: hostileText(40) },
  { weight: 3, arbitrary: hostileJson() },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const OWN_NAMES: readonly string[] = [USER, ROOM, CLIENTS.node, CLIENTS.socket];
const others = fc.array(hostileText(10, 1), { maxLength: 2 }).map((names) => names.filter((name) => !OWN_NAMES.includes(name)));

const op: fc.Arbitrary<Op> = fc
  .record({
    via: fc.constantFrom<Via>('broadcast', 'publish', 'room', 'user', 'client', 'nobody'),
    event: eventName,
    data: payload,
    others,
  })
  .map((drawn) => (drawn.event === undefined ? { ...drawn, via: 'publish' as const } : drawn));

/** An op whose event name is accepted and which reaches both subscribers. */
const reachingOp: fc.Arbitrary<Op> = fc.record({
  via: fc.constantFrom<Via>('broadcast', 'publish', 'room', 'user', 'client'),
  event: singleLineText(16),
  data: payload,
  others,
});

describe('hub.publish with hostile input, read from the wire', () => {
  const scope = new Scope();
  let hub: Hub;
  let epoch: string;
  let seq: number;
  let subscribers: WireSubscriber[];
  let fences = 0;

  beforeAll(async () => {
    // A roomy queue: a slow reader on a busy machine must not be cut by the overflow policy.
    hub = createHub({ heartbeatMs: 0, authenticate: fromQuery<Record<string, unknown>>, maxQueueBytes: 64 * 1024 * 1024 });
    scope.defer(() => hub.close({ timeoutMs: 500 }));
    const onHttp = await listen(hub.handler());
    scope.defer(() => onHttp.close());
    const onSocket = await sseServer(scope, hub);
    const head = parseEventId(hub.stats().history.headId);
    if (head === undefined) throw new Error('the hub has no head id');
    ({ epoch, seq } = head);
    const viaHttp = new HttpSubscriber(`${onHttp.url}${query(CLIENTS.node)}`);
    const viaSocket = new SocketSubscriber(onSocket.port, query(CLIENTS.socket));
    subscribers = [viaHttp, viaSocket];
    for (const subscriber of subscribers) scope.defer(() => subscriber.close());
    const hello = (clientId: string) => JSON.stringify({ clientId, userId: USER });
    await viaHttp.until('connected', hello(CLIENTS.node));
    await viaSocket.until('connected', hello(CLIENTS.socket));
    expect([viaHttp.status, viaSocket.status]).toEqual([200, 200]);
    // The connected event carries the hostile identity as JSON; its id is the head id.
    expect(viaHttp.take()).toEqual([{ id: `${epoch}-${seq}`, event: 'connected', data: hello(CLIENTS.node) }]);
    expect(viaSocket.take()).toEqual([{ id: `${epoch}-${seq}`, event: 'connected', data: hello(CLIENTS.socket) }]);
    expect(hub.getClient(CLIENTS.node)?.userId).toBe(USER);
    expect(hub.roomSize(ROOM)).toBe(2);
  });

  afterAll(() => scope.dispose());

  function send({ via, event, data, others: extra }: Op): Promise<string> {
    const name = event as string;
    switch (via) {
      case 'broadcast':
        return hub.broadcast(name, data);
      case 'publish':
        return hub.publish({ event, data, target: { all: true } });
      case 'room':
        return hub.toRoom(...extra, ROOM).send(name, data);
      case 'user':
        return hub.toUser(USER, ...extra).send(name, data);
      case 'client':
        return hub.toClient(CLIENTS.node, ...extra, CLIENTS.socket).send(name, data);
      case 'nobody':
        return hub
          .toRoom(...extra)
          .toUser(...extra)
          .toClient(...extra)
          .send(name, data);
    }
  }

  /**
   * Starts a run from a known state, whatever an earlier (failed) run left: a fence read to
   * the end by both subscribers, and the seq it was published at.
   */
  async function settle(): Promise<void> {
    const fence = String(++fences);
    const id = await hub.broadcast('fence', fence);
    for (const subscriber of subscribers) {
      await subscriber.until('fence', fence);
      subscriber.take();
    }
    seq = parseEventId(id)?.seq ?? Number.NaN;
  }

  /** Publishes `ops` in order, then a fence; asserts both streams parsed exactly what was accepted. */
  async function publishAndCheck(ops: readonly Op[]): Promise<void> {
    await settle();
    const want: Parsed[] = [];
    for (const item of ops) {
      const published = hub.counters.published;
      const sending = send(item);
      const refused = item.event !== undefined && /[\r\n\0]/.test(item.event);
      if (refused) {
        // Refused before the backend: nothing was delivered, no seq was spent.
        expect(hub.counters.published).toBe(published);
        const error = await sending.then(
          () => undefined,
          (reason: unknown) => reason,
        );
        expect(error).toBeInstanceOf(InvalidFieldError);
        expect((error as InvalidFieldError).code).toBe('ERR_SSEHUB_INVALID_FIELD');
        expect((error as InvalidFieldError).field).toBe('event');
        continue;
      }
      // The memory backend delivers before publish returns: the event is queued already.
      expect(hub.counters.published).toBe(published + 1);
      const id = await sending;
      expect(id).toBe(`${epoch}-${++seq}`);
      if (item.via === 'nobody') continue;
      want.push({ id, event: item.event === undefined || item.event === '' ? undefined : wellFormed(item.event), data: dataOf(item.data) });
    }
    const fence = String(++fences);
    const fenceId = await hub.broadcast('fence', fence);
    expect(fenceId).toBe(`${epoch}-${++seq}`);
    want.push({ id: fenceId, event: 'fence', data: fence });
    for (const subscriber of subscribers) {
      await subscriber.until('fence', fence);
      const got = subscriber.take();
      expect(subscriber.reader.errors).toEqual([]);
      expect(subscriber.reader.comments).toEqual([]);
      // The hub's retry hint, once, at connect: no publish makes another.
      expect(subscriber.reader.retries).toEqual([2000]);
      // Ids and types first (a readable diff), then each data, however long.
      expect(got.map(({ id, event }) => ({ id, event }))).toEqual(want.map(({ id, event }) => ({ id, event })));
      expect(got.map((event, i) => firstDifference(event.data, (want[i] as Parsed).data))).toEqual(want.map(() => -1));
    }
  }

  it('never delivers a field or event that was not published, and refuses hostile event names', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 6 }), (ops) => publishAndCheck(ops)),
      { numRuns: RUNS },
    );
  });

  it('goes on exactly after a refusal: the events around it arrive, with consecutive ids', async () => {
    await fc.assert(
      fc.asyncProperty(reachingOp, forbiddenField(), reachingOp, (before, bad, after) =>
        publishAndCheck([before, { ...before, event: bad }, after]),
      ),
      { numRuns: RUNS / 2 },
    );
  });

  it('delivers hostile data of 64 KiB to 256 KiB intact', async () => {
    // The pattern and the size are drawn, the value built from them: a failure prints short.
    const size = fc.integer({ min: 64 * 1024, max: 256 * 1024 });
    await fc.assert(
      fc.asyncProperty(hostileText(40, 8), size, singleLineText(16), (unit, length, event) => {
        const data = unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
        return publishAndCheck([
          { via: 'broadcast', event, data, others: [] },
          { via: 'room', event, data: { data }, others: [] },
        ]);
      }),
      { numRuns: LONG_RUNS },
    );
  });
});
