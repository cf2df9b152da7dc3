/**
 * Shared pieces of the resume suite: a hub on a real loopback server whose `authenticate`
 * reads who the connection is from the query string, a ledger of what was published (to
 * compute the exact sequence each client must see), forced server-side disconnects, and a
 * seeded PRNG.
 */
import type { EventSourceInit } from 'eventsource';
import type { Target } from '../../src/backends/Backend.js';
import { createHub, type Hub, type HubOptions } from '../../src/index.js';
import { type Received, RecordingClient } from '../support/clients.js';
import { listen, type TestServer } from '../support/servers.js';

/** Who a test connection is. `tag` names the connection across its reconnects. */
export interface Identity {
  tag: string;
  user?: string;
  rooms?: readonly string[];
  /** A stable client id, returned by `authenticate` as `clientId`. */
  clientId?: string;
}

export type Meta = { tag: string };
export type TestHub = Hub<Record<string, unknown>, Meta>;

/** Event types every recording client listens to. */
export const TYPES = ['message', 'connected', 'ssehub:reset'] as const;

export function query(identity: Identity, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  params.set('tag', identity.tag);
  if (identity.user !== undefined) params.set('user', identity.user);
  for (const room of identity.rooms ?? []) params.append('room', room);
  if (identity.clientId !== undefined) params.set('cid', identity.clientId);
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  return `/?${params}`;
}

/** One published event as the tests know it. `id` is filled when the publish resolves. */
export interface Published {
  data: string;
  target: Target;
  history: boolean;
  id: string;
}

/** Whether an event with `target` is addressed to `identity` (its rooms, user, stable id). */
export function addressedTo(target: Target, identity: Identity): boolean {
  if (target.all === true) return true;
  if (identity.clientId !== undefined && target.clients?.includes(identity.clientId)) return true;
  if (identity.user !== undefined && target.users?.includes(identity.user)) return true;
  return (identity.rooms ?? []).some((room) => target.rooms?.includes(room) === true);
}

/** A hub on a loopback server plus everything a test opened, closed by `dispose()`. */
export class Harness {
  readonly hub: TestHub;
  readonly server: TestServer;
  readonly clients: RecordingClient[] = [];
  /** Every publish, in publish order (the memory backend assigns seqs synchronously). */
  readonly ledger: Published[] = [];
  readonly #pending: Promise<unknown>[] = [];
  readonly #dropped = new WeakSet<object>();

  private constructor(hub: TestHub, server: TestServer) {
    this.hub = hub;
    this.server = server;
  }

  static async start(options: HubOptions<Record<string, unknown>, Meta> = {}): Promise<Harness> {
    const hub = createHub<Record<string, unknown>, Meta>({
      retryMs: 50,
      heartbeatMs: 0,
      authenticate: (req) => {
        const params = req.url.searchParams;
        const user = params.get('user');
        const clientId = params.get('cid');
        return {
          ...(user === null ? {} : { userId: user }),
          ...(clientId === null ? {} : { clientId }),
          rooms: params.getAll('room'),
          metadata: { tag: params.get('tag') ?? '' },
        };
      },
      ...options,
    });
    const server = await listen(hub.handler());
    return new Harness(hub, server);
  }

  url(identity: Identity, extra?: Record<string, string>): string {
    return `${this.server.url}${query(identity, extra)}`;
  }

  /** Opens a real `eventsource` client; `init` may set a first Last-Event-ID header. */
  connect(identity: Identity, options: { extra?: Record<string, string>; init?: EventSourceInit; types?: readonly string[] } = {}) {
    const client = new RecordingClient(this.url(identity, options.extra), options.types ?? TYPES, options.init);
    this.clients.push(client);
    return client;
  }

