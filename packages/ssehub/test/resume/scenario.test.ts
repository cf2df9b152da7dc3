import { afterEach, describe, expect, it } from 'vitest';
import type { Target } from '../../src/backends/Backend.js';
import { Harness, type Identity, seen, seqOf, until } from './harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

const u1r1: Identity = { tag: 'a', user: 'u1', rooms: ['r1'] };

function connectedIds(client: { of(type: string): Array<{ data: string }> }): string[] {
  return client.of('connected').map((event) => (JSON.parse(event.data) as { clientId: string }).clientId);
}

describe('resume after a server-side drop', () => {
  it.each(['close', 'destroy'] as const)('replays exactly the addressed missed events, then live ones (%s)', async (how) => {
    const h = (harness = await Harness.start());
    const client = h.connect(u1r1);
    // A bystander in the other room/user keeps the hub's rooms and users non-trivial.
    const other = h.connect({ tag: 'b', user: 'u2', rooms: ['r2'] });
    await client.waitFor('connected');
    await other.waitFor('connected');

    const before: Target[] = [{ all: true }, { rooms: ['r1'] }, { users: ['u1'] }];
    for (let i = 0; i < 50; i++) h.publish(before[i % 3] as Target, `before-${i}`);
    await client.waitFor('message', 50);
    const oldId = connectedIds(client)[0] as string;
    expect(h.hub.getClient(oldId)?.metadata.tag).toBe('a');

    // The drop and the missed publishes happen in the same turn: none can reach the old socket.
    expect(h.drop('a', how)).toBe(true);
    const mix: Target[] = [
      { all: true },
      { rooms: ['r1'] },
      { rooms: ['r2'] },
      { users: ['u1'] },
      { users: ['u2'] },
      { clients: [oldId] },
      { rooms: ['r1'], users: ['u1'] }, // matches twice, must arrive once
      { rooms: ['r2'], users: ['u2'], clients: ['nobody'] },
    ];
    const missedFrom = h.ledger.length;
    for (let i = 0; i < 50; i++) h.publish(mix[i % mix.length] as Target, `missed-${i}`);
    await h.settled();
    const missed = h.expectedFor(u1r1, missedFrom);
    expect(missed).toHaveLength(7 + 7 + 6 + 6); // all, r1, u1, r1+u1 of 50 in a cycle of 8

    await client.waitFor('connected', 2);
    await client.waitFor('message', 50 + missed.length);
    const newId = connectedIds(client)[1] as string;
    expect(newId).not.toBe(oldId);

    const liveFrom = h.ledger.length;
    for (let i = 0; i < 20; i++) h.publish(mix[i % mix.length] as Target, `live-${i}`);
    await h.settled();
    const live = h.expectedFor(u1r1, liveFrom);
    await client.waitFor('message', 50 + missed.length + live.length);
    // Anything extra (a duplicate at the seam) would arrive with the live events.
    await h.hub.toUser('u1').send('message', 'fence');
    await client.until((c) => c.of('message').at(-1)?.data === 'fence', 5000, 'fence');

    expect(seen(client)).toEqual([...h.expectedFor(u1r1), `${h.hub.stats().history.headId}|fence`]);
    expect(client.of('ssehub:reset')).toEqual([]);
    const seqs = client.of('message').map((event) => seqOf(event.lastEventId));
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(h.hub.counters.replays).toBe(1);
    expect(h.hub.counters.replayedEvents).toBe(missed.length);
    expect(h.hub.counters.resets).toBe(0);
    // The bystander saw its own share live, never disconnected.
    const forOther = h.expectedFor({ tag: 'b', user: 'u2', rooms: ['r2'] });
    await other.waitFor('message', forOther.length);
    expect(seen(other)).toEqual(forOther);
  });

  it('replays events sent to a stable client id (authenticate returns clientId)', async () => {
    const h = (harness = await Harness.start());
    const tab: Identity = { tag: 'tab', user: 'u1', rooms: ['r1'], clientId: 'tab-1' };
    const client = h.connect(tab);
    await client.waitFor('connected');
    expect(JSON.parse(client.of('connected')[0]?.data ?? '')).toEqual({ clientId: 'tab-1', userId: 'u1' });
    for (let i = 0; i < 50; i++) h.publish(i % 2 === 0 ? { clients: ['tab-1'] } : { all: true }, `before-${i}`);
    await client.waitFor('message', 50);

    h.drop('tab', 'close');
    const mix: Target[] = [
      { clients: ['tab-1'] },
      { clients: ['tab-2'] },
      { users: ['u2'] },
      { rooms: ['r1'] },
      { clients: ['tab-1'], users: ['u1'] },
    ];
    const missedFrom = h.ledger.length;
    for (let i = 0; i < 50; i++) h.publish(mix[i % mix.length] as Target, `missed-${i}`);
    await h.settled();
    const missed = h.expectedFor(tab, missedFrom);
    expect(missed).toHaveLength(30);
    expect(missed.filter((line) => line.endsWith('missed-0'))).toHaveLength(1); // a client-targeted one is in

    await client.waitFor('connected', 2);
    expect(JSON.parse(client.of('connected')[1]?.data ?? '')).toEqual({ clientId: 'tab-1', userId: 'u1' });
    for (let i = 0; i < 10; i++) h.publish({ clients: ['tab-1'] }, `live-${i}`);
    await h.settled();
    await client.waitFor('message', 50 + 30 + 10);
    await h.hub.toClient('tab-1').send('message', 'fence');
    await client.until((c) => c.of('message').at(-1)?.data === 'fence', 5000, 'fence');
    expect(seen(client)).toEqual([...h.expectedFor(tab), `${h.hub.stats().history.headId}|fence`]);
    expect(h.hub.counters.replayedEvents).toBe(30);
  });
});

