import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { DisconnectReason, Hub, HubOptions } from '../../src/index.js';
import type { RecordingClient } from '../support/clients.js';
import { connectedOf, dataOf, Scope, waitFor } from './helpers.js';

type Events = { tick: string };

const scope = new Scope();
afterEach(() => scope.dispose());

const PAD = 'x'.repeat(32 * 1024);

/** A raw TCP client that sends the request and then never reads a byte. */
function stoppedReader(url: string, path: string): net.Socket {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  socket.on('error', () => {});
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\n\r\n`);
  socket.pause();
  scope.defer(() => socket.destroy());
  return socket;
}

async function setup(options: HubOptions<Events>) {
  const reasons: Array<[string, DisconnectReason]> = [];
  const { hub, url } = await scope.serve<Events>({ onDisconnect: (client, reason) => reasons.push([client.id, reason]), ...options });
  const fast = scope.client(`${url}/?id=fast`, ['tick']);
  await connectedOf(fast);
  stoppedReader(url, '/?id=slow&user=s&room=r');
  await waitFor(() => hub.getClient('slow') !== undefined, 'the slow client to register');
  return { hub, fast, reasons };
}

/**
 * Broadcasts 32 KiB ticks one at a time, each once the fast client has received the one
 * before (so the fast client never queues), until `done` holds. Returns how many were sent.
 */
async function tickUntil(hub: Hub<Events>, fast: RecordingClient, done: () => boolean, from = 0): Promise<number> {
  let sent = from;
  while (!done()) {
    if (sent - from >= 2000) throw new Error(`still not done after ${sent - from} ticks of 32 KiB`);
    await hub.toAll().send('tick', `${sent}:${PAD}`);
    sent++;
    await fast.waitFor('tick', sent);
  }
  return sent;
}

const ticksOf = (fast: RecordingClient): number[] => dataOf(fast, 'tick').map((data) => Number(data.split(':')[0]));

describe('slow clients through the hub', () => {
  it("with overflow 'disconnect' a client that stops reading is cut; a fast client gets every event in order", async () => {
    const { hub, fast, reasons } = await setup({ maxQueueBytes: 64 * 1024, overflow: 'disconnect' });
    const sent = await tickUntil(hub, fast, () => reasons.length > 0);
    expect(reasons).toEqual([['slow', 'slow']]);
    expect(hub.getClient('slow')).toBeUndefined();
    expect(hub.connectionCount('s')).toBe(0);
    expect(hub.rooms.has('r')).toBe(false);
    expect(hub.counters.slowDisconnects).toBe(1);
    expect(hub.counters.dropped).toBe(0);

    // The fast client is unaffected and keeps receiving.
    const total = await tickUntil(hub, fast, () => ticksOf(fast).length >= sent + 20, sent);
    expect(ticksOf(fast)).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(dataOf(fast, 'tick').every((data) => data.endsWith(PAD))).toBe(true);
    expect(fast.of('connected')).toHaveLength(1);
    expect(hub.counters.slowDisconnects).toBe(1);
    expect(hub.counters.published).toBe(total);
    expect(hub.stats()).toMatchObject({ clients: 1, users: 0, rooms: 0 });
  });

  it("with overflow 'drop-oldest' the slow client stays connected, losing its oldest queued events", async () => {
    const { hub, fast, reasons } = await setup({ maxQueueBytes: 64 * 1024, overflow: 'drop-oldest' });
    const sent = await tickUntil(hub, fast, () => hub.counters.dropped >= 3);
    expect(reasons).toEqual([]);
    expect(hub.getClient('slow')?.stream.backpressured).toBe(true);
    expect(hub.getClient('slow')?.stream.queuedBytes).toBeLessThanOrEqual(64 * 1024);
    expect(hub.counters.slowDisconnects).toBe(0);
    expect(ticksOf(fast)).toEqual(Array.from({ length: sent }, (_, i) => i));
  });

  it('a stalled client is cut after stallTimeoutMs by the heartbeat', async () => {
    const { hub, fast, reasons } = await setup({
      maxQueueBytes: 64 * 1024,
      overflow: 'drop-oldest',
      heartbeatMs: 50,
      stallTimeoutMs: 300,
    });
    await tickUntil(hub, fast, () => hub.getClient('slow')?.stream.backpressured === true);
    await waitFor(() => reasons.length > 0, 'the stalled client to be cut', 5000);
    expect(reasons).toEqual([['slow', 'stalled']]);
    expect(hub.counters.slowDisconnects).toBe(1);
    expect(hub.connectionCount()).toBe(1);
  });

  it('hub.close({ timeoutMs }) cuts a stream that cannot finish and still resolves', async () => {
    const { hub, fast, reasons } = await setup({ maxQueueBytes: 64 * 1024, overflow: 'drop-oldest' });
    await tickUntil(hub, fast, () => hub.getClient('slow')?.stream.backpressured === true);
    const started = Date.now();
    await hub.close({ timeoutMs: 150 });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(3000);
    expect(reasons.sort()).toEqual([
      ['fast', 'hub-closed'],
      ['slow', 'hub-closed'],
    ]);
    expect(hub.connectionCount()).toBe(0);
  });
});
