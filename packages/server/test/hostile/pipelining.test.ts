/**
 * Pipelining behind a stream, on every path a stream request can take into the server: a
 * stream never ends, so no request after it on the same connection may ever run. A
 * `POST /publish` pipelined behind one — in the same packet, or once the stream has opened —
 * must publish nothing: the subscriber connected throughout sees nothing of it, and the hub's
 * published counter does not move.
 */
import { afterAll, beforeAll, describe, type ExpectStatic, it } from 'vitest';
import { smuggled } from './smugglingRows.js';
import { RawConnection } from './support/rawConnection.js';
import { report } from './support/report.js';
import { expectBackToBaseline, type ResourceSnapshot, resources } from './support/resources.js';
import { type HostileTarget, MODES, PUBLISH_KEY, startTarget } from './support/target.js';
import { Witness } from './support/witness.js';

const SETTLE_MS = 300;

interface StreamPath {
  readonly name: string;
  /** The bytes that open the stream (after any request the path begins with). */
  readonly request: (target: HostileTarget, lastEventId: string) => string;
  /** Statuses answered when the publish comes once the stream is open. */
  readonly statuses: readonly number[];
  /**
   * `closed`: node:http read the stream request and the pipelined one closes the connection;
   * `open`: ssehub's own reader served the stream and dropped what followed it.
   */
  readonly after: 'closed' | 'open';
}

const events = (target: HostileTarget): string => `/events?${target.streamQuery}`;

const PATHS: readonly StreamPath[] = [
  {
    name: 'plain HTTP/1.1, read by the SSE server itself',
    request: (target) => `GET ${events(target)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    statuses: [200],
    after: 'open',
  },
  {
    name: 'Content-Length 0, read by the SSE server itself',
    request: (target) => `GET ${events(target)} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`,
    statuses: [200],
    after: 'open',
  },
  {
    name: 'resuming with Last-Event-ID',
    request: (target, lastEventId) => `GET ${events(target)} HTTP/1.1\r\nHost: x\r\nLast-Event-ID: ${lastEventId}\r\n\r\n`,
    statuses: [200],
    after: 'open',
  },
  {
    name: 'HTTP/1.0 keep-alive',
    request: (target) => `GET ${events(target)} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`,
    statuses: [200],
    after: 'closed',
  },
  {
    name: 'chunked stream request',
    request: (target) => `GET ${events(target)} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    statuses: [200],
    after: 'closed',
  },
  {
    name: 'after a kept-alive GET /healthz',
    request: (target) => `GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET ${events(target)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    statuses: [200, 200],
    after: 'closed',
  },
  {
    name: 'absolute-form target',
    request: (target) => `GET http://x${events(target)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    statuses: [200],
    after: 'closed',
  },
  {
    name: 'leading CRLF',
    request: (target) => `\r\nGET ${events(target)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    statuses: [200],
    after: 'closed',
  },
  {
    name: 'Expect 100-continue',
    request: (target) => `GET ${events(target)} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n`,
    statuses: [100, 200],
    after: 'closed',
  },
  {
    name: 'the dashboard stream',
    request: (target) => `GET /dashboard/stream${target.mode === 'production' ? `?token=${PUBLISH_KEY}` : ''} HTTP/1.1\r\nHost: x\r\n\r\n`,
    statuses: [200],
    after: 'closed',
  },
];

const ROWS = PATHS.flatMap((path) => [
  { ...path, name: `${path.name}, publish in the same packet`, later: false },
  { ...path, name: `${path.name}, publish once the stream is open`, later: true },
]);

describe.each(MODES)('a publish pipelined behind a stream never runs (%s mode)', (mode) => {
  let target: HostileTarget;
  let witness: Witness;
  let baseline: ResourceSnapshot;
  let lastEventId: string;
  let row = 0;

  beforeAll(async () => {
    target = await startTarget(mode);
    witness = await Witness.open(target);
    lastEventId = await witness.publish('before the attack');
    baseline = resources();
  });
  afterAll(async () => {
    witness?.close();
    await target?.close();
  });

  const attempt = async (path: (typeof ROWS)[number], expect: ExpectStatic): Promise<void> => {
    const tag = `<pipelined-${++row}>`;
    const connection = await RawConnection.open(target);
    try {
      const streamRequest = path.request(target, lastEventId);
      if (path.later) {
        connection.write(streamRequest);
        const streams = path.statuses.filter((status) => status === 200).length;
        await connection.until(() => connection.statuses.filter((status) => status === 200).length === streams, 'the stream to open');
        connection.write(smuggled(target, tag));
      } else connection.write(streamRequest + smuggled(target, tag));
      await connection.settleAfter(() => connection.statuses.length >= path.statuses.length, SETTLE_MS);
      if (path.later || path.after === 'open') expect(connection.statuses).toEqual(path.statuses);
      // node:http parses a packet's requests in one go: the pipelined one may close the
      // connection before the stream opens (always in production, whose tokens are verified
      // asynchronously), never after anything else was answered.
      else expect(path.statuses.slice(0, connection.statuses.length)).toEqual(connection.statuses);
      expect(connection.text).not.toContain(' 202 ');
      expect(connection.ended).toBe(path.after === 'closed');
      await witness.barrier();
      expect(witness.tagged(tag)).toEqual([]);
    } finally {
      connection.destroy();
    }
  };

  for (const path of ROWS) it.concurrent(path.name, ({ expect }) => attempt(path, expect));

  it('nothing pipelined was published, the subscriber saw exactly the legit events, every connection is gone', async () => {
    await witness.expectExactlyLegit();
    const settledInMs = await expectBackToBaseline(target, baseline, { connections: 1, streams: 1 });
    report(`pipelining ${mode}`, { rows: ROWS.length, legitEvents: witness.acceptedCount, settledInMs });
  });
});
