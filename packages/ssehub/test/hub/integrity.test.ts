/**
 * What the hub core promises when its backend or its clients misbehave: a seq the backend fails
 * to deliver is filled from the log or announced with the reset event (never a silent gap); a
 * backend that cannot be subscribed to makes `ready()` reject and the hub refuse rather than
 * serve a made-up head; a Web client that leaves during an asynchronous `authenticate` is never
 * registered.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend, BackendListener, BackendMessage, LogPosition, LogRead, MessageDraft } from '../../src/backends/Backend.js';
import { type Client, createHub, type Hub, MemoryBackend } from '../../src/index.js';
import { RecordingClient } from '../support/clients.js';
import { waitFor } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The memory backend, except that it never delivers the seqs in `drop` (its log still has them). */
class DroppingBackend implements Backend {
  readonly inner: MemoryBackend;
  readonly #drop: ReadonlySet<number>;
  readonly #wrapped = new Map<BackendListener, BackendListener>();

  constructor(drop: number[], inner = new MemoryBackend()) {
    this.inner = inner;
    this.#drop = new Set(drop);
  }

  get keepsHistory(): boolean {
    return this.inner.keepsHistory;
  }

  subscribe(listener: BackendListener): LogPosition {
    const wrapped = (message: BackendMessage): void => {
      if (!this.#drop.has(message.seq)) listener(message);
    };
    this.#wrapped.set(listener, wrapped);
    return this.inner.subscribe(wrapped);
  }

  unsubscribe(listener: BackendListener): void {
    const wrapped = this.#wrapped.get(listener);
    if (wrapped !== undefined) this.inner.unsubscribe(wrapped);
  }

  append(drafts: readonly MessageDraft[]): readonly BackendMessage[] {
    return this.inner.append(drafts);
  }

  read(after: LogPosition, limit: number): LogRead {
    return this.inner.read(after, limit);
  }

  close(): void {
    this.inner.close();
  }
}

async function serve(hub: Hub): Promise<string> {
  const server = http.createServer(hub.handler());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    await hub.close({ timeoutMs: 200 });
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function subscriber(url: string, lastEventId?: string): RecordingClient {
  let first = true;
  const client = new RecordingClient(url, ['message', 'connected', 'ssehub:reset'], {
    fetch: (input, init) => {
      const headers = new Headers(init?.headers);
      if (first && lastEventId !== undefined) headers.set('last-event-id', lastEventId);
      first = false;
      return fetch(input, { ...init, headers });
    },
  });
  cleanups.push(() => client.close());
  return client;
}

const lines = (client: RecordingClient): string[] => client.of('message').map((event) => `${event.lastEventId}|${event.data}`);

describe('a seq the backend does not deliver', () => {
  it('is read from the log: live and resuming clients get every event, in order, and no reset', async () => {
    const backend = new DroppingBackend([3]);
    const hub = createHub({ backend, heartbeatMs: 0, gapTimeoutMs: 20 });
    const url = await serve(hub);
    const live = subscriber(url);
    await live.waitFor('connected');
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) ids.push(await hub.toAll().send('message', `m${i}`));
    await live.waitFor('message', 5);
    expect(lines(live)).toEqual(ids.map((id, i) => `${id}|m${i + 1}`));
    const resumed = subscriber(url, ids[0]);
    await resumed.waitFor('message', 4);
    expect(lines(resumed)).toEqual(ids.slice(1).map((id, i) => `${id}|m${i + 2}`));
    expect([...live.of('ssehub:reset'), ...resumed.of('ssehub:reset')]).toEqual([]);
    expect(hub.counters.gaps).toBe(0);
  });

  it('that the log no longer has is announced to every client with the reset event, then delivery goes on', async () => {
    const backend = new DroppingBackend([3], new MemoryBackend({ history: false }));
    const hub = createHub({ backend, heartbeatMs: 0, gapTimeoutMs: 20 });
    const url = await serve(hub);
    const live = subscriber(url);
    await live.waitFor('connected');
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) ids.push(await hub.toAll().send('message', `m${i}`));
    await live.waitFor('message', 4);
    expect(lines(live)).toEqual([`${ids[0]}|m1`, `${ids[1]}|m2`, `${ids[3]}|m4`, `${ids[4]}|m5`]);
    const reset = live.of('ssehub:reset');
    expect(reset).toHaveLength(1);
    // Announced before the events after the hole, with the id of the hole's end: a resume from
    // there is exact.
    expect(JSON.parse(reset[0]?.data ?? '{}')).toEqual({ reason: 'gap', lastEventId: null, headId: ids[2] });
    expect(reset[0]?.lastEventId).toBe(ids[2]);
    expect(live.events.map((event) => event.type)).toEqual(['connected', 'message', 'message', 'ssehub:reset', 'message', 'message']);
    expect(hub.counters.gaps).toBe(1);
  });
});

describe('a backend that cannot be subscribed to', () => {
  it('makes ready() reject with ERR_SSEHUB_BACKEND, and the hub refuse connections (503) and publishes', async () => {
    const failing: Backend = {
      keepsHistory: true,
      subscribe: () => Promise.reject(new Error('connection refused')),
      unsubscribe: () => {},
      append: () => Promise.reject(new Error('not connected')),
      read: () => Promise.reject(new Error('not connected')),
      close: () => {},
    };
    const errors: unknown[] = [];
    const hub = createHub({ backend: failing, heartbeatMs: 0, onError: (error) => errors.push(error) });
    await expect(hub.ready()).rejects.toMatchObject({ code: 'ERR_SSEHUB_BACKEND' });
    const url = await serve(hub);
    const answer = await fetch(url);
    expect(answer.status).toBe(503);
    expect(await answer.json()).toMatchObject({ error: { status: 503, message: 'the hub has no backend' } });
    await expect(hub.toAll().send('x', 1)).rejects.toMatchObject({ code: 'ERR_SSEHUB_BACKEND' });
    expect(hub.clients.size).toBe(0);
    expect(errors).toHaveLength(1);
  });
});

describe('a Web client that leaves during an asynchronous authenticate', () => {
  it('is never registered, and its place is given back', async () => {
    let release!: () => void;
    const hub = createHub({
      heartbeatMs: 0,
      maxClients: 1,
      authenticate: () =>
        new Promise<{ userId: string }>((resolve) => {
          release = () => resolve({ userId: 'slow' });
        }),
    });
    cleanups.push(() => hub.close({ timeoutMs: 100 }));
    const abort = new AbortController();
    const answered = hub.fetch(new Request('http://hub.test/events', { signal: abort.signal }));
    await waitFor(() => release !== undefined, 'authenticate to start');
    abort.abort();
    release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(hub.clients.size).toBe(0);
    expect(hub.connectionCount('slow')).toBe(0);
    // The place it reserved is free again: the one connection allowed fits.
    const next = hub.fetch(new Request('http://hub.test/events'));
    release();
    const response = await next;
    expect(response.status).toBe(200);
    await response.body?.cancel();
    // The handler of the request that left still resolves (nobody reads its answer).
    expect((await answered).status).toBe(499);
  });
});

// The public type of a client cannot reach the hub's bookkeeping.
export type NoInternals = Client extends { stamp: number } | { registered: boolean } ? never : true;
const noInternals: NoInternals = true;
void noInternals;
