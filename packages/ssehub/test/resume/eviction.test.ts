import { afterEach, describe, expect, it } from 'vitest';
import { messageCost } from '../../src/backends/MemoryLog.js';
import { MemoryBackend } from '../../src/index.js';
import { sleep } from '../support/clients.js';
import { fence, firstLastEventId, Harness, received, resets } from './harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

const line = (h: Harness, index: number): string => `${h.ledger[index]?.id}|${h.ledger[index]?.data}`;

/** Connects a fresh client resuming from `lastEventId` and waits until its resume is complete. */
async function resumeFrom(h: Harness, tag: string, lastEventId: string, via: 'query' | 'header' = 'query') {
  const identity = { tag, user: `user-${tag}` };
  const client =
    via === 'query' ? h.connect(identity, { extra: { lastEventId } }) : h.connect(identity, { init: firstLastEventId(lastEventId) });
  await client.waitFor('connected');
  await fence(h, client, identity.user);
  return client;
}

describe('history eviction seen by resuming clients', () => {
  it('by count: behind the floor is stale, exactly at the floor is served', async () => {
    const h = (harness = await Harness.start({ history: { maxEvents: 5 } }));
    for (let i = 1; i <= 10; i++) h.publish({ all: true }, `e${i}`);
    await h.settled();
    const id = (seq: number): string => h.ledger[seq - 1]?.id as string;
    expect(h.hub.stats().history).toMatchObject({ size: 5, oldestId: id(6), newestId: id(10), headId: id(10) });

    const behind = await resumeFrom(h, 'behind', id(4));
    expect(resets(behind)).toEqual([{ reason: 'stale', lastEventId: id(4), headId: id(10) }]);
    expect(behind.of('ssehub:reset')[0]?.lastEventId).toBe(id(10));
    expect(received(behind)).toEqual([]);

    const atFloor = await resumeFrom(h, 'floor', id(5), 'header');
    expect(resets(atFloor)).toEqual([]);
    expect(received(atFloor)).toEqual([6, 7, 8, 9, 10].map((seq) => line(h, seq - 1)));

    const atHead = await resumeFrom(h, 'head', id(10));
    expect(resets(atHead)).toEqual([]);
    expect(received(atHead)).toEqual([]);
    expect(h.hub.counters).toMatchObject({ replays: 2, replayedEvents: 5, resets: 1 });
  });

  it('by bytes: the oldest events leave once the bytes held exceed maxBytes', async () => {
    // Every event costs the same: same-length data, no target names.
    const size = messageCost({ epoch: 'e', seq: 1, event: undefined, data: 'payload-0', target: { all: true }, history: true });
    const backend = new MemoryBackend({ history: { maxBytes: 3 * size + size - 1 } });
    const h = (harness = await Harness.start({ backend }));
    for (let i = 1; i <= 9; i++) h.publish({ all: true }, `payload-${i - 1}`);
    await h.settled();
    const id = (seq: number): string => `${backend.epoch}-${seq}`;
    expect(h.ledger.map((event) => event.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map(id));
    expect(h.hub.stats().history).toEqual({ size: 3, bytes: 3 * size, oldestId: id(7), newestId: id(9), headId: id(9) });

    const behind = await resumeFrom(h, 'behind', id(5));
    expect(resets(behind)).toEqual([{ reason: 'stale', lastEventId: id(5), headId: id(9) }]);
    expect(received(behind)).toEqual([]);

    const atFloor = await resumeFrom(h, 'floor', id(6));
    expect(resets(atFloor)).toEqual([]);
    expect(received(atFloor)).toEqual([7, 8, 9].map((seq) => line(h, seq - 1)));
  });

  it('by age: events older than maxAgeMs are forgotten, on publish and on resume', async () => {
    // Generous margins: seqs 4-5 must stay young through the first resumes, even on a slow machine.
    const h = (harness = await Harness.start({ history: { maxAgeMs: 400 } }));
    for (let i = 1; i <= 3; i++) h.publish({ all: true }, `old-${i}`);
    await sleep(500);
    // Recording seq 4 evicts seqs 1-3: the floor is 3.
    for (let i = 4; i <= 5; i++) h.publish({ all: true }, `new-${i}`);
    await h.settled();
    const id = (seq: number): string => h.ledger[seq - 1]?.id as string;
    expect(h.hub.stats().history).toMatchObject({ size: 2, oldestId: id(4), newestId: id(5), headId: id(5) });

    const behind = await resumeFrom(h, 'behind', id(2));
    expect(resets(behind)).toEqual([{ reason: 'stale', lastEventId: id(2), headId: id(5) }]);
    const atFloor = await resumeFrom(h, 'floor', id(3));
    expect(resets(atFloor)).toEqual([]);
    expect(received(atFloor)).toEqual([line(h, 3), line(h, 4)]);

    // Nothing published since: the resume itself forgets what aged out.
    await sleep(500);
    const atHead = await resumeFrom(h, 'head', id(5));
    expect(resets(atHead)).toEqual([]);
    expect(received(atHead)).toEqual([]);
    // (Fences are kept out of history but take seqs: the head has moved past seq 5.)
    const headId = h.hub.stats().history.headId;
    expect(h.hub.stats().history).toEqual({ size: 0, bytes: 0, oldestId: undefined, newestId: undefined, headId });
    const late = await resumeFrom(h, 'late', id(4));
    expect(resets(late)).toEqual([{ reason: 'stale', lastEventId: id(4), headId }]);
  });
});

describe('stats().history', () => {
  it('reflects size, bytes held (data, event names and target names), oldest, newest and head ids', async () => {
    const backend = new MemoryBackend({ history: { maxEvents: 3 } });
    const e = backend.epoch;
    const h = (harness = await Harness.start({ backend, ephemeralEvents: ['cursor'] }));
    // Data and event name in UTF-8, 64 bytes an event, and 32 bytes and two per character a target name.
    const cost = (data: string, event = '', names: string[] = []): number =>
      Buffer.byteLength(data) + Buffer.byteLength(event) + 64 + names.reduce((sum, name) => sum + 32 + 2 * name.length, 0);
    expect(h.hub.stats().history).toEqual({ size: 0, bytes: 0, oldestId: undefined, newestId: undefined, headId: `${e}-0` });

    h.publish({ all: true }, 'hi', { event: 'chat' });
    const b1 = cost('hi', 'chat');
    expect(h.hub.stats().history).toEqual({ size: 1, bytes: b1, oldestId: `${e}-1`, newestId: `${e}-1`, headId: `${e}-1` });

    h.publish({ rooms: ['r'] }, 'two\nlines é');
    const b2 = cost('two\nlines é', '', ['r']);
    expect(h.hub.stats().history).toEqual({ size: 2, bytes: b1 + b2, oldestId: `${e}-1`, newestId: `${e}-2`, headId: `${e}-2` });

    // Not kept: the head moves, the kept range does not.
    h.publish({ all: true }, '{"x":1}', { event: 'cursor' });
    h.publish({ all: true }, 'skip', { history: false });
    expect(h.hub.stats().history).toEqual({ size: 2, bytes: b1 + b2, oldestId: `${e}-1`, newestId: `${e}-2`, headId: `${e}-4` });

    h.publish({ users: ['u'] }, '');
    const b5 = cost('', '', ['u']);
    h.publish({ all: true }, 'x');
    const b6 = cost('x');
    expect(h.hub.stats().history).toEqual({ size: 3, bytes: b2 + b5 + b6, oldestId: `${e}-2`, newestId: `${e}-6`, headId: `${e}-6` });
    await h.settled();
    expect(h.ledger.map((event) => event.id)).toEqual([1, 2, 3, 4, 5, 6].map((seq) => `${e}-${seq}`));
  });

  it('does not report events that have aged out, even before the next publish or resume', async () => {
    const h = (harness = await Harness.start({ history: { maxAgeMs: 100 } }));
    h.publish({ all: true }, 'a');
    h.publish({ all: true }, 'b');
    await h.settled();
    const [a, b] = h.ledger.map((event) => event.id);
    expect(h.hub.stats().history).toMatchObject({ size: 2, oldestId: a, newestId: b, headId: b });
    await sleep(200);
    expect(h.hub.stats().history).toEqual({ size: 0, bytes: 0, oldestId: undefined, newestId: undefined, headId: b });
    // What stats promised holds: only the head can still be resumed from.
    const atA = await resumeFrom(h, 'a', a as string);
    expect(resets(atA)).toEqual([{ reason: 'stale', lastEventId: a, headId: b }]);
  });
});
