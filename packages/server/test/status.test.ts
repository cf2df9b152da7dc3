import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_ROOM_LIMIT } from '../src/routes/dashboard.js';
import { STATUS_ROOM_LIMIT } from '../src/routes/status.js';
import { publish, request } from './support/http.js';
import { startServer, type TestServer } from './support/server.js';
import { Subscriber } from './support/sse.js';

/** The value of an unlabelled series (or one with exactly these labels) in Prometheus text. */
function metric(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no series ${series}`);
  return Number(line.slice(series.length + 1));
}

describe('status, health and metrics', () => {
  let hub: TestServer;
  let subscribers: Subscriber[];

  beforeAll(async () => {
    hub = await startServer({ SSEHUB_HISTORY_SIZE: '500' });
    subscribers = await Promise.all([
      Subscriber.open(`${hub.url}/events?user=ada&room=big&room=small`),
      Subscriber.open(`${hub.url}/events?user=ada&room=big`),
      Subscriber.open(`${hub.url}/events?user=bob&room=big&room=alpha`),
    ]);
  });
  afterAll(async () => {
    for (const subscriber of subscribers) subscriber.close();
    await hub.close();
  });

  it('GET /healthz → 200 {"status":"ok"}', async () => {
    const answer = await request(hub.url, '/healthz');
    expect([answer.status, answer.json]).toEqual([200, { status: 'ok' }]);
  });

  it('GET /readyz → 200 while serving', async () => {
    const answer = await request(hub.url, '/readyz');
    expect([answer.status, answer.json]).toEqual([200, { status: 'ready' }]);
  });

  it('GET /status describes clients, users, rooms, history and counters', async () => {
    const published = await publish(hub.url, { data: 'x', rooms: ['big'] });
    const answer = await request(hub.url, '/status');
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    const status = answer.json;
    expect(status).toMatchObject({
      version: '0.1.0',
      ready: true,
      clients: 3,
      users: 2,
      roomCount: 3,
      roomsTruncated: false,
      // Largest first, ties by name.
      rooms: [
        { name: 'big', size: 3 },
        { name: 'alpha', size: 1 },
        { name: 'small', size: 1 },
      ],
      history: { size: 1, maxEvents: 500, oldestId: published.json.id, newestId: published.json.id, headId: published.json.id },
      counters: { connections: 3, published: 1, delivered: 3, refused: 0, dropped: 0, slowDisconnects: 0 },
    });
    expect(status.nodeId).toMatch(/^n-[0-9a-f]{8}$/);
    expect(status.uptime).toBeGreaterThanOrEqual(0);
    expect(status.uptime).toBeLessThan(60);
    expect(status.history.bytes).toBeGreaterThan(0);
    // History bytes: the data, 64 bytes an event, and 32 bytes and two per character a target name.
    expect(status.history.bytes).toBe(1 + 64 + 32 + 2 * 'big'.length);
    expect(status.counters.deliveredBytes).toBe(3 * Buffer.byteLength(`id: ${published.json.id}\ndata: x\n\n`));
  });

  it('GET /metrics exposes every ssehub series, and they move after a publish', async () => {
    const before = await request(hub.url, '/metrics');
    expect(before.status).toBe(200);
    expect(before.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of [
      'ssehub_connections',
      'ssehub_connections_total',
      'ssehub_events_published_total',
      'ssehub_events_delivered_total',
      'ssehub_events_dropped_total',
      'ssehub_bytes_sent_total',
      'ssehub_slow_client_disconnects_total',
      'ssehub_replays_total',
      'ssehub_publish_duration_seconds',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(before.text).toContain(`# TYPE ${name} `);
    }
    expect(before.text).toContain('# TYPE ssehub_connections gauge');
    expect(before.text).toContain('# TYPE ssehub_events_published_total counter');
    expect(before.text).toContain('# TYPE ssehub_publish_duration_seconds histogram');
    expect(metric(before.text, 'ssehub_connections')).toBe(3);
    expect(metric(before.text, 'ssehub_connections_total')).toBe(3);

    const answer = await publish(hub.url, { data: 'metrics', users: ['ada'] });
    expect(answer.status).toBe(202);
    const after = await request(hub.url, '/metrics');
    expect(metric(after.text, 'ssehub_events_published_total')).toBe(metric(before.text, 'ssehub_events_published_total') + 1);
    expect(metric(after.text, 'ssehub_events_delivered_total')).toBe(metric(before.text, 'ssehub_events_delivered_total') + 2);
    expect(metric(after.text, 'ssehub_bytes_sent_total')).toBeGreaterThan(metric(before.text, 'ssehub_bytes_sent_total'));
    expect(metric(after.text, 'ssehub_publish_duration_seconds_count')).toBe(
      metric(before.text, 'ssehub_publish_duration_seconds_count') + 1,
    );
    expect(metric(after.text, 'ssehub_publish_requests_total{status="202"}')).toBeGreaterThanOrEqual(2);
  });

  it('counts replays in ssehub_replays_total', async () => {
    const first = await publish(hub.url, { data: 'r' });
    const before = metric((await request(hub.url, '/metrics')).text, 'ssehub_replays_total');
    const resumed = await Subscriber.open(`${hub.url}/events?lastEventId=${first.json.id}`);
    const after = metric((await request(hub.url, '/metrics')).text, 'ssehub_replays_total');
    expect(after).toBe(before + 1);
    resumed.close();
  });
});

describe('room lists at their limits', () => {
  it(`/status lists the ${STATUS_ROOM_LIMIT} largest rooms and the dashboard the ${DASHBOARD_ROOM_LIMIT} largest, as a full sort would`, async () => {
    const hub = await startServer();
    const members = await Promise.all([0, 1, 2].map(() => Subscriber.open(`${hub.url}/events`)));
    try {
      // 1,050 rooms of 1 to 3 members: many ties, so the order by name matters too.
      const rooms = 1050;
      for (let i = 0; i < rooms; i++) {
        const room = `room-${(i * 7919) % rooms}`;
        hub.server.hub.join(members[0]?.identity.clientId as string, room);
        if (i % 3 === 0) hub.server.hub.join(members[1]?.identity.clientId as string, room);
        if (i % 7 === 0) hub.server.hub.join(members[2]?.identity.clientId as string, room);
      }
      const expected = [...hub.server.hub.rooms]
        .map(([name, set]) => ({ name, size: set.size }))
        .sort((a, b) => b.size - a.size || (a.name < b.name ? -1 : 1));
      const status = (await request(hub.url, '/status')).json;
      expect(status.roomCount).toBe(rooms);
      expect(status.roomsTruncated).toBe(true);
      expect(status.rooms).toEqual(expected.slice(0, STATUS_ROOM_LIMIT));
      expect(status.rooms[0]).toEqual({ name: 'room-0', size: 3 });
      expect(hub.server.dashboard.snapshot().roomSizes).toEqual(expected.slice(0, DASHBOARD_ROOM_LIMIT));
    } finally {
      for (const member of members) member.close();
      await hub.close();
    }
  });
});
