import type { Socket } from 'node:net';
import { DrainAwaitingSink } from '../../stream/DrainAwaitingSink.js';
import type { Sink, SinkEvents } from '../../stream/Sink.js';
import { frameChunk, LAST_CHUNK } from './chunkedFrame.js';
import { finishResponse } from './finishResponse.js';
import { streamHead } from './responseHead.js';

/**
 * The sink of an event stream the SSE server writes straight to its socket: its own response
 * head, and each flush framed as one chunk in one buffer, so one write is one system call with
 * one buffer, without node:http's per-write framing and bookkeeping.
 */
export class SocketSink extends DrainAwaitingSink implements Sink {
  readonly #socket: Socket;
  readonly socket: Socket;
  // Built (and its headers checked) when the stream opens; sent with the first write.
  readonly #head: Buffer;
  #headSent = false;

  constructor(socket: Socket, events: SinkEvents, extraHeaders: Readonly<Record<string, string>> | undefined) {
    super(events);
    this.#socket = socket;
    this.socket = socket;
    this.#head = streamHead(extraHeaders);
  }

  write(chunk: Uint8Array): boolean {
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) return true;
    let ok: boolean;
    if (this.#headSent) ok = socket.write(frameChunk(chunk));
    else {
      // The head and the first events leave in one system call.
      this.#headSent = true;
      socket.cork();
      socket.write(this.#head);
      ok = socket.write(frameChunk(chunk));
      socket.uncork();
    }
    return ok || this.refused(socket);
  }

  flushHead(): void {
    if (this.#headSent) return;
    this.#headSent = true;
    if (!this.#socket.destroyed && this.#socket.writable) this.#socket.write(this.#head);
  }

  end(): void {
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) return;
    this.flushHead();
    finishResponse(socket, LAST_CHUNK);
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/**
 * Starts an event stream on a socket whose request head was read: listens for its end, and
 * keeps reading (and discarding) so that a client that goes away is noticed at once.
 */
export function openSocketSink(socket: Socket, events: SinkEvents, extraHeaders?: Readonly<Record<string, string>>): Sink {
  socket.setNoDelay(true);
  socket.on('close', () => events.sinkClosed());
  // A reset peer: 'close' follows; without a listener the error would crash the process.
  socket.on('error', ignore);
  // Nothing after the request is read: bytes a client sends are dropped.
  socket.on('data', ignore);
  socket.resume();
  if (socket.destroyed) queueMicrotask(() => events.sinkClosed());
  return new SocketSink(socket, events, extraHeaders);
}

function ignore(): void {}
