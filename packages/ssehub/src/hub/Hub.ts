import { randomUUID } from 'node:crypto';
import type { Backend, LogPosition, MessageDraft, Target } from '../backends/Backend.js';
import { MemoryBackend } from '../backends/MemoryBackend.js';
import { BackendError, ClientNotFoundError, ConnectionRefusedError, HubClosedError, SseHubError } from '../errors.js';
import { encodeEventText, encodeRetryText } from '../protocol/encodeEvent.js';
import { formatEventId, parseEventId } from '../protocol/eventId.js';
import { readLastEventId } from '../protocol/lastEventId.js';
import { assertSingleLineField } from '../protocol/validateField.js';
import { DeadPeerGuard } from '../stream/DeadPeerGuard.js';
import type { NodeRequest, NodeResponse } from '../stream/NodeSink.js';
import { SseStream, type StreamQueueOptions } from '../stream/SseStream.js';
import { assertValidHeaders } from '../transports/assertValidHeaders.js';
import type { Connection } from '../transports/Connection.js';
import { NodeConnection } from '../transports/node/NodeConnection.js';
import { WebConnection } from '../transports/web/WebConnection.js';
import { Admission } from './Admission.js';
import type { SendOptions } from './Audience.js';
import { AudienceSource } from './AudienceSource.js';
import type { ResetReason } from './builtinEvents.js';
import { Client } from './Client.js';
import { Cursor, type CursorHost } from './Cursor.js';
import { Delivery, type DeliveryHost } from './Delivery.js';
import { HUB_DEFAULTS, MIN_LAST_EVENT_ID_LENGTH } from './defaults.js';
import { draftsOf, makeDraft } from './draft.js';
import { Heartbeat } from './Heartbeat.js';
import { HistoryPolicy } from './HistoryPolicy.js';
import { Member, type MemberOwner } from './Member.js';
import { Registry } from './Registry.js';
import { refusal, refusalAnswer } from './refusal.js';
import type { ClientInit, DisconnectReason, EventMap, EventName, HubOptions, Logger, Refusal } from './types.js';

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
  /** Reset events sent (a Last-Event-ID that could not be resumed from, or missed events). */
  resets: number;
  /** Holes in the backend's delivery the log could not fill, and restarts of its sequence. */
  gaps: number;
}

/** What the resume history holds, for status pages. */
export interface HistoryStats {
  readonly size: number;
  /** Memory held, as counted against the history's byte bound. */
  readonly bytes: number;
  readonly oldestId: string | undefined;
  readonly newestId: string | undefined;
  /** The id a client is at after every event this hub has delivered (also sent with a reset). */
  readonly headId: string;
}

/** A snapshot for status pages. */
export interface HubStats {
  clients: number;
  users: number;
  rooms: number;
  history: HistoryStats;
  counters: Readonly<HubCounters>;
}

/** An event described as data, as an HTTP API receives it; `data` typed by the event name. */
export type PublishMessage<Events extends EventMap = Record<string, unknown>> =
  | {
      [K in EventName<Events>]: { event: K; data: Events[K]; target: Target; history?: boolean };
    }[EventName<Events>]
  | { event?: undefined; data: unknown; target: Target; history?: boolean };

type Decision<Meta> = ClientInit<Meta> | ConnectionRefusedError;
type MaybePromise<T> = T | Promise<T>;

const SILENT: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const CLIENT_GONE = refusal(499, 'the client closed the request');
const METHOD_NOT_ALLOWED = refusal(405, 'use GET to open an event stream', undefined, { headers: { allow: 'GET' } });

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === 'function';
}

function isRefusal(value: object): value is Refusal {
  return typeof (value as Refusal).refuse === 'number';
}

