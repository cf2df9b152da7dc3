/**
 * A TCP connection driven byte by byte, the way an attacker drives one: it writes exactly the
 * bytes it is given (whole, a few at a time, or trickled), keeps every byte it receives and
 * reads them back as a sequence of HTTP/1.1 responses.
 */
import net from 'node:net';
import { type ParsedResponse, parseResponses } from './responses.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Where a server listens. */
export interface Endpoint {
  readonly port: number;
}

export class RawConnection {
  readonly socket: net.Socket;
  readonly connected: Promise<void>;
  #received: Buffer[] = [];
  #receivedBytes = 0;
  /** When the last byte was sent or received (or the connection opened). */
  lastActivityAt = Date.now();
  /** The server ended its side (FIN) or the connection was reset. */
  ended = false;
  /** The socket is fully closed. */
  closed = false;
  /** When the server ended or reset the connection. */
  endedAt: number | undefined;
  readonly openedAt = Date.now();
  #waiters = new Set<() => void>();

  constructor(endpoint: Endpoint) {
    // allowHalfOpen: a FIN from the server is recorded, and the answer before it kept, without
    // this side closing at once.
    this.socket = net.connect({ port: endpoint.port, host: '127.0.0.1', allowHalfOpen: true, noDelay: true });
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('data', (chunk: Buffer) => {
      this.#received.push(chunk);
      this.#receivedBytes += chunk.byteLength;
      this.lastActivityAt = Date.now();
      this.#wake();
    });
    const end = (): void => {
      if (!this.ended) this.endedAt = Date.now();
      this.ended = true;
      this.#wake();
    };
    this.socket.on('end', () => {
      end();
      this.socket.end();
    });
    this.socket.on('close', () => {
      end();
      this.closed = true;
      this.#wake();
    });
    // A reset is an end like any other here; the bytes before it are kept.
    this.socket.on('error', () => end());
  }

  /** Every byte received so far. */
  get received(): Buffer {
    if (this.#received.length > 1) this.#received = [Buffer.concat(this.#received, this.#receivedBytes)];
    return this.#received[0] ?? Buffer.alloc(0);
  }

  get text(): string {
    return this.received.toString('latin1');
  }

  /** The responses received so far (the last one may still be arriving). */
  get responses(): ParsedResponse[] {
    return parseResponses(this.received);
  }

  /** The statuses of the responses received so far, interim ones (100) included. */
  get statuses(): number[] {
    return this.responses.map((response) => response.status);
  }

  /** Writes bytes as given (strings as latin1: one byte per character). */
  write(bytes: string | Buffer): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.lastActivityAt = Date.now();
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /**
   * Writes `bytes` `size` bytes at a time, `everyMs` apart, until done or until the server has
   * ended the connection. Resolves with the number of bytes written.
   */
  async trickle(bytes: string | Buffer, size: number, everyMs: number): Promise<number> {
    const buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    let at = 0;
    for (; at < buffer.length && !this.ended; at += size) {
      this.write(buffer.subarray(at, at + size));
      if (at + size < buffer.length) await sleep(everyMs);
    }
    return Math.min(at, buffer.length);
  }

  /** Resolves once `predicate` holds; rejects after `timeoutMs`, saying what was received. */
  until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; received ${JSON.stringify(this.text.slice(0, 600))}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** Waits for the server to end the connection. */
  untilEnded(timeoutMs = 5000): Promise<void> {
    return this.until(() => this.ended, 'the server to end the connection', timeoutMs);
  }

  /**
   * Waits until the exchange is over: the server ended the connection, or nothing was sent or
   * received for `quietMs` (an open stream, or a kept-alive connection, waiting for more).
   */
  async settle(quietMs = 250, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended && Date.now() - this.lastActivityAt < quietMs && Date.now() < deadline) await sleep(10);
  }

  /**
   * Waits until `answered()` holds or the server ended the connection (for at most `timeoutMs`:
   * a slow machine must not pass for a silent server), then until the exchange is quiet.
   */
  async settleAfter(answered: () => boolean, quietMs = 250, timeoutMs = 5000): Promise<void> {
    await this.until(() => this.ended || answered(), 'an answer', timeoutMs).catch(() => undefined);
    await this.settle(quietMs, timeoutMs);
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Closes with a TCP RST instead of a FIN. */
  reset(): void {
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
  }

  #wake(): void {
    for (const wake of this.#waiters) wake();
  }

  /** Opens a connection and waits until it is established. */
  static async open(endpoint: Endpoint): Promise<RawConnection> {
    const connection = new RawConnection(endpoint);
    await connection.connected;
    return connection;
  }
}
