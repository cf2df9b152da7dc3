import type { SseStream, StreamListener } from '../stream/SseStream.js';
import type { Client } from './Client.js';
import type { Cursor } from './Cursor.js';
import type { TargetMember } from './TargetMatcher.js';
import type { DisconnectReason } from './types.js';

// What `roomNames` returns for a member of none: most connections never join a room.
const NO_ROOMS: readonly string[] = Object.freeze([]);
// Up to this many rooms a member keeps them in an array (cheaper to make and to hold than a
// set, and as fast to search at this size); past it, in a set.
const ROOM_ARRAY_LIMIT = 8;

/** What a member tells the hub about itself. */
export interface MemberOwner {
  joined(member: Member, room: string): void;
  left(member: Member, room: string): void;
  removed(member: Member): void;
  overflowed(member: Member, droppedEvents: number, disconnected: boolean): void;
}

/**
 * The hub's own record of one connection: what delivery needs on its hot path (the stream, the
 * stamp that delivers an event once, the cursor of a catch-up) and the bookkeeping the registry
 * keeps. Applications see its public face, {@link Client}, which cannot reach any of this.
 */
export class Member implements StreamListener, TargetMember {
  readonly id: string;
  readonly userId: string | undefined;
  readonly stream: SseStream;
  readonly connectedAt = Date.now();
  /** The application's view of this connection (set once, right after construction). */
  client!: Client;
  /** The publish that last reached this member, to deliver each event once. */
  stamp = 0;
  /** Set while the member is in the registry's maps. */
  registered = false;
  /** Present while the member catches up (or waits for this hub to catch up to it). */
  cursor: Cursor | undefined;
  /** Why the hub is ending the connection, when it is. */
  leaving: DisconnectReason | undefined;
  readonly #owner: MemberOwner;
  #rooms: string[] | Set<string> | undefined;

  constructor(owner: MemberOwner, id: string, userId: string | undefined, stream: SseStream) {
    this.#owner = owner;
    this.id = id;
    this.userId = userId;
    this.stream = stream;
    stream.listener = this;
  }

  /** The rooms of this member, without a copy: do not keep or change it. */
  get roomNames(): Iterable<string> {
    return this.#rooms ?? NO_ROOMS;
  }

  get roomCount(): number {
    const rooms = this.#rooms;
    return rooms === undefined ? 0 : Array.isArray(rooms) ? rooms.length : rooms.size;
  }

  isIn(room: string): boolean {
    const rooms = this.#rooms;
    if (rooms === undefined) return false;
    return Array.isArray(rooms) ? rooms.includes(room) : rooms.has(room);
  }

  join(room: string): void {
    if (this.isIn(room)) return;
    const rooms = this.#rooms;
    if (rooms === undefined) this.#rooms = [room];
    else if (Array.isArray(rooms)) {
      if (rooms.length < ROOM_ARRAY_LIMIT) rooms.push(room);
      else this.#rooms = new Set(rooms).add(room);
    } else rooms.add(room);
    if (this.registered) this.#owner.joined(this, room);
  }

  leave(room: string): void {
    const rooms = this.#rooms;
    if (rooms === undefined) return;
    if (Array.isArray(rooms)) {
      const at = rooms.indexOf(room);
      if (at === -1) return;
      rooms.splice(at, 1);
    } else if (!rooms.delete(room)) return;
    if (this.registered) this.#owner.left(this, room);
  }

  streamClosed(): void {
    this.#owner.removed(this);
  }

  streamOverflowed(_stream: SseStream, droppedEvents: number, disconnected: boolean): void {
    if (disconnected) this.leaving ??= 'slow';
    this.#owner.overflowed(this, droppedEvents, disconnected);
  }
}