/**
 * A hub of Server-Sent Events connections: clients, users and rooms, typed events, limits,
 * heartbeat, resume, graceful shutdown. Create one with {@link createHub}.
 *
 * Its parts, each in its own module: the {@link Registry} of connections, {@link Admission}
 * (limits), {@link Delivery} (events from the backend, in order, to their recipients), one
 * {@link Cursor} per catching-up connection, the {@link Heartbeat}, and the transports, which
 * all reach it through {@link Hub.accept}. This class puts them together.
 */
export class Hub<
  Events extends EventMap = Record<string, unknown>,
  Meta extends object = Record<string, unknown>,
> extends AudienceSource<Events> {
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
    gaps: 0,
  };

  readonly #options: HubOptions<Events, Meta>;
  readonly #backend: Backend;
  readonly #ownsBackend: boolean;
  readonly #logger: Logger;
  readonly #registry = new Registry();
  readonly #admission: Admission;
  readonly #delivery: Delivery;
  readonly #heartbeat: Heartbeat | undefined;
  readonly #deadPeers: DeadPeerGuard | undefined;
  readonly #members: MemberOwner;
  readonly #cursors: CursorHost;
  readonly #history: HistoryPolicy;
  readonly #streamOptions: StreamQueueOptions;
  readonly #maxQueueBytes: number;
  readonly #maxLastEventIdLength: number;
  readonly #headers: Readonly<Record<string, string>> | undefined;
  readonly #connectedEvent: string | false;
  readonly #resetEvent: string;
  // The `retry:` hint every connection starts with (none with `retryMs: false`), encoded once.
  readonly #retryText: string;
  readonly #retryBytes: Buffer | undefined;
  readonly #ready: Promise<void>;
  // Pending until the backend is subscribed; connections wait for it, then go synchronous.
  #subscribing: Promise<void> | undefined;
  // Why the backend could not be subscribed to, if it could not.
  #failure: BackendError | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: HubOptions<Events, Meta> = {}) {
    super((target, event, data, sendOptions) => this.#publishTo(target, event, data, sendOptions));
    this.#options = options;
    if (options.backend !== undefined && options.history !== undefined) {
      throw new TypeError(
        'history applies to the default backend: give its bounds to your backend instead (new MemoryBackend({ history }))',
      );
    }
    this.#ownsBackend = options.backend === undefined;
    this.#backend = options.backend ?? new MemoryBackend(options.history === undefined ? {} : { history: options.history });
    this.#logger = options.logger ?? SILENT;
    this.#history = new HistoryPolicy(options.ephemeralEvents, options.ephemeralRooms);
    this.#resetEvent = options.resetEvent ?? HUB_DEFAULTS.resetEvent;
    this.#connectedEvent = options.connectedEvent ?? HUB_DEFAULTS.connectedEvent;
    assertSingleLineField('event', this.#resetEvent);
    if (this.#connectedEvent !== false) assertSingleLineField('event', this.#connectedEvent);
    // A bad header would otherwise fail every connection, one by one.
    if (options.headers !== undefined) assertValidHeaders(options.headers);
    this.#headers = options.headers === undefined ? undefined : Object.freeze({ ...options.headers });
    this.#retryText = options.retryMs === false ? '' : encodeRetryText(options.retryMs ?? HUB_DEFAULTS.retryMs);
    this.#retryBytes = this.#retryText === '' ? undefined : Buffer.from(this.#retryText);
    if (options.maxLastEventIdLength !== undefined && !(options.maxLastEventIdLength >= MIN_LAST_EVENT_ID_LENGTH)) {
      // Shorter than the hub's own ids, every resume would be refused as too long, forever.
      throw new RangeError(`maxLastEventIdLength must be at least ${MIN_LAST_EVENT_ID_LENGTH}`);
    }
    this.#maxLastEventIdLength = options.maxLastEventIdLength ?? HUB_DEFAULTS.maxLastEventIdLength;
    this.#maxQueueBytes = options.maxQueueBytes ?? HUB_DEFAULTS.maxQueueBytes;
    this.#streamOptions = {
      ...(options.maxQueueBytes === undefined ? {} : { maxQueueBytes: options.maxQueueBytes }),
      ...(options.overflow === undefined ? {} : { overflow: options.overflow }),
    };
    this.#admission = new Admission(
      {
        maxClients: options.maxClients ?? Number.POSITIVE_INFINITY,
        maxClientsPerUser: options.maxClientsPerUser ?? Number.POSITIVE_INFINITY,
        perUserLimit: options.perUserLimit ?? 'refuse',
      },
      this.#registry,
    );
    this.#members = this.#memberOwner();
    this.#delivery = new Delivery(this.#deliveryHost(options.gapTimeoutMs ?? HUB_DEFAULTS.gapTimeoutMs));
    this.#cursors = this.#cursorHost();

    const deadPeerTimeoutMs = options.deadPeerTimeoutMs ?? HUB_DEFAULTS.deadPeerTimeoutMs;
    if (!(Number.isSafeInteger(deadPeerTimeoutMs) && deadPeerTimeoutMs >= 0)) {
      throw new RangeError('deadPeerTimeoutMs must be a non-negative integer (0 turns it off)');
    }
    if (deadPeerTimeoutMs > 0) this.#deadPeers = new DeadPeerGuard(deadPeerTimeoutMs);
    const heartbeatMs = options.heartbeatMs ?? HUB_DEFAULTS.heartbeatMs;
    if (heartbeatMs > 0) {
      this.#heartbeat = new Heartbeat(
        {
          registry: this.#registry,
          removed: (member) => this.#removed(member),
          stalled: (member) => {
            member.leaving ??= 'stalled';
            this.counters.slowDisconnects++;
            member.stream.destroy();
          },
        },
        heartbeatMs,
        options.stallTimeoutMs ?? HUB_DEFAULTS.stallTimeoutMs,
      );
    }
    this.#ready = this.#subscribe();
  }

  /**
   * Resolves once the backend is subscribed (at once for the memory backend); rejects with a
   * `BackendError` when it cannot be, and the hub then refuses connections (503) and publishes.
   */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** True after `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  // ── Targeting and publishing ───────────────────────────────────────────────────────────

  /**
   * Publishes an event described as data, as an HTTP API receives it; `data` is typed by the
   * event name. `event` may be omitted (the browser sees a `message` event). Resolves with the
   * event id.
   */
  publish(message: PublishMessage<Events>): Promise<string> {
    return this.publishMany([message]).then((ids) => ids[0] as string);
  }

  /**
   * Publishes several events as one unit: every one is checked and encoded first, then all are
   * appended together, with consecutive ids, or none is (the promise rejects). Resolves with
   * the ids, in order.
   */
  publishMany(messages: readonly PublishMessage<Events>[]): Promise<string[]> {
    let drafts: MessageDraft[];
    try {
      drafts = draftsOf(messages, this.#history);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#append(drafts, (appended) => this.#ids(appended));
  }

  #publishTo(target: Target, event: string | undefined, data: unknown, options: SendOptions | undefined): Promise<string> {
    let draft: MessageDraft;
    try {
      draft = makeDraft(target, event, data, this.#history.keeps(event, target, options));
    } catch (error) {
      return Promise.reject(error);
    }
    // The common case, one event on a synchronous backend: one settled promise, no chaining.
    return this.#append([draft], (messages) => this.#lastId(messages));
  }

  /** Appends `drafts` and answers with what `answer` makes of the appended messages (ids). */
  #append<T>(drafts: readonly MessageDraft[], answer: (messages: readonly LogPosition[]) => T): Promise<T> {
    if (this.#closing !== undefined) return Promise.reject(new HubClosedError());
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    try {
      const appended = this.#backend.append(drafts);
      if (!isPromise(appended)) return Promise.resolve(answer(appended));
      return appended.then(answer, (error: unknown) => {
        throw backendError('the backend refused the publish', error);
      });
    } catch (error) {
      return Promise.reject(backendError('the backend refused the publish', error));
    }
  }

  /** The ids of appended messages; tells delivery how far this hub's own appends reach. */
  #ids(messages: readonly LogPosition[]): string[] {
    this.#lastId(messages);
    return messages.map((message) => formatEventId(message.epoch, message.seq));
  }

  /** The id of the last appended message; tells delivery how far this hub's own appends reach. */
  #lastId(messages: readonly LogPosition[]): string {
    const last = messages[messages.length - 1];
    if (last === undefined) return '';
    this.#delivery.appended(last.epoch, last.seq);
    return formatEventId(last.epoch, last.seq);
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
      this.accept(new NodeConnection(req, res));
    };
  }

  /**
   * Serves the event stream on a Node response. Resolves with the client, or `undefined` when
   * the connection was refused (already answered with its status) or left during setup.
   */
  connect(req: NodeRequest, res: NodeResponse): Promise<Client<Events, Meta> | undefined> {
    return Promise.resolve(this.accept(new NodeConnection(req, res)));
  }

  /**
   * Serves the event stream as a Web `Response` (Hono, Bun, Deno, fetch handlers).
   *
   * @example
   * app.get('/events', (c) => hub.fetch(c.req.raw));
   */
  fetch(request: Request): Promise<Response> {
    const connection = new WebConnection(request);
    this.accept(connection);
    return connection.response;
  }

  /**
   * Answers one event-stream request of any transport (see {@link Connection}): authenticates
   * it, applies the limits, then refuses it or opens its stream, registers it and replays what
   * it missed. Synchronous from request to registration when `authenticate` and `onConnect`
   * are (no promise, no microtask): that is most of the accept rate. Never throws: a failure is
   * answered (500) and reported to `onError`. Resolves with the client, or `undefined` when the
   * connection was refused or left during setup.
   */
  accept(connection: Connection): MaybePromise<Client<Events, Meta> | undefined> {
    try {
      if (connection.gone) return this.#gone(connection);
      if (connection.request.method !== 'GET') {
        connection.refuse(refusalAnswer(METHOD_NOT_ALLOWED, this.#headers));
        return undefined;
      }
      const decision = this.#decide(connection);
      if (!isPromise(decision)) return this.#open(connection, decision);
      return decision.then(
        (settled) => this.#open(connection, settled),
        (error: unknown) => this.#failed(connection, error),
      );
    } catch (error) {
      return this.#failed(connection, error);
    }
  }

  /** A client that left before its answer: nobody reads it, but a Web handler must resolve. */
  #gone(connection: Connection): undefined {
    connection.refuse(refusalAnswer(CLIENT_GONE, this.#headers));
    return undefined;
  }

  #failed(connection: Connection, error: unknown): undefined {
    this.#error(error, undefined);
    try {
      connection.refuse(refusalAnswer(refusal(500, 'the connection could not be served'), this.#headers));
    } catch {
      // Nothing more can be said on this connection.
    }
    return undefined;
  }

  /**
   * Authenticates and applies the limits; a success reserves a place. Returns a promise only
   * when it has to wait (for the backend, or for an asynchronous `authenticate`).
   */
  #decide(connection: Connection): MaybePromise<Decision<Meta>> {
    if (this.#closing !== undefined) return this.#refused(refusal(503, 'the hub is shutting down', this.#retryAfter()));
    if (this.#failure !== undefined) return this.#refused(refusal(503, 'the hub has no backend', this.#retryAfter()));
    // A remote backend that cannot be reached: streams opened now would miss events.
    if (this.#backend.available === false) return this.#refused(refusal(503, 'the backend is unavailable', this.#retryAfter()));
    if (this.#subscribing !== undefined) return this.#subscribing.then(() => this.#decide(connection));
    const authenticate = this.#options.authenticate;
    if (authenticate === undefined) return this.#applyLimits({});
    let result: ReturnType<typeof authenticate>;
    try {
      result = authenticate(connection.request);
    } catch (error) {
      return this.#authenticationFailed(error);
    }
    if (!isPromise(result)) return this.#applyLimits(result);
    return result.then(
      (settled) => this.#applyLimits(settled),
      (error: unknown) => this.#authenticationFailed(error),
    );
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
    if (this.#closing !== undefined) return this.#refused(refusal(503, 'the hub is shutting down', this.#retryAfter()));
    const full = this.#admission.reserve(result.userId, (userId, keep) => this.#evictOldest(userId, keep));
    if (full === 'hub-full') return this.#refused(refusal(503, undefined, this.#retryAfter()));
    if (full === 'user-full') return this.#refused(refusal(429));
    return result;
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

  #retryAfter(): number {
    return this.#options.retryAfterSeconds ?? HUB_DEFAULTS.retryAfterSeconds;
  }

  #open(connection: Connection, decision: Decision<Meta>): MaybePromise<Client<Events, Meta> | undefined> {
    if (decision instanceof ConnectionRefusedError) {
      connection.refuse(refusalAnswer(decision, this.#headers));
      return undefined;
    }
    const userId = decision.userId;
    // The client left while it was being decided (an asynchronous authenticate, say).
    if (connection.gone) {
      this.#admission.release(userId);
      return this.#gone(connection);
    }
    const request = connection.request;
    const claim = readLastEventId(request.header('last-event-id'), request.query.get('lastEventId'), this.#maxLastEventIdLength);
    const headers = decision.headers === undefined ? this.#headers : { ...this.#headers, ...decision.headers };
    let stream: SseStream;
    try {
      stream = new SseStream((events) => connection.open(headers, events), claim, this.#streamOptions);
    } catch (error) {
      // A header `authenticate` gave that the transport refuses, say: this connection fails alone.
      this.#admission.release(userId);
      this.#error(error, undefined);
      connection.refuse(refusalAnswer(refusal(500, 'the stream could not be opened'), this.#headers));
      return undefined;
    }
    let member: Member;
    try {
      const id = decision.clientId ?? (this.#options.generateClientId ?? randomUUID)();
      member = new Member(this.#members, id, userId, stream);
      member.client = new Client(this, member, decision.metadata ?? ({} as Meta)) as unknown as Client;
      if (decision.rooms !== undefined) for (const room of decision.rooms) member.join(room);
    } catch (error) {
      return this.#setupFailed(error, stream, userId);
    }
    const onConnect = this.#options.onConnect;
    if (onConnect === undefined) return this.#complete(member, true);
    // The retry hint goes first, before anything onConnect sends.
    if (this.#retryBytes !== undefined) stream.enqueue(this.#retryBytes);
    let connecting: void | Promise<void>;
    try {
      connecting = onConnect(this.#clientOf(member));
    } catch (error) {
      return this.#setupFailed(error, stream, userId);
    }
    if (!isPromise(connecting)) return this.#complete(member, false);
    return connecting.then(
      () => this.#complete(member, false),
      (error: unknown) => this.#setupFailed(error, stream, userId),
    );
  }

  #setupFailed(error: unknown, stream: SseStream, userId: string | undefined): undefined {
    this.#admission.release(userId);
    this.#error(error, undefined);
    stream.destroy();
    return undefined;
  }

  #complete(member: Member, withRetry: boolean): Client<Events, Meta> | undefined {
    this.#admission.release(member.userId);
    const stream = member.stream;
    if (stream.closed) return undefined;
    if (this.#closing !== undefined) {
      stream.close();
      return undefined;
    }
    // From here to the end of the (synchronous part of the) replay nothing awaits: no live
    // event can slip in before the cursor is in place, so the replay and the live stream meet
    // with no gap and no duplicate.
    this.#register(member);
    const resuming = stream.lastEventIdPresent;
    const greeting = this.#greeting(member, resuming, withRetry);
    if (greeting !== undefined) stream.enqueue(greeting);
    if (resuming) this.#resume(member);
    // Written now rather than at the end of the loop turn: nothing else is due to this
    // client yet, and the head and greeting leave in the same system call either way.
    stream.flush();
    const socket = stream.socket;
    if (socket !== undefined) this.#deadPeers?.watch(socket);
    this.counters.connections++;
    if (this.#logsDebug) this.#logger.debug({ clientId: member.id, userId: member.userId }, 'ssehub: client connected');
    return this.#clientOf(member);
  }

  /** The `connected` event, led by the `retry:` hint when asked: one chunk, no join. */
  #greeting(member: Member, resuming: boolean, withRetry: boolean): Buffer | undefined {
    const connectedEvent = this.#connectedEvent;
    if (connectedEvent === false) return withRetry ? this.#retryBytes : undefined;
    const retry = withRetry ? this.#retryText : '';
    // The fields are known to be valid (the event name was checked at creation, the id is the
    // hub's own) and JSON text holds no raw line break: no need to re-validate per connection.
    const data = JSON.stringify({ clientId: member.id, userId: member.userId ?? null });
    // A new client starts at the head: should it drop before any other event, it still
    // resumes from here. A resuming client keeps its own id until its replay moves it on.
    const id = resuming ? '' : `id: ${this.#delivery.headId}\n`;
    return Buffer.from(`${retry}${id}event: ${connectedEvent}\ndata: ${data}\n\n`);
  }

  #register(member: Member): void {
    const previous = this.#registry.byId(member.id);
    if (previous !== undefined) {
      // A stable client id reconnecting while its old connection lingers: the new one wins.
      previous.leaving = 'evicted';
      previous.stream.close();
      this.#removed(previous);
    }
    // `evict-oldest`: connections set up at the same time were all admitted; the newest wins.
    if (member.userId !== undefined && this.#admission.evictsOldest) {
      this.#evictOldest(member.userId, this.#admission.maxClientsPerUser);
    }
    this.#registry.add(member);
  }

  #resume(member: Member): void {
    const lastEventId = member.stream.lastEventId;
    if (lastEventId === undefined) {
      this.#reset(member, 'too-long', lastEventId);
      return;
    }
    const position = parseEventId(lastEventId);
    if (position === undefined) {
      this.#reset(member, 'malformed', lastEventId);
      return;
    }
    const delivery = this.#delivery;
    if (position.epoch !== delivery.epoch) {
      this.#reset(member, 'unknown-epoch', lastEventId);
      return;
    }
    if (position.seq === delivery.delivered) {
      this.counters.replays++;
      return;
    }
    new Cursor(this.#cursors, member, position.epoch, position.seq).run();
  }

  /** The reset event: the client missed events that cannot be replayed. Carries the head id. */
  #reset(member: Member, reason: ResetReason, lastEventId: string | undefined): void {
    const headId = this.#delivery.headId;
    const data = JSON.stringify({ reason, lastEventId: lastEventId ?? null, headId });
    member.stream.enqueue(Buffer.from(encodeEventText({ id: headId, event: this.#resetEvent, data })));
    this.counters.resets++;
  }

  /** Ends a user's oldest connections until one more fits under `keep`. */
  #evictOldest(userId: string, keep: number): void {
    const members = this.#registry.userMembers(userId);
    if (members === undefined) return;
    for (const oldest of [...members]) {
      if (members.size < keep) break;
      this.#evict(oldest);
    }
  }

  #evict(member: Member): void {
    member.leaving = 'evicted';
    const data = JSON.stringify({ clientId: member.id });
    member.stream.enqueue(Buffer.from(encodeEventText({ event: HUB_DEFAULTS.evictedEvent, data })));
    member.stream.close();
    // Unregistered now, so the newcomer fits even before the old socket has finished closing.
    this.#removed(member);
  }

  /** Unregisters a member whose stream ended (or is being ended). Idempotent. */
  #removed(member: Member): void {
    member.cursor?.cancel();
    if (!this.#registry.remove(member)) return;
    const reason: DisconnectReason = member.leaving ?? (member.stream.endedLocally ? 'closed' : 'client');
    if (this.#logsDebug) this.#logger.debug({ clientId: member.id, userId: member.userId, reason }, 'ssehub: client disconnected');
    try {
      this.#options.onDisconnect?.(this.#clientOf(member), reason);
    } catch (error) {
      this.#error(error, this.#clientOf(member));
    }
  }

  #clientOf(member: Member): Client<Events, Meta> {
    return member.client as unknown as Client<Events, Meta>;
  }

  // ── Registry ───────────────────────────────────────────────────────────────────────────

  /** Connected clients by id (a read-only view). */
  get clients(): ReadonlyMap<string, Client<Events, Meta>> {
    return this.#registry.clients as unknown as ReadonlyMap<string, Client<Events, Meta>>;
  }

  /** Connected users, each with their connections (a read-only view). */
  get users(): ReadonlyMap<string, ReadonlySet<Client<Events, Meta>>> {
    return this.#registry.users as unknown as ReadonlyMap<string, ReadonlySet<Client<Events, Meta>>>;
  }

  /** Rooms that have at least one member, each with its members (a read-only view). */
  get rooms(): ReadonlyMap<string, ReadonlySet<Client<Events, Meta>>> {
    return this.#registry.rooms as unknown as ReadonlyMap<string, ReadonlySet<Client<Events, Meta>>>;
  }

  /** A connected client by id. */
  getClient(clientId: string): Client<Events, Meta> | undefined {
    const member = this.#registry.byId(clientId);
    return member === undefined ? undefined : this.#clientOf(member);
  }

  /** Connections in all, or of one user. */
  connectionCount(userId?: string): number {
    return userId === undefined ? this.#registry.size : this.#registry.userCount(userId);
  }

  /** Members of `room` (0 for an unknown room). */
  roomSize(room: string): number {
    return this.#registry.roomMembers(room)?.size ?? 0;
  }

  /** Puts a client in a room. Throws `ClientNotFoundError` for an unknown id. */
  join(clientId: string, room: string): void {
    this.#require(clientId).client.join(room);
  }

  /** Takes a client out of a room. Throws `ClientNotFoundError` for an unknown id. */
  leave(clientId: string, room: string): void {
    this.#require(clientId).leave(room);
  }

  /** Empties a room: every member leaves it. Returns how many left. */
  deleteRoom(room: string): number {
    const members = this.#registry.roomMembers(room);
    if (members === undefined) return 0;
    const size = members.size;
    for (const member of [...members]) member.leave(room);
    return size;
  }

  /** Ends a client's connection. Throws `ClientNotFoundError` for an unknown id. */
  disconnect(clientId: string): void {
    this.#require(clientId).client.close();
  }

  #require(clientId: string): Member {
    const member = this.#registry.byId(clientId);
    if (member === undefined) throw new ClientNotFoundError(clientId);
    return member;
  }

  /** Counts and history for a status page. */
  stats(): HubStats {
    const delivery = this.#delivery;
    const log = this.#backend.stats?.();
    const idOf = (seq: number | undefined): string | undefined => (seq === undefined ? undefined : formatEventId(delivery.epoch, seq));
    return {
      clients: this.#registry.size,
      users: this.#registry.userTotal,
      rooms: this.#registry.roomTotal,
      history: {
        size: log?.size ?? 0,
        bytes: log?.bytes ?? 0,
        oldestId: idOf(log?.oldestSeq),
        newestId: idOf(log?.newestSeq),
        headId: delivery.headId,
      },
      counters: { ...this.counters },
    };
  }

  // ── Parts ──────────────────────────────────────────────────────────────────────────────

  #memberOwner(): MemberOwner {
    const registry = this.#registry;
    return {
      joined: (member, room) => registry.joined(member, room),
      left: (member, room) => registry.left(member, room),
      removed: (member) => this.#removed(member),
      overflowed: (member, droppedEvents, disconnected) => {
        this.counters.dropped += droppedEvents;
        if (disconnected) this.counters.slowDisconnects++;
        this.#logger.warn({ clientId: member.id, droppedEvents, disconnected }, 'ssehub: slow client');
      },
    };
  }

  #deliveryHost(gapTimeoutMs: number): DeliveryHost {
    return {
      registry: this.#registry,
      backend: this.#backend,
      counters: this.counters,
      gapTimeoutMs,
      pageSize: HUB_DEFAULTS.replayPageSize,
      resetAll: (reason) => {
        this.#logger.warn({ reason, headId: this.#delivery.headId }, 'ssehub: events missed, every client is reset');
        for (const member of this.#registry.members()) {
          member.cursor?.cancel();
          this.#reset(member, reason, undefined);
        }
      },
      published: this.#options.onPublish,
      error: (error) => this.#error(error, undefined),
    };
  }

  #cursorHost(): CursorHost {
    return {
      backend: this.#backend,
      delivery: this.#delivery,
      pageSize: HUB_DEFAULTS.replayPageSize,
      maxQueueBytes: this.#maxQueueBytes,
      reset: (member, reason) => this.#reset(member, reason, member.stream.lastEventId),
      replayed: (events) => {
        this.counters.replays++;
        this.counters.replayedEvents += events;
      },
      error: (error) => this.#error(error, undefined),
    };
  }

  // ── Lifecycle ──────────────────────────────────────────────────────────────────────────

  #subscribe(): Promise<void> {
    let head: LogPosition | Promise<LogPosition>;
    try {
      head = this.#backend.subscribe(this.#delivery.receive, { restarted: this.#delivery.restarted });
    } catch (error) {
      this.#failure = backendError('the backend could not be subscribed to', error);
      this.#error(this.#failure, undefined);
      return Promise.reject(this.#failure);
    }
    if (!isPromise(head)) {
      this.#delivery.start(head);
      return Promise.resolve();
    }
    const subscribing = head.then(
      (position) => {
        this.#subscribing = undefined;
        this.#delivery.start(position);
      },
      (error: unknown) => {
        this.#subscribing = undefined;
        this.#failure = backendError('the backend could not be subscribed to', error);
        this.#error(this.#failure, undefined);
        throw this.#failure;
      },
    );
    // Waiting connections are refused (503) on failure; the rejection itself is `ready()`'s.
    this.#subscribing = subscribing.catch(() => {});
    // Unhandled unless someone asks for `ready()`: the failure is reported through onError.
    subscribing.catch(() => {});
    return subscribing;
  }

  // Per-connection debug lines cost an object each: built only when a logger was given that
  // logs at debug level (pino's `isLevelEnabled`, when it has one; asked once per line).
  get #logsDebug(): boolean {
    const logger = this.#logger as Logger & { isLevelEnabled?: (level: string) => boolean };
    if (logger === SILENT) return false;
    return typeof logger.isLevelEnabled === 'function' ? logger.isLevelEnabled('debug') : true;
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
    this.#closing ??= this.#shutdown(options.timeoutMs ?? HUB_DEFAULTS.closeTimeoutMs);
    return this.#closing;
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    this.#heartbeat?.stop();
    this.#deadPeers?.stop();
    const retry = this.#retryBytes;
    const streams: SseStream[] = [];
    for (const member of this.#registry.members()) {
      member.leaving ??= 'hub-closed';
      if (retry !== undefined) member.stream.enqueue(retry);
      streams.push(member.stream);
      member.stream.close();
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all(streams.map((stream) => stream.done)), timedOut]);
    clearTimeout(timer);
    for (const stream of streams) stream.destroy();
    this.#delivery.stop();
    try {
      await this.#backend.unsubscribe(this.#delivery.receive);
      if (this.#ownsBackend) await this.#backend.close();
    } catch (error) {
      this.#error(error, undefined);
    }
  }
}

function backendError(message: string, cause: unknown): SseHubError {
  return cause instanceof SseHubError ? cause : new BackendError(`${message}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
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
