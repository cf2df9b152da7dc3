/**
 * Request heads at and past their size limit. The limit is node:http's (16 KiB): it counts the
 * request target and every header name and value — not the method, the version, the colons,
 * spaces or line breaks — and answers 431 once they reach 16,384 bytes. ssehub's own reader of
 * `GET /events` hands any head of 16 KiB or more to node:http, so the limit is the same on
 * every path. A target too long is counted the same way: 431, not 414.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawConnection } from './support/rawConnection.js';
import { report } from './support/report.js';
import { expectBackToBaseline, type ResourceSnapshot, resources } from './support/resources.js';
import { type HostileTarget, MODES, startTarget } from './support/target.js';
import { Witness } from './support/witness.js';

/** node:http's `maxHeaderSize`: the counted bytes of a head must stay below it. */
const MAX_HEADER_SIZE = 16 * 1024;

/** The bytes node:http counts against {@link MAX_HEADER_SIZE}: the target, every name and value. */
function countedBytes(target: string, headers: ReadonlyArray<readonly [string, string]>): number {
  return headers.reduce((sum, [name, value]) => sum + name.length + value.length, target.length);
}

/** A head for `target` whose counted bytes are exactly `counted`, padded with one `X-Pad` header. */
function headOfCountedSize(method: string, target: string, headers: ReadonlyArray<readonly [string, string]>, counted: number): string {
  const pad = counted - countedBytes(target, [...headers, ['X-Pad', '']]);
  const lines = [...headers, ['X-Pad', 'p'.repeat(pad)] as const].map(([name, value]) => `${name}: ${value}\r\n`);
  return `${method} ${target} HTTP/1.1\r\n${lines.join('')}\r\n`;
}

const HOST = [['Host', 'x']] as const;

/** Sends `bytes` whole (or in `packets` writes) and waits for the answer. */
async function exchange(target: HostileTarget, bytes: string, packetSize?: number): Promise<RawConnection> {
  const connection = await RawConnection.open(target);
  if (packetSize === undefined) connection.write(bytes);
  else await connection.trickle(bytes, packetSize, 0);
  await connection.settleAfter(() => connection.statuses.length >= 1);
  return connection;
}

function expect431(connection: RawConnection): void {
  // node:http's own answer: no body.
  expect(connection.responses.map((response) => [response.statusLine, response.body])).toEqual([
    ['HTTP/1.1 431 Request Header Fields Too Large', ''],
  ]);
  expect(connection.ended).toBe(true);
}

