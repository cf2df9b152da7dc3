/**
 * Cluster presence: every hub writes its counts to Redis; any hub reads the whole cluster's.
 * A node that stops leaves at once; a node that is killed leaves once its counts expire.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPresence, type Presence } from '../../src/redis/index.js';
import { RedisServer, skipRedis } from '../support/redisServer.js';
import { type HubNode, Scope, until } from './support.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/presenceNode.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/redis.js', import.meta.url));
const INTERVAL_MS = 100;
const TTL_MS = 600;

let redis: RedisServer;
let prefixes = 0;
const scope = new Scope();

describe.skipIf(skipRedis)('createPresence across hubs', () => {
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(() => redis?.stop());
  afterEach(() => scope.dispose());

  function presenceOf(node: HubNode, nodeId: string): Presence {
    const presence = createPresence(node.hub, { redis: node.backend, nodeId, intervalMs: INTERVAL_MS, ttlMs: TTL_MS });
    scope.add(() => presence.stop());
    return presence;
  }

  it('counts clients, users and rooms across both hubs; a stopped node leaves at once', async () => {
    const prefix = `presence${++prefixes}`;
    const a = await scope.node({ redis: redis.url, prefix });
    const b = await scope.node({ redis: redis.url, prefix });
    const onA = presenceOf(a, 'node-a');
    const onB = presenceOf(b, 'node-b');
    await Promise.all([
      scope.connected(`${a.events}?user=ada&room=lobby`),
      scope.connected(`${a.events}?user=ada&room=lobby&room=kitchen`),
      scope.connected(`${b.events}?user=bob&room=lobby`),
      scope.connected(`${b.events}?user=ada`),
      scope.connected(`${b.events}`),
    ]);
    // Counts are as fresh as the interval.
    await until(async () => (await onA.cluster()).clients === 5, 'both nodes counted', 3000);
    for (const presence of [onA, onB]) {
      const cluster = await presence.cluster();
      const nodes = [...cluster.nodes].sort((x, y) => x.nodeId.localeCompare(y.nodeId));
      expect(nodes.map(({ nodeId, clients, users, rooms }) => ({ nodeId, clients, users, rooms }))).toEqual([
        { nodeId: 'node-a', clients: 2, users: 1, rooms: 2 },
        { nodeId: 'node-b', clients: 3, users: 2, rooms: 1 },
      ]);
      for (const node of nodes) expect(Date.now() - node.seenAt).toBeLessThan(TTL_MS);
      expect(await presence.total()).toBe(5);
      expect(await presence.user('ada')).toBe(3);
      expect(await presence.user('bob')).toBe(1);
      expect(await presence.user('nobody')).toBe(0);
      expect(await presence.room('lobby')).toBe(3);
      expect(await presence.room('kitchen')).toBe(1);
    }

    await onB.stop();
    const cluster = await onA.cluster();
    expect(cluster.nodes.map((node) => node.nodeId)).toEqual(['node-a']);
    expect(cluster.clients).toBe(2);
    expect(await onA.user('ada')).toBe(2);
    expect(await onA.room('lobby')).toBe(2);
  });

  it('follows clients that leave, and drops a SIGKILLed node within its TTL', async () => {
    if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run npm run build first (npm test does)`);
    const prefix = `presence${++prefixes}`;
    const a = await scope.node({ redis: redis.url, prefix });
    const onA = presenceOf(a, 'node-a');
    const child = await startChildNode(prefix, 'node-killed');
    const leaving = await scope.raw(`${a.events}?user=ada&room=lobby`);
    await scope.raw(`${a.events}?user=ada`);
    await Promise.all([scope.raw(`${child.events}?user=ada&room=lobby`), scope.raw(`${child.events}?user=bob`)]);
    await until(async () => (await onA.total()) === 4, 'four connections', 3000);
    expect(await onA.user('ada')).toBe(3);

    leaving.close();
    await until(async () => (await onA.room('lobby')) === 1, 'the room to shrink', 3000);
    expect(await onA.user('ada')).toBe(2);

    child.process.kill('SIGKILL');
    const killedAt = Date.now();
    await until(
      async () => (await onA.cluster()).nodes.every((node) => node.nodeId !== 'node-killed'),
      'the killed node to leave',
      3000,
      10,
    );
    const leftAfterMs = Date.now() - killedAt;
    console.info(`presence: a SIGKILLed node left the cluster after ${leftAfterMs} ms (ttl ${TTL_MS} ms, interval ${INTERVAL_MS} ms)`);
    // It stays until its last write expires: at most the TTL after it, and that write was at
    // most an interval before the kill.
    expect(leftAfterMs).toBeLessThanOrEqual(TTL_MS + INTERVAL_MS + 200);
    expect(await onA.total()).toBe(1);
    expect(await onA.user('ada')).toBe(1);
    expect(await onA.user('bob')).toBe(0);
  });
});

interface ChildNode {
  readonly process: ChildProcess;
  readonly events: string;
}

/** A hub with presence in a child process, on the suite's Redis. */
async function startChildNode(prefix: string, nodeId: string): Promise<ChildNode> {
  const child = spawn(process.execPath, [FIXTURE], {
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: redis.url,
      PREFIX: prefix,
      NODE_ID: nodeId,
      INTERVAL_MS: String(INTERVAL_MS),
      TTL_MS: String(TTL_MS),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  scope.add(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk;
      const end = stdout.indexOf('\n');
      if (end !== -1) resolve((JSON.parse(stdout.slice(0, end)) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`the child hub exited with ${code}: ${stderr}`)));
    setTimeout(() => reject(new Error(`the child hub did not start: ${stderr}`)), 10_000).unref();
  });
  return { process: child, events: `http://127.0.0.1:${port}/events` };
}
