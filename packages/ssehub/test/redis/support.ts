/**
 * Pieces shared by the Redis suites: hubs on a `RedisBackend`, each served by its own
 * `createSseServer` on a free loopback port (as separate processes would be), real
 * `eventsource` clients, and raw streams for what an EventSource hides (heartbeat comments).
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import type { ConnectRequest } from '../../src/index.js';
import { createHub, createSseServer, type Hub } from '../../src/index.js';
import { RedisBackend, type RedisBackendOptions } from '../../src/redis/index.js';
import { RecordingClient } from '../support/clients.js';

/** The event map of the Redis suites. */
export type Events = {
  chat: { text: string };
  note: { n: number };
};

/** Event types the suites record, besides their own. */
export const RECORDED = ['connected', 'chat', 'note', 'ssehub:reset'] as const;

/** A hub on Redis with its own listening server: one "process" of a cluster. */
export interface HubNode {
  readonly hub: Hub<Events>;
  readonly backend: RedisBackend;
  /** `http://127.0.0.1:port/events` */
  readonly events: string;
  close(): Promise<void>;
}

/** Who a connection is: `?user=`, `?room=` (repeatable). */
function fromQuery(request: ConnectRequest): { userId?: string; rooms: string[] } {
  const user = request.query.get('user');
  return { ...(user === null ? {} : { userId: user }), rooms: request.query.getAll('room') };
}

/** Resources to release after each test, last opened first. */
export class Scope {
  readonly #cleanups: Array<() => unknown> = [];

  add(cleanup: () => unknown): void {
    this.#cleanups.push(cleanup);
  }

  async dispose(): Promise<void> {
    for (const cleanup of this.#cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch {
        // One failed cleanup must not keep the others from running.
      }
    }
  }

  /** A hub on its own Redis backend, listening on a free port. */
  async node(
    backendOptions: Omit<RedisBackendOptions, 'redis'> & { redis: string | Redis },
    hubOptions: { heartbeatMs?: number; gapTimeoutMs?: number } = {},
  ): Promise<HubNode> {
    const backend = new RedisBackend({ epochCheckMs: 100, ...backendOptions });
    const hub = createHub<Events>({
      backend,
      authenticate: fromQuery,
      heartbeatMs: hubOptions.heartbeatMs ?? 0,
      gapTimeoutMs: hubOptions.gapTimeoutMs ?? 100,
      retryMs: 100,
    });
    await hub.ready();
    const server = createSseServer(hub);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    let closed: Promise<void> | undefined;
    const node: HubNode = {
      hub,
      backend,
      events: `http://127.0.0.1:${port}/events`,
      close() {
        closed ??= (async () => {
          await hub.close({ timeoutMs: 200 });
          await new Promise((resolve) => server.close(resolve));
          await backend.close();
        })();
        return closed;
      },
    };
    this.add(() => node.close());
    return node;
  }

  /** A real EventSource on `url`, recording the suites' event types. */
  client(url: string, init?: ConstructorParameters<typeof RecordingClient>[2]): RecordingClient {
    const client = new RecordingClient(url, RECORDED, init);
    this.add(() => client.close());
    return client;
  }

  /** A client that has received its `connected` event; its client id is in `clientIdOf`. */
  async connected(url: string): Promise<RecordingClient> {
    const client = this.client(url);
    await client.waitFor('connected');
    return client;
  }

  /** A raw stream of `url`, for comments and the bytes as sent. */
  async raw(url: string, headers: Record<string, string> = {}): Promise<RawStream> {
    const stream = await openRaw(url, headers);
    this.add(() => stream.close());
    return stream;
  }
}

/** The client id a client was given (its `connected` event). */
export function clientIdOf(client: RecordingClient): string {
  const connected = client.of('connected')[0];
  if (connected === undefined) throw new Error('not connected');
  return (JSON.parse(connected.data) as { clientId: string }).clientId;
}

/** A client's events of the app's types as `id|type|data`, in arrival order. */
export function received(client: RecordingClient): string[] {
  return client.events.filter((event) => event.type === 'chat' || event.type === 'note').map(line);
}

/** An event as `id|type|data`. */
export function line(event: { lastEventId: string; type: string; data: string }): string {
  return `${event.lastEventId}|${event.type}|${event.data}`;
}

/** The reset events a client got, parsed. */
export function resetsOf(client: RecordingClient): Array<{ reason: string; lastEventId: string | null; headId: string }> {
  return client.of('ssehub:reset').map((event) => JSON.parse(event.data));
}

/** The seq of an id `<epoch>-<seq>`. */
export function seqOf(id: string): number {
  return Number(id.slice(id.lastIndexOf('-') + 1));
}

/** The epoch of an id `<epoch>-<seq>`. */
export function epochOf(id: string): string {
  return id.slice(0, id.lastIndexOf('-'));
}

/** Resolves once `predicate` holds (polled), or rejects after `timeoutMs`. */
export async function until(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** An event stream read as raw text, with the time each chunk came. */
export interface RawStream {
  readonly status: number;
  text(): string;
  /** When each comment line (`:`) arrived, in ms since the epoch. */
  readonly comments: number[];
  /** Whether the server ended the response. */
  readonly ended: boolean;
  close(): void;
}

function openRaw(url: string, headers: Record<string, string>): Promise<RawStream> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
      let text = '';
      let ended = false;
      const comments: number[] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        // Heartbeats are comment lines; a chunk may hold one with other events.
        for (const part of chunk.split('\n')) if (part.startsWith(':')) comments.push(Date.now());
      });
      res.on('close', () => {
        ended = true;
      });
      resolve({
        status: res.statusCode ?? 0,
        text: () => text,
        comments,
        get ended() {
          return ended;
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}
