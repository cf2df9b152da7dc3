import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStream, publish, request } from './support/http.js';
import { startServer, type TestServer } from './support/server.js';
import { Subscriber } from './support/sse.js';

interface Stats {
  time: number;
  clients: number;
  users: number;
  rooms: number;
  roomSizes: Array<{ name: string; size: number }>;
  eventsPerSecond: number;
  deliveredPerSecond: number;
  history: { size: number; maxEvents: number; bytes: number; oldestId: string | null; headId: string };
  slowDisconnects: number;
  dropped: number;
}

describe('GET /dashboard/stream', () => {
  let hub: TestServer;
  let members: Subscriber[];

  beforeAll(async () => {
    hub = await startServer({ SSEHUB_HISTORY_SIZE: '2000' });
    members = await Promise.all([
      Subscriber.open(`${hub.url}/events?user=ada&room=lobby`),
      Subscriber.open(`${hub.url}/events?user=bob&room=lobby&room=ops`),
    ]);
  });
  afterAll(async () => {
    for (const member of members) member.close();
    await hub.close();
  });

  it('is an event stream whose first stats event comes at once', async () => {
    const stream = await openStream(hub.url, '/dashboard/stream');
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const started = Date.now();
    await stream.until((text) => text.includes('event: stats'));
    expect(Date.now() - started).toBeLessThan(900);
    stream.close();
  });

  it('sends stats every second; rates follow publishing; viewers are not hub clients', async () => {
    const viewer = new Subscriber(`${hub.url}/dashboard/stream`, { types: ['stats'] });
    await viewer.waitFor('stats', 1);
    const first = JSON.parse(viewer.of('stats')[0]?.data ?? '{}') as Stats;
    expect(Object.keys(first).sort()).toEqual(
      [
        'time',
        'clients',
        'users',
        'rooms',
        'roomSizes',
        'eventsPerSecond',
        'deliveredPerSecond',
        'history',
        'slowDisconnects',
        'dropped',
      ].sort(),
    );
    expect(Object.keys(first.history).sort()).toEqual(['bytes', 'headId', 'maxEvents', 'oldestId', 'size']);
    expect(first).toMatchObject({
      clients: 2,
      users: 2,
      rooms: 2,
      roomSizes: [
        { name: 'lobby', size: 2 },
        { name: 'ops', size: 1 },
      ],
      history: { size: 0, maxEvents: 2000, bytes: 0, oldestId: null },
      slowDisconnects: 0,
      dropped: 0,
    });
    expect(Math.abs(first.time - Date.now())).toBeLessThan(2000);

    // Ten events to the lobby (two members each) land in one interval or straddle two.
    await publish(
      hub.url,
      Array.from({ length: 10 }, (_, i) => ({ data: i, rooms: ['lobby'] })),
    );
    await viewer.until(
      (v) => v.of('stats').some((event) => (JSON.parse(event.data) as Stats).history.size === 10),
      3000,
      'stats after the batch',
    );
    await viewer.waitFor('stats', viewer.of('stats').length + 1, 3000);
    const all = viewer.of('stats').map((event) => JSON.parse(event.data) as Stats);
    const events = all.reduce((sum, stats) => sum + stats.eventsPerSecond, 0);
    // Each rate is the interval's count over its length (about a second, longer on a busy
    // machine): the rates add up to at most the 10 events, and to a good part of them.
    expect(events).toBeGreaterThan(4);
    expect(events).toBeLessThan(11.2);
    // Every event went to the two lobby members: twice as many deliveries, interval by interval.
    for (const stats of all) expect(stats.deliveredPerSecond).toBeCloseTo(2 * stats.eventsPerSecond, 1);
    const last = all.at(-1) as Stats;
    expect(last.history.size).toBe(10);
    expect(last.history.headId).toBe((await request(hub.url, '/status')).json.history.headId);
    // Successive stats are about a second apart.
    const gaps = all.slice(2).map((stats, i) => stats.time - (all[i + 1] as Stats).time);
    for (const gap of gaps) expect(gap).toBeGreaterThan(700);
    // The viewer is not a client of the main hub.
    expect((await request(hub.url, '/status')).json.clients).toBe(2);
    viewer.close();
  });
});
