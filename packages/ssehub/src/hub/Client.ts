import type { SseStream } from '../stream/SseStream.js';
import type { Audience } from './Audience.js';
import type { Member } from './Member.js';
import type { EventMap, EventName } from './types.js';

/** What a client needs of its hub. */
export interface ClientHub<Events extends EventMap> {
  toClient(clientId: string): Audience<Events>;
}

// Reads a client's member: for the hub only (see the module's exports), never for applications.
let memberOfClient: (client: Client<never, never>) => Member;

/**
 * One connection of the hub, as the application sees it. A user may hold many clients (tabs,
 * devices); each client has its own id, rooms and typed metadata.
 */
export class Client<Events extends EventMap = Record<string, unknown>, Meta extends object = Record<string, unknown>> {
  /** Application data attached by `authenticate` or later. */
  metadata: Meta;
  readonly #member: Member;
  readonly #hub: ClientHub<Events>;

  static {
    memberOfClient = (client) => client.#member;
  }

  /** @internal Clients are made by the hub (its type is exported, its constructor is not part of the API). */
  constructor(hub: ClientHub<Events>, member: Member, metadata: Meta) {
    this.#hub = hub;
    this.#member = member;
    this.metadata = metadata;
  }

  get id(): string {
    return this.#member.id;
  }

  get userId(): string | undefined {
    return this.#member.userId;
  }

  /** When the connection was accepted (ms since the epoch). */
  get connectedAt(): number {
    return this.#member.connectedAt;
  }

  /** The connection itself: write to it directly only for events no one else should see. */
  get stream(): SseStream {
    return this.#member.stream;
  }

  /** The rooms this client is in (a snapshot). */
  get rooms(): ReadonlySet<string> {
    return new Set(this.#member.roomNames);
  }

  /** The Last-Event-ID the client connected with, if any. */
  get lastEventId(): string | undefined {
    return this.#member.stream.lastEventId;
  }

  /** True once the connection has ended. */
  get closed(): boolean {
    return this.#member.stream.closed;
  }

  /** Joins `room` (O(1)); a no-op when already in it. */
  join(room: string): this {
    if (typeof room !== 'string') throw new TypeError('A room name must be a string');
    this.#member.join(room);
    return this;
  }

  /** Leaves `room` (O(1)); a no-op when not in it. */
  leave(room: string): this {
    this.#member.leave(room);
    return this;
  }

  /** Whether the client is in `room`. */
  isIn(room: string): boolean {
    return this.#member.isIn(room);
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
  send<K extends EventName<Events>>(event: K, data: Events[K]): Promise<string> {
    return this.#hub.toClient(this.#member.id).send(event, data);
  }

  /** Ends this connection gracefully. */
  close(): void {
    this.#member.leaving ??= 'closed';
    this.#member.stream.close();
  }
}

/** The hub's record behind a client. */
export function memberOf(client: Client<EventMap, object>): Member {
  return memberOfClient(client as unknown as Client<never, never>);
}
