import type { SseStream, StreamListener } from '../stream/SseStream.js';
import type { Audience } from './Audience.js';
import type { EventMap } from './types.js';

// What `roomNames` returns for a client in none: most clients never join one.
const NO_ROOMS: readonly string[] = Object.freeze([]);
// Up to this many rooms a client keeps them in an array (cheaper to make and to hold than a
// set, and as fast to search at this size); past it, in a set.
const ROOM_ARRAY_LIMIT = 8;

/** What a client needs from its hub: room bookkeeping, removal and sending. */
export interface ClientOwner<Events extends EventMap, Meta extends object> {
  joined(client: Client<Events, Meta>, room: string): void;
  left(client: Client<Events, Meta>, room: string): void;
  removed(client: Client<Events, Meta>, overflowed: boolean): void;
  overflowed(client: Client<Events, Meta>, droppedEvents: number, disconnected: boolean): void;
  toClient(clientId: string): Audience<Events>;
}

/**
 * One connection of the hub. A user may hold many clients (tabs, devices); each client has
 * its own id, rooms and typed metadata.
 */
export class Client<Events extends EventMap = Record<string, unknown>, Meta extends object = Record<string, unknown>>
  implements StreamListener
{
  readonly id: string;
  readonly userId: string | undefined;
  /** When the connection was accepted (ms since the epoch). */
  readonly connectedAt: number = Date.now();
  /** The connection itself: write to it directly only for events no one else should see. */
  readonly stream: SseStream;
  /** Application data attached by `authenticate` or later. */
  metadata: Meta;
  /** @internal Set while registered in the hub's maps. */
  registered = false;
  /** @internal The publish that last reached this client, to deliver each event once. */
  stamp = 0;

  readonly #owner: ClientOwner<Events, Meta>;
  #rooms: string[] | Set<string> | undefined;
  #overflowed = false;

  /** @internal Clients are created by the hub. */
  constructor(owner: ClientOwner<Events, Meta>, id: string, userId: string | undefined, metadata: Meta, stream: SseStream) {
    this.#owner = owner;
    this.id = id;
    this.userId = userId;
    this.metadata = metadata;
    this.stream = stream;
    stream.listener = this;
  }

  /** The rooms this client is in (a snapshot). */
  get rooms(): ReadonlySet<string> {
    return new Set(this.roomNames);
  }

  /** @internal The rooms this client is in, without a copy: do not keep or change it. */
  get roomNames(): Iterable<string> {
    return this.#rooms ?? NO_ROOMS;
  }

  /** The Last-Event-ID the client connected with, if any. */
  get lastEventId(): string | undefined {
    return this.stream.lastEventId;
  }

  /** True once the connection has ended. */
  get closed(): boolean {
    return this.stream.closed;
  }

  /** Joins `room` (O(1)); a no-op when already in it. */
  join(room: string): this {
    if (typeof room !== 'string') throw new TypeError('A room name must be a string');
    if (this.isIn(room)) return this;
    const rooms = this.#rooms;
    if (rooms === undefined) this.#rooms = [room];
    else if (Array.isArray(rooms)) {
      if (rooms.length < ROOM_ARRAY_LIMIT) rooms.push(room);
      else this.#rooms = new Set(rooms).add(room);
    } else rooms.add(room);
    if (this.registered) this.#owner.joined(this, room);
    return this;
  }

  /** Leaves `room` (O(1)); a no-op when not in it. */
  leave(room: string): this {
    const rooms = this.#rooms;
    if (rooms === undefined) return this;
    if (Array.isArray(rooms)) {
      const at = rooms.indexOf(room);
      if (at === -1) return this;
      rooms.splice(at, 1);
    } else if (!rooms.delete(room)) return this;
    if (this.registered) this.#owner.left(this, room);
    return this;
  }

  /** Whether the client is in `room`. */
  isIn(room: string): boolean {
    const rooms = this.#rooms;
    if (rooms === undefined) return false;
    return Array.isArray(rooms) ? rooms.includes(room) : rooms.has(room);
  }

  /** Reads one metadata entry. */
  get<K extends keyof Meta>(key: K): Meta[K] {
    return this.metadata[key];
  }

  /** Sets one metadata entry. */
  set<K extends keyof Meta>(key: K, value: Meta[K]): this {
    this.metadata[key] = value;
    return this;
  }

  /** Publishes to this connection only (through the backend, with an id). */
  send<K extends keyof Events & string>(event: K, data: Events[K]): Promise<string> {
    return this.#owner.toClient(this.id).send(event, data);
  }

  /** Ends this connection gracefully. */
  close(): void {
    this.stream.close();
  }

  /** @internal */
  streamClosed(): void {
    this.#owner.removed(this, this.#overflowed);
  }

  /** @internal */
  streamOverflowed(_stream: SseStream, droppedEvents: number, disconnected: boolean): void {
    if (disconnected) this.#overflowed = true;
    this.#owner.overflowed(this, droppedEvents, disconnected);
  }
}
