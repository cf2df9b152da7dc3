import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Backend, BackendHead, BackendMessage, MessageDraft, Target } from '../backends/Backend.js';
import { MemoryBackend } from '../backends/MemoryBackend.js';
import { ClientNotFoundError, ConnectionRefusedError, HubClosedError } from '../errors.js';
import { assertValidHeaders } from '../http/assertValidHeaders.js';
import type { SocketRequest } from '../http/requestHead.js';
import { sealConnection } from '../http/sealConnection.js';
import { encodeComment, encodeEvent, encodeRetryText } from '../protocol/encodeEvent.js';
import { DEFAULT_MAX_LAST_EVENT_ID_LENGTH } from '../protocol/lastEventId.js';
import { assertSingleLineField } from '../protocol/validateField.js';
import { createWebStream, type StreamOptions } from '../stream/createStream.js';
import { DeadPeerGuard } from '../stream/DeadPeerGuard.js';
import type { NodeRequest, NodeResponse } from '../stream/NodeSink.js';
import { DEFAULT_MAX_QUEUE_BYTES, type SseStream } from '../stream/SseStream.js';
import { Audience, type AudiencePublisher, type SendOptions } from './Audience.js';
import { Client, type ClientOwner } from './Client.js';
import { type AnswerableRequest, NodeConnectRequest, SocketConnectRequest, webConnectRequest } from './connectRequest.js';
import { dataText } from './dataText.js';
import { formatEventId } from './eventId.js';
import { History, type HistoryEntry, type HistoryStats, type ResetReason } from './History.js';
import { answerNodeRefusal, refusal, webRefusal } from './refusal.js';
import type { TargetMatcher } from './TargetMatcher.js';
import type { ClientInit, ConnectRequest, DisconnectReason, EventMap, HubOptions, Logger, Refusal } from './types.js';

/** Running totals of a hub since it started. */
export interface HubCounters {
  /** Connections accepted. */
  connections: number;
  /** Connections refused (auth, limits, shutdown). */
  refused: number;
  /** Events delivered to this hub by its backend (its own and other hubs'). */
  published: number;
  /** Event copies queued for connections. */
  delivered: number;
  /** Bytes queued for connections (events, replays, heartbeats excluded). */
  deliveredBytes: number;
  /** Events dropped by the `drop-oldest` policy. */
  dropped: number;
  /** Connections cut because they could not keep up (queue overflow or stall). */
  slowDisconnects: number;
  /** Resumes served from history. */
  replays: number;
  /** Events written by resumes. */
  replayedEvents: number;
  /** Resets sent because a Last-Event-ID could not be resumed from. */
  resets: number;
}

/** A snapshot for status pages. */
export interface HubStats {
  clients: number;
  users: number;
  rooms: number;
  history: HistoryStats;
  counters: Readonly<HubCounters>;
}

// The longest id a hub makes: a 32-character epoch, a dash and a 16-digit seq.
const MIN_LAST_EVENT_ID_LENGTH = 64;
const SILENT: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const HEARTBEAT = encodeComment();

// What `#decide` concludes: who the client is, or why it is refused.
type Decision<Meta> = ClientInit<Meta> | ConnectionRefusedError;
type MaybePromise<T> = T | Promise<T>;

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === 'function';
}

function isRefusal(value: object): value is Refusal {
  return typeof (value as Refusal).refuse === 'number';
}

/**
 * A hub of Server-Sent Events connections: clients, users and rooms, typed events, limits,
 * heartbeat, resume, graceful shutdown. Create one with {@link createHub}.
 */
