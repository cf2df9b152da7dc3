/**
 * Slow-loris: connections that hold a socket by sending a request too slowly — a head a byte at
 * a time, nothing at all, a second head trickled after a kept-alive first request, a body that
 * trickles or never ends. Each gets an exact 408 within a bound of the server's time limits
 * (made small here; 20 s for heads and 30 s for requests by default) and is closed, while a
 * health probe, a subscriber and a publisher carry on undisturbed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthProbe, type LatencySummary, PROBE_LATENCY_BOUND_MS } from './support/healthProbe.js';
import { LegitTraffic } from './support/legitTraffic.js';
import { RawConnection, sleep } from './support/rawConnection.js';
import { report } from './support/report.js';
import { expectBackToBaseline, type ResourceSnapshot, resources } from './support/resources.js';
import { type HostileTarget, MODES, startTarget } from './support/target.js';
import { Witness } from './support/witness.js';

const HEADERS_TIMEOUT_MS = 500;
const REQUEST_TIMEOUT_MS = 1000;
/** When node:http closes an idle kept-alive connection: its 5 s keep-alive timeout, plus the 1 s it adds. */
const KEEP_ALIVE_CLOSE_MS = 6000;
/** How late a 408 may come past its time limit on a loaded machine (the checks run every 125 ms). */
const LATE_BOUND_MS = 1500;
/** Slow connections held open at once by the first case. */
const SLOW_HEADS = 100;

const HEAD_408 = '{"error":{"code":"request_timeout","message":"the request head took too long"}}';
const BODY_408 = '{"error":{"code":"request_timeout","message":"the request body took too long"}}';

