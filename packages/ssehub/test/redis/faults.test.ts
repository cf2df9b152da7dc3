/**
 * Redis faults under two live hubs. A Redis that crashes and comes back empty: streams stay
 * open with their heartbeats, publishes are refused at once (never queued), the backends come
 * back by themselves in a new epoch, and every client is told with the reset event — never a
 * silent gap. A hub that loses its connections for a moment while Redis keeps its data: it
 * catches up from the log, and its clients get every event once, in order.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendError } from '../../src/index.js';
import { RedisServer, skipRedis } from '../support/redisServer.js';
import { epochOf, received, resetsOf, Scope, seqOf, until } from './support.js';

const HEARTBEAT_MS = 200;
const scope = new Scope();

async function ownRedis(): Promise<RedisServer> {
  const server = await RedisServer.start();
  scope.add(() => server.stop());
  return server;
}

/** What a rejected publish rejected with, and how long it took. */
async function refusal(publish: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await publish();
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  throw new Error('the publish was accepted while Redis was down');
}

describe.skipIf(skipRedis)('Redis faults with two hubs', () => {
  afterEach(() => scope.dispose());

  it('a crash and an empty restart: streams and heartbeats go on, publishes fail fast, then a new epoch and a reset for everyone', async () => {
    const redis = await ownRedis();
    const a = await scope.node({ redis: redis.url, prefix: 'crash' }, { heartbeatMs: HEARTBEAT_MS });
    const b = await scope.node({ redis: redis.url, prefix: 'crash' }, { heartbeatMs: HEARTBEAT_MS });
    const onA = await scope.connected(`${a.events}?user=ada`);
    const onB = await scope.connected(`${b.events}?user=ada`);
    const rawA = await scope.raw(`${a.events}?user=raw`);
    const rawB = await scope.raw(`${b.events}?user=raw`);
    const before = await a.hub.toAll().send('note', { n: 0 });
    await Promise.all([onA, onB].map((client) => client.until((c) => received(c).length === 1, 5000, 'the first event')));

    await redis.kill();
    const killedAt = Date.now();
    await until(() => !a.backend.available && !b.backend.available, 'both backends to notice', 2000);
    expect([a.backend.state, b.backend.state]).not.toContain('ready');

    // Every publish is refused, at once, while Redis is away: none is queued to be sent later.
    const refusals: Array<{ error: unknown; ms: number }> = [];
    for (let i = 0; i < 10; i++) {
      const hub = i % 2 === 0 ? a.hub : b.hub;
      refusals.push(await refusal(() => hub.toAll().send('note', { n: 100 + i })));
      refusals.push(await refusal(() => hub.publishMany([{ event: 'chat', data: { text: 'batch' }, target: { all: true } }])));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const { error } of refusals) {
      expect(error).toBeInstanceOf(BackendError);
      expect(error).toMatchObject({ code: 'ERR_SSEHUB_BACKEND' });
    }
    const slowest = Math.max(...refusals.map(({ ms }) => ms));
    console.info(`faults: ${refusals.length} publishes refused while Redis was down, the slowest in ${slowest} ms`);
    expect(slowest).toBeLessThan(500);
    // A new stream would miss events: it is refused (503) rather than opened.
    const refused = await scope.raw(`${a.events}?user=late`);
    expect(refused.status).toBe(503);

    // The open streams stay open, and their heartbeats go on.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, killedAt + 5 * HEARTBEAT_MS - Date.now())));
    for (const raw of [rawA, rawB]) {
      expect(raw.ended).toBe(false);
      expect(raw.comments.filter((at) => at > killedAt).length).toBeGreaterThanOrEqual(3);
    }
    for (const client of [onA, onB]) {
      expect(client.errors).toBe(0);
      expect(client.source.readyState).toBe(client.source.OPEN);
    }

    // Back, empty, on the same port: the backends reconnect by themselves.
    await redis.restart();
    const restartedAt = Date.now();
    await until(() => a.backend.available && b.backend.available, 'both backends to reconnect', 5000);
    const reconnectedMs = Date.now() - restartedAt;
    await Promise.all([onA, onB].map((client) => client.waitFor('ssehub:reset', 1, 5000)));
    const resetMs = Date.now() - restartedAt;
    console.info(`faults: backends back ${reconnectedMs} ms after the restart, clients reset after ${resetMs} ms`);
    for (const client of [onA, onB]) {
      const [reset] = resetsOf(client);
      expect(reset).toMatchObject({ reason: 'restarted', lastEventId: null });
      expect(epochOf(reset?.headId as string)).not.toBe(epochOf(before));
      expect(client.errors).toBe(0);
    }
    await until(() => [rawA, rawB].every((raw) => raw.text().includes('event: ssehub:reset')), 'the raw streams to be reset', 2000);

    // Delivery across both hubs again, in the new epoch.
    const after = [await b.hub.toAll().send('note', { n: 1 }), await a.hub.toUser('ada').send('chat', { text: 'again' })];
    expect(epochOf(after[0] as string)).not.toBe(epochOf(before));
    expect(after.map(seqOf)).toEqual([1, 2]);
    const expected = [`${before}|note|{"n":0}`, `${after[0]}|note|{"n":1}`, `${after[1]}|chat|{"text":"again"}`];
    for (const client of [onA, onB]) {
      await client.until((c) => received(c).length === 3, 5000, 'the events after the restart');
      expect(received(client)).toEqual(expected);
      expect(resetsOf(client)).toHaveLength(1);
    }

    // An id from before the loss cannot be resumed from: the reset event says so.
    for (const node of [a, b]) {
      const resumed = await scope.connected(`${node.events}?user=ada&lastEventId=${before}`);
      await resumed.waitFor('ssehub:reset');
      expect(resetsOf(resumed)).toEqual([{ reason: 'unknown-epoch', lastEventId: before, headId: after[1] }]);
      expect(received(resumed)).toEqual([]);
    }
  });

  it('events published after an empty restart, before a hub checks the epoch, still reach its clients, after the reset', async () => {
    const redis = await ownRedis();
    // The epoch is checked rarely: the log itself must tell the hubs that it restarted.
    const a = await scope.node({ redis: redis.url, prefix: 'early', epochCheckMs: 10_000 });
    const b = await scope.node({ redis: redis.url, prefix: 'early', epochCheckMs: 10_000 });
    const clients = [await scope.connected(`${a.events}?user=ada`), await scope.connected(`${b.events}?user=ada`)];
    const before = await a.hub.toAll().send('note', { n: 0 });
    await Promise.all(clients.map((client) => client.until((c) => received(c).length === 1, 5000, 'the first event')));

    await redis.kill();
    await until(() => !a.backend.available && !b.backend.available, 'both backends to notice', 2000);
    await redis.restart();
    await until(() => a.backend.available && b.backend.available, 'both backends to reconnect', 5000);
    // More events than the old sequence had, at once: the readers stand past the new ones' start.
    const after = [
      await a.hub.toAll().send('note', { n: 1 }),
      await b.hub.toAll().send('note', { n: 2 }),
      await a.hub.toAll().send('note', { n: 3 }),
    ];
    expect(after.map(seqOf)).toEqual([1, 2, 3]);
    for (const client of clients) {
      await client.until((c) => received(c).length === 4, 5000, 'every event after the restart');
      expect(received(client)).toEqual([
        `${before}|note|{"n":0}`,
        `${after[0]}|note|{"n":1}`,
        `${after[1]}|note|{"n":2}`,
        `${after[2]}|note|{"n":3}`,
      ]);
      // Told first, with a head before the new events.
      expect(resetsOf(client)).toEqual([{ reason: 'restarted', lastEventId: null, headId: `${epochOf(after[0] as string)}-0` }]);
      const order = client.events.map((event) => event.type).filter((type) => type !== 'connected');
      expect(order).toEqual(['note', 'ssehub:reset', 'note', 'note', 'note']);
    }
    // Closing does not wait for the reader's blocking read (as long as the epoch check interval).
    const closing = Date.now();
    await a.close();
    expect(Date.now() - closing).toBeLessThan(1000);
  });

  it('a hub that loses its connections for a moment while another publishes catches up: every event once, in order', async () => {
    const redis = await ownRedis();
    // Hub A's connections carry a name, so that only they are cut, and reconnect after a
    // while, so that hub B publishes while A is away.
    const base = new Redis(redis.url, { connectionName: 'hub-a', retryStrategy: () => 400 });
    scope.add(() => base.quit());
    const a = await scope.node({ redis: base, prefix: 'blip' });
    const b = await scope.node({ redis: redis.url, prefix: 'blip' });
    const clientsOfA = [await scope.connected(`${a.events}?user=ada`), await scope.connected(`${a.events}?room=lobby`)];
    const onB = await scope.connected(`${b.events}?user=ada&room=lobby`);
    const ids = [await b.hub.toAll().send('note', { n: 0 })];

    const admin = new Redis(redis.url);
    scope.add(() => admin.quit());
    const list = (await admin.client('LIST')) as string;
    const hubAConnections = list
      .split('\n')
      .filter((entry) => / name=hub-a /.test(entry))
      .map((entry) => (/^id=(\d+) /.exec(entry) as RegExpExecArray)[1] as string);
    expect(hubAConnections.length).toBeGreaterThanOrEqual(2);
    for (const id of hubAConnections) await admin.client('KILL', 'ID', id);
    await until(() => !a.backend.available, 'hub A to notice', 1000, 5);

    // Published while A is away (its commands fail, its reader waits to reconnect).
    for (let i = 1; i <= 20; i++) {
      const audience = i % 2 === 0 ? b.hub.toUser('ada') : b.hub.toRoom('lobby');
      ids.push(await audience.send('note', { n: i }));
    }
    expect(a.backend.available).toBe(false);
    await until(() => a.backend.available, 'hub A to reconnect', 3000);

    const all = ids.map((id, n) => `${id}|note|{"n":${n}}`);
    const expected = [all.filter((_, n) => n === 0 || n % 2 === 0), all.filter((_, n) => n === 0 || n % 2 === 1), all];
    for (const [index, client] of [...clientsOfA, onB].entries()) {
      const mine = expected[index] as string[];
      await client.until((c) => received(c).length >= mine.length, 5000, `client ${index}'s events`);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const [index, client] of [...clientsOfA, onB].entries()) {
      expect(received(client), `client ${index}`).toEqual(expected[index]);
      expect(resetsOf(client), `client ${index}`).toEqual([]);
      expect(client.errors).toBe(0);
    }
    // And A publishes again, to both hubs.
    const again = await a.hub.toAll().send('note', { n: 21 });
    expect(seqOf(again)).toBe(seqOf(ids[ids.length - 1] as string) + 1);
    await onB.until((c) => received(c).length === 22, 5000, 'the publish of A');
  });

  it('a client resuming on a hub whose reader is behind gets each later event once, after that hub catches up', async () => {
    const redis = await ownRedis();
    // Only hub B's reader will be cut: its commands, and so its reads of the log, go on.
    const base = new Redis(redis.url, { connectionName: 'hub-b', retryStrategy: () => 1000 });
    scope.add(() => base.quit());
    const a = await scope.node({ redis: redis.url, prefix: 'ahead' });
    const b = await scope.node({ redis: base, prefix: 'ahead' });
    const first = await scope.connected(`${a.events}?user=ada`);
    const liveOnB = await scope.connected(`${b.events}?user=ada`);
    const ids = [await a.hub.toUser('ada').send('note', { n: 0 })];
    await liveOnB.until((c) => received(c).length === 1, 5000, 'the first event on B');

    const admin = new Redis(redis.url);
    scope.add(() => admin.quit());
    const list = (await admin.client('LIST')) as string;
    const reader = list.split('\n').find((entry) => / name=hub-b /.test(entry) && / cmd=xread/.test(entry));
    expect(reader).toBeDefined();
    await admin.client('KILL', 'ID', (/^id=(\d+) /.exec(reader as string) as RegExpExecArray)[1] as string);

    // Hub B does not see these yet; the first client does, on A.
    ids.push(await a.hub.toUser('ada').send('note', { n: 1 }), await a.hub.toUser('ada').send('note', { n: 2 }));
    await first.until((c) => received(c).length === 3, 2000, 'the events on A');
    first.close();
    expect(b.hub.stats().history.headId).toBe(ids[0]);
    // It resumes on B, ahead of B: nothing to replay, and what B delivers late is not repeated.
    const resumed = await scope.connected(`${b.events}?user=ada&lastEventId=${ids[2]}`);
    ids.push(await a.hub.toUser('ada').send('note', { n: 3 }));
    await until(() => b.hub.stats().history.headId === ids[3], 'hub B to catch up', 5000);
    await resumed.until((c) => received(c).length >= 1, 2000, 'the event after the resume');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received(resumed)).toEqual([`${ids[3]}|note|{"n":3}`]);
    expect(resetsOf(resumed)).toEqual([]);
    // The client that stayed on B got everything once, in order, when B caught up.
    expect(received(liveOnB)).toEqual(ids.map((id, n) => `${id}|note|{"n":${n}}`));
    expect(resetsOf(liveOnB)).toEqual([]);
  });

  it('a paused Redis (CLIENT PAUSE): publishes made meanwhile complete after it, and every client gets each event once, in order', async () => {
    const redis = await ownRedis();
    const a = await scope.node({ redis: redis.url, prefix: 'pause' });
    const b = await scope.node({ redis: redis.url, prefix: 'pause' });
    const clients = [await scope.connected(`${a.events}?user=ada`), await scope.connected(`${b.events}?user=ada`)];
    const admin = new Redis(redis.url);
    scope.add(() => admin.quit());
    await admin.client('PAUSE', 800);
    const pausedAt = Date.now();
    const sends = Array.from({ length: 20 }, (_, n) => (n % 2 === 0 ? a : b).hub.toUser('ada').send('note', { n }));
    const ids = await Promise.all(sends);
    expect(Date.now() - pausedAt).toBeGreaterThanOrEqual(600);
    const expected = ids
      .map((id, n) => ({ id, n }))
      .sort((x, y) => seqOf(x.id) - seqOf(y.id))
      .map(({ id, n }) => `${id}|note|{"n":${n}}`);
    for (const client of clients) {
      await client.until((c) => received(c).length >= 20, 5000, 'every event');
      expect(received(client)).toEqual(expected);
      expect(resetsOf(client)).toEqual([]);
    }
  });

  it("a hub whose reader is cut delivers its own publishes from the log, with the others' before them, once", async () => {
    const redis = await ownRedis();
    // The reader stays away for 2 s: what hub B delivers meanwhile comes from reading the log.
    const base = new Redis(redis.url, { connectionName: 'hub-b', retryStrategy: () => 2000 });
    scope.add(() => base.quit());
    const a = await scope.node({ redis: redis.url, prefix: 'repair' });
    const b = await scope.node({ redis: base, prefix: 'repair' }, { gapTimeoutMs: 100 });
    const onB = await scope.connected(`${b.events}?user=ada`);
    const admin = new Redis(redis.url);
    scope.add(() => admin.quit());
    const list = (await admin.client('LIST')) as string;
    const reader = list.split('\n').find((entry) => / name=hub-b /.test(entry) && / cmd=xread/.test(entry));
    await admin.client('KILL', 'ID', (/^id=(\d+) /.exec(reader as string) as RegExpExecArray)[1] as string);
    const cutAt = Date.now();

    const ids = [await a.hub.toUser('ada').send('note', { n: 0 }), await b.hub.toUser('ada').send('note', { n: 1 })];
    await onB.until((c) => received(c).length === 2, 1500, 'both events, from the log');
    // Well before the reader is back.
    expect(Date.now() - cutAt).toBeLessThan(1500);
    ids.push(await a.hub.toUser('ada').send('note', { n: 2 }));
    await onB.until((c) => received(c).length === 3, 5000, 'the event after the reader is back');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received(onB)).toEqual(ids.map((id, n) => `${id}|note|{"n":${n}}`));
    expect(resetsOf(onB)).toEqual([]);
  });
});
