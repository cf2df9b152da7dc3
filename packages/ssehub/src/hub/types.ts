import type { Backend, Target } from '../backends/Backend.js';
import type { HistoryOptions } from '../backends/MemoryLog.js';
import type { OverflowPolicy } from '../stream/SseStream.js';
import type { ConnectRequest } from '../transports/Connection.js';
import type { Client } from './Client.js';

/** Maps event names to payload types: `{ chat: { text: string }; typing: { user: string } }`. */
export type EventMap = object;

/** Names of the events of an {@link EventMap}. */
export type EventName<Events extends EventMap> = keyof Events & string;

/** Who a connection is, as decided by `authenticate`. */
export interface ClientInit<Meta> {
  /** The user this connection belongs to; a user may have many connections. */
  userId?: string;
  /** Rooms joined before the first event (and before resume, so missed room events replay). */
  rooms?: readonly string[];
  /** Extra headers for this connection's response (CORS for the request's origin, say). */
  headers?: Record<string, string>;
  metadata?: Meta;
  /**
   * A stable connection id chosen by the application (for example one per browser tab). With
   * it, events sent to this client id are replayed on resume; random ids cannot be resumed.
   */
  clientId?: string;
}

/** A refusal from `authenticate`: the connection is answered with `status` and `reason`. */
export interface Refusal {
  readonly refuse: number;
  readonly reason?: string;
  /** Extra headers of the answer (`WWW-Authenticate`, CORS, …). */
  readonly headers?: Record<string, string>;
  /** A JSON body to answer with instead of `{"error":{"code","status","message"}}`. */
  readonly body?: unknown;
}

/**
 * Returns a {@link Refusal} for `authenticate`: `return refuse(401, 'token expired')`, or with
 * your own answer: `refuse(401, 'no token', { headers: { 'www-authenticate': 'Bearer' }, body: { code: 'missing_token' } })`.
 */
export function refuse(
  status: 401 | 403 | number,
  reason?: string,
  answer?: { headers?: Record<string, string>; body?: unknown },
): Refusal {
  return { refuse: status, ...(reason === undefined ? {} : { reason }), ...answer };
}

/** Minimal structured logger (pino, bunyan and console-like loggers fit). Silent by default. */
export interface Logger {
  debug(details: object, message?: string): void;
  info(details: object, message?: string): void;
  warn(details: object, message?: string): void;
  error(details: object, message?: string): void;
}

/** What the publish hook is told after an event has been delivered locally. */
export interface PublishInfo {
  readonly id: string;
  readonly event: string | undefined;
  readonly target: Target;
  /** Connections of this hub the event was queued for. */
  readonly recipients: number;
  /** Whether the event was kept in the resume history. */
  readonly history: boolean;
}

/** Why a client left. */
export type DisconnectReason = 'client' | 'closed' | 'slow' | 'stalled' | 'evicted' | 'hub-closed';

/** Options of {@link createHub}. Every one is optional. */
export interface HubOptions<Events extends EventMap = Record<string, unknown>, Meta extends object = Record<string, unknown>> {
  /**
   * How hubs share events, and where the resume history lives (its log).
   * @defaultValue a new `MemoryBackend` with the `history` bounds
   */
  backend?: Backend;
  /**
   * Decides who a connection is, or refuses it. Runs before anything is written.
   * Throwing a `ConnectionRefusedError` refuses with its status; any other error answers 500.
   */
  authenticate?: (request: ConnectRequest) => ClientInit<Meta> | Refusal | Promise<ClientInit<Meta> | Refusal>;
  /** Most connections at once; further ones get 503 with Retry-After. @defaultValue Infinity */
  maxClients?: number;
  /** Most connections of one user. @defaultValue Infinity */
  maxClientsPerUser?: number;
  /**
   * What happens past `maxClientsPerUser`: `refuse` answers 429; `evict-oldest` ends the user's
   * oldest connection (after an `ssehub:evicted` event) to admit the new one.
   * @defaultValue 'refuse'
   */
  perUserLimit?: 'refuse' | 'evict-oldest';
  /** Seconds sent in `Retry-After` when the hub is full. @defaultValue 5 */
  retryAfterSeconds?: number;
  /** Interval of the shared keep-alive comment, in ms; 0 turns it off. @defaultValue 15000 */
  heartbeatMs?: number;
  /**
   * A client whose socket has taken no bytes for this long is disconnected, in ms.
   * @defaultValue 60000
   */
  stallTimeoutMs?: number;
  /**
   * Time after which a peer that vanished without closing (network gone, laptop shut) is
   * dropped, in ms: TCP keep-alive for idle connections and, with the optional `net-keepalive`
   * package installed, `TCP_USER_TIMEOUT` while bytes are in flight (see the README's limits).
   * `0` leaves sockets as the operating system sets them. @defaultValue 30000
   */
  deadPeerTimeoutMs?: number;
  /** `retry:` hint sent at connect and at shutdown, in ms (a non-negative integer, or `createHub` throws `InvalidFieldError`); `false` sends none. @defaultValue 2000 */
  retryMs?: number | false;
  /**
   * Name of the first event, carrying `{"clientId", "userId"}`; `false` sends none.
   * @defaultValue 'connected'
   */
  connectedEvent?: string | false;
  /** Bytes queued per slow client before `overflow` applies. @defaultValue 1048576 */
  maxQueueBytes?: number;
  /** Slow-client policy. @defaultValue 'disconnect' */
  overflow?: OverflowPolicy;
  /**
   * Resume history bounds of the default backend, or `false` to keep none. A backend you give
   * keeps its own history: give its bounds to it (`createHub` refuses both at once).
   * @defaultValue see {@link HistoryOptions}
   */
  history?: HistoryOptions | false;
  /**
   * How long a hub waits for an event its backend skipped (a seq that has not arrived while
   * later ones have) before it reads it from the log, in ms. @defaultValue 200
   */
  gapTimeoutMs?: number;
  /** Events to these rooms are never kept for resume (typing indicators, cursors). */
  ephemeralRooms?: readonly string[];
  /** Events of these names are never kept for resume. */
  ephemeralEvents?: readonly string[];
  /**
   * Event sent instead of a replay when a Last-Event-ID cannot be resumed from.
   * @defaultValue 'ssehub:reset'
   */
  resetEvent?: string;
  /** Longest Last-Event-ID accepted, in characters. @defaultValue 256 */
  maxLastEventIdLength?: number;
  /**
   * Extra headers on every event-stream response and refusal (CORS, for example). Checked as
   * node:http checks them: `createHub` throws `ERR_INVALID_HTTP_TOKEN` / `ERR_INVALID_CHAR`.
   */
  headers?: Record<string, string>;
  /** Makes client ids. @defaultValue `crypto.randomUUID` */
  generateClientId?: () => string;
  /**
   * Called after `authenticate`, before the client is registered and its missed events are
   * replayed: rooms joined here count for the replay. May be async.
   */
  onConnect?: (client: Client<Events, Meta>) => void | Promise<void>;
  onDisconnect?: (client: Client<Events, Meta>, reason: DisconnectReason) => void;
  onError?: (error: unknown, client: Client<Events, Meta> | undefined) => void;
  onPublish?: (info: PublishInfo) => void;
  logger?: Logger;
}
