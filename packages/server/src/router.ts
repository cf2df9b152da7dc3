/**
 * Maps a request to its handler: exact paths, then path prefixes. Unknown paths answer 404
 * `not_found`; a known path with another method answers 405 `method_not_allowed` with `Allow`.
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Handler, Route } from './context.js';
import { HttpError } from './errors.js';

/** A path table. */
export class Router {
  readonly #exact = new Map<string, Route>();
  readonly #prefixes: Array<[string, Route]> = [];

  /** Serves `path` exactly. */
  on(path: string, route: Route): this {
    this.#exact.set(path, route);
    return this;
  }

  /** Serves every path starting with `prefix` (which should end with `/`). */
  under(prefix: string, route: Route): this {
    this.#prefixes.push([prefix, route]);
    return this;
  }

  /** The handler of a request, or the 404/405 error to answer. */
  resolve(method: string, pathname: string): Handler {
    const route = this.#exact.get(pathname) ?? this.#prefixes.find(([prefix]) => pathname.startsWith(prefix))?.[1];
    if (route === undefined) throw new HttpError(404, 'not_found', `no such endpoint: ${pathname}`);
    const handler = route[method];
    if (handler !== undefined) return handler;
    const allow = Object.keys(route).join(', ');
    throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${pathname}; use ${allow}`, { allow });
  }
}

/**
 * The URL of a request. The target is taken as a path even when it starts with `//`, which
 * `new URL(target, base)` would read as a host.
 */
export function requestUrl(req: IncomingMessage): URL {
  const target = req.url ?? '/';
  try {
    return target.startsWith('/') ? new URL(`http://localhost${target}`) : new URL(target);
  } catch {
    throw new HttpError(400, 'invalid_query', 'the request target is not a valid URL');
  }
}

/** True when the client is gone, so an error is not worth an answer or a loud log line. */
export function clientGone(req: IncomingMessage, res: ServerResponse): boolean {
  return res.destroyed || (req.destroyed && !req.complete);
}
