/**
 * Connection floods: thousands of connections opened and dropped in rounds — before a byte,
 * mid-head, after their stream opened — closed with a FIN or reset with an RST; and hundreds of
 * stream requests pipelined on one socket. Afterwards the server holds no connection and no
 * stream but the witness's, and the process's file descriptors and handles are back to their
 * baseline; meanwhile the health probe stays fast and the witness misses nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthProbe, PROBE_LATENCY_BOUND_MS } from './support/healthProbe.js';
import { LegitTraffic } from './support/legitTraffic.js';
import { RawConnection } from './support/rawConnection.js';
import { report } from './support/report.js';
import { expectBackToBaseline, type ResourceSnapshot, resources } from './support/resources.js';
import { type HostileTarget, MODES, PUBLISH_KEY, startTarget } from './support/target.js';
import { Witness } from './support/witness.js';

const ROUNDS = 4;
/** Connections of one round, all open at once at its peak: 2 sockets each in this process (client and server). */
const PER_ROUND = 750;
/** Connections being opened at a time, below the listen backlog. */
const OPENING_AT_ONCE = 25;
/** Stream requests pipelined on one socket. */
const PIPELINED = 250;

/** What a connection of the flood does before it goes: nothing, half a head, or open a stream. */
type Way = 'connect only' | 'half a head' | 'open a stream';
/** Each round cycles through these: 2 of every 5 connections open a stream. */
const WAYS: readonly Way[] = ['connect only', 'half a head', 'half a head', 'open a stream', 'open a stream'];

/** Runs `task` over `items`, `width` at a time. */
async function inBatches<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  for (let at = 0; at < items.length; at += width) await Promise.all(items.slice(at, at + width).map(task));
}

describe.each(MODES)('connection floods (%s mode)', (mode) => {
  let target: HostileTarget;
  let witness: Witness;
  let baseline: ResourceSnapshot;

  beforeAll(async () => {
    target = await startTarget(mode, { headersTimeoutMs: 2000, requestTimeoutMs: 4000 });
    witness = await Witness.open(target);
    await witness.publish('before the attack');
    baseline = resources();
  });
  afterAll(async () => {
    witness?.close();
    await target?.close();
  });

  /** Opens one connection and brings it to the state `way` says: connected, mid-head, or streaming. */
  const hold = async (way: Way): Promise<RawConnection> => {
    const connection = await RawConnection.open(target);
    const streamHead = `GET /events?${target.streamQuery} HTTP/1.1\r\nHost: x\r\n\r\n`;
    if (way === 'half a head') connection.write(streamHead.slice(0, 30));
    if (way === 'open a stream') {
      connection.write(streamHead);
      await connection.until(() => connection.statuses[0] === 200, 'the stream to open');
    }
    return connection;
  };

  it(`${ROUNDS} rounds of ${PER_ROUND} connections held at once, then dropped or reset: before a byte, mid-head or with their stream open`, async () => {
    const probe = HealthProbe.start(target.url);
    const traffic = LegitTraffic.start(witness);
    const streamsBefore = target.server.hub.counters.connections;
    const started = Date.now();
    let peak = resources();
    let peakStreams = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const ways = Array.from({ length: PER_ROUND }, (_, i) => WAYS[i % WAYS.length] as Way);
      const held: RawConnection[] = [];
      await inBatches(ways, OPENING_AT_ONCE, async (way) => void held.push(await hold(way)));
      const now = resources();
      if (now.fds > peak.fds) peak = now;
      peakStreams = Math.max(peakStreams, target.server.hub.clients.size);
      // All at once: half of them with a FIN, half with an RST.
      for (const [i, connection] of held.entries()) {
        if (i % 2 === 0) connection.destroy();
        else connection.reset();
      }
    }
    const floodMs = Date.now() - started;
    const latency = await probe.stop();
    const legitDuringAttack = await traffic.stop();
    // Every stream the flood opened was accepted and counted: 2 of every 5 connections.
    expect(target.server.hub.counters.connections - streamsBefore).toBe((ROUNDS * PER_ROUND * 2) / WAYS.length);
    expect(peak.fds).toBeLessThan(baseline.fds + 2 * PER_ROUND + 100);
    expect(latency.failures).toBe(0);
    expect(latency.p99Ms).toBeLessThan(PROBE_LATENCY_BOUND_MS);
    expect(latency.maxMs).toBeLessThan(PROBE_LATENCY_BOUND_MS);
    await witness.barrier();
    const settledInMs = await expectBackToBaseline(target, baseline, { connections: 1, streams: 1 });
    report(`flood rounds ${mode}`, {
      connections: ROUNDS * PER_ROUND,
      floodMs,
      peak,
      peakStreams,
      latency,
      legitDuringAttack,
      settledInMs,
      baseline,
      after: resources(),
    });
  });

  it(`${PIPELINED} GET /events HTTP/1.0 keep-alive on one socket open at most one stream, gone with the socket`, async () => {
    const streamsBefore = target.server.hub.counters.connections;
    const connection = await RawConnection.open(target);
    connection.write(`GET /events?${target.streamQuery} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`.repeat(PIPELINED));
    await connection.untilEnded();
    // The server closed it: at most the first request got a stream (production verifies its
    // token asynchronously, and the connection is gone before it would open).
    expect(connection.statuses.length).toBeLessThanOrEqual(1);
    expect(connection.statuses.every((status) => status === 200)).toBe(true);
    expect(target.server.hub.counters.connections - streamsBefore).toBeLessThanOrEqual(1);
    connection.destroy();
    const settledInMs = await expectBackToBaseline(target, baseline, { connections: 1, streams: 1 });
    report(`pipelined HTTP/1.0 streams ${mode}`, { statuses: connection.statuses, settledInMs });
  });

  it(`${PIPELINED} GET /events HTTP/1.1 on one socket open one stream; the rest is dropped`, async () => {
    const streamsBefore = target.server.hub.counters.connections;
    const connection = await RawConnection.open(target);
    connection.write(`GET /events?${target.streamQuery} HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(PIPELINED));
    await connection.settleAfter(() => connection.statuses.length >= 1, 300);
    expect(connection.statuses).toEqual([200]);
    expect(connection.ended).toBe(false);
    expect(target.server.hub.counters.connections - streamsBefore).toBe(1);
    connection.destroy();
    await expectBackToBaseline(target, baseline, { connections: 1, streams: 1 });
  });

  it(`${PIPELINED} GET /dashboard/stream HTTP/1.0 keep-alive on one socket open at most one viewer`, async () => {
    const query = mode === 'production' ? `?token=${PUBLISH_KEY}` : '';
    const connection = await RawConnection.open(target);
    connection.write(`GET /dashboard/stream${query} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`.repeat(PIPELINED));
    await connection.untilEnded();
    expect(connection.statuses.length).toBeLessThanOrEqual(1);
    expect(connection.statuses.every((status) => status === 200)).toBe(true);
    connection.destroy();
    await expectBackToBaseline(target, baseline, { connections: 1, streams: 1 });
  });

  it('the subscriber connected throughout saw exactly the legit events', async () => {
    await witness.expectExactlyLegit();
  });
});
