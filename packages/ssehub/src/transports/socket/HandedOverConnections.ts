import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { finishResponse } from './finishResponse.js';
import { errorBody, errorResponse, JSON_TYPE } from './responseHead.js';

/** A request node:http is reading the body of. */
interface BodyInProgress {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly deadline: number;
}

/** What is known of one handed-over connection. */
interface HandedOver {
  /** Requests whose answer has not ended yet. */
  answering: number;
  /** `socket.bytesRead` when the last answer ended: more means a next head has begun. */
  bytesReadWhenIdle: number;
  /** When the next head began (seen to within a check), or 0 while none has. */
  headStartedAt: number;
  /** Requests whose body has not fully arrived. */
  bodies: BodyInProgress[] | undefined;
}

/** Bounds of a handed-over connection, in ms. */
export interface HandOverLimits {
  /** Time a request head may take, from its first byte (the connection, for the first head). */
  readonly headersTimeoutMs: number;
  /** Time a request may take to arrive whole, body included, from the start of its head. */
  readonly requestTimeoutMs: number;
}

/**
 * The connections an SSE server handed to node:http, and the time limits node:http would have
 * enforced had it accepted them itself: its own checker starts on `'listening'`, which a server
 * fed through `emit('connection')` never gets. Without these, a slow head after a first request
 * or a body that never ends would hold a socket forever.
 *
 * One timer checks every connection, as node:http's does; a connection costs no timer of its own.
 */
export class HandedOverConnections {
  readonly #limits: HandOverLimits;
  readonly #connections = new Map<Socket, HandedOver>();
  readonly #checkEveryMs: number;
  #timer: NodeJS.Timeout | undefined;
  #closing = false;

  constructor(limits: HandOverLimits) {
    this.#limits = limits;
    // Precise enough (a quarter of the shortest limit) without waking up more than needed.
    this.#checkEveryMs = Math.max(10, Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)));
  }

  /** Connections held now. */
  get size(): number {
    return this.#connections.size;
  }

  /** Takes in a connection whose first head started arriving at `since`. */
  add(socket: Socket, since: number): void {
    this.#connections.set(socket, { answering: 0, bytesReadWhenIdle: 0, headStartedAt: since, bodies: undefined });
    socket.once('close', () => this.#connections.delete(socket));
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#check(), this.#checkEveryMs);
      this.#timer.unref();
    }
  }

  /** A connection node:http no longer speaks HTTP/1 on (an upgrade, a CONNECT tunnel): no limits apply. */
  release(socket: Socket): void {
    this.#connections.delete(socket);
  }

  /** node:http has read a request head on `socket`: its answer and its body are followed. */
  requestArrived(socket: Socket, req: IncomingMessage, res: ServerResponse): void {
    const connection = this.#connections.get(socket);
    if (connection === undefined) return;
    // Measured from the first byte of the head, as far as it was seen.
    const startedAt = connection.headStartedAt === 0 ? Date.now() : connection.headStartedAt;
    connection.answering++;
    connection.headStartedAt = 0;
    if (!req.complete) (connection.bodies ??= []).push({ req, res, deadline: startedAt + this.#limits.requestTimeoutMs });
    res.once('close', () => {
      if (--connection.answering !== 0) return;
      if (this.#closing) socket.destroy();
      // Idle: node:http's keep-alive timeout owns it, until a next head begins.
      connection.bytesReadWhenIdle = socket.bytesRead;
    });
  }

  /**
   * Closes the connections that are idle (between two requests, or before the first) now, and
   * every other one as soon as its last answer is out, as node:http's `close()` does.
   */
  closeIdle(): void {
    this.#closing = true;
    for (const [socket, connection] of this.#connections) if (connection.answering === 0) socket.destroy();
  }

  /** Cuts every connection. */
  closeAll(): void {
    for (const socket of [...this.#connections.keys()]) socket.destroy();
  }

  #check(): void {
    if (this.#connections.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const now = Date.now();
    for (const [socket, connection] of this.#connections) {
      if (connection.bodies !== undefined) this.#checkBodies(socket, connection, now);
      if (connection.answering !== 0) continue;
      if (connection.headStartedAt === 0) {
        if (socket.bytesRead > connection.bytesReadWhenIdle) connection.headStartedAt = now;
      } else if (now - connection.headStartedAt >= this.#limits.headersTimeoutMs) {
        this.#connections.delete(socket);
        // A head is half there: answered as node:http does (408), then closed.
        if (socket.writable) finishResponse(socket, errorResponse(408, 'request_timeout', 'the request head took too long'));
        else socket.destroy();
      }
    }
  }

  #checkBodies(socket: Socket, connection: HandedOver, now: number): void {
    const bodies = connection.bodies as BodyInProgress[];
    for (let i = bodies.length - 1; i >= 0; i--) {
      const body = bodies[i] as BodyInProgress;
      if (body.req.complete) {
        bodies.splice(i, 1);
        continue;
      }
      if (now < body.deadline) continue;
      this.#connections.delete(socket);
      const { res } = body;
      if (!res.headersSent && res.socket === socket && !res.destroyed) {
        const body = errorBody('request_timeout', 'the request body took too long');
        res.writeHead(408, { ...JSON_TYPE, 'content-length': String(Buffer.byteLength(body)), connection: 'close' }).end(body);
        // node:http closes once the answer is out (`connection: close`); a client that does not
        // read it does not keep the socket.
        setTimeout(() => socket.destroy(), 1000).unref();
      } else socket.destroy();
      return;
    }
    if (bodies.length === 0) connection.bodies = undefined;
  }
}
