import { afterEach, describe, expect, it } from 'vitest';
import { createHub } from '../../src/index.js';
import type { RecordingClient } from '../support/clients.js';
import { fence, firstLastEventId, Harness, type Identity, received, resets, seqOf } from './harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

/** A hub with ten events published and the first five already evicted (floor = seq 5). */
async function primed(options: Parameters<typeof Harness.start>[0] = {}) {
  const h = (harness = await Harness.start({ history: { maxEvents: 5 }, ...options }));
  for (let i = 1; i <= 10; i++) h.publish({ all: true }, `e${i}`);
  await h.settled();
  const id = (seq: number): string => h.ledger[seq - 1]?.id as string;
  const epoch = id(1).slice(0, id(1).lastIndexOf('-'));
  return { h, id, epoch };
}

async function foreignId(): Promise<string> {
  const other = createHub({ heartbeatMs: 0 });
  const id = await other.broadcast('message', 'elsewhere');
  await other.close();
  return id;
}

function open(h: Harness, identity: Identity, lastEventId: string, via: 'header' | 'query', types?: readonly string[]): RecordingClient {
  return via === 'query'
    ? h.connect(identity, { extra: { lastEventId }, ...(types === undefined ? {} : { types }) })
    : h.connect(identity, { init: firstLastEventId(lastEventId), ...(types === undefined ? {} : { types }) });
}

/** After a reset, a drop + missed events: the next reconnect resumes from the reset's head id. */
async function expectResumesAfterReset(h: Harness, client: RecordingClient, identity: Identity, resetType = 'ssehub:reset') {
  const from = h.ledger.length;
  expect(h.drop(identity.tag, 'close')).toBe(true);
  h.publish({ users: [identity.user as string] }, 'missed-1');
  h.publish({ all: true }, 'missed-2');
  h.publish({ users: ['someone-else'] }, 'not-mine');
  await h.settled();
  await client.waitFor('connected', 2);
  await fence(h, client, identity.user as string);
  expect(received(client)).toEqual(h.expectedFor(identity, from));
  expect(client.of(resetType)).toHaveLength(1);
}

const vias = ['header', 'query'] as const;