  /** Publishes synchronously into the backend and records the event in the ledger. */
  publish(target: Target, data: string, options: { event?: string; history?: boolean } = {}): Published {
    const entry: Published = { data, target, history: options.history ?? true, id: '' };
    this.ledger.push(entry);
    const sent = this.hub.publish({
      data,
      target,
      ...(options.event === undefined ? {} : { event: options.event }),
      ...(options.history === undefined ? {} : { history: options.history }),
    });
    this.#pending.push(
      sent.then((id) => {
        entry.id = id;
      }),
    );
    return entry;
  }

  /** Waits for every publish to resolve (ids known). */
  async settled(): Promise<void> {
    await Promise.all(this.#pending.splice(0));
  }

  /** The ledger events addressed to `identity`, from ledger index `from` on, fences excluded. */
  expectedFor(identity: Identity, from = 0, filter: (event: Published) => boolean = () => true): string[] {
    return this.ledger
      .slice(from)
      .filter((event) => !event.data.startsWith('fence-') && addressedTo(event.target, identity) && filter(event))
      .map((event) => `${event.id}|${event.data}`);
  }

  /** The hub-side client last registered for the connection tagged `tag` and not dropped yet, if any. */
  live(tag: string) {
    let found: ReturnType<TestHub['getClient']>;
    for (const client of this.hub.clients.values()) {
      if (client.metadata.tag === tag && !client.closed && !this.#dropped.has(client)) found = client;
    }
    return found;
  }

  /** Ends the connection tagged `tag` from the server side; false when it is not registered. */
  drop(tag: string, how: 'close' | 'destroy'): boolean {
    const client = this.live(tag);
    if (client === undefined) return false;
    // A gracefully closing client stays registered until its socket closes: never drop it twice.
    this.#dropped.add(client);
    if (how === 'close') this.hub.disconnect(client.id);
    else client.stream.destroy();
    return true;
  }

  async dispose(): Promise<void> {
    for (const client of this.clients) client.close();
    await this.hub.close({ timeoutMs: 1000 });
    await this.server.close();
  }
}

/** `id|data` of every `message` event, in arrival order. */
export function seen(client: RecordingClient): string[] {
  return client.of('message').map((event) => `${event.lastEventId}|${event.data}`);
}

/** `id|data` of every event of these types, in arrival order. */
export function seenOf(client: RecordingClient, types: readonly string[]): string[] {
  return client.events.filter((event) => types.includes(event.type)).map((event) => `${event.lastEventId}|${event.data}`);
}

/** Publishes a `fence` (kept out of history) to `user` and waits until `client` has it: everything sent before has arrived. */
export async function fence(h: Harness, client: RecordingClient, user: string): Promise<void> {
  const marker = `fence-${h.ledger.length}`;
  h.publish({ users: [user] }, marker, { history: false });
  await client.until((c) => c.events.some((event) => event.data === marker), 5000, marker);
}

/** `message` events minus fences, as `id|data`. */
export function received(client: RecordingClient): string[] {
  return seen(client).filter((line) => !line.includes('|fence-'));
}

/** The parsed data of every reset event of type `type`. */
export function resets(
  client: RecordingClient,
  type = 'ssehub:reset',
): Array<{ reason: string; lastEventId: string | null; headId: string }> {
  return client.of(type).map((event: Received) => JSON.parse(event.data));
}

/** An `eventsource` init whose first request carries `Last-Event-ID: id`; later ones are the client's own. */
export function firstLastEventId(id: string): EventSourceInit {
  let first = true;
  return {
    fetch: (url, init) => {
      const headers: Record<string, string> = { ...init.headers };
      if (first) {
        first = false;
        headers['Last-Event-ID'] = id;
      }
      return fetch(url, { ...init, headers });
    },
  };
}

/** Polls `predicate` until it holds or `timeoutMs` passes. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Mulberry32: a small seeded PRNG, so random schedules are reproducible. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seq part of an event id. */
export function seqOf(id: string): number {
  return Number(id.slice(id.lastIndexOf('-') + 1));
}
