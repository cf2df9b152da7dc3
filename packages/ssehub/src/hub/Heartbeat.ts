import { encodeComment } from '../protocol/encodeEvent.js';
import type { Member } from './Member.js';
import type { Registry } from './Registry.js';

const COMMENT = encodeComment();

/** What the heartbeat needs of its hub. */
export interface HeartbeatHost {
  readonly registry: Registry;
  /** A member whose stream has ended without the hub hearing of it. */
  removed(member: Member): void;
  /** A member whose socket has taken no byte for the stall timeout. */
  stalled(member: Member): void;
}

/**
 * One timer for every connection: a comment for connections idle for a whole interval (so that
 * proxies keep them open), and the end of connections whose socket has not taken a byte for
 * `stallTimeoutMs`.
 */
export class Heartbeat {
  readonly #timer: NodeJS.Timeout;

  constructor(host: HeartbeatHost, intervalMs: number, stallTimeoutMs: number) {
    this.#timer = setInterval(() => beat(host, intervalMs, stallTimeoutMs), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

function beat(host: HeartbeatHost, intervalMs: number, stallTimeoutMs: number): void {
  const now = Date.now();
  for (const member of host.registry.members()) {
    const stream = member.stream;
    if (stream.closed) {
      host.removed(member);
      continue;
    }
    const stalledSince = stream.stalledSince;
    if (stalledSince !== 0 && now - stalledSince >= stallTimeoutMs) {
      host.stalled(member);
      continue;
    }
    if (now - stream.lastWriteAt >= intervalMs - 10) stream.enqueue(COMMENT);
  }
}
