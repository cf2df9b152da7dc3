import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/**
 * An event stream never ends, so on HTTP/1.x no request after it on the same connection can
 * ever be answered. Such a request is not merely useless: node:http would still hand it to the
 * application (a `POST /publish` pipelined behind a `GET /events` would publish, with nobody to
 * read the answer) and keep its request and response objects until the connection ends, so that
 * one connection could pile up any number of them.
 *
 * A connection is sealed from the moment a stream request arrives on it: a request that follows
 * closes the connection before any listener sees it (the stream's client reconnects and resumes).
 * A refused stream request unseals it, as its answer ends and the connection may serve again.
 * @module
 */

/** The part of node:http's per-connection parser that hands each parsed request on. */
interface RequestParser {
  onIncoming: ((this: unknown, req: IncomingMessage, keepAlive: boolean) => unknown) | null | undefined;
}

const sealed = new WeakSet<Socket>();
const guarded = new WeakSet<Socket>();

/**
 * Seals the connection of an HTTP/1.x request. Returns false when the connection is already
 * sealed: the request was pipelined behind a stream and must not be served (the connection is
 * closed here).
 */
export function sealConnection(req: IncomingMessage): boolean {
  const socket = req.socket;
  if (sealed.has(socket)) {
    socket.destroy();
    return false;
  }
  sealed.add(socket);
  if (!guarded.has(socket)) guardParser(socket);
  return true;
}

/** Lets a connection serve requests again (its stream request was refused and answered). */
export function unsealConnection(req: IncomingMessage): void {
  sealed.delete(req.socket);
}

/**
 * Stops node:http at the parser: a request parsed on a sealed connection is dropped with the
 * connection before node:http emits `'request'`, so that no application route runs it, even
 * one registered before the hub's. Requests pipelined in the same packet as the stream request
 * are parsed in the same turn, before any asynchronous step could react: only this catches them.
 * Without the parser hook (another runtime), `sealConnection` still refuses them at the hub.
 */
function guardParser(socket: Socket): void {
  const parser = (socket as Socket & { parser?: RequestParser | null }).parser;
  const onIncoming = parser?.onIncoming;
  if (parser == null || typeof onIncoming !== 'function') return;
  guarded.add(socket);
  // node:http frees the parser (and sets a new `onIncoming`) when the connection ends, so this
  // never outlives it.
  parser.onIncoming = function sealedOnIncoming(this: unknown, req: IncomingMessage, keepAlive: boolean): unknown {
    if (!sealed.has(socket)) return onIncoming.call(this, req, keepAlive);
    socket.destroy();
    return 0;
  };
}
