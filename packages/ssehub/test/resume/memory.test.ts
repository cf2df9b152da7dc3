/**
 * What a publisher chooses cannot grow a hub's memory past its history bound: target lists
 * count toward `maxBytes`, an event that leaves the history is released at once, and a hub
 * with no history keeps nothing of what it delivered. Measured on the heap after a full GC.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../src/index.js';
import { exposeGc } from '../support/gc.js';

const hubs: Hub[] = [];
afterEach(async () => {
  for (const hub of hubs.splice(0)) await hub.close({ timeoutMs: 100 });
});

const gc = exposeGc();

async function heapAfterGc(): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** `count` publishes, each to `names` fresh user names, as a hostile HTTP publisher would send them. */
async function publishToManyUsers(hub: Hub, count: number, names: number): Promise<void> {
  for (let seq = 0; seq < count; seq++) {
    const users = Array.from({ length: names }, (_, i) => `user-${seq}-${i}`);
    await hub.toUser(...users).send('tick', { seq });
  }
}

const MiB = 1024 * 1024;

describe('history memory', () => {
  it('stays within maxBytes when every event targets thousands of names', async () => {
    const hub = createHub({ heartbeatMs: 0, history: { maxBytes: 4 * MiB } });
    hubs.push(hub);
    const before = await heapAfterGc();
    // 150 events × 10,000 names: about 60 MiB of names if all were kept.
    await publishToManyUsers(hub, 150, 10_000);
    const grown = (await heapAfterGc()) - before;
    expect(hub.stats().history.bytes).toBeLessThanOrEqual(4 * MiB);
    expect(hub.stats().history.size).toBeLessThan(150);
    expect(grown).toBeLessThan(12 * MiB);
  });

  it('keeps nothing of delivered events when the hub keeps no history', async () => {
    const hub = createHub({ heartbeatMs: 0, history: false });
    hubs.push(hub);
    const before = await heapAfterGc();
    await publishToManyUsers(hub, 150, 10_000);
    const grown = (await heapAfterGc()) - before;
    expect(hub.stats().history).toMatchObject({ size: 0, bytes: 0 });
    expect(grown).toBeLessThan(4 * MiB);
  });
});

describe('data that cannot be encoded', () => {
  it('is refused with ERR_SSEHUB_INVALID_DATA before anything is published', async () => {
    const hub = createHub({ heartbeatMs: 0 });
    hubs.push(hub);
    let nested: unknown = 0;
    for (let depth = 0; depth < 100_000; depth++) nested = [nested];
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const data of [nested, cycle, { big: 10n }]) {
      await expect(hub.toAll().send('x', data)).rejects.toMatchObject({ name: 'InvalidDataError', code: 'ERR_SSEHUB_INVALID_DATA' });
    }
    await expect(hub.toAll().send('x', nested)).rejects.toThrow(/nested too deeply/);
    expect(hub.counters.published).toBe(0);
    expect(hub.stats().history.size).toBe(0);
  });
});
