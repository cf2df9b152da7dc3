import type { Client } from './Client.js';
import { memberOf } from './Client.js';
import type { Member } from './Member.js';

/**
 * Every registered connection of a hub, by id, by user and by room, kept in step. Joins and
 * leaves are O(1). Applications read it through views that cannot change it.
 */
export class Registry {
  readonly #byId = new Map<string, Member>();
  readonly #users = new Map<string, Set<Member>>();
  readonly #rooms = new Map<string, Set<Member>>();
  readonly clients: ReadonlyMap<string, Client>;
  readonly users: ReadonlyMap<string, ReadonlySet<Client>>;
  readonly rooms: ReadonlyMap<string, ReadonlySet<Client>>;

  constructor() {
    this.clients = new MapView(this.#byId, (member) => member.client);
    this.users = new MapView(this.#users, (members) => new ClientSet(members));
    this.rooms = new MapView(this.#rooms, (members) => new ClientSet(members));
  }

  get size(): number {
    return this.#byId.size;
  }

  /** Every registered member (live: do not register or remove while iterating). */
  members(): IterableIterator<Member> {
    return this.#byId.values();
  }

  byId(id: string): Member | undefined {
    return this.#byId.get(id);
  }

  /** The members of a user, when it has any. */
  userMembers(userId: string): ReadonlySet<Member> | undefined {
    return this.#users.get(userId);
  }

  /** The members of a room, when it has any. */
  roomMembers(room: string): ReadonlySet<Member> | undefined {
    return this.#rooms.get(room);
  }

  userCount(userId: string): number {
    return this.#users.get(userId)?.size ?? 0;
  }

  /** Counts for status pages. */
  get userTotal(): number {
    return this.#users.size;
  }

  get roomTotal(): number {
    return this.#rooms.size;
  }

  /** Adds `member` to every map it belongs in. */
  add(member: Member): void {
    this.#byId.set(member.id, member);
    if (member.userId !== undefined) {
      let members = this.#users.get(member.userId);
      if (members === undefined) this.#users.set(member.userId, (members = new Set()));
      members.add(member);
    }
    member.registered = true;
    for (const room of member.roomNames) this.joined(member, room);
  }

  /** Takes `member` out of every map. Returns false when it was not registered. */
  remove(member: Member): boolean {
    if (!member.registered) return false;
    member.registered = false;
    if (this.#byId.get(member.id) === member) this.#byId.delete(member.id);
    if (member.userId !== undefined) {
      const members = this.#users.get(member.userId);
      members?.delete(member);
      if (members?.size === 0) this.#users.delete(member.userId);
    }
    for (const room of member.roomNames) this.left(member, room);
    return true;
  }

  joined(member: Member, room: string): void {
    let members = this.#rooms.get(room);
    if (members === undefined) this.#rooms.set(room, (members = new Set()));
    members.add(member);
  }

  left(member: Member, room: string): void {
    const members = this.#rooms.get(room);
    if (members === undefined) return;
    members.delete(member);
    if (members.size === 0) this.#rooms.delete(room);
  }
}

/** A read-only map over one of the registry's maps, its values seen through `view`. */
class MapView<K, V, W> implements ReadonlyMap<K, W> {
  readonly #map: Map<K, V>;
  readonly #view: (value: V) => W;

  constructor(map: Map<K, V>, view: (value: V) => W) {
    this.#map = map;
    this.#view = view;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): W | undefined {
    const value = this.#map.get(key);
    return value === undefined ? undefined : this.#view(value);
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  forEach(callback: (value: W, key: K, map: ReadonlyMap<K, W>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.#map) callback.call(thisArg, this.#view(value), key, this);
  }

  *entries(): MapIterator<[K, W]> {
    for (const [key, value] of this.#map) yield [key, this.#view(value)];
  }

  keys(): MapIterator<K> {
    return this.#map.keys();
  }

  *values(): MapIterator<W> {
    for (const value of this.#map.values()) yield this.#view(value);
  }

  [Symbol.iterator](): MapIterator<[K, W]> {
    return this.entries();
  }
}

/** A read-only set of clients over a set of members. */
class ClientSet implements ReadonlySet<Client> {
  readonly #members: ReadonlySet<Member>;

  constructor(members: ReadonlySet<Member>) {
    this.#members = members;
  }

  get size(): number {
    return this.#members.size;
  }

  has(client: Client): boolean {
    return this.#members.has(memberOf(client));
  }

  forEach(callback: (value: Client, key: Client, set: ReadonlySet<Client>) => void, thisArg?: unknown): void {
    for (const member of this.#members) callback.call(thisArg, member.client, member.client, this);
  }

  *values(): SetIterator<Client> {
    for (const member of this.#members) yield member.client;
  }

  keys(): SetIterator<Client> {
    return this.values();
  }

  *entries(): SetIterator<[Client, Client]> {
    for (const member of this.#members) yield [member.client, member.client];
  }

  [Symbol.iterator](): SetIterator<Client> {
    return this.values();
  }
}
