import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStream, publish, request } from './support/http.js';
import { startServer, type TestServer } from './support/server.js';
import { Subscriber } from './support/sse.js';

/** The `id:`/`event:`/`data:` of each event in raw stream text, comments and retry left out. */
function parseEvents(text: string): Array<{ id?: string; event?: string; data: string }> {
  const events: Array<{ id?: string; event?: string; data: string }> = [];
  for (const block of text.split('\n\n')) {
    const fields: { id?: string; event?: string; data?: string } = {};
    for (const line of block.split('\n')) {
      const [name, ...rest] = line.split(': ');
      const value = rest.join(': ');
      if (name === 'id' || name === 'event') fields[name] = value;
      if (name === 'data') fields.data = fields.data === undefined ? value : `${fields.data}\n${value}`;
    }
    if (fields.data !== undefined) events.push({ ...fields, data: fields.data });
  }
  return events;
}

describe('resume with Last-Event-ID', () => {
  let hub: TestServer;

  beforeAll(async () => {
    hub = await startServer();
  });
  afterAll(() => hub.close());

  it('replays exactly the missed events addressed to the client (Last-Event-ID header)', async () => {
    const first = await publish(hub.url, { event: 'chat', data: 'seen', rooms: ['r1'] });
    const missed1 = await publish(hub.url, { event: 'chat', data: 'missed-1', rooms: ['r1'] });
    await publish(hub.url, { event: 'chat', data: 'other-room', rooms: ['r2'] });
    const missed2 = await publish(hub.url, { data: 'missed-2' });
    await publish(hub.url, { data: 'not kept', history: false });
    const stream = await openStream(hub.url, '/events?room=r1', { 'last-event-id': first.json.id });
    expect(stream.status).toBe(200);
    await stream.until((text) => text.includes('missed-2'));
    const events = parseEvents(stream.text());
    expect(events[0]?.event).toBe('connected');
    expect(events.slice(1)).toEqual([
      { id: missed1.json.id, event: 'chat', data: 'missed-1' },
      { id: missed2.json.id, data: 'missed-2' },
    ]);
    // Live events follow the replay on the same stream.
    const live = await publish(hub.url, { event: 'chat', data: 'live', rooms: ['r1'] });
    await stream.until((text) => text.includes('live'));
    expect(parseEvents(stream.text()).at(-1)).toEqual({ id: live.json.id, event: 'chat', data: 'live' });
    stream.close();
  });

  it('accepts ?lastEventId= for clients that cannot set headers (EventSource)', async () => {
    const from = await publish(hub.url, { event: 'chat', data: 'before', users: ['ada'] });
    const missed = await publish(hub.url, { event: 'chat', data: 'while-away', users: ['ada'] });
    const subscriber = new Subscriber(`${hub.url}/events?user=ada&lastEventId=${from.json.id}`, { types: ['chat'] });
    await subscriber.waitFor('chat');
    expect(subscriber.of('chat')).toEqual([{ type: 'chat', data: 'while-away', lastEventId: missed.json.id }]);
    expect((await request(hub.url, '/status')).json.counters.replays).toBeGreaterThanOrEqual(2);
    subscriber.close();
  });

  it('sends ssehub:reset with the head id for an id it cannot resume from', async () => {
    const head = (await request(hub.url, '/status')).json.history.headId as string;
    const stream = await openStream(hub.url, '/events', { 'last-event-id': 'unknown-epoch-7' });
    await stream.until((text) => text.includes('ssehub:reset'));
    const reset = parseEvents(stream.text()).find((event) => event.event === 'ssehub:reset');
    expect(reset?.id).toBe(head);
    expect(JSON.parse(reset?.data ?? '{}')).toMatchObject({ reason: 'malformed', headId: head });
    stream.close();
  });
});