describe.each(MODES)('request head sizes (%s mode)', (mode) => {
  let target: HostileTarget;
  let witness: Witness;
  let baseline: ResourceSnapshot;
  const measured: Record<string, unknown> = {};
  const connections: RawConnection[] = [];
  const track = (connection: RawConnection): RawConnection => {
    connections.push(connection);
    return connection;
  };

  beforeAll(async () => {
    target = await startTarget(mode);
    witness = await Witness.open(target);
    await witness.publish('before the attack');
    baseline = resources();
  });
  afterAll(async () => {
    for (const connection of connections) connection.destroy();
    witness?.close();
    await target?.close();
  });

  const streamTarget = (): string => `/events?${target.streamQuery}`;

  it('a head one byte under the limit is served, on node:http and on the stream path', async () => {
    const health = track(await exchange(target, headOfCountedSize('GET', '/healthz', HOST, MAX_HEADER_SIZE - 1)));
    expect(health.statuses).toEqual([200]);
    const head = headOfCountedSize('GET', streamTarget(), HOST, MAX_HEADER_SIZE - 1);
    const stream = track(await exchange(target, head));
    expect(stream.statuses).toEqual([200]);
    expect(stream.responses[0]?.headers['content-type']).toMatch(/^text\/event-stream/);
    measured.atLimit = { countedBytes: MAX_HEADER_SIZE - 1, headBytes: head.length, status: 200 };
  });

  it('a head at the limit gets 431 and the connection is closed, on node:http and on the stream path', async () => {
    expect431(track(await exchange(target, headOfCountedSize('GET', '/healthz', HOST, MAX_HEADER_SIZE))));
    expect431(track(await exchange(target, headOfCountedSize('GET', streamTarget(), HOST, MAX_HEADER_SIZE))));
    measured.overLimit = { countedBytes: MAX_HEADER_SIZE, status: 431 };
  });

  it('1,000 small headers are served', async () => {
    const many = Array.from({ length: 1000 }, (_, i) => [`X-${i}`, 'v'] as const);
    expect(track(await exchange(target, headOfCountedSize('GET', '/healthz', [...HOST, ...many], 8000))).statuses).toEqual([200]);
  });

  it('a second Authorization hidden behind 2,100 headers is still refused (400 duplicate_header)', async () => {
    const filler = Array.from({ length: 2100 }, (_, i) => `a${i}: b\r\n`).join('');
    const connection = track(
      await exchange(target, `GET /status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\n${filler}Authorization: Bearer b\r\n\r\n`),
    );
    expect(connection.statuses).toEqual([400]);
    expect(JSON.parse(connection.responses[0]?.body ?? '')).toEqual({ error: { code: 'duplicate_header', message: expect.any(String) } });
    expect(connection.ended).toBe(true);
  });

  it('a Transfer-Encoding hidden behind 2,100 headers is still refused (501)', async () => {
    const filler = Array.from({ length: 2100 }, (_, i) => `a${i}: b\r\n`).join('');
    const body = '{"data":"hidden"}';
    const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const head = `POST /publish HTTP/1.1\r\nHost: x\r\n${target.publishAuth}Content-Type: application/json\r\n${filler}Transfer-Encoding: gzip, chunked\r\n\r\n`;
    const connection = track(await exchange(target, head + chunked));
    expect(connection.statuses).toEqual([501]);
    expect(connection.ended).toBe(true);
  });

  it('16,000 empty headers, the most the size limit lets in, are read and answered quickly', async () => {
    const started = Date.now();
    const connection = track(await exchange(target, `GET /healthz HTTP/1.1\r\nHost: x\r\n${'a:\r\n'.repeat(16_000)}\r\n`));
    expect(connection.statuses).toEqual([200]);
    const answeredInMs = (connection.responses[0] === undefined ? Number.NaN : connection.lastActivityAt) - started;
    // Linear work: tens of ms. A cost growing with the square of the count would take seconds.
    expect(answeredInMs).toBeLessThan(1500);
    measured.emptyHeaders = { headers: 16_000, answeredInMs };
  });

  it('a single giant header (1 MiB, sent as fast as possible) gets 431 and the connection is closed', async () => {
    const started = Date.now();
    const connection = track(await exchange(target, `GET /events HTTP/1.1\r\nHost: x\r\nX-Giant: ${'g'.repeat(1024 * 1024)}\r\n\r\n`));
    expect431(connection);
    measured.giantHeader = { bytes: 1024 * 1024, status: 431, closedAfterMs: (connection.endedAt ?? 0) - started };
  });

  it('a request line with a 20 KiB target gets 431 (counted with the headers; no 414)', async () => {
    expect431(track(await exchange(target, `GET /events?x=${'t'.repeat(20 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`)));
    expect431(track(await exchange(target, `GET /healthz?x=${'t'.repeat(20 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`)));
  });

  it('a head of nearly 16 KiB split into 64-byte packets is served like one sent whole', async () => {
    const stream = track(await exchange(target, headOfCountedSize('GET', streamTarget(), HOST, 16_000), 64));
    expect(stream.statuses).toEqual([200]);
    const health = track(await exchange(target, headOfCountedSize('GET', '/healthz', HOST, 16_000), 64));
    expect(health.statuses).toEqual([200]);
  });

  it('the subscriber saw exactly the legit events and every connection is gone', async () => {
    for (const connection of connections) connection.destroy();
    await witness.expectExactlyLegit();
    const settledInMs = await expectBackToBaseline(target, baseline, { connections: 1, streams: 1 });
    report(`head sizes ${mode}`, { ...measured, settledInMs });
  });
});