/** Asserts the connection got exactly one answer, a 408 with `body`, and was closed by the server. */
function expect408(connection: RawConnection, body: string): void {
  const responses = connection.responses;
  expect(responses.map((response) => response.statusLine)).toEqual(['HTTP/1.1 408 Request Timeout']);
  expect(responses[0]?.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(responses[0]?.headers.connection).toBe('close');
  expect(responses[0]?.body).toBe(body);
  expect(connection.ended).toBe(true);
}

/**
 * Asserts the server ended the connection no earlier than `limitMs` after `since` (less
 * `earlyMs` when `since` is when this side saw something the server did earlier), and at most
 * LATE_BOUND_MS after it.
 */
function expectOnTime(connection: RawConnection, since: number, limitMs: number, earlyMs = 5): number {
  const elapsed = (connection.endedAt ?? Number.POSITIVE_INFINITY) - since;
  expect(elapsed).toBeGreaterThanOrEqual(limitMs - earlyMs);
  expect(elapsed).toBeLessThan(limitMs + LATE_BOUND_MS);
  return elapsed;
}

describe.each(MODES)('slow-loris (%s mode)', (mode) => {
  let target: HostileTarget;
  let witness: Witness;
  let probe: HealthProbe;
  let traffic: LegitTraffic;
  let baseline: ResourceSnapshot;
  const measured: Record<string, unknown> = {};

  beforeAll(async () => {
    target = await startTarget(mode, { headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS });
    witness = await Witness.open(target);
    await witness.publish('before the attack');
    baseline = resources();
    probe = HealthProbe.start(target.url);
    traffic = LegitTraffic.start(witness);
  });
  afterAll(async () => {
    await probe?.stop();
    await traffic?.stop().catch(() => undefined);
    witness?.close();
    await target?.close();
  });

  it.concurrent(`${SLOW_HEADS} fresh connections trickling a head a byte every 50 ms get 408 once the head time is up`, async () => {
    const attackers = await Promise.all(Array.from({ length: SLOW_HEADS }, () => RawConnection.open(target)));
    const heads = [
      `GET /events?${target.streamQuery} HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}`,
      `POST /publish HTTP/1.1\r\nHost: x\r\n${target.publishAuth}Content-Type: application/json\r\nX-Slow: ${'a'.repeat(200)}`,
    ];
    const sent = await Promise.all(attackers.map((attacker, i) => attacker.trickle(heads[i % 2] as string, 1, 50)));
    await Promise.all(attackers.map((attacker) => attacker.untilEnded(HEADERS_TIMEOUT_MS + LATE_BOUND_MS)));
    const elapsed = attackers.map((attacker) => {
      expect408(attacker, HEAD_408);
      return expectOnTime(attacker, attacker.openedAt, HEADERS_TIMEOUT_MS);
    });
    measured.slowHeads = {
      connections: SLOW_HEADS,
      bytesSentMax: Math.max(...sent),
      closedAfterMs: [Math.min(...elapsed), Math.max(...elapsed)],
    };
  });

  it.concurrent('a connection that sends nothing gets 408 once the head time is up', async () => {
    const silent = await RawConnection.open(target);
    await silent.untilEnded(HEADERS_TIMEOUT_MS + LATE_BOUND_MS);
    expect408(silent, HEAD_408);
    measured.silent = { closedAfterMs: expectOnTime(silent, silent.openedAt, HEADERS_TIMEOUT_MS) };
  });

  it.concurrent('a kept-alive connection trickling its second head gets 408 once the head time is up', async () => {
    const connection = await RawConnection.open(target);
    connection.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await connection.until(() => connection.responses[0]?.complete === true, 'the first answer');
    await sleep(100);
    const trickleFrom = Date.now();
    await connection.trickle(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}`, 1, 50);
    await connection.untilEnded(HEADERS_TIMEOUT_MS + LATE_BOUND_MS);
    const [first, second, ...more] = connection.responses;
    expect([first?.status, second?.statusLine, more]).toEqual([200, 'HTTP/1.1 408 Request Timeout', []]);
    expect(second?.body).toBe(HEAD_408);
    measured.secondHead = { closedAfterMs: expectOnTime(connection, trickleFrom, HEADERS_TIMEOUT_MS) };
  });

  it.concurrent('an idle kept-alive connection is closed once the keep-alive time is up', async () => {
    const connection = await RawConnection.open(target);
    connection.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await connection.until(() => connection.responses[0]?.complete === true, 'the answer');
    // The server's timer started when it finished the answer, a little before this side saw it.
    const answeredAt = Date.now();
    await connection.untilEnded(KEEP_ALIVE_CLOSE_MS + LATE_BOUND_MS);
    expect(connection.statuses).toEqual([200]);
    measured.idleKeptAlive = { closedAfterMs: expectOnTime(connection, answeredAt, KEEP_ALIVE_CLOSE_MS, 500) };
  });

  const publishHead = (lines: string): string =>
    `POST /publish HTTP/1.1\r\nHost: x\r\n${target.publishAuth}Content-Type: application/json\r\n${lines}\r\n`;

  it.concurrent('a publish body trickling a byte every 50 ms gets 408 once the request time is up, and publishes nothing', async () => {
    const connection = await RawConnection.open(target);
    connection.write(publishHead('Content-Length: 1000\r\n'));
    await connection.trickle(`{"data":"${'x'.repeat(990)}"}`, 1, 50);
    await connection.untilEnded(REQUEST_TIMEOUT_MS + LATE_BOUND_MS);
    expect408(connection, BODY_408);
    measured.tricklingBody = { closedAfterMs: expectOnTime(connection, connection.openedAt, REQUEST_TIMEOUT_MS) };
  });

  it.concurrent('a publish body that stops coming gets 408 once the request time is up', async () => {
    const connection = await RawConnection.open(target);
    connection.write(`${publishHead('Content-Length: 100\r\n')}{"data":`);
    await connection.untilEnded(REQUEST_TIMEOUT_MS + LATE_BOUND_MS);
    expect408(connection, BODY_408);
    measured.stalledBody = { closedAfterMs: expectOnTime(connection, connection.openedAt, REQUEST_TIMEOUT_MS) };
  });

  it.concurrent('a chunked publish body that never ends gets 408 once the request time is up', async () => {
    const connection = await RawConnection.open(target);
    connection.write(publishHead('Transfer-Encoding: chunked\r\n'));
    await connection.trickle('1\r\n \r\n'.repeat(100), 6, 50);
    await connection.untilEnded(REQUEST_TIMEOUT_MS + LATE_BOUND_MS);
    expect408(connection, BODY_408);
    measured.endlessChunkedBody = { closedAfterMs: expectOnTime(connection, connection.openedAt, REQUEST_TIMEOUT_MS) };
  });

  it(`the probe stayed under ${PROBE_LATENCY_BOUND_MS} ms, the subscriber saw exactly the legit events, every connection is gone`, async () => {
    const latency: LatencySummary = await probe.stop();
    const legitDuringAttack = await traffic.stop();
    expect(latency.failures).toBe(0);
    expect(latency.probes).toBeGreaterThan(10);
    expect(latency.p99Ms).toBeLessThan(PROBE_LATENCY_BOUND_MS);
    expect(latency.maxMs).toBeLessThan(PROBE_LATENCY_BOUND_MS);
    await witness.expectExactlyLegit();
    const settledInMs = await expectBackToBaseline(target, baseline, { connections: 1, streams: 1 });
    report(`slowloris ${mode}`, { ...measured, latency, legitDuringAttack, settledInMs });
  });
});
