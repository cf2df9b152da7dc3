import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, request } from './support/http.js';
import { startServer, type TestServer } from './support/server.js';
import { Subscriber } from './support/sse.js';

// Four subscribers: two connections of alice in different rooms, bob in both rooms, and an
// anonymous one in none. After each targeted publish a broadcast `marker` follows: events
// reach a connection in order, so a subscriber holding the marker and not the event will
// never receive it.
describe('POST /publish targeting', () => {
  let hub: TestServer;
  let a: Subscriber; // alice, room r1
  let b: Subscriber; // alice, room r2
  let c: Subscriber; // bob, rooms r1 and r2
  let d: Subscriber; // anonymous, no room
  let all: Subscriber[];
  let markers = 0;

  beforeAll(async () => {
    hub = await startServer();
    [a, b, c, d] = await Promise.all([
      Subscriber.open(`${hub.url}/events?user=alice&room=r1`, { types: ['chat', 'marker'] }),
      Subscriber.open(`${hub.url}/events?user=alice&room=r2`, { types: ['chat', 'marker'] }),
      Subscriber.open(`${hub.url}/events?user=bob&room=r1&room=r2`, { types: ['chat', 'marker'] }),
      Subscriber.open(`${hub.url}/events`, { types: ['chat', 'marker'] }),
    ]);
    all = [a, b, c, d];
  });

  afterAll(async () => {
    for (const subscriber of all) subscriber.close();
    await hub.close();
  });

  /** Publishes `body`, then a marker to everyone; resolves with the answer once all have the marker. */
  async function publishAndSettle(body: unknown): Promise<{ id: string }> {
    const answer = await publish(hub.url, body);
    expect(answer.status).toBe(202);
    markers++;
    const marker = await publish(hub.url, { event: 'marker', data: String(markers) });
    expect(marker.status).toBe(202);
    await Promise.all(all.map((subscriber) => subscriber.waitFor('marker', markers)));
    return answer.json as { id: string };
  }

  function receivers(type: string, data: string): Subscriber[] {
    return all.filter((subscriber) => subscriber.of(type).some((event) => event.data === data));
  }

  it('identifies every connection in its first event', () => {
    expect(a.identity.userId).toBe('alice');
    expect(b.identity.userId).toBe('alice');
    expect(c.identity.userId).toBe('bob');
    expect(d.identity.userId).toBeNull();
    expect(new Set(all.map((subscriber) => subscriber.identity.clientId)).size).toBe(4);
  });

  it('rooms: only the members of the room', async () => {
    await publishAndSettle({ event: 'chat', data: 'to-r1', rooms: ['r1'] });
    expect(receivers('chat', 'to-r1')).toEqual([a, c]);
  });

  it('users: every connection of the user', async () => {
    await publishAndSettle({ event: 'chat', data: 'to-alice', users: ['alice'] });
    expect(receivers('chat', 'to-alice')).toEqual([a, b]);
  });

  it('clients: exactly that connection', async () => {
    await publishAndSettle({ event: 'chat', data: 'to-client', clients: [c.identity.clientId] });
    expect(receivers('chat', 'to-client')).toEqual([c]);
  });

  it('no target: everyone, anonymous included', async () => {
    await publishAndSettle({ event: 'chat', data: 'to-all' });
    expect(receivers('chat', 'to-all')).toEqual(all);
  });

  it('unions: each matching connection once, however many parts it matches', async () => {
    await publishAndSettle({ event: 'chat', data: 'union', rooms: ['r2'], users: ['bob'], clients: [a.identity.clientId] });
    expect(receivers('chat', 'union')).toEqual([a, b, c]);
    expect(c.of('chat').filter((event) => event.data === 'union')).toHaveLength(1);
  });

  it('targets nobody when no connection matches, and still answers with an id', async () => {
    const { id } = await publishAndSettle({ event: 'chat', data: 'nobody', rooms: ['empty-room'], users: ['carol'] });
    expect(id).toMatch(/^[A-Za-z0-9]+-\d+$/);
    expect(receivers('chat', 'nobody')).toEqual([]);
  });

  it('answers 202 with the id the subscribers see as lastEventId', async () => {
    const { id } = await publishAndSettle({ event: 'chat', data: 'with-id', rooms: ['r1'] });
    const seen = a.of('chat').find((event) => event.data === 'with-id');
    expect(seen?.lastEventId).toBe(id);
    expect(c.of('chat').find((event) => event.data === 'with-id')?.lastEventId).toBe(id);
  });

  it('sends a `message` event when no event name is given; strings as is, anything else as JSON', async () => {
    const text = await publishAndSettle({ data: 'plain text' });
    const object = await publishAndSettle({ data: { n: 1, s: 'x' } });
    const nil = await publishAndSettle({ data: null });
    const messages = d.of('message');
    expect(messages.map((event) => [event.data, event.lastEventId])).toEqual([
      ['plain text', text.id],
      ['{"n":1,"s":"x"}', object.id],
      ['null', nil.id],
    ]);
  });

  it('publishes a batch in order and answers the ids in that order', async () => {
    const answer = await publish(hub.url, [
      { event: 'chat', data: 'batch-1', rooms: ['r1'] },
      { event: 'chat', data: 'batch-2', users: ['bob'] },
      { data: 'batch-3' },
    ]);
    expect(answer.status).toBe(202);
    const { ids } = answer.json as { ids: string[] };
    expect(ids).toHaveLength(3);
    const seqs = ids.map((id) => Number(id.split('-')[1]));
    expect(seqs[1]).toBe((seqs[0] as number) + 1);
    expect(seqs[2]).toBe((seqs[0] as number) + 2);
    await c.until((s) => s.events.some((event) => event.data === 'batch-3'));
    const batch = c.events.filter((event) => event.data.startsWith('batch-'));
    expect(batch).toEqual([
      { type: 'chat', data: 'batch-1', lastEventId: ids[0] },
      { type: 'chat', data: 'batch-2', lastEventId: ids[1] },
      { type: 'message', data: 'batch-3', lastEventId: ids[2] },
    ]);
    await d.until((s) => s.events.some((event) => event.data === 'batch-3'));
    expect(d.events.filter((event) => event.data.startsWith('batch-')).map((event) => event.data)).toEqual(['batch-3']);
  });

  it('rejects a whole batch when one item is invalid: nothing is published', async () => {
    const before = (await request(hub.url, '/status')).json.history.headId as string;
    const answer = await publish(hub.url, [
      { event: 'chat', data: 'never-1' },
      { event: 'chat', data: 'never-2', rooms: [''] },
    ]);
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ error: { code: 'invalid_body', message: expect.stringContaining('[1].rooms[0]') } });
    await publishAndSettle({ event: 'chat', data: 'after-rejected-batch' });
    expect(receivers('chat', 'never-1')).toEqual([]);
    const after = (await request(hub.url, '/status')).json.history as { headId: string };
    // Exactly two events since: the settle publish and its marker.
    expect(Number(after.headId.split('-')[1])).toBe(Number(before.split('-')[1]) + 2);
  });

  it('keeps events out of the resume history with "history": false', async () => {
    const before = (await request(hub.url, '/status')).json.history.size as number;
    await publish(hub.url, { event: 'chat', data: 'ephemeral', history: false });
    const kept = await publish(hub.url, { event: 'chat', data: 'kept' });
    expect(kept.status).toBe(202);
    const after = (await request(hub.url, '/status')).json.history as { size: number; newestId: string };
    expect(after.size).toBe(before + 1);
    expect(after.newestId).toBe(kept.json.id);
  });
});

