/**
 * The backend conformance suite: what every backend must do, run against each of them (the
 * memory backend, a deliberately awkward one, Redis). The first part checks the backend alone —
 * appends, delivery, reads after a position, epochs; the second checks hubs on it — two hubs
 * sharing the backend deliver every event exactly once, in order, to every client, resume on
 * either hub, and never leave a silent gap.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend, BackendMessage, LogRead, MessageDraft } from '../../src/backends/Backend.js';
import type { HistoryOptions } from '../../src/backends/MemoryLog.js';
import { createHub, type Hub } from '../../src/index.js';
import { RecordingClient } from '../support/clients.js';

/** How the suite makes and handles the backend under test. */
export interface BackendFactory {
  /** A fresh backend (a fresh log). `history` bounds its history, as the memory backend's do. */
  make(options?: { history?: HistoryOptions | false }): Promise<Backend> | Backend;
  /** Another handle on the same log (another process would open one); the same object is fine. */
  share(backend: Backend): Promise<Backend> | Backend;
  /** Makes the backend's sequence restart (its data lost); resolves with a handle on it. */
  restart(backend: Backend): Promise<Backend> | Backend;
  /** Delivers every message to every listener, in order, exactly once (no need to repair). */
  readonly exact: boolean;
  /** Releases what `make` opened. */
  cleanup?(): Promise<void> | void;
}

const draft = (data: string, history = true, target: MessageDraft['target'] = { all: true }): MessageDraft => ({
  event: 'e',
  data,
  target,
  history,
});

async function until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const seqsOf = (read: LogRead): number[] | string => (read.ok ? read.messages.map((message) => message.seq) : read.reason);

