import { afterEach, describe, expect, it } from 'vitest';
import type { DisconnectReason } from '../../src/index.js';
import { connectedOf } from '../hub/helpers.js';
import { getHead, hubOf, parseEvents, RawSocket, Scope, sseServer, waitFor } from './helpers.js';

const scope = new Scope();
afterEach(() => scope.dispose());

const PAD = 'x'.repeat(1000);
const BATCH = 64;

describe('backpressure on the fast path', () => {
  it('cuts a client that stops reading once its queue overflows; a reading eventsource client gets every event in order', async () => {
    const reasons: Array<[string, DisconnectReason]> = [];
    const hub = hubOf(scope, {
      maxQueueBytes: 64 * 1024,
      onDisconnect: (client, reason) => reasons.push([client.id, reason]),
    });
    const { url, port } = await sseServer(scope, hub);
    const fast = scope.client(`${url}/events?id=fast`, ['tick']);
    await connectedOf(fast);

    const slow = RawSocket.open(scope, port);
    slow.write(getHead('/events?id=slow&user=s&room=r'));
    await slow.untilBody((text) => text.includes('"clientId":"slow"'), 'the slow greeting');
    // From now on the slow client reads nothing: kernel buffers fill, then its queue.
    slow.socket.pause();

    // Bursts of ~1 KiB events, each burst in one turn of the loop; the next once the fast
    // client has them all (so only the slow client falls behind).
    const ids: string[] = [];
    while (reasons.length === 0) {
      if (ids.length >= 40_000) throw new Error(`the slow client is still connected after ${ids.length} events`);
      const burst: Promise<string>[] = [];
      for (let i = 0; i < BATCH; i++) burst.push(hub.broadcast('tick', `${ids.length + i}:${PAD}`));
      ids.push(...(await Promise.all(burst)));
      await fast.waitFor('tick', ids.length);
    }
    expect(reasons).toEqual([['slow', 'slow']]);
    expect(hub.counters.slowDisconnects).toBe(1);
    expect(hub.counters.dropped).toBe(0);
    expect(hub.getClient('slow')).toBeUndefined();
    expect(hub.connectionCount('s')).toBe(0);
    expect(hub.roomSize('r')).toBe(0);

    // The fast client goes on, unaffected.
    for (let i = 0; i < BATCH; i++) ids.push(await hub.broadcast('tick', `${ids.length}:${PAD}`));
    await fast.waitFor('tick', ids.length);
    expect(fast.of('tick')).toEqual(ids.map((id, i) => ({ type: 'tick', data: `${i}:${PAD}`, lastEventId: id })));
    expect(fast.of('connected')).toHaveLength(1);
    expect(hub.connectionCount()).toBe(1);
    expect(hub.counters.slowDisconnects).toBe(1);

    // What reached the slow client is a gap-free prefix, and its body was cut, not ended.
    slow.socket.resume();
    await slow.closedPromise();
    const body = slow.body;
    expect(body.complete).toBe(false);
    const ticks = parseEvents(body.text).filter((event) => event.event === 'tick');
    expect(ticks.length).toBeGreaterThan(0);
    expect(ticks.length).toBeLessThan(ids.length);
    expect(ticks).toEqual(ticks.map((_, i) => ({ event: 'tick', data: `${i}:${PAD}`, id: ids[i] })));
    await waitFor(() => hub.connectionCount() === 1, 'one client left');
  });
});