describe('events published while a client reconnects', () => {
  it('meet the replay with no gap and no duplicate, including events published in onConnect', async () => {
    const identity: Identity = { tag: 'a', user: 'u1', rooms: ['r1'] };
    let h!: Harness;
    let phase = 0;
    h = harness = await Harness.start({
      // Large enough that no reconnect, however slow on a loaded machine, falls behind it.
      history: { maxEvents: 1_000_000 },
      // A slow, async onConnect: live events keep flowing while the client is not yet
      // registered; they must come with the replay. It also publishes itself, before and
      // after its await.
      onConnect: async (client) => {
        if (client.lastEventId === undefined) return;
        h.publish({ users: ['u1'] }, `onconnect-a-${phase}`);
        await new Promise((resolve) => setTimeout(resolve, 15));
        h.publish({ rooms: ['r1'] }, `onconnect-b-${phase}`);
        phase++;
      },
    });
    const client = h.connect(identity);
    await client.waitFor('connected');
    h.publish({ all: true }, 'start');
    await client.waitFor('message', 1);

    const targets: Target[] = [{ all: true }, { rooms: ['r1'] }, { rooms: ['r2'] }, { users: ['u1'] }, { users: ['u2'] }];
    let n = 0;
    let running = true;
    // A tight publisher: an event every loop turn, interleaving with every I/O callback.
    const pump = (): void => {
      if (!running) return;
      h.publish(targets[n % targets.length] as Target, `p-${n}`);
      n++;
      setImmediate(pump);
    };
    setImmediate(pump);

    const drops = 12;
    for (let i = 0; i < drops; i++) {
      const connections = client.of('connected').length;
      // Drop as soon as the new connection is registered: right at the replay/live seam.
      await until(() => h.live('a') !== undefined, 'registration');
      // Mostly right after the replay; sometimes after a stretch of live events.
      if (i % 3 === 2) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(h.drop('a', i % 2 === 0 ? 'close' : 'destroy')).toBe(true);
      await client.waitFor('connected', connections + 1);
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
    running = false;
    h.publish({ all: true }, 'end');
    await h.settled();
    await client.until((c) => c.of('message').at(-1)?.data === 'end', 10_000, 'end');
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(n).toBeGreaterThan(100);
    const expected = h.expectedFor(identity);
    expect(client.of('ssehub:reset')).toEqual([]);
    expect(seen(client)).toEqual(expected);
    expect(expected.filter((line) => line.includes('onconnect-'))).toHaveLength(2 * drops);
    expect(client.of('connected')).toHaveLength(drops + 1);
    expect(client.of('ssehub:reset')).toEqual([]);
    expect(h.hub.counters.replays).toBe(drops);
    expect(h.hub.counters.replayedEvents).toBeGreaterThan(0);
    expect(h.hub.counters.delivered).toBeGreaterThan(0);
  });
});

describe('a replay bigger than the client queue', () => {
  it.each(['disconnect', 'drop-oldest'] as const)(
    'is sent whole in one resume, paced by the socket, still exact (overflow: %s)',
    async (overflow) => {
      const identity: Identity = { tag: 'a', user: 'u1', rooms: ['r1'] };
      const h = (harness = await Harness.start({ maxQueueBytes: 16 * 1024, overflow, history: { maxEvents: 100_000 } }));
      const client = h.connect(identity);
      await client.waitFor('connected');
      h.publish({ all: true }, 'start');
      await client.waitFor('message', 1);

      h.drop('a', 'close');
      const payload = 'x'.repeat(200);
      for (let i = 0; i < 5000; i++) h.publish(i % 2 === 0 ? { users: ['u1'] } : { rooms: ['r2'] }, `${i}-${payload}`);
      await h.settled();
      const expected = h.expectedFor(identity);
      expect(expected).toHaveLength(2501);
      await client.until((c) => c.of('message').length >= expected.length, 15_000, 'the whole replay');
      h.publish({ all: true }, 'end');
      await h.settled();
      await client.until((c) => c.of('message').at(-1)?.data === 'end', 5000, 'end');

      expect(seen(client)).toEqual(h.expectedFor(identity));
      expect(client.of('ssehub:reset')).toEqual([]);
      // ~600 KB of replay against a 16 KiB queue: the catch-up waits for the socket between
      // pages instead of tripping the overflow policy: one resume, none cut, nothing dropped.
      expect(client.of('connected')).toHaveLength(2);
      expect(h.hub.counters.replays).toBe(1);
      expect(h.hub.counters.replayedEvents).toBe(2500);
      expect(h.hub.counters).toMatchObject({ slowDisconnects: 0, dropped: 0 });
    },
  );
});
