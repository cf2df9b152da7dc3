import type { Target } from '../backends/Backend.js';

/** What a matcher needs to know of a connection. */
export interface TargetMember {
  readonly id: string;
  readonly userId: string | undefined;
  /** The rooms the connection is in (not copied). */
  readonly roomNames: Iterable<string>;
  isIn(room: string): boolean;
}

// Up to this many names a list is searched as it is; past it, through a set built once.
const SET_FROM = 9;

type NameList = readonly string[] | ReadonlySet<string>;

function listOf(names: readonly string[] | undefined): NameList | undefined {
  if (names === undefined || names.length === 0) return undefined;
  return names.length >= SET_FROM ? new Set(names) : names;
}

function includes(list: NameList, name: string): boolean {
  return Array.isArray(list) ? list.includes(name) : (list as ReadonlySet<string>).has(name);
}

/**
 * Who a kept event is for, in a form that answers "is this connection one of them?" cheaply
 * however long the target lists are: a resume walks many kept events, and a publisher chooses
 * their lists.
 */
export class TargetMatcher {
  readonly #all: boolean;
  readonly #clients: NameList | undefined;
  readonly #users: NameList | undefined;
  readonly #rooms: NameList | undefined;

  constructor(target: Target) {
    this.#all = target.all === true;
    this.#clients = this.#all ? undefined : listOf(target.clients);
    this.#users = this.#all ? undefined : listOf(target.users);
    this.#rooms = this.#all ? undefined : listOf(target.rooms);
  }

  matches(member: TargetMember): boolean {
    if (this.#all) return true;
    if (this.#clients !== undefined && includes(this.#clients, member.id)) return true;
    if (this.#users !== undefined && member.userId !== undefined && includes(this.#users, member.userId)) return true;
    const rooms = this.#rooms;
    if (rooms === undefined) return false;
    if (Array.isArray(rooms)) {
      for (const room of rooms as readonly string[]) if (member.isIn(room)) return true;
      return false;
    }
    // A long list: look up the member's rooms in it, not the other way round.
    for (const room of member.roomNames) if ((rooms as ReadonlySet<string>).has(room)) return true;
    return false;
  }
}
