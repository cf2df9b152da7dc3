/**
 * Who is calling: JWT verification for subscribers and publishers, and the shared publish key.
 * Without a JWT secret or public key the server is in development mode: `?user=` names the
 * subscriber and any room may be joined.
 * @module
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import type { Config, JwtConfig } from './config.js';
import { HttpError } from './errors.js';

/** What is read of a request: its headers (an `IncomingMessage`, or a request ssehub read itself). */
export type RequestHeaders = Pick<IncomingMessage, 'headers'>;

/** The cookie a browser may carry its token in (EventSource cannot set headers). */
export const TOKEN_COOKIE = 'ssehub_token';
/** Longest user id, room name or client id accepted, in characters. */
export const MAX_NAME_LENGTH = 256;

/**
 * The length of a name in characters (code points), as the publish API's schema counts it, so
 * that a name one side accepts the other accepts too.
 */
export function nameLength(name: string): number {
  let length = 0;
  for (const _ of name) length++;
  return length;
}
/** Clock skew tolerated on `exp`/`nbf`, in seconds. */
const CLOCK_TOLERANCE_SECONDS = 5;

/** Who a subscriber is and which rooms it may join. */
export interface Subscriber {
  readonly userId: string | undefined;
  /** Whether `room` may be joined. */
  mayJoin(room: string): boolean;
}

/** An authorised publisher; `rateKey` names its rate-limit bucket. */
export interface Publisher {
  readonly rateKey: string;
}

/** How a publisher's credential was accepted: the shared key, or a JWT (with its `sub`). */
type PublisherCredential = { readonly via: 'publish-key' } | { readonly via: 'jwt'; readonly subject: string | undefined };

const ANY_ROOM = (): boolean => true;

function unauthorized(code: 'missing_token' | 'invalid_token' | 'token_expired', message: string): HttpError {
  const error = code === 'missing_token' ? 'Bearer realm="ssehub"' : `Bearer realm="ssehub", error="invalid_token"`;
  return new HttpError(401, code, message, { 'www-authenticate': error });
}

/** The token of `Authorization: Bearer <token>`, if any. */
export function bearerToken(req: RequestHeaders): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** The value of one cookie, if present. */
export function cookieValue(req: RequestHeaders, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index === -1 || part.slice(0, index).trim() !== name) continue;
    const value = part.slice(index + 1).trim();
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return undefined;
}

/**
 * Which rooms a `rooms` claim allows: exact names, `*` for any room, or a prefix ending in
 * `*` (`team-42:*`). A missing claim allows none.
 */
export function roomPolicy(claim: readonly string[] | undefined): (room: string) => boolean {
  if (claim === undefined || claim.length === 0) return () => false;
  if (claim.includes('*')) return ANY_ROOM;
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const entry of claim) {
    if (entry.endsWith('*')) prefixes.push(entry.slice(0, -1));
    else exact.add(entry);
  }
  return (room) => exact.has(room) || prefixes.some((prefix) => room.startsWith(prefix));
}

// Hashing first makes the comparison constant-time whatever the lengths.
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Verifies tokens and keys as the configuration says. */
export class Authenticator {
  readonly #jwt: JwtConfig | undefined;
  readonly #publishKey: string | undefined;

  constructor(config: Pick<Config, 'jwt' | 'publishKey'>) {
    this.#jwt = config.jwt;
    this.#publishKey = config.publishKey;
  }

  /** True when subscribers must present a JWT. */
  get subscribersAuthenticated(): boolean {
    return this.#jwt !== undefined;
  }

  /** True when publishers must present the publish key or a JWT. */
  get publishersAuthenticated(): boolean {
    return this.#jwt !== undefined || this.#publishKey !== undefined;
  }

  /**
   * Identifies a subscriber of `GET /events`. With JWTs: the token from the `Authorization`
   * header, the `ssehub_token` cookie or `?token=`, in that order; `sub` is the user and the
   * `rooms` claim limits the rooms. Without: `?user=` and any room.
   */
  subscriber(req: RequestHeaders, url: URL): Subscriber | Promise<Subscriber> {
    if (this.#jwt === undefined) {
      const user = url.searchParams.get('user') ?? undefined;
      if (user !== undefined && (user === '' || nameLength(user) > MAX_NAME_LENGTH)) {
        throw new HttpError(400, 'invalid_query', `user must be 1 to ${MAX_NAME_LENGTH} characters`);
      }
      return { userId: user, mayJoin: ANY_ROOM };
    }
    const token = bearerToken(req) ?? cookieValue(req, TOKEN_COOKIE) ?? url.searchParams.get('token') ?? undefined;
    if (token === undefined || token === '') {
      throw unauthorized('missing_token', `a token is required: Authorization: Bearer <jwt>, cookie ${TOKEN_COOKIE} or ?token=`);
    }
    return this.#verify(this.#jwt, token).then((payload) => ({ userId: payload.sub, mayJoin: roomPolicy(payload.rooms) }));
  }

