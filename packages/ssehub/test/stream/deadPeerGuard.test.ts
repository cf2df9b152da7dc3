/**
 * The dead-peer guard arms sockets in batches, a second after they are watched. Under churn
 * most sockets it is given have closed by then: those must be let go of at the next check,
 * whatever their number, and must not count against the batch, or the queue (and every closed
 * connection it holds) grows without bound while more connections arrive than a batch arms.
 */
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DeadPeerGuard } from '../../src/stream/DeadPeerGuard.js';
import { exposeGc } from '../support/gc.js';

/** What the guard touches of a socket, counted; `destroyed` as the test sets it. */
class FakeSocket {
  destroyed = false;
  keepAliveCalls = 0;
  // Something to retain: a closed connection holds its buffers and listeners.
  readonly payload = new Uint8Array(1024);
  setKeepAlive(): this {
    this.keepAliveCalls++;
    return this;
  }
}

const CHECK_MS = 1000;
const BATCH = 1000;

let guard: DeadPeerGuard | undefined;
afterEach(() => guard?.stop());

/** Watches `count` sockets that are already closed; only weak references stay here. */
function watchClosed(on: DeadPeerGuard, count: number): WeakRef<FakeSocket>[] {
  const refs: WeakRef<FakeSocket>[] = [];
  for (let i = 0; i < count; i++) {
    const socket = new FakeSocket();
    socket.destroyed = true;
    refs.push(new WeakRef(socket));
    on.watch(socket as unknown as Socket);
  }
  return refs;
}

const nextCheck = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, CHECK_MS + 150));

describe('DeadPeerGuard under churn', () => {
  it('lets go of every socket closed before its turn at the next check, however many', async () => {
    const gc = exposeGc();
    guard = new DeadPeerGuard(30_000);
    const refs = watchClosed(guard, 3 * BATCH);
    await nextCheck();
    gc();
    expect(refs.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
  });

  it('counts only live sockets against the batch: all armed, the closed ones skipped', async () => {
    guard = new DeadPeerGuard(30_000);
    const live: FakeSocket[] = [];
    const closed: FakeSocket[] = [];
    // Closed sockets first, as churn leaves them: a batch charged for them would arm nobody.
    for (let i = 0; i < 2 * BATCH; i++) {
      const socket = new FakeSocket();
      socket.destroyed = true;
      closed.push(socket);
      guard.watch(socket as unknown as Socket);
    }
    for (let i = 0; i < BATCH / 2; i++) {
      const socket = new FakeSocket();
      live.push(socket);
      guard.watch(socket as unknown as Socket);
    }
    await nextCheck();
    expect(live.every((socket) => socket.keepAliveCalls === 1)).toBe(true);
    expect(closed.every((socket) => socket.keepAliveCalls === 0)).toBe(true);
  });

  it('still arms at most a batch of live sockets per check, the rest at the next', async () => {
    guard = new DeadPeerGuard(30_000);
    const live = Array.from({ length: BATCH + 200 }, () => new FakeSocket());
    for (const socket of live) guard.watch(socket as unknown as Socket);
    await nextCheck();
    expect(live.filter((socket) => socket.keepAliveCalls === 1)).toHaveLength(BATCH);
    await nextCheck();
    expect(live.every((socket) => socket.keepAliveCalls === 1)).toBe(true);
  });
});
