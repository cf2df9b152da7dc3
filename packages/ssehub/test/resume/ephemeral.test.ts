import { afterEach, describe, expect, it } from 'vitest';
import type { Target } from '../../src/backends/Backend.js';
import type { PublishInfo } from '../../src/index.js';
import { fence, Harness, type Identity, received, resets, seenOf } from './harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

interface Kind {
  target: Target;
  event?: string;
  history?: boolean;
  kept: boolean;
  what: string;
}

const kinds: Kind[] = [
  { what: 'to an ephemeral room', target: { rooms: ['typing'] }, kept: false },
  { what: 'an ephemeral event name', target: { all: true }, event: 'cursor', kept: false },
  { what: 'history: false', target: { rooms: ['r1'] }, history: false, kept: false },
  { what: 'to an ephemeral room among others', target: { rooms: ['r1', 'typing'] }, kept: false },
  { what: 'an ephemeral event name with history: true', target: { all: true }, event: 'cursor', history: true, kept: true },
  { what: 'to an ephemeral room with history: true', target: { rooms: ['typing'] }, history: true, kept: true },
  { what: 'to a user of an ephemeral room, no room target', target: { users: ['u1'] }, kept: true },
  { what: 'a plain room event', target: { rooms: ['r1'] }, kept: true },
];

const TYPES = ['message', 'connected', 'ssehub:reset', 'cursor'];

describe('ephemeral events', () => {
  it('are delivered live but never replayed', async () => {
    const infos: PublishInfo[] = [];
    const h = (harness = await Harness.start({
      ephemeralRooms: ['typing'],
      ephemeralEvents: ['cursor'],
      onPublish: (info) => infos.push(info),
    }));
    const identity: Identity = { tag: 'a', user: 'u1', rooms: ['r1', 'typing'] };
    const client = h.connect(identity, { types: TYPES });
    await client.waitFor('connected');
    const sendAll = (round: string): void => {
      for (const [i, kind] of kinds.entries()) {
        h.publish(kind.target, `${round}-${i}`, {
          ...(kind.event === undefined ? {} : { event: kind.event }),
          ...(kind.history === undefined ? {} : { history: kind.history }),
        });
      }
    };

    sendAll('live1');
    await h.settled();
    await client.until((c) => c.events.length === 1 + kinds.length, 5000, 'live1');
    expect(seenOf(client, ['message', 'cursor'])).toEqual(h.ledger.map((event) => `${event.id}|${event.data}`));
    // What the hook reports as kept is what the options say.
    expect(infos.map((info) => info.history)).toEqual(kinds.map((kind) => kind.kept));
    const stats = h.hub.stats().history;
    expect(stats.size).toBe(kinds.filter((kind) => kind.kept).length);
    expect(stats.headId).toBe(h.ledger.at(-1)?.id);

    h.drop('a', 'close');
    const missedFrom = h.ledger.length;
    sendAll('missed');
    await h.settled();
    await client.waitFor('connected', 2);
    sendAll('live2');
    await h.settled();
    await fence(h, client, 'u1');

    const line = (index: number): string => `${h.ledger[index]?.id}|${h.ledger[index]?.data}`;
    const keptMissed = kinds.flatMap((kind, i) => (kind.kept ? [line(missedFrom + i)] : []));
    const live2 = kinds.map((_, i) => line(missedFrom + kinds.length + i));
    expect(seenOf(client, ['message', 'cursor']).filter((entry) => !entry.includes('|fence-'))).toEqual([
      ...kinds.map((_, i) => line(i)),
      ...keptMissed,
      ...live2,
    ]);
    expect(keptMissed).toHaveLength(4);
    expect(h.hub.counters.replayedEvents).toBe(4);
    expect(resets(client)).toEqual([]);
  });
});

describe('a hub with history: false', () => {
  it('keeps nothing; a client at the head resumes with nothing to replay, one behind gets a stale reset', async () => {
    const infos: PublishInfo[] = [];
    const h = (harness = await Harness.start({ history: false, onPublish: (info) => infos.push(info) }));
    const identity: Identity = { tag: 'a', user: 'u1' };
    const client = h.connect(identity);
    await client.waitFor('connected');
    for (let i = 0; i < 3; i++) h.publish({ all: true }, `e${i}`);
    await h.settled();
    await client.waitFor('message', 3);
    const head = h.ledger.at(-1)?.id as string;
    expect(h.hub.stats().history).toEqual({ size: 0, bytes: 0, oldestId: undefined, newestId: undefined, headId: head });

    // Nothing missed: the client is at the head, which is always servable.
    h.drop('a', 'close');
    await client.waitFor('connected', 2);
    await fence(h, client, 'u1');
    expect(resets(client)).toEqual([]);
    expect(h.hub.counters).toMatchObject({ replays: 1, replayedEvents: 0, resets: 0 });

    // Events missed: they cannot be replayed, the client is told.
    h.drop('a', 'close');
    const missedFrom = h.ledger.length;
    h.publish({ all: true }, 'lost-1');
    h.publish({ users: ['u1'] }, 'lost-2');
    await h.settled();
    const lastSeen = client.of('message').at(-1)?.lastEventId; // the fence
    await client.waitFor('ssehub:reset');
    const headId = h.ledger.at(-1)?.id as string;
    expect(resets(client)).toEqual([{ reason: 'stale', lastEventId: lastSeen, headId }]);
    expect(received(client).map((entry) => entry.split('|')[1])).toEqual(['e0', 'e1', 'e2']);
    expect(h.ledger.slice(missedFrom).map((event) => event.data)).toEqual(['lost-1', 'lost-2']);

    // Malformed ids are still told apart from stale ones.
    const other = h.connect({ tag: 'b', user: 'u2' }, { extra: { lastEventId: 'nope' } });
    await other.waitFor('ssehub:reset');
    expect(resets(other)).toEqual([{ reason: 'malformed', lastEventId: 'nope', headId }]);
    // The publish hook does not claim events were kept.
    expect(infos.length).toBe(h.ledger.length);
    expect(infos.map((info) => info.history)).toEqual(h.ledger.map(() => false));
  });
});