export function describeBackend(name: string, factory: BackendFactory): void {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await factory.cleanup?.();
  });

  async function backendOf(options?: { history?: HistoryOptions | false }): Promise<Backend> {
    const backend = await factory.make(options);
    cleanups.push(() => backend.close());
    return backend;
  }

  describe(`${name}: the backend alone`, () => {
    it('appends with consecutive seqs from 1, a batch whole, in the epoch it subscribed with', async () => {
      const backend = await backendOf();
      const head = await backend.subscribe(() => {});
      expect(head.seq).toBe(0);
      const one = await backend.append([draft('a')]);
      const batch = await backend.append([draft('b'), draft('c'), draft('d')]);
      expect([...one, ...batch].map((message) => message.seq)).toEqual([1, 2, 3, 4]);
      expect(new Set([...one, ...batch].map((message) => message.epoch))).toEqual(new Set([head.epoch]));
      expect(batch.map((message) => message.data)).toEqual(['b', 'c', 'd']);
    });

    it('delivers every message to every subscriber, with its content, never twice', async () => {
      const backend = await backendOf();
      const other = await factory.share(backend);
      const seen: BackendMessage[][] = [[], []];
      await backend.subscribe((message) => seen[0]?.push(message));
      await other.subscribe((message) => seen[1]?.push(message));
      const appended: BackendMessage[] = [];
      for (let i = 0; i < 50; i++) appended.push(...(await (i % 2 === 0 ? backend : other).append([draft(`m${i}`, i % 3 !== 0)])));
      if (factory.exact) {
        await until(() => seen.every((list) => list.length === 50), 'every delivery');
        for (const list of seen) {
          expect(list.map((message) => message.seq)).toEqual(appended.map((message) => message.seq));
          expect(list.map((message) => [message.data, message.history])).toEqual(
            appended.map((message) => [message.data, message.history]),
          );
        }
      } else {
        await new Promise((resolve) => setTimeout(resolve, 200));
        for (const list of seen) {
          const seqs = list.map((message) => message.seq);
          expect(new Set(seqs).size).toBe(seqs.length);
          for (const message of list) expect(message.data).toBe(`m${message.seq - 1}`);
        }
      }
    });

    it('reads the kept messages after a position, in pages, and says through which seq it is complete', async () => {
      const backend = await backendOf();
      const head = await backend.subscribe(() => {});
      for (let i = 1; i <= 10; i++) await backend.append([draft(`m${i}`, i % 4 !== 0)]);
      const all = await backend.read({ epoch: head.epoch, seq: 0 }, 100);
      expect(seqsOf(all)).toEqual([1, 2, 3, 5, 6, 7, 9, 10]);
      expect(all).toMatchObject({ through: 10, head: 10 });
      // A page holds at most `limit` messages and exactly the kept ones up to `through`.
      const kept = [3, 5, 6, 7, 9, 10];
      let after = 2;
      const paged: number[] = [];
      for (let pages = 0; after < 10 && pages < 10; pages++) {
        const page = await backend.read({ epoch: head.epoch, seq: after }, 3);
        if (!page.ok) throw new Error(page.reason);
        expect(page.messages.length).toBeLessThanOrEqual(3);
        expect(page.through).toBeGreaterThan(after);
        expect(page.head).toBe(10);
        expect(page.messages.map((message) => message.seq)).toEqual(kept.filter((seq) => seq > after && seq <= page.through));
        paged.push(...page.messages.map((message) => message.seq));
        after = page.through;
      }
      expect(paged).toEqual(kept);
      expect(seqsOf(await backend.read({ epoch: head.epoch, seq: 10 }, 5))).toEqual([]);
    });

    it('refuses positions it cannot read after: ahead, unknown epoch, stale', async () => {
      const backend = await backendOf({ history: { maxEvents: 3 } });
      const head = await backend.subscribe(() => {});
      for (let i = 1; i <= 6; i++) await backend.append([draft(`m${i}`)]);
      expect(seqsOf(await backend.read({ epoch: head.epoch, seq: 7 }, 10))).toBe('ahead');
      expect(seqsOf(await backend.read({ epoch: 'another', seq: 2 }, 10))).toBe('unknown-epoch');
      expect(seqsOf(await backend.read({ epoch: head.epoch, seq: 2 }, 10))).toBe('stale');
      expect(seqsOf(await backend.read({ epoch: head.epoch, seq: 3 }, 10))).toEqual([4, 5, 6]);
    });

    it('changes epoch when its sequence restarts: positions from before are unknown', async () => {
      const backend = await backendOf();
      const before = await backend.subscribe(() => {});
      await backend.append([draft('a'), draft('b')]);
      const restarted = await factory.restart(backend);
      cleanups.push(() => restarted.close());
      const after = await restarted.subscribe(() => {});
      expect(after.epoch).not.toBe(before.epoch);
      expect(seqsOf(await restarted.read({ epoch: before.epoch, seq: 1 }, 10))).toBe('unknown-epoch');
    });
  });

  describe(`${name}: hubs on it`, () => {
    async function hubOn(backend: Backend, options: { gapTimeoutMs?: number } = {}): Promise<{ hub: Hub; url: string }> {
      const hub = createHub({
        backend,
        heartbeatMs: 0,
        retryMs: 50,
        gapTimeoutMs: options.gapTimeoutMs ?? 50,
        authenticate: (req) => ({ userId: req.query.get('user') ?? undefined, rooms: req.query.getAll('room') }),
      });
      await hub.ready();
      const server = http.createServer(hub.handler());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(async () => {
        await hub.close({ timeoutMs: 200 });
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      });
      return { hub, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    }

    function subscriber(url: string, init?: ConstructorParameters<typeof RecordingClient>[2]): RecordingClient {
      const client = new RecordingClient(url, ['e', 'connected', 'ssehub:reset'], init);
      cleanups.push(() => client.close());
      return client;
    }

    it('two hubs sharing it deliver every event to every client once, in seq order, whoever published', async () => {
      const backend = await backendOf();
      const a = await hubOn(backend);
      const b = await hubOn(await factory.share(backend));
      const clients = [subscriber(`${a.url}/?user=u&room=r`), subscriber(`${b.url}/?user=u`), subscriber(`${b.url}/?room=r`)];
      await Promise.all(clients.map((client) => client.waitFor('connected')));
      const ids: string[] = [];
      for (let i = 0; i < 60; i++) {
        const hub = i % 2 === 0 ? a.hub : b.hub;
        const target = i % 3 === 0 ? { all: true } : i % 3 === 1 ? { users: ['u'] } : { rooms: ['r'], users: ['u'] };
        ids.push(await hub.publish({ event: 'e', data: `m${i}`, target }));
      }
      const all = ids.map((id, i) => `${id}|m${i}`);
      // The room-only client is not one of the user's: events to the user alone skip it.
      const expected = [all, all, all.filter((_, i) => i % 3 !== 1)];
      for (const [index, client] of clients.entries()) {
        const mine = expected[index] as string[];
        await client.until((c) => c.of('e').length >= mine.length, 10_000, 'every event');
        expect(client.of('e').map((event) => `${event.lastEventId}|${event.data}`)).toEqual(mine);
        expect(client.of('ssehub:reset')).toEqual([]);
      }
    });

    it('a client resumes on the other hub with exactly the events it missed', async () => {
      const backend = await backendOf();
      const a = await hubOn(backend);
      const b = await hubOn(await factory.share(backend));
      const first = subscriber(`${a.url}/?user=u`);
      await first.waitFor('connected');
      const seenId = await a.hub.publish({ event: 'e', data: 'seen', target: { users: ['u'] } });
      await first.waitFor('e', 1);
      first.close();
      const missed: string[] = [];
      for (let i = 0; i < 5; i++) {
        missed.push(`${await a.hub.publish({ event: 'e', data: `missed-${i}`, target: { users: ['u'] } })}|missed-${i}`);
        await b.hub.publish({ event: 'e', data: `other-${i}`, target: { users: ['someone-else'] } });
      }
      const resumed = subscriber(`${b.url}/?user=u`, { fetch: withLastEventId(seenId) });
      await resumed.until((c) => c.of('e').length >= 5, 10_000, 'the missed events');
      expect(resumed.of('e').map((event) => `${event.lastEventId}|${event.data}`)).toEqual(missed);
      expect(resumed.of('ssehub:reset')).toEqual([]);
    });

    it('a client resuming with an id from before a restart of the sequence gets the reset event', async () => {
      const backend = await backendOf();
      const a = await hubOn(backend);
      const id = await a.hub.publish({ event: 'e', data: 'before', target: { all: true } });
      const restarted = await factory.restart(backend);
      const b = await hubOn(restarted);
      const client = subscriber(`${b.url}/`, { fetch: withLastEventId(id) });
      await client.waitFor('ssehub:reset');
      expect(JSON.parse(client.of('ssehub:reset')[0]?.data ?? '{}')).toMatchObject({ reason: 'unknown-epoch', lastEventId: id });
    });
  });
}

/** An `eventsource` fetch that sends a first Last-Event-ID (later ones are the client's own). */
export function withLastEventId(id: string): typeof fetch {
  let first = true;
  return (input, init) => {
    const headers = new Headers(init?.headers);
    if (first && !headers.has('last-event-id')) headers.set('last-event-id', id);
    first = false;
    return fetch(input, { ...init, headers });
  };
}