describe('POST /publish: a batch is published whole or not at all', () => {
  // JSON.parse accepts 100,000 nested arrays; JSON.stringify overflows the stack on them.
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;

  it('400 invalid_data when a later item cannot be encoded: nothing published, no error logged', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const hub = await startServer({}, { logger });
    try {
      const subscriber = await Subscriber.open(`${hub.url}/events`, { types: ['chat', 'marker'] });
      const published = hub.server.hub.counters.published;
      const body = `[{"event":"chat","data":"first"},{"event":"chat","data":{"n":2}},{"event":"chat","data":${deep}}]`;
      const answer = await request(hub.url, '/publish', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(answer.status).toBe(400);
      expect(answer.json).toEqual({ error: { code: 'invalid_data', message: '[2].data: cannot be encoded as JSON (nested too deeply)' } });
      expect(hub.server.hub.counters.published).toBe(published);
      // Events reach a connection in order: holding the marker and nothing before it, the
      // subscriber never received any item of the refused batch.
      expect((await publish(hub.url, { event: 'marker', data: 'after' })).status).toBe(202);
      await subscriber.waitFor('marker');
      expect(subscriber.events.map((event) => event.type)).toEqual(['connected', 'marker']);
      subscriber.close();

      const records = lines.map((line) => JSON.parse(line) as { level: number; msg: string; status?: number; path?: string });
      // The refusal was logged, at debug, like any request; nothing at error level, no stack.
      expect(records).toContainEqual(expect.objectContaining({ msg: 'request', path: '/publish', status: 400 }));
      expect(records.filter((record) => record.level >= 50)).toEqual([]);
      expect(lines.some((line) => line.includes('"stack"'))).toBe(false);
    } finally {
      await hub.close();
    }
  });

  it('400 invalid_data for a single event, named "data"', async () => {
    const hub = await startServer();
    try {
      const answer = await request(hub.url, '/publish', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"data":${deep}}`,
      });
      expect([answer.status, answer.json]).toEqual([
        400,
        { error: { code: 'invalid_data', message: 'data: cannot be encoded as JSON (nested too deeply)' } },
      ]);
      expect(hub.server.hub.counters.published).toBe(0);
    } finally {
      await hub.close();
    }
  });
});
