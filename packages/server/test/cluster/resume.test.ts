/**
 * Resume across `ssehub` processes on one Redis: a client that drops from one process and
 * reconnects to another with Last-Event-ID gets exactly the events addressed to it that it
 * missed, in order, then the live stream; a process started after the events were published
 * (a restart) serves the resume from Redis's log.
 */
import { describe, expect, it } from 'vitest';
import { request } from '../support/http.js';
import {
  eventsOf,
  type HubProcess,
  published,
  resetsOf,
  skipRedis,
  sleep,
  startHubProcess,
  stopHubProcess,
  subscribe,
  useRedisServer,
} from './support.js';

describe.skipIf(skipRedis)('resume across ssehub processes', () => {
  const redis = useRedisServer();

  it('a client of A resumes on B with exactly what it missed, in order, then live', async () => {
    const [a, b] = (await Promise.all([
      startHubProcess(redis.server.url, { SSEHUB_REDIS_PREFIX: 'resume1' }),
      startHubProcess(redis.server.url, { SSEHUB_REDIS_PREFIX: 'resume1' }),
    ])) as [HubProcess, HubProcess];
    const first = await subscribe(a, 'user=ada&room=lobby');
    const seen = await published(b, { event: 'e', data: 'seen', users: ['ada'] });
    await first.waitFor('e');
    const oldClientId = first.identity.clientId;
    first.close();

    // Published through both processes while ada is away; only some of it is hers.
    const whileAway: Array<{ via: HubProcess; body: Record<string, unknown>; forAda: boolean }> = [
      { via: a, body: { data: 'to ada', users: ['ada'] }, forAda: true },
      { via: b, body: { data: 'to bob', users: ['bob'] }, forAda: false },
      { via: b, body: { data: 'to the lobby', rooms: ['lobby'] }, forAda: true },
      { via: a, body: { data: 'to the kitchen', rooms: ['kitchen'] }, forAda: false },
      { via: a, body: { data: 'to everyone' }, forAda: true },
      // Addressed to the old connection: ada's new one has a new client id.
      { via: b, body: { data: 'to the old connection', clients: [oldClientId] }, forAda: false },
      // Not kept for resume: live only.
      { via: b, body: { data: 'not kept', users: ['ada'], history: false }, forAda: false },
      { via: b, body: { data: 'to ada and the lobby', users: ['ada'], rooms: ['lobby'] }, forAda: true },
    ];
    const missed: string[] = [];
    for (const { via, body, forAda } of whileAway) {
      const id = await published(via, { event: 'e', ...body });
      if (forAda) missed.push(`${id}|${body.data}`);
    }

    const resumed = await subscribe(b, 'user=ada&room=lobby', { 'last-event-id': seen });
    await resumed.until((s) => s.of('e').length >= missed.length, 5000, 'the replay');
    const live = await published(a, { event: 'e', data: 'live', rooms: ['lobby'] });
    await resumed.until((s) => s.of('e').length >= missed.length + 1, 5000, 'the live event');
    await sleep(200);
    expect(eventsOf(resumed)).toEqual([...missed, `${live}|live`]);
    expect(resetsOf(resumed)).toEqual([]);
  });

  it('a process started after the events were published (a restart of A) serves the resume', async () => {
    const prefix = { SSEHUB_REDIS_PREFIX: 'resume2' };
    const a = await startHubProcess(redis.server.url, prefix);
    const b = await startHubProcess(redis.server.url, prefix);
    const watcher = await subscribe(a, 'user=ada');
    const seen = await published(a, { event: 'e', data: 'seen', users: ['ada'] });
    await watcher.waitFor('e');
    const port = Number(new URL(a.url).port);
    watcher.close();
    await stopHubProcess(a, 'SIGKILL');

    // While A is dead, B takes the publishes.
    const missed = [
      await published(b, { event: 'e', data: 'one', users: ['ada'] }),
      await published(b, { event: 'e', data: 'two' }),
      await published(b, { event: 'e', data: 'three', users: ['ada'] }),
    ];
    // A' on the same port and Redis: it has never delivered these events.
    const restarted = await startHubProcess(redis.server.url, prefix, port);
    expect(restarted.nodeId).not.toBe(a.nodeId);
    const resumed = await subscribe(restarted, 'user=ada', { 'last-event-id': seen });
    await resumed.until((s) => s.of('e').length >= 3, 5000, 'the replay');
    await sleep(200);
    expect(eventsOf(resumed)).toEqual([`${missed[0]}|one`, `${missed[1]}|two`, `${missed[2]}|three`]);
    expect(resetsOf(resumed)).toEqual([]);
    // And from the very start of the log, too.
    const fromStart = await subscribe(restarted, 'user=ada', { 'last-event-id': `${seen.slice(0, seen.lastIndexOf('-'))}-0` });
    await fromStart.until((s) => s.of('e').length >= 4, 5000, 'the whole log');
    expect(eventsOf(fromStart)).toEqual([`${seen}|seen`, `${missed[0]}|one`, `${missed[1]}|two`, `${missed[2]}|three`]);
  });

  it('with SSEHUB_REDIS_MODE=pubsub, events cross processes but a resume on another process gets the reset event', async () => {
    const env = { SSEHUB_REDIS_PREFIX: 'resume3', SSEHUB_REDIS_MODE: 'pubsub' };
    const [a, b] = (await Promise.all([startHubProcess(redis.server.url, env), startHubProcess(redis.server.url, env)])) as [
      HubProcess,
      HubProcess,
    ];
    expect((await request(a.url, '/status')).json.backend).toMatchObject({ kind: 'redis', mode: 'pubsub' });
    const first = await subscribe(a, 'user=ada');
    const stays = await subscribe(b, 'user=ada');
    const seen = await published(b, { event: 'e', data: 'seen', users: ['ada'] });
    await first.waitFor('e');
    first.close();
    const missed = await published(b, { event: 'e', data: 'missed', users: ['ada'] });
    await stays.until((s) => s.of('e').length === 2, 5000, 'both events on B');
    expect(eventsOf(stays)).toEqual([`${seen}|seen`, `${missed}|missed`]);

    const resumed = await subscribe(b, 'user=ada', { 'last-event-id': seen });
    await resumed.waitFor('ssehub:reset');
    expect(resetsOf(resumed)).toEqual([{ reason: 'stale', lastEventId: seen, headId: missed }]);
    expect(eventsOf(resumed)).toEqual([]);
  });
});
