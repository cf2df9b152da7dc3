import type { Socket } from 'node:net';

/** The part of the optional `net-keepalive` package used here. */
interface SocketOptions {
  setUserTimeout(socket: Socket, milliseconds: number): boolean;
}

// Probes sent by TCP keep-alive once a connection is idle: Node (libuv) sends one a second, ten
// times, before it gives up on the peer.
const KEEPALIVE_PROBES_MS = 10_000;
// Sockets armed per check, so that a burst of connections costs a few milliseconds a second
// rather than one long pause (each socket costs a few system calls).
const ARMED_PER_CHECK = 1000;
const CHECK_EVERY_MS = 1000;

let socketOptions: Promise<SocketOptions | undefined> | undefined;

/** `net-keepalive`, when installed (an optional peer dependency); loaded once, on first use. */
function loadSocketOptions(): Promise<SocketOptions | undefined> {
  const name = 'net-keepalive';
  socketOptions ??= import(name).then(
    (module: { default?: SocketOptions } & Partial<SocketOptions>) => {
      const options = (module.setUserTimeout === undefined ? module.default : module) as SocketOptions | undefined;
      return typeof options?.setUserTimeout === 'function' ? options : undefined;
    },
    () => undefined,
  );
  return socketOptions;
}

/**
 * Finds peers that vanished without a FIN (a laptop closed, a network gone, a NAT that forgot
 * the connection) within a bounded time, so that their streams do not stay registered for the
 * quarter of an hour the kernel would otherwise retransmit for.
 *
 * Two kernel mechanisms, set on each socket:
 * - TCP keep-alive probes a connection that is idle (nothing in flight): a dead peer is found
 *   `timeoutMs` after the last byte it acknowledged.
 * - While bytes are in flight (a heartbeat, an event) keep-alive is suspended: there the limit
 *   is `TCP_USER_TIMEOUT`, which Node cannot set by itself; with the optional `net-keepalive`
 *   package installed it is set to `timeoutMs` too. Without it, such a peer is found when the
 *   kernel gives up retransmitting (`net.ipv4.tcp_retries2`) or when its queue overflows.
 *
 * Sockets are armed within a second of being watched, in batches, not on the accept path.
 */
export class DeadPeerGuard {
  readonly #timeoutMs: number;
  #waiting: Socket[] = [];
  #timer: NodeJS.Timeout | undefined;
  #options: SocketOptions | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    void loadSocketOptions().then((options) => {
      this.#options = options;
    });
  }

  /** Whether `TCP_USER_TIMEOUT` can be set (the optional `net-keepalive` package loaded). */
  static available(): Promise<boolean> {
    return loadSocketOptions().then((options) => options !== undefined);
  }

  /** Arms `socket` within a second. */
  watch(socket: Socket): void {
    this.#waiting.push(socket);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#arm(), CHECK_EVERY_MS);
      this.#timer.unref();
    }
  }

  /** Stops arming (sockets already armed keep their settings). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#waiting = [];
  }

  #arm(): void {
    // Sockets closed meanwhile need nothing: let go of at once, and not counted against the
    // batch. Counted, they would let the queue (and every closed connection it holds) grow
    // without bound while more than a batch of connections arrives each second.
    const live = this.#waiting.filter((socket) => !socket.destroyed);
    const batch = live.splice(0, ARMED_PER_CHECK);
    this.#waiting = live;
    for (const socket of batch) {
      socket.setKeepAlive(true, Math.max(1000, this.#timeoutMs - KEEPALIVE_PROBES_MS));
      try {
        this.#options?.setUserTimeout(socket, this.#timeoutMs);
      } catch {
        // A socket closing meanwhile (no descriptor): nothing left to guard.
      }
    }
    if (this.#waiting.length === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}

/**
 * Whether ssehub can set `TCP_USER_TIMEOUT` here (the optional `net-keepalive` package is
 * installed and loads): without it, `deadPeerTimeoutMs` bounds only idle connections.
 */
export function canSetTcpUserTimeout(): Promise<boolean> {
  return DeadPeerGuard.available();
}
