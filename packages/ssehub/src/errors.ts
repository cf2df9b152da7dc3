/**
 * Every error ssehub throws on purpose is an {@link SseHubError} with a stable `code`,
 * so callers can branch on `err.code` instead of parsing messages.
 * @module
 */

/** The stable codes of {@link SseHubError}. */
export type SseHubErrorCode =
  | 'ERR_SSEHUB_INVALID_FIELD'
  | 'ERR_SSEHUB_INVALID_DATA'
  | 'ERR_SSEHUB_STREAM_CLOSED'
  | 'ERR_SSEHUB_HUB_CLOSED'
  | 'ERR_SSEHUB_CLIENT_NOT_FOUND'
  | 'ERR_SSEHUB_REFUSED'
  | 'ERR_SSEHUB_BACKEND';

/** Base class of every error ssehub throws on purpose. */
export class SseHubError extends Error {
  readonly code: SseHubErrorCode;

  constructor(code: SseHubErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * An event field that would break the wire format: an `id` or `event` holding CR, LF or NUL,
 * or a `retry` that is not a non-negative integer. Thrown before anything is written, so no
 * input can forge a second event or field.
 */
export class InvalidFieldError extends SseHubError {
  /** The offending field. */
  readonly field: 'id' | 'event' | 'retry' | 'comment';

  constructor(field: InvalidFieldError['field'], reason: string) {
    super('ERR_SSEHUB_INVALID_FIELD', `Invalid SSE "${field}" field: ${reason}`);
    this.field = field;
  }
}

/**
 * Event data that cannot be encoded: a value `JSON.stringify` throws on (nested too deeply, a
 * cycle, a `BigInt`) or turns into nothing (`undefined`, a function). Thrown before anything is
 * published.
 */
export class InvalidDataError extends SseHubError {
  constructor(reason: string, options?: ErrorOptions) {
    super('ERR_SSEHUB_INVALID_DATA', `Event data cannot be encoded: ${reason}`, options);
  }
}

/** Writing to a stream that has already closed (the client left, or `close()` was called). */
export class StreamClosedError extends SseHubError {
  constructor() {
    super('ERR_SSEHUB_STREAM_CLOSED', 'The SSE stream is closed; nothing more can be sent on it.');
  }
}

/** Publishing through, or connecting to, a hub after `hub.close()`. */
export class HubClosedError extends SseHubError {
  constructor() {
    super('ERR_SSEHUB_HUB_CLOSED', 'The hub is closed; create a new hub to publish again.');
  }
}

/** Looking up a client id the hub does not hold (it never connected, or it has left). */
export class ClientNotFoundError extends SseHubError {
  readonly clientId: string;

  constructor(clientId: string) {
    super('ERR_SSEHUB_CLIENT_NOT_FOUND', `No client with id "${clientId}" is connected to this hub.`);
    this.clientId = clientId;
  }
}

/**
 * A connection the hub turned away, with the HTTP status it answered: 401/403 from
 * `authenticate`, 429 when a user has too many connections, 503 when the hub is full.
 */
export class ConnectionRefusedError extends SseHubError {
  readonly status: number;
  readonly reason: string;
  /** Seconds the client should wait before trying again (sent as `Retry-After`). */
  readonly retryAfter: number | undefined;
  /** Extra headers of the answer (`WWW-Authenticate`, CORS, …). */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** The JSON body of the answer, when not the default `{"error":{code,status,message}}`. */
  readonly body: unknown;

  constructor(status: number, reason: string, retryAfter?: number, answer: { headers?: Record<string, string>; body?: unknown } = {}) {
    super('ERR_SSEHUB_REFUSED', `Connection refused (${status}): ${reason}`);
    this.status = status;
    this.reason = reason;
    this.retryAfter = retryAfter;
    this.headers = answer.headers;
    this.body = answer.body;
  }
}

/**
 * The backend failed: it could not be subscribed to, or it refused or lost an append (Redis
 * down, say). A publish that rejects with it was not published; `cause` holds the backend's
 * own error.
 */
export class BackendError extends SseHubError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_SSEHUB_BACKEND', message, options);
  }
}
