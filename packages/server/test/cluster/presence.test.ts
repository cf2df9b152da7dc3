/**
 * `/status` on Redis: `cluster` lists every live process with its counts. A process that shuts
 * down gracefully leaves at once; one that is SIGKILLed leaves once its counts expire
 * (SSEHUB_PRESENCE_TTL_MS).
 */
import { describe, expect, it } from 'vitest';
import { openStream, request } from '../support/http.js';
import { type HubProcess, skipRedis, startHubProcess, stopHubProcess, until, useRedisServer } from './support.js';

const TTL_MS = 2000;

interface NodeCounts {
  nodeId: string;
  clients: number;
  users: number;
  rooms: number;
  seenAt: number;
}

async function clusterOf(hub: HubProcess): Promise<{ clients: number; nodes: NodeCounts[] }> {
  const status = await request(hub.url, '/status');
  expect(status.status).toBe(200);
  return status.json.cluster;
}

const nodeIds = (cluster: { nodes: NodeCounts[] }): string[] => cluster.nodes.map((node) => node.nodeId).sort();

describe.skipIf(skipRedis)('cluster presence in /status', () => {
  const redis = useRedisServer();

  it('lists every process with its counts; a stopped one leaves at once, a SIGKILLed one within the TTL', async () => {
    const env = { SSEHUB_PRESENCE_TTL_MS: String(TTL_MS) };
    const [a, b, c] = (await Promise.all([
      startHubProcess(redis.server.url, env),
      startHubProcess(redis.server.url, env),
      startHubProcess(redis.server.url, env),
    ])) as [HubProcess, HubProcess, HubProcess];
    // Raw streams: a process that dies must not see them come back (an EventSource would retry).
    const streams = await Promise.all([
      openStream(a.url, '/events?user=ada&room=lobby'),
      openStream(a.url, '/events?user=ada'),
      openStream(b.url, '/events?user=bob&room=lobby&room=kitchen'),
      openStream(b.url, '/events?user=carl'),
      openStream(b.url, '/events'),
      openStream(c.url, '/events?user=dora'),
    ]);
    try {
      const all = [a.nodeId, b.nodeId, c.nodeId].sort();
      await until(async () => (await clusterOf(a)).clients === 6, 'every connection counted', 5000, 100);
      for (const hub of [a, b, c]) {
        const cluster = await clusterOf(hub);
        expect(nodeIds(cluster)).toEqual(all);
        const byId = new Map(cluster.nodes.map((node) => [node.nodeId, node]));
        expect(byId.get(a.nodeId)).toMatchObject({ clients: 2, users: 1, rooms: 1 });
        expect(byId.get(b.nodeId)).toMatchObject({ clients: 3, users: 2, rooms: 2 });
        expect(byId.get(c.nodeId)).toMatchObject({ clients: 1, users: 1, rooms: 0 });
        expect(cluster.clients).toBe(6);
      }
      const status = await request(a.url, '/status');
      expect(status.json.backend).toMatchObject({ kind: 'redis', mode: 'log', state: 'ready' });
      expect(status.json.clients).toBe(2);

      // Graceful: C takes itself out before exiting.
      await stopHubProcess(c, 'SIGTERM');
      expect(nodeIds(await clusterOf(a))).toEqual([a.nodeId, b.nodeId].sort());

      // Killed: B's counts stay until they expire.
      await stopHubProcess(b, 'SIGKILL');
      const killedAt = Date.now();
      await until(async () => !nodeIds(await clusterOf(a)).includes(b.nodeId), 'the killed process to leave', TTL_MS + 3000, 25);
      const leftAfterMs = Date.now() - killedAt;
      console.info(`server presence: a SIGKILLed process left /status after ${leftAfterMs} ms (SSEHUB_PRESENCE_TTL_MS ${TTL_MS})`);
      // Its last write was at most an interval (TTL / 3) before the kill.
      expect(leftAfterMs).toBeLessThanOrEqual(TTL_MS + 500);
      const cluster = await clusterOf(a);
      expect(nodeIds(cluster)).toEqual([a.nodeId]);
      expect(cluster.clients).toBe(2);
    } finally {
      for (const stream of streams) stream.close();
    }
  });
});
