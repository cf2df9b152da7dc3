/**
 * Request smuggling and desync, tried with raw sockets on both modes of the real server: every
 * row of the table is answered exactly as stated, and a subscriber connected throughout sees
 * exactly the events that were legitimately published — nothing smuggled, nothing lost.
 */
import { afterAll, beforeAll, describe, type ExpectStatic, it } from 'vitest';
import { PUBLISH_ROWS, type SmugglingRow, STREAM_ROWS } from './smugglingRows.js';
import { RawConnection } from './support/rawConnection.js';
import { report } from './support/report.js';
import { expectBackToBaseline, type ResourceSnapshot, resources } from './support/resources.js';
import { type HostileTarget, MODES, startTarget } from './support/target.js';
import { Witness } from './support/witness.js';

/** Quiet time after which an exchange is over when the server keeps the connection open. */
const SETTLE_MS = 300;

describe.each(MODES)('request smuggling and desync (%s mode)', (mode) => {
  let target: HostileTarget;
  let witness: Witness;
  let baseline: ResourceSnapshot;
  let row = 0;

  beforeAll(async () => {
    target = await startTarget(mode);
    witness = await Witness.open(target);
    await witness.publish('before the attack');
    baseline = resources();
  });
  afterAll(async () => {
    witness?.close();
    await target?.close();
  });

  const attempt = async (entry: SmugglingRow, expect: ExpectStatic): Promise<void> => {
    // A tag no other row's contains: `<row-1>` is not inside `<row-10>`.
    const tag = `<row-${++row}>`;
    const connection = await RawConnection.open(target);
    try {
      const bytes = entry.bytes(target, tag);
      if (entry.byteAtATime) await connection.trickle(bytes, 1, 1);
      else connection.write(bytes);
      const statuses = mode === 'production' ? (entry.statusesInProduction ?? entry.statuses) : entry.statuses;
      await connection.settleAfter(() => connection.statuses.length >= statuses.length, SETTLE_MS);
      const responses = connection.responses;
      expect(responses.map((response) => response.status)).toEqual(statuses);
      const last = responses.at(-1);
      if (entry.code !== undefined) {
        expect(JSON.parse(last?.body ?? '')).toEqual({ error: { code: entry.code, message: expect.any(String) } });
      }
      expect(connection.ended).toBe(entry.closed);
      // The row's own publish, when served, is a legitimate event: the witness must get it.
      const served = responses.filter((response) => response.status === 202);
      expect(served.length).toBe(entry.published);
      const accepted = served.map((response) => ({ id: JSON.parse(response.body).id as string, event: 'attack', data: tag }));
      for (const event of accepted) witness.accept(event);
      await witness.barrier();
      expect(witness.tagged(tag)).toEqual(accepted);
    } finally {
      connection.destroy();
    }
  };

  describe('POST /publish', () => {
    for (const entry of PUBLISH_ROWS) it.concurrent(entry.name, ({ expect }) => attempt(entry, expect));
  });

  describe('GET /events', () => {
    for (const entry of STREAM_ROWS) it.concurrent(entry.name, ({ expect }) => attempt(entry, expect));
  });

  it('the subscriber connected throughout saw exactly the legit events, and every connection is gone', async () => {
    await witness.expectExactlyLegit();
    const settledInMs = await expectBackToBaseline(target, baseline, { connections: 1, streams: 1 });
    report(`smuggling ${mode}`, { legitEvents: witness.acceptedCount, forged: 0, settledInMs, resources: resources(), baseline });
  });
});
