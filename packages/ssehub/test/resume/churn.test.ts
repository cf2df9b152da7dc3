/**
 * Churn through an awkward backend: clients reconnect at random with Last-Event-ID while ~1,000
 * events/s are published through a backend whose every call is asynchronous, whose deliveries
 * arrive out of order after random delays, and of which a share is lost. Catch-ups are
 * asynchronous, live events arrive during them, holes are filled from the log. Every client
 * must still end with exactly its addressed sequence: 0 lost, 0 duplicated, 0 reordered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Target } from '../../src/backends/Backend.js';
import { AwkwardBackend } from '../support/AwkwardBackend.js';
import { Harness, type Identity, prng, seen, seqOf } from './harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

const SEED = 0xc4_52a1;
const DURATION_MS = 4000;
const RATE_PER_S = 1000;

const identities: Identity[] = [
  { tag: 'c0', user: 'u1', rooms: ['r1'] },
  { tag: 'c1', user: 'u1', rooms: ['r2'] },
  { tag: 'c2', user: 'u2', rooms: ['r1', 'r3'] },
  { tag: 'c3', user: 'u3' },
  { tag: 'c4', rooms: ['r2'] },
  { tag: 'c5', user: 'u4', rooms: ['r3'], clientId: 'tab-5' },
  { tag: 'c6', user: 'u2' },
  { tag: 'c7' },
  { tag: 'c8', user: 'u5', rooms: ['r1', 'r2', 'r3'], clientId: 'tab-8' },
  { tag: 'c9', user: 'u1', rooms: ['r4'] },
];

/** A random target from a fixed mix: everyone, rooms, users, unions, stable client ids, nobody. */
function pickTarget(random: () => number): Target {
  const roll = random();
  const room = `r${1 + Math.floor(random() * 4)}`;
  const user = `u${1 + Math.floor(random() * 5)}`;
  if (roll < 0.15) return { all: true };
  if (roll < 0.45) return { rooms: [room] };
  if (roll < 0.75) return { users: [user] };
  if (roll < 0.85) return { rooms: [room], users: [user] };
  if (roll < 0.92) return { clients: [random() < 0.5 ? 'tab-5' : 'tab-8'] };
  if (roll < 0.96) return { rooms: ['r5'] }; // nobody's room
  return { users: ['u9'], clients: ['gone'] }; // nobody
}

describe('churn through an awkward backend (asynchronous, out of order, lossy)', () => {
  it('every client ends with exactly its addressed sequence: no gap, no duplicate, no reordering', async () => {
    const random = prng(SEED);
    const backend = new AwkwardBackend({ history: { maxEvents: 100_000 }, maxDelayMs: 15, lossRate: 0.02, seed: SEED });
    const h = (harness = await Harness.start({ backend, gapTimeoutMs: 50 }));
    await h.hub.ready();
    const clients = identities.map((identity) => h.connect(identity));
    await Promise.all(clients.map((client) => client.waitFor('connected')));
    // Everyone holds an id before the first drop, so every reconnect is a resume.
    h.publish({ all: true }, 'start');
    await Promise.all(clients.map((client) => client.waitFor('message', 1)));

    const startedAt = Date.now();
    let published = 0;
    let drops = 0;
    const publisher = (async () => {
      while (Date.now() - startedAt < DURATION_MS) {
        const due = Math.floor(((Date.now() - startedAt) * RATE_PER_S) / 1000);
        while (published < due) h.publish(pickTarget(random), `e${published++}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const dropper = (async () => {
      while (Date.now() - startedAt < DURATION_MS - 200) {
        await new Promise((resolve) => setTimeout(resolve, 20 + Math.floor(random() * 100)));
        const identity = identities[Math.floor(random() * identities.length)] as Identity;
        if (h.drop(identity.tag, random() < 0.5 ? 'close' : 'destroy')) drops++;
      }
    })();
    await Promise.all([publisher, dropper]);

    h.publish({ all: true }, 'end');
    await h.settled();
    await Promise.all(clients.map((client) => client.until((c) => c.of('message').at(-1)?.data === 'end', 10_000, 'end')));
    // Give a late duplicate the chance to show up.
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(published).toBeGreaterThan(3000);
    expect(drops).toBeGreaterThan(20);
    // The backend did lose deliveries, and the hub filled every hole from the log.
    expect(backend.lost).toBeGreaterThan(20);
    expect(h.hub.counters.gaps).toBe(0);
    let reconnects = 0;
    for (const [index, client] of clients.entries()) {
      const identity = identities[index] as Identity;
      const expected = h.expectedFor(identity);
      const got = seen(client);
      // A compact diagnosis before the exact comparison.
      if (got.length !== expected.length || got.some((line, i) => line !== expected[i])) {
        const first = got.findIndex((line, i) => line !== expected[i]);
        throw new Error(
          `${identity.tag}: got ${got.length}, expected ${expected.length}; first difference at ${first}: got ${got[first]}, expected ${expected[first]}`,
        );
      }
      expect(got).toEqual(expected);
      const seqs = client.of('message').map((event) => seqOf(event.lastEventId));
      expect(seqs.every((seq, i) => i === 0 || seq > (seqs[i - 1] as number))).toBe(true);
      expect(client.of('ssehub:reset')).toEqual([]);
      reconnects += client.of('connected').length - 1;
    }
    // Every drop caused exactly one reconnect, and every reconnect was served from history
    // (a replay counts once finished: one cut short by the next drop of the same client is not).
    expect(reconnects).toBe(drops);
    expect(h.hub.counters.replays).toBeLessThanOrEqual(drops);
    expect(h.hub.counters.replays).toBeGreaterThanOrEqual(drops - 3);
    expect(h.hub.counters.resets).toBe(0);
    expect(h.hub.counters.replayedEvents).toBeGreaterThan(drops);
  }, 30_000);
});
