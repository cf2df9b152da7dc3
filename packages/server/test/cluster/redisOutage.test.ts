/**
 * Redis crashes under two `ssehub` processes with clients, then comes back empty. Meanwhile
 * the streams stay open with their heartbeats, every publish is refused with 503
 * `backend_unavailable` (never 202 and lost), `/readyz` says 503 while `/healthz` says 200.
 * Once Redis is back the processes recover by themselves: ready again, delivering across
 * processes in a new epoch, and every client that may have missed events is told so.
 */
import { describe, expect, it } from 'vitest';
import { openStream, request } from '../support/http.js';
import {
  closeSubscribers,
  epochOf,
  eventsOf,
  freePort,
  type HubProcess,
  killAll,
  published,
  publishTo,
  RedisServer,
  resetsOf,
  skipRedis,
  sleep,
  startHubProcess,
  subscribe,
  until,
  useRedisServer,
} from './support.js';

const HEARTBEAT_MS = 1000;

describe.skipIf(skipRedis)('a Redis outage under ssehub processes', () => {
  const redis = useRedisServer();

  it('keeps streams, refuses publishes with 503, then recovers by itself with a reset for everyone', async () => {
    const env = { SSEHUB_HEARTBEAT_MS: String(HEARTBEAT_MS) };
    const [a, b] = (await Promise.all([startHubProcess(redis.server.url, env), startHubProcess(redis.server.url, env)])) as [
      HubProcess,
      HubProcess,
    ];
    const onA = await subscribe(a, 'user=ada');
    const onB = await subscribe(b, 'user=ada&room=lobby');
    const raws = await Promise.all([openStream(a.url, '/events?user=raw'), openStream(b.url, '/events?user=raw')]);
    try {
      const before = await published(a, { event: 'e', data: 'before' });
      await Promise.all([onA, onB].map((subscriber) => subscriber.waitFor('e')));

      const textAtKill = raws.map((raw) => raw.text().length);
      await redis.server.kill();
      const killedAt = Date.now();
      for (const hub of [a, b]) {
        await until(async () => (await request(hub.url, '/readyz')).status === 503, 'readiness to fail', 3000);
        expect((await request(hub.url, '/readyz')).json).toEqual({ status: 'backend_unavailable' });
        expect((await request(hub.url, '/healthz')).status).toBe(200);
        const status = await request(hub.url, '/status');
        expect(status.status).toBe(200);
        expect(status.json.backend.state).not.toBe('ready');
        expect(status.json.cluster).toEqual({ unavailable: true });
      }

      // For a few heartbeats: every publish, single or batch, to either process, is refused.
      const statuses: number[] = [];
      let slowestMs = 0;
      for (let i = 0; Date.now() - killedAt < 2.5 * HEARTBEAT_MS; i++) {
        const hub = i % 2 === 0 ? a : b;
        const body =
          i % 3 === 0
            ? [
                { event: 'e', data: 'lost?' },
                { event: 'e', data: 'lost?' },
              ]
            : { event: 'e', data: 'lost?' };
        const started = Date.now();
        const answer = await publishTo(hub, body);
        slowestMs = Math.max(slowestMs, Date.now() - started);
        statuses.push(answer.status);
        if (answer.status !== 503) throw new Error(`publish during the outage answered ${answer.status}: ${answer.text}`);
        expect(answer.json.error.code).toBe('backend_unavailable');
        expect(answer.headers['retry-after']).toBeDefined();
        await sleep(50);
      }
      console.info(`server outage: ${statuses.length} publishes answered 503 backend_unavailable, the slowest in ${slowestMs} ms`);
      expect(slowestMs).toBeLessThan(1000);
      // A new stream is refused too: it would miss events.
      expect((await request(a.url, '/events?user=late')).status).toBe(503);
      // Open streams are still open, with a heartbeat every interval of the outage.
      await sleep(Math.max(0, killedAt + 3.2 * HEARTBEAT_MS - Date.now()));
      raws.forEach((raw, i) => {
        const beats = raw
          .text()
          .slice(textAtKill[i])
          .split('\n')
          .filter((line) => line.startsWith(':')).length;
        expect(beats, 'heartbeats during the outage').toBeGreaterThanOrEqual(2);
      });
      expect([onA.errors, onB.errors]).toEqual([0, 0]);
      expect(eventsOf(onA)).toEqual([`${before}|before`]);

      // Back, empty: the processes recover without a restart of their own.
      await redis.server.restart();
      const restartedAt = Date.now();
      await until(async () => (await request(b.url, '/readyz')).status === 200, 'readiness', 10_000);
      // Published the moment B is ready, before the processes may have noticed the new epoch:
      // it must still reach everyone, after their reset.
      const firstAfter = await published(b, { event: 'e', data: 'first after' });
      await until(async () => (await request(a.url, '/readyz')).status === 200, 'readiness', 10_000);
      const readyMs = Date.now() - restartedAt;
      await Promise.all([onA, onB].map((subscriber) => subscriber.waitFor('ssehub:reset', 1, 5000)));
      for (const subscriber of [onA, onB]) expect(resetsOf(subscriber)).toMatchObject([{ reason: 'restarted', lastEventId: null }]);
      await Promise.all(raws.map((raw) => raw.until((text) => text.includes('event: ssehub:reset'), 2000)));
      console.info(`server outage: /readyz 200 again ${readyMs} ms after Redis restarted`);

      // Delivery across processes, in the new epoch.
      const after = await published(b, { event: 'e', data: 'after', users: ['ada'] });
      expect(epochOf(firstAfter)).not.toBe(epochOf(before));
      expect(epochOf(after)).toBe(epochOf(firstAfter));
      for (const subscriber of [onA, onB]) {
        await subscriber.until((s) => s.of('e').length === 3, 5000, 'the events after the outage');
        expect(eventsOf(subscriber)).toEqual([`${before}|before`, `${firstAfter}|first after`, `${after}|after`]);
        expect(subscriber.events.map((event) => event.type)).toEqual(['connected', 'e', 'ssehub:reset', 'e', 'e']);
        expect(subscriber.errors).toBe(0);
      }
      expect((await request(a.url, '/status')).json.backend.state).toBe('ready');
      // Presence is written again into the empty Redis: both processes are back in the cluster.
      await until(
        async () => (await request(a.url, '/status')).json.cluster?.nodes?.length === 2,
        'both processes back in the cluster',
        3000,
        100,
      );
      const cluster = (await request(b.url, '/status')).json.cluster;
      expect(cluster.nodes.map((node: { nodeId: string }) => node.nodeId).sort()).toEqual([a.nodeId, b.nodeId].sort());
      expect(cluster.clients).toBe(4);

      // A resume from before the loss is answered with the reset event, on either process.
      for (const hub of [a, b]) {
        const resumed = await subscribe(hub, 'user=ada', { 'last-event-id': before });
        await resumed.waitFor('ssehub:reset');
        expect(resetsOf(resumed)).toEqual([{ reason: 'unknown-epoch', lastEventId: before, headId: after }]);
        expect(eventsOf(resumed)).toEqual([]);
      }
    } finally {
      for (const raw of raws) raw.close();
    }
  });

  it('SIGTERM while Redis is down still shuts down gracefully, at once', async () => {
    const own = await RedisServer.start();
    try {
      const hub = await startHubProcess(own.url);
      const stream = await openStream(hub.url, '/events?user=ada');
      await own.kill();
      await until(async () => (await request(hub.url, '/readyz')).status === 503, 'readiness to fail', 3000);
      const exit = new Promise<number | null>((resolve) => hub.child.once('exit', (code) => resolve(code)));
      const started = Date.now();
      hub.child.kill('SIGTERM');
      expect(await exit).toBe(0);
      const ms = Date.now() - started;
      console.info(`server outage: SIGTERM with Redis down exited 0 in ${ms} ms`);
      expect(ms).toBeLessThan(3000);
      await stream.ended;
    } finally {
      await own.stop();
    }
  });

  it('a process started before Redis is up waits for it: not ready, streams refused, then ready by itself', async () => {
    const port = await freePort();
    const hub = await startHubProcess(`redis://127.0.0.1:${port}`, {}, undefined, '/healthz');
    expect((await request(hub.url, '/readyz')).json).toEqual({ status: 'backend_unavailable' });
    expect((await request(hub.url, '/events?user=ada')).status).toBe(503);
    const own = await RedisServer.start(port);
    try {
      const upAt = Date.now();
      await until(async () => (await request(hub.url, '/readyz')).status === 200, 'readiness', 10_000);
      console.info(`server outage: a process started before Redis was ready ${Date.now() - upAt} ms after Redis came up`);
      const subscriber = await subscribe(hub, 'user=ada');
      const id = await published(hub, { event: 'e', data: 'hello', users: ['ada'] });
      await subscriber.waitFor('e');
      expect(eventsOf(subscriber)).toEqual([`${id}|hello`]);
    } finally {
      closeSubscribers();
      await killAll();
      await own.stop();
    }
  });
});