export class Hub<Events extends EventMap = Record<string, unknown>, Meta extends object = Record<string, unknown>>
  implements ClientOwner<Events, Meta>, AudiencePublisher
{
  /** Running totals since the hub started. */
  readonly counters: HubCounters = {
    connections: 0,
    refused: 0,
    published: 0,
    delivered: 0,
    deliveredBytes: 0,
    dropped: 0,
    slowDisconnects: 0,
    replays: 0,
    replayedEvents: 0,
    resets: 0,
  };

  readonly #options: HubOptions<Events, Meta>;
  readonly #backend: Backend;
  readonly #ownsBackend: boolean;
  readonly #logger: Logger;
  // Per-connection debug lines cost an object each: built only when a logger was given that
  // logs at debug level (pino's `isLevelEnabled`, when it has one; asked once per line).
  get #logsDebug(): boolean {
    const logger = this.#logger as Logger & { isLevelEnabled?: (level: string) => boolean };
    if (logger === SILENT) return false;
    return typeof logger.isLevelEnabled === 'function' ? logger.isLevelEnabled('debug') : true;
  }
  readonly #history: History;
  readonly #streamOptions: StreamOptions;
  readonly #clients = new Map<string, Client<Events, Meta>>();
  readonly #users = new Map<string, Set<Client<Events, Meta>>>();
  readonly #rooms = new Map<string, Set<Client<Events, Meta>>>();
  readonly #leaving = new WeakMap<Client<Events, Meta>, DisconnectReason>();
  readonly #ephemeralRooms: ReadonlySet<string>;
  readonly #ephemeralEvents: ReadonlySet<string>;
  readonly #heartbeat: NodeJS.Timeout | undefined;
  readonly #deadPeers: DeadPeerGuard | undefined;
  readonly #deliver = (message: BackendMessage): void => this.#deliverLocal(message);
  #ready: Promise<void> | undefined;
  // Pending until the backend is subscribed; connections wait for it, then go synchronous.
  #subscribing: Promise<void> | undefined;
  #stamp = 0;
  #pending = 0;
  // Places reserved per user by connections still in setup (see `#decide`).
  readonly #pendingByUser = new Map<string, number>();
  #closing: Promise<void> | undefined;
  // The `retry:` hint every connection starts with (none with `retryMs: false`), encoded once.
  readonly #retryText: string;
  readonly #retryBytes: Buffer | undefined;

  constructor(options: HubOptions<Events, Meta> = {}) {
    this.#options = options;
    this.#ownsBackend = options.backend === undefined;
    this.#backend = options.backend ?? new MemoryBackend();
    this.#logger = options.logger ?? SILENT;
    this.#history = new History(options.history === false ? { maxEvents: 0 } : options.history);
    this.#ephemeralRooms = new Set(options.ephemeralRooms);
    this.#ephemeralEvents = new Set(options.ephemeralEvents);
    if (options.resetEvent !== undefined) assertSingleLineField('event', options.resetEvent);
    if (options.connectedEvent) assertSingleLineField('event', options.connectedEvent);
    // A bad header would otherwise fail every connection, one by one.
    if (options.headers !== undefined) assertValidHeaders(options.headers);
    this.#retryText = options.retryMs === false ? '' : encodeRetryText(options.retryMs ?? 2000);
    this.#retryBytes = this.#retryText === '' ? undefined : Buffer.from(this.#retryText);
    if (options.maxLastEventIdLength !== undefined && !(options.maxLastEventIdLength >= MIN_LAST_EVENT_ID_LENGTH)) {
      // Shorter than the hub's own ids, every resume would be refused as too long, forever.
      throw new RangeError(`maxLastEventIdLength must be at least ${MIN_LAST_EVENT_ID_LENGTH}`);
    }
    this.#streamOptions = {
      maxLastEventIdLength: options.maxLastEventIdLength ?? DEFAULT_MAX_LAST_EVENT_ID_LENGTH,
      ...(options.maxQueueBytes === undefined ? {} : { maxQueueBytes: options.maxQueueBytes }),
      ...(options.overflow === undefined ? {} : { overflow: options.overflow }),
      ...(options.headers === undefined ? {} : { headers: Object.freeze({ ...options.headers }) }),
    };
    const head = this.#backend.subscribe(this.#deliver);
    if (isPromise(head)) {
      const subscribing = head.then(
        (resolved) => this.#start(resolved),
        (error: unknown) => this.#error(error, undefined),
      );
      this.#ready = subscribing;
      this.#subscribing = subscribing.then(() => {
        this.#subscribing = undefined;
      });
    } else this.#start(head);
    const deadPeerTimeoutMs = options.deadPeerTimeoutMs ?? 30_000;
    if (!(Number.isSafeInteger(deadPeerTimeoutMs) && deadPeerTimeoutMs >= 0)) {
      throw new RangeError('deadPeerTimeoutMs must be a non-negative integer (0 turns it off)');
    }
    if (deadPeerTimeoutMs > 0) this.#deadPeers = new DeadPeerGuard(deadPeerTimeoutMs);
    const heartbeatMs = options.heartbeatMs ?? 15_000;
    if (heartbeatMs > 0) {
      this.#heartbeat = setInterval(() => this.#beat(heartbeatMs), heartbeatMs);
      this.#heartbeat.unref();
    }
  }

  /** Resolves once the backend is subscribed (at once for the memory backend). */
  ready(): Promise<void> {
    return this.#ready ?? Promise.resolve();
  }

  /** True after `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  // ── Targeting ──────────────────────────────────────────────────────────────────────────

  /** An audience from a target object: `hub.to({ rooms: ['a'], users: ['u1'] })`. */
  to(target: Target): Audience<Events> {
    return new Audience(this, { ...target });
  }

  /** Every connection. */
  toAll(): Audience<Events> {
    return new Audience(this, { all: true });
  }

  /** Every connection in these rooms. */
  toRoom(...rooms: string[]): Audience<Events> {
    return new Audience<Events>(this, {}).toRoom(...rooms);
  }

  /** Every connection of these users. */
  toUser(...userIds: string[]): Audience<Events> {
    return new Audience<Events>(this, {}).toUser(...userIds);
  }

  /** These connections. */
  toClient(...clientIds: string[]): Audience<Events> {
    return new Audience<Events>(this, {}).toClient(...clientIds);
  }

  /** Sends `event` to every connection. Shorthand for `hub.toAll().send(event, data)`. */
  broadcast<K extends keyof Events & string>(event: K, data: Events[K], options?: SendOptions): Promise<string> {
    return this.publishTo({ all: true }, event, data, options);
  }

  /**
   * Publishes an event described as data, as an HTTP API receives it. `event` may be omitted
   * (the browser sees a `message` event). Resolves with the event id.
   */
  publish(message: { event?: (keyof Events & string) | undefined; data: unknown; target: Target; history?: boolean }): Promise<string> {
    const options = message.history === undefined ? undefined : { history: message.history };
    return this.publishTo(message.target, message.event, message.data, options);
  }

  /** @internal The one way into the backend; every send above ends here. */
  publishTo(target: Target, event: string | undefined, data: unknown, options: SendOptions | undefined): Promise<string> {
    if (this.#closing !== undefined) return Promise.reject(new HubClosedError());
    try {
      if (event !== undefined) assertSingleLineField('event', event);
      const draft: MessageDraft = {
        event,
        data: dataText(data),
        target,
        history: this.#keepsHistory(event, target, options),
      };
      const published = this.#backend.publish(draft);
      if (isPromise(published)) return published.then((message) => formatEventId(message.epoch, message.seq));
      return Promise.resolve(formatEventId(published.epoch, published.seq));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #keepsHistory(event: string | undefined, target: Target, options: SendOptions | undefined): boolean {
    if (options?.history !== undefined) return options.history;
    if (event !== undefined && this.#ephemeralEvents.has(event)) return false;
    if (target.rooms !== undefined && this.#ephemeralRooms.size > 0) {
      for (const room of target.rooms) if (this.#ephemeralRooms.has(room)) return false;
    }
    return true;
  }

  // The hot path: encode once, then queue the same bytes for every recipient exactly once.
  #deliverLocal(message: BackendMessage): void {
    let bytes: Buffer;
    try {
      bytes = encodeEvent({ id: formatEventId(message.epoch, message.seq), event: message.event, data: message.data });
    } catch (error) {
      this.#error(error, undefined);
      return;
    }
    const entry: HistoryEntry | undefined = message.history
      ? { seq: message.seq, bytes, target: message.target, at: Date.now() }
      : undefined;
    this.#history.record(message.epoch, message.seq, entry);
    const stamp = ++this.#stamp;
    const target = message.target;
    let recipients = 0;
    if (target.all === true) {
      for (const client of this.#clients.values()) if (client.stream.enqueue(bytes)) recipients++;
    } else {
      if (target.clients !== undefined) {
        for (const id of target.clients) {
          const client = this.#clients.get(id);
          if (client !== undefined && client.stamp !== stamp) {
            client.stamp = stamp;
            if (client.stream.enqueue(bytes)) recipients++;
          }
        }
      }
      if (target.users !== undefined) recipients += this.#deliverToSets(this.#users, target.users, bytes, stamp);
      if (target.rooms !== undefined) recipients += this.#deliverToSets(this.#rooms, target.rooms, bytes, stamp);
    }
    this.counters.published++;
    this.counters.delivered += recipients;
    this.counters.deliveredBytes += recipients * bytes.byteLength;
    this.#options.onPublish?.({
      id: formatEventId(message.epoch, message.seq),
      event: message.event,
      target,
      recipients,
      // What this hub kept: a `history: false` hub keeps nothing, whatever the publisher chose.
      history: message.history && this.#options.history !== false,
    });
  }

  #deliverToSets(index: Map<string, Set<Client<Events, Meta>>>, keys: readonly string[], bytes: Buffer, stamp: number): number {
    let recipients = 0;
    for (const key of keys) {
      const members = index.get(key);
      if (members === undefined) continue;
      for (const client of members) {
        if (client.stamp === stamp) continue;
        client.stamp = stamp;
        if (client.stream.enqueue(bytes)) recipients++;
      }
    }
    return recipients;
  }

  // ── Connections ────────────────────────────────────────────────────────────────────────

  /**
   * A `node:http` / `node:http2` request handler serving the event stream.
   *
   * @example
   * http.createServer(hub.handler()).listen(8080);
   */
  handler(): (req: NodeRequest, res: NodeResponse) => void {
    return (req, res) => {
      try {
        const served = this.#serveNode(req, res);
        if (isPromise(served)) served.catch((error: unknown) => this.#error(error, undefined));
      } catch (error) {
        this.#error(error, undefined);
      }
    };
  }

  /**
   * Serves the event stream on a Node response. Resolves with the client, or `undefined` when
   * the connection was refused (already answered with its status) or left during setup.
   */
  connect(req: NodeRequest, res: NodeResponse): Promise<Client<Events, Meta> | undefined> {
    try {
      return Promise.resolve(this.#serveNode(req, res));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // Synchronous from request to registration when `authenticate` and `onConnect` are: a
  // connection then costs no promise and no microtask, which is most of the accept rate.
  #serveNode(req: NodeRequest, res: NodeResponse): MaybePromise<Client<Events, Meta> | undefined> {
    if (req.method !== 'GET' && req.method !== undefined) {
      const error = refusal(405, 'use GET to open an event stream');
      (res as import('node:http').ServerResponse).setHeader?.('allow', 'GET');
      answerNodeRefusal(res, error, this.#options.headers);
      return undefined;
    }
    // On HTTP/1.x nothing after a stream request may run on its connection (see sealConnection).
    if (req.httpVersionMajor === 1 && !sealConnection(req as IncomingMessage)) return undefined;
    return this.#serve(new NodeConnectRequest(req, res));
  }

  /**
   * @internal Serves the event stream on a socket whose request head the SSE server has read
   * (see `createSseServer`): the same decisions as `connect`, without node:http.
   */
  serveSocket(request: SocketRequest): void {
    try {
      const served = this.#serve(new SocketConnectRequest(request));
      // A connection whose answer could not be written is closed, not left hanging.
      if (isPromise(served)) {
        served.catch((error: unknown) => {
          this.#error(error, undefined);
          request.socket.destroy();
        });
      }
    } catch (error) {
      this.#error(error, undefined);
      request.socket.destroy();
    }
  }

  #serve(request: AnswerableRequest): MaybePromise<Client<Events, Meta> | undefined> {
    const decision = this.#decide(request);
    if (isPromise(decision)) return decision.then((settled) => this.#open(request, settled));
    return this.#open(request, decision);
  }

  #open(request: AnswerableRequest, decision: Decision<Meta>): MaybePromise<Client<Events, Meta> | undefined> {
    if (decision instanceof ConnectionRefusedError) {
      request.refuse(decision, this.#options.headers);
      return undefined;
    }
    if (request.gone) {
      this.#release(decision.userId);
      return undefined;
    }
    let stream: SseStream;
    try {
      stream = request.open(this.#streamOptionsFor(decision));
    } catch (error) {
      // A header `authenticate` gave that the transport refuses, say: this connection fails alone.
      this.#openFailed(error, decision.userId);
      request.refuse(refusal(500, 'the stream could not be opened'), this.#options.headers);
      return undefined;
    }
    return this.#admit(stream, decision);
  }

  #openFailed(error: unknown, userId: string | undefined): void {
    this.#release(userId);
    this.#error(error, undefined);
  }

  /** The stream options of one connection: the hub's, plus the headers `authenticate` gave it. */
  #streamOptionsFor(init: ClientInit<Meta>): StreamOptions {
    if (init.headers === undefined) return this.#streamOptions;
    return { ...this.#streamOptions, headers: { ...this.#streamOptions.headers, ...init.headers } };
  }

  /**
   * Serves the event stream as a Web `Response` (Hono, Bun, Deno, fetch handlers).
   *
   * @example
   * app.get('/events', (c) => hub.fetch(c.req.raw));
   */
  async fetch(request: Request): Promise<Response> {
    if (request.method !== 'GET') {
      return webRefusal(refusal(405, 'use GET to open an event stream'), { ...this.#options.headers, allow: 'GET' });
    }
    const decision = await this.#decide(webConnectRequest(request));
    if (decision instanceof ConnectionRefusedError) return webRefusal(decision, this.#options.headers);
    let created: { stream: SseStream; response: Response };
    try {
      created = createWebStream(request, this.#streamOptionsFor(decision));
    } catch (error) {
      this.#openFailed(error, decision.userId);
      return webRefusal(refusal(500, 'the stream could not be opened'), this.#options.headers);
    }
    const { stream, response } = created;
    const admitted = this.#admit(stream, decision);
    if (isPromise(admitted)) admitted.catch((error: unknown) => this.#error(error, undefined));
    return response;
  }

  /**
   * Authenticates and applies the limits; a success reserves a place (`#pending`). Returns a
   * promise only when it has to wait (for the backend, or for an async `authenticate`).
   */
  #decide(request: ConnectRequest): MaybePromise<Decision<Meta>> {
    if (this.#closing !== undefined) return this.#refused(refusal(503, 'the hub is shutting down', this.#retryAfter()));
    if (this.#subscribing !== undefined) return this.#subscribing.then(() => this.#authenticate(request));
    return this.#authenticate(request);
  }

  #authenticate(request: ConnectRequest): MaybePromise<Decision<Meta>> {
    const authenticate = this.#options.authenticate;
    if (authenticate === undefined) return this.#applyLimits({});
    let result: ReturnType<typeof authenticate>;
    try {
      result = authenticate(request);
    } catch (error) {
      return this.#authenticationFailed(error);
    }
    if (isPromise(result)) {
      return result.then(
        (settled) => this.#applyLimits(settled),
        (error: unknown) => this.#authenticationFailed(error),
      );
    }
    return this.#applyLimits(result);
  }

  #authenticationFailed(error: unknown): ConnectionRefusedError {
    if (error instanceof ConnectionRefusedError) return this.#refused(error);
    this.#error(error, undefined);
    return this.#refused(refusal(500, 'authentication failed'));
  }

  #applyLimits(result: ClientInit<Meta> | Refusal): Decision<Meta> {
    if (isRefusal(result)) {
      const answer = result.headers === undefined && result.body === undefined ? undefined : { headers: result.headers, body: result.body };
      return this.#refused(refusal(result.refuse, result.reason, undefined, answer));
    }
    const init = result;
    if (this.#closing !== undefined) return this.#refused(refusal(503, 'the hub is shutting down', this.#retryAfter()));
    const maxClients = this.#options.maxClients ?? Number.POSITIVE_INFINITY;
    if (this.#clients.size + this.#pending >= maxClients) return this.#refused(refusal(503, undefined, this.#retryAfter()));
    const maxPerUser = this.#options.maxClientsPerUser ?? Number.POSITIVE_INFINITY;
    const userClients = init.userId === undefined ? undefined : this.#users.get(init.userId);
    // The user's connections still in setup (onConnect) count too, or a burst could pass the limit.
    const userPending = init.userId === undefined ? 0 : (this.#pendingByUser.get(init.userId) ?? 0);
    if (init.userId !== undefined && (userClients?.size ?? 0) + userPending >= maxPerUser) {
      if (this.#options.perUserLimit !== 'evict-oldest') return this.#refused(refusal(429));
      if (userClients !== undefined) this.#evictOldest(userClients, maxPerUser);
    }
    this.#pending++;
    if (init.userId !== undefined) this.#pendingByUser.set(init.userId, userPending + 1);
    return init;
  }

  #refused(error: ConnectionRefusedError): ConnectionRefusedError {
    this.counters.refused++;
    if (this.#logsDebug) this.#logger.debug({ status: error.status, reason: error.reason }, 'ssehub: connection refused');
    if (error.headers === undefined) return error;
    try {
      assertValidHeaders(error.headers);
    } catch (invalid) {
      // A refusal that cannot be written would leave the client hanging: answer 500 instead.
      this.#error(invalid, undefined);
      return refusal(500, 'the refusal could not be answered');
    }
    return error;
  }

  /** Gives back the place `#decide` reserved. */
  #release(userId: string | undefined): void {
    this.#pending--;
    if (userId === undefined) return;
    const left = (this.#pendingByUser.get(userId) ?? 1) - 1;
    if (left > 0) this.#pendingByUser.set(userId, left);
    else this.#pendingByUser.delete(userId);
  }

  #retryAfter(): number {
    return this.#options.retryAfterSeconds ?? 5;
  }

  /** Evicts a user's oldest connections until one more fits under `maxPerUser`. */
  #evictOldest(userClients: ReadonlySet<Client<Events, Meta>>, maxPerUser: number): void {
    for (const oldest of userClients) {
      if (userClients.size < maxPerUser) break;
      this.#evict(oldest);
    }
  }

  #evict(client: Client<Events, Meta>): void {
    this.#leaving.set(client, 'evicted');
    client.stream.enqueue(encodeEvent({ event: 'ssehub:evicted', data: JSON.stringify({ clientId: client.id }) }));
    client.stream.close();
    // Unregister now, so the newcomer fits even before the old socket has finished closing.
    this.removed(client, false);
  }

  #admit(stream: SseStream, init: ClientInit<Meta>): MaybePromise<Client<Events, Meta> | undefined> {
    let client: Client<Events, Meta>;
    try {
      const id = init.clientId ?? (this.#options.generateClientId ?? randomUUID)();
      client = new Client<Events, Meta>(this, id, init.userId, init.metadata ?? ({} as Meta), stream);
      if (init.rooms !== undefined) for (const room of init.rooms) client.join(room);
      const onConnect = this.#options.onConnect;
      if (onConnect === undefined) return this.#complete(client, init.userId, true);
      // The retry hint goes first, before anything onConnect sends.
      if (this.#retryBytes !== undefined) stream.enqueue(this.#retryBytes);
      const connecting = onConnect(client);
      if (isPromise(connecting)) {
        return connecting.then(
          () => this.#complete(client, init.userId, false),
          (error: unknown) => this.#setupFailed(error, stream, init.userId),
        );
      }
    } catch (error) {
      return this.#setupFailed(error, stream, init.userId);
    }
    return this.#complete(client, init.userId, false);
  }

  #setupFailed(error: unknown, stream: SseStream, userId: string | undefined): undefined {
    this.#release(userId);
    this.#error(error, undefined);
    stream.destroy();
    return undefined;
  }

  #complete(client: Client<Events, Meta>, userId: string | undefined, withRetry: boolean): Client<Events, Meta> | undefined {
    this.#release(userId);
    const stream = client.stream;
    if (stream.closed) return undefined;
    if (this.#closing !== undefined) {
      stream.close();
      return undefined;
    }
    // From here to the end of the replay nothing awaits: no live event can slip in between,
    // so the replay and the live stream meet with no gap and no duplicate.
    this.#register(client);
    const greeting = this.#greeting(client, stream.lastEventIdPresent, withRetry);
    if (greeting !== undefined) stream.enqueue(greeting);
    if (stream.lastEventIdPresent) this.#resume(client);
    // Written now rather than at the end of the loop turn: nothing else is due to this
    // client yet, and the head and greeting leave in the same system call either way.
    stream.flush();
    const socket = stream.socket;
    if (socket !== undefined) this.#deadPeers?.watch(socket);
    this.counters.connections++;
    if (this.#logsDebug) this.#logger.debug({ clientId: client.id, userId: client.userId }, 'ssehub: client connected');
    return client;
  }

  /** The `connected` event, led by the `retry:` hint when asked: one chunk, no join. */
  #greeting(client: Client<Events, Meta>, resuming: boolean, withRetry: boolean): Buffer | undefined {
    const connectedEvent = this.#options.connectedEvent ?? 'connected';
    if (connectedEvent === false) return withRetry ? this.#retryBytes : undefined;
    const retry = withRetry ? this.#retryText : '';
    // The fields are known to be valid (the event name was checked at creation, the id is the
    // hub's own) and JSON text holds no raw line break: no need to re-validate per connection.
    const data = JSON.stringify({ clientId: client.id, userId: client.userId ?? null });
    // A new client starts at the head: should it drop before any other event, it still
    // resumes from here. A resuming client keeps its own id until its replay moves it on.
    const id = resuming ? '' : `id: ${this.#history.headId}\n`;
    return Buffer.from(`${retry}${id}event: ${connectedEvent}\ndata: ${data}\n\n`);
  }

  #register(client: Client<Events, Meta>): void {
    const previous = this.#clients.get(client.id);
    if (previous !== undefined) {
      // A stable client id reconnecting while its old connection lingers: the new one wins.
      this.#leaving.set(previous, 'evicted');
      previous.stream.close();
      this.removed(previous, false);
    }
    this.#clients.set(client.id, client);
    if (client.userId !== undefined) {
      // `evict-oldest`: connections set up at the same time were all admitted; the newest wins.
      const current = this.#users.get(client.userId);
      if (current !== undefined && this.#options.perUserLimit === 'evict-oldest') {
        this.#evictOldest(current, this.#options.maxClientsPerUser ?? Number.POSITIVE_INFINITY);
      }
      let clients = this.#users.get(client.userId);
      if (clients === undefined) this.#users.set(client.userId, (clients = new Set()));
      clients.add(client);
    }
    client.registered = true;
    for (const room of client.roomNames) this.joined(client, room);
  }

  #resume(client: Client<Events, Meta>): void {
    const stream = client.stream;
    if (stream.lastEventId === undefined) {
      this.#reset(client, 'too-long');
      return;
    }
    const lookup = this.#history.after(stream.lastEventId, Date.now());
    if (!lookup.ok) {
      this.#reset(client, lookup.reason);
      return;
    }
    let replayed = 0;
    const entries = lookup.entries;
    const maxQueueBytes = this.#streamOptions.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
    const matchers = lookup.matchers;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as HistoryEntry;
      if (!(matchers[i] as TargetMatcher).matches(client)) continue;
      // A replay bigger than the queue must not trip the overflow policy: `disconnect` would
      // discard what this turn already wrote (the client retries the same replay forever),
      // `drop-oldest` would leave a gap. End after what fits; the client resumes from there.
      if (stream.backpressured && stream.queuedBytes + entry.bytes.byteLength > maxQueueBytes) {
        stream.close();
        break;
      }
      if (stream.enqueue(entry.bytes)) replayed++;
    }
    this.counters.replays++;
    this.counters.replayedEvents += replayed;
  }

  #reset(client: Client<Events, Meta>, reason: ResetReason): void {
    const headId = this.#history.headId;
    const data = JSON.stringify({ reason, lastEventId: client.lastEventId ?? null, headId });
    // The reset carries the head id: the client's next resume starts from now.
    client.stream.enqueue(encodeEvent({ id: headId, event: this.#options.resetEvent ?? 'ssehub:reset', data }));
    this.counters.resets++;
  }

  /** @internal */
  joined(client: Client<Events, Meta>, room: string): void {
    let members = this.#rooms.get(room);
    if (members === undefined) this.#rooms.set(room, (members = new Set()));
    members.add(client);
  }

  /** @internal */
  left(client: Client<Events, Meta>, room: string): void {
    const members = this.#rooms.get(room);
    if (members === undefined) return;
    members.delete(client);
    if (members.size === 0) this.#rooms.delete(room);
  }

  /** @internal Unregisters a client whose stream ended (or is being ended). Idempotent. */
  removed(client: Client<Events, Meta>, overflowed: boolean): void {
    if (!client.registered) return;
    client.registered = false;
    if (this.#clients.get(client.id) === client) this.#clients.delete(client.id);
    if (client.userId !== undefined) {
      const clients = this.#users.get(client.userId);
      clients?.delete(client);
      if (clients?.size === 0) this.#users.delete(client.userId);
    }
    for (const room of client.roomNames) this.left(client, room);
    const reason = overflowed ? 'slow' : (this.#leaving.get(client) ?? (client.stream.endedLocally ? 'closed' : 'client'));
    if (this.#logsDebug) this.#logger.debug({ clientId: client.id, userId: client.userId, reason }, 'ssehub: client disconnected');
    try {
      this.#options.onDisconnect?.(client, reason);
    } catch (error) {
      this.#error(error, client);
    }
  }

  /** @internal */
  overflowed(client: Client<Events, Meta>, droppedEvents: number, disconnected: boolean): void {
    this.counters.dropped += droppedEvents;
    if (disconnected) this.counters.slowDisconnects++;
    this.#logger.warn({ clientId: client.id, droppedEvents, disconnected }, 'ssehub: slow client');
  }

  // ── Registry ───────────────────────────────────────────────────────────────────────────

  /** Connected clients by id. */
  get clients(): ReadonlyMap<string, Client<Events, Meta>> {
    return this.#clients;
  }

  /** Connected users, each with their connections. */
  get users(): ReadonlyMap<string, ReadonlySet<Client<Events, Meta>>> {
    return this.#users;
  }

  /** Rooms that have at least one member, each with its members. */
  get rooms(): ReadonlyMap<string, ReadonlySet<Client<Events, Meta>>> {
    return this.#rooms;
  }

  /** A connected client by id. */
  getClient(clientId: string): Client<Events, Meta> | undefined {
    return this.#clients.get(clientId);
  }

  /** Connections in all, or of one user. */
  connectionCount(userId?: string): number {
    return userId === undefined ? this.#clients.size : (this.#users.get(userId)?.size ?? 0);
  }

  /** Members of `room` (0 for an unknown room). */
  roomSize(room: string): number {
    return this.#rooms.get(room)?.size ?? 0;
  }

  /** Puts a client in a room. Throws `ClientNotFoundError` for an unknown id. */
  join(clientId: string, room: string): void {
    this.#require(clientId).join(room);
  }

  /** Takes a client out of a room. Throws `ClientNotFoundError` for an unknown id. */
  leave(clientId: string, room: string): void {
    this.#require(clientId).leave(room);
  }

  /** Empties a room: every member leaves it. Returns how many left. */
  deleteRoom(room: string): number {
    const members = this.#rooms.get(room);
    if (members === undefined) return 0;
    const size = members.size;
    for (const client of [...members]) client.leave(room);
    return size;
  }

  /** Ends a client's connection. Throws `ClientNotFoundError` for an unknown id. */
  disconnect(clientId: string): void {
    const client = this.#require(clientId);
    this.#leaving.set(client, 'closed');
    client.close();
  }

  #require(clientId: string): Client<Events, Meta> {
    const client = this.#clients.get(clientId);
    if (client === undefined) throw new ClientNotFoundError(clientId);
    return client;
  }

  /** Counts and history for a status page. */
  stats(): HubStats {
    return {
      clients: this.#clients.size,
      users: this.#users.size,
      rooms: this.#rooms.size,
      history: this.#history.stats(Date.now()),
      counters: { ...this.counters },
    };
  }

  // ── Lifecycle ──────────────────────────────────────────────────────────────────────────

  #start(head: BackendHead): void {
    this.#history.reset(head.epoch, head.seq);
  }

  // One timer for every client: a comment for clients idle for a whole interval, and the end
  // of clients whose socket has not taken a byte for `stallTimeoutMs`.
  #beat(heartbeatMs: number): void {
    const now = Date.now();
    const stallTimeoutMs = this.#options.stallTimeoutMs ?? 60_000;
    for (const client of this.#clients.values()) {
      const stream = client.stream;
      if (stream.closed) {
        this.removed(client, false);
        continue;
      }
      const stalledSince = stream.stalledSince;
      if (stalledSince !== 0 && now - stalledSince >= stallTimeoutMs) {
        this.#leaving.set(client, 'stalled');
        this.counters.slowDisconnects++;
        stream.destroy();
        continue;
      }
      if (now - stream.lastWriteAt >= heartbeatMs - 10) stream.enqueue(HEARTBEAT);
    }
  }

  #error(error: unknown, client: Client<Events, Meta> | undefined): void {
    this.#logger.error({ err: error, clientId: client?.id }, 'ssehub: error');
    try {
      this.#options.onError?.(error, client);
    } catch {
      // An error handler that throws must not take the hub down.
    }
  }

  /**
   * Shuts down gracefully: refuses new connections and publishes, sends every client a
   * `retry:` hint, ends every stream, and resolves once all have closed (or `timeoutMs` has
   * passed, after which the rest are cut). Closes the backend only if the hub created it.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#shutdown(options.timeoutMs ?? 5000);
    return this.#closing;
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#deadPeers?.stop();
    const retry = this.#retryBytes;
    const streams: SseStream[] = [];
    for (const client of this.#clients.values()) {
      this.#leaving.set(client, 'hub-closed');
      if (retry !== undefined) client.stream.enqueue(retry);
      streams.push(client.stream);
      client.stream.close();
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all(streams.map((stream) => stream.done)), timedOut]);
    clearTimeout(timer);
    for (const stream of streams) stream.destroy();
    await this.#backend.unsubscribe(this.#deliver);
    if (this.#ownsBackend) await this.#backend.close();
  }
}

/**
 * Creates a hub. `Events` maps event names to payload types, so that sending an unknown event
 * or a wrong payload is a compile error; `Meta` types per-client metadata.
 *
 * @example
 * type Events = { chat: { from: string; text: string }; typing: { user: string } };
 * const hub = createHub<Events>({ authenticate: (req) => ({ userId: req.query.get('user') ?? undefined }) });
 * http.createServer(hub.handler()).listen(8080);
 * await hub.toRoom('lobby').send('chat', { from: 'ada', text: 'hello' });
 */
export function createHub<Events extends EventMap = Record<string, unknown>, Meta extends object = Record<string, unknown>>(
  options: HubOptions<Events, Meta> = {},
): Hub<Events, Meta> {
  return new Hub<Events, Meta>(options);
}
