/**
 * Cross-origin access to `/events` and `/publish` for the origins of `SSEHUB_CORS_ORIGINS`.
 * Listed origins may send credentials (cookies, `Authorization`); `*` allows any origin
 * without credentials, as the Fetch standard requires.
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './errors.js';

/** How long a browser may cache a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE = '600';

/** What a route allows across origins. */
export interface CorsRoute {
  /** Methods of the route (without OPTIONS). */
  readonly methods: readonly string[];
  /** Request headers a browser may send. */
  readonly headers: readonly string[];
}

/** Applies the CORS policy of a server. */
export class Cors {
  readonly #any: boolean;
  readonly #origins: ReadonlySet<string>;

  constructor(origins: '*' | readonly string[] | undefined) {
    this.#any = origins === '*';
    this.#origins = new Set(origins === '*' || origins === undefined ? [] : origins);
  }

  /** True when any cross-origin access is configured. */
  get enabled(): boolean {
    return this.#any || this.#origins.size > 0;
  }

  /** The allow-origin headers for `origin`, or `undefined` when it is not allowed. */
  #allow(origin: string | undefined): Record<string, string> | undefined {
    if (origin === undefined) return undefined;
    if (this.#any) return { 'access-control-allow-origin': '*' };
    if (this.#origins.has(origin)) return { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true' };
    return undefined;
  }

  /**
   * Sets the CORS headers of an actual (non-preflight) request on `res`, before anything is
   * written, so every answer — stream, success or error — carries them.
   */
  apply(req: IncomingMessage, res: ServerResponse): void {
    for (const [name, value] of Object.entries(this.headersFor(req.headers.origin))) res.setHeader(name, value);
  }

  /** The CORS headers of an actual request from `origin` (what `apply` sets). */
  headersFor(origin: string | undefined): Record<string, string> {
    // The answer depends on Origin whenever a list is configured: caches must key on it.
    const headers: Record<string, string> = this.#origins.size > 0 ? { vary: 'Origin' } : {};
    const allowed = this.#allow(origin);
    if (allowed === undefined) return headers;
    return { ...headers, ...allowed, 'access-control-expose-headers': 'Retry-After, WWW-Authenticate' };
  }

  /**
   * Answers an `OPTIONS` request: 204 with the allowed methods and headers for an allowed
   * origin, 403 `origin_not_allowed` for another origin, and a plain 204 with `Allow` for an
   * `OPTIONS` that is not a preflight.
   */
  preflight(req: IncomingMessage, res: ServerResponse, route: CorsRoute): void {
    const allow = ['OPTIONS', ...route.methods].join(', ');
    const origin = req.headers.origin;
    if (origin === undefined || req.headers['access-control-request-method'] === undefined) {
      res.writeHead(204, { allow });
      res.end();
      return;
    }
    const allowed = this.#allow(origin);
    if (allowed === undefined) {
      throw new HttpError(403, 'origin_not_allowed', `origin ${origin} is not allowed (SSEHUB_CORS_ORIGINS)`, {
        ...(this.#origins.size > 0 ? { vary: 'Origin' } : {}),
      });
    }
    res.writeHead(204, {
      ...allowed,
      ...(this.#origins.size > 0 ? { vary: 'Origin' } : {}),
      allow,
      'access-control-allow-methods': allow,
      'access-control-allow-headers': route.headers.join(', '),
      'access-control-max-age': PREFLIGHT_MAX_AGE,
    });
    res.end();
  }
}