describe('reset instead of a replay', () => {
  describe.each(vias)('via %s', (via) => {
    it('malformed id', async () => {
      const { h, id } = await primed();
      const identity = { tag: 'a', user: 'u1' };
      const client = open(h, identity, 'not-an-id!', via);
      await client.waitFor('ssehub:reset');
      expect(resets(client)).toEqual([{ reason: 'malformed', lastEventId: 'not-an-id!', headId: id(10) }]);
      // The reset carries the head id as its SSE id: the client is now at the head.
      expect(client.of('ssehub:reset')[0]?.lastEventId).toBe(id(10));
      expect(client.events.map((event) => event.type)).toEqual(['connected', 'ssehub:reset']);
      await expectResumesAfterReset(h, client, identity);
      expect(h.hub.counters).toMatchObject({ resets: 1, replays: 1, replayedEvents: 2 });
    });

    it('id of another epoch (another hub)', async () => {
      const { h, id } = await primed();
      const foreign = await foreignId();
      const identity = { tag: 'a', user: 'u1' };
      const client = open(h, identity, foreign, via);
      await client.waitFor('ssehub:reset');
      expect(resets(client)).toEqual([{ reason: 'unknown-epoch', lastEventId: foreign, headId: id(10) }]);
      expect(seqOf(foreign)).toBe(1); // a perfectly good seq, but from another sequence
      await expectResumesAfterReset(h, client, identity);
    });

    it('id longer than maxLastEventIdLength (256)', async () => {
      const { h, id, epoch } = await primed();
      const identity = { tag: 'a', user: 'u1' };
      const long = `${epoch}-${'1'.repeat(10)}`.padStart(257, 'x');
      expect(long).toHaveLength(257);
      const client = open(h, identity, long, via);
      await client.waitFor('ssehub:reset');
      // The over-long value is refused unread: it is not echoed back.
      expect(resets(client)).toEqual([{ reason: 'too-long', lastEventId: null, headId: id(10) }]);
      await expectResumesAfterReset(h, client, identity);
    });

    it('id ahead of the head', async () => {
      const { h, id, epoch } = await primed();
      const identity = { tag: 'a', user: 'u1' };
      const client = open(h, identity, `${epoch}-11`, via);
      await client.waitFor('ssehub:reset');
      expect(resets(client)).toEqual([{ reason: 'ahead', lastEventId: `${epoch}-11`, headId: id(10) }]);
      await expectResumesAfterReset(h, client, identity);
    });

    it('stale id (older than the history reaches)', async () => {
      const { h, id } = await primed();
      const identity = { tag: 'a', user: 'u1' };
      const client = open(h, identity, id(4), via);
      await client.waitFor('ssehub:reset');
      expect(resets(client)).toEqual([{ reason: 'stale', lastEventId: id(4), headId: id(10) }]);
      expect(received(client)).toEqual([]);
      await expectResumesAfterReset(h, client, identity);
    });

    it('no reset for the head itself or the floor', async () => {
      const { h, id } = await primed();
      const atHead = open(h, { tag: 'a', user: 'u1' }, id(10), via);
      const atFloor = open(h, { tag: 'b', user: 'u2' }, id(5), via);
      await atHead.waitFor('connected');
      await atFloor.waitFor('connected');
      await fence(h, atHead, 'u1');
      await fence(h, atFloor, 'u2');
      expect(resets(atHead)).toEqual([]);
      expect(received(atHead)).toEqual([]);
      expect(resets(atFloor)).toEqual([]);
      expect(received(atFloor)).toEqual(h.ledger.slice(5, 10).map((event) => `${event.id}|${event.data}`));
    });
  });

  it('a 256-character id is read (and found malformed), not refused as too long', async () => {
    const { h, id } = await primed();
    const exact = 'y'.repeat(256);
    const client = open(h, { tag: 'a', user: 'u1' }, exact, 'header');
    await client.waitFor('ssehub:reset');
    expect(resets(client)).toEqual([{ reason: 'malformed', lastEventId: exact, headId: id(10) }]);
  });

  it('honours a custom maxLastEventIdLength, and resumes normally after the reset', async () => {
    const { h, id } = await primed({ maxLastEventIdLength: 64 });
    const identity = { tag: 'a', user: 'u1' };
    const client = open(h, identity, `${id(6)}${'9'.repeat(65 - id(6).length)}`, 'header');
    await client.waitFor('ssehub:reset');
    expect(resets(client)).toEqual([{ reason: 'too-long', lastEventId: null, headId: id(10) }]);
    // The reset's own id fits: the next reconnect resumes from it with no further reset.
    h.drop('a', 'close');
    await client.waitFor('connected', 2);
    expect(resets(client)).toHaveLength(1);
  });

  it('refuses a maxLastEventIdLength shorter than its own ids', () => {
    expect(() => createHub({ maxLastEventIdLength: 8 })).toThrow(RangeError);
  });

  it('the header wins over the query; an empty header falls back to the query', async () => {
    const { h, id } = await primed();
    const both = h.connect({ tag: 'a', user: 'u1' }, { extra: { lastEventId: 'garbage' }, init: firstLastEventId(id(9)) });
    const emptyHeader = h.connect({ tag: 'b', user: 'u2' }, { extra: { lastEventId: id(8) }, init: firstLastEventId('') });
    await both.waitFor('connected');
    await emptyHeader.waitFor('connected');
    await fence(h, both, 'u1');
    await fence(h, emptyHeader, 'u2');
    expect(resets(both)).toEqual([]);
    expect(received(both)).toEqual([`${id(10)}|e10`]);
    expect(resets(emptyHeader)).toEqual([]);
    expect(received(emptyHeader)).toEqual([`${id(9)}|e9`, `${id(10)}|e10`]);
  });

  it('uses the configured resetEvent name', async () => {
    const { h, id } = await primed({ resetEvent: 'app:reset' });
    const identity = { tag: 'a', user: 'u1' };
    const types = ['message', 'connected', 'ssehub:reset', 'app:reset'];
    const client = open(h, identity, id(2), 'query', types);
    await client.waitFor('app:reset');
    expect(resets(client, 'app:reset')).toEqual([{ reason: 'stale', lastEventId: id(2), headId: id(10) }]);
    expect(client.of('app:reset')[0]?.lastEventId).toBe(id(10));
    expect(client.of('ssehub:reset')).toEqual([]);
    await expectResumesAfterReset(h, client, identity, 'app:reset');
    expect(client.of('ssehub:reset')).toEqual([]);
  });

  it('rejects a resetEvent that would break the stream', () => {
    expect(() => createHub({ resetEvent: 'bad\nname' })).toThrow();
  });
});