  /**
   * Authorises a `POST /publish`: the publish key or a JWT whose `publish` claim is `true`,
   * only from the `Authorization` header (a cookie would let any page publish: CSRF).
   * `clientIp` keys the rate limit of unauthenticated publishers.
   */
  async publisher(req: IncomingMessage, clientIp: string): Promise<Publisher> {
    if (!this.publishersAuthenticated) return { rateKey: `ip:${clientIp}` };
    const token = bearerToken(req);
    if (token === undefined) {
      throw unauthorized('missing_token', 'publishing requires Authorization: Bearer <publish key or JWT>');
    }
    const credential = await this.#publisherCredential(token, 'publish');
    if (credential.via === 'publish-key') return { rateKey: 'publish-key' };
    return { rateKey: credential.subject === undefined ? `ip:${clientIp}` : `sub:${credential.subject}` };
  }

  /**
   * Authorises a viewer of the hub's figures (`GET /status`, `GET /dashboard/stream`), which
   * name rooms and users: open in development, otherwise the credential of publishing (the
   * publish key, or a JWT whose `publish` claim is `true`). From the `Authorization` header,
   * or, when `url` is given, from `?token=` too, for a browser's EventSource, which cannot set
   * headers. Never from a cookie: subscribers' tokens live there.
   */
  async viewer(req: RequestHeaders, url?: URL): Promise<void> {
    if (!this.publishersAuthenticated) return;
    const token = bearerToken(req) ?? (url?.searchParams.get('token') || undefined);
    if (token === undefined) {
      const where =
        url === undefined ? 'Authorization: Bearer <publish key or JWT>' : 'Authorization: Bearer or ?token= (publish key or JWT)';
      throw unauthorized('missing_token', `the hub's figures require the publishing credential: ${where}`);
    }
    await this.#publisherCredential(token, "read the hub's figures");
  }

  /** Accepts the publish key, or a valid JWT with `"publish": true`; `action` words the 403. */
  async #publisherCredential(token: string, action: string): Promise<PublisherCredential> {
    if (this.#publishKey !== undefined && sameSecret(token, this.#publishKey)) return { via: 'publish-key' };
    if (this.#jwt === undefined) throw unauthorized('invalid_token', 'the bearer token is not the publish key');
    const payload = await this.#verify(this.#jwt, token);
    if (payload.publish !== true) {
      throw new HttpError(403, 'publish_forbidden', `this token may not ${action}: it needs the claim "publish": true`);
    }
    return { via: 'jwt', subject: payload.sub };
  }

  async #verify(jwt: JwtConfig, token: string): Promise<JWTPayload & { rooms?: string[]; publish?: unknown }> {
    let payload: JWTPayload;
    try {
      const verified = await jwtVerify(token, jwt.key, {
        algorithms: [...jwt.algorithms],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        ...(jwt.issuer === undefined ? {} : { issuer: jwt.issuer }),
        ...(jwt.audience === undefined ? {} : { audience: jwt.audience }),
      });
      payload = verified.payload;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw unauthorized('token_expired', 'the token has expired');
      if (error instanceof joseErrors.JWTClaimValidationFailed) throw unauthorized('invalid_token', `invalid token: ${error.message}`);
      throw unauthorized('invalid_token', 'invalid token: it is malformed, or its signature or algorithm does not verify');
    }
    if (payload.sub !== undefined && (typeof payload.sub !== 'string' || payload.sub === '' || nameLength(payload.sub) > MAX_NAME_LENGTH)) {
      throw unauthorized('invalid_token', `invalid token: "sub" must be a string of 1 to ${MAX_NAME_LENGTH} characters`);
    }
    const rooms = payload.rooms;
    if (rooms !== undefined && !(Array.isArray(rooms) && rooms.every((room) => typeof room === 'string'))) {
      throw unauthorized('invalid_token', 'invalid token: "rooms" must be an array of strings');
    }
    return payload as JWTPayload & { rooms?: string[] };
  }
}
