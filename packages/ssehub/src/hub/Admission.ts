import type { Registry } from './Registry.js';

/** The connection limits of a hub. */
export interface Limits {
  readonly maxClients: number;
  readonly maxClientsPerUser: number;
  readonly perUserLimit: 'refuse' | 'evict-oldest';
}

/** Why a connection does not fit. */
export type LimitRefusal = 'hub-full' | 'user-full';

/**
 * The connection limits, applied race-free: a connection that passes reserves its place at
 * once, and gives it back when it is registered or fails, so that a burst of connections still
 * in setup (an asynchronous `onConnect`) cannot pass a limit together.
 */
export class Admission {
  readonly #limits: Limits;
  readonly #registry: Registry;
  #pending = 0;
  readonly #pendingByUser = new Map<string, number>();

  constructor(limits: Limits, registry: Registry) {
    this.#limits = limits;
    this.#registry = registry;
  }

  /**
   * Reserves a place for a connection of `userId`, or says why there is none. With
   * `evict-oldest`, `evict` is asked to end the user's oldest connections to make room.
   */
  reserve(userId: string | undefined, evict: (userId: string, keep: number) => void): LimitRefusal | undefined {
    if (this.#registry.size + this.#pending >= this.#limits.maxClients) return 'hub-full';
    const userPending = userId === undefined ? 0 : (this.#pendingByUser.get(userId) ?? 0);
    if (userId !== undefined && this.#registry.userCount(userId) + userPending >= this.#limits.maxClientsPerUser) {
      if (this.#limits.perUserLimit !== 'evict-oldest') return 'user-full';
      evict(userId, this.#limits.maxClientsPerUser);
    }
    this.#pending++;
    if (userId !== undefined) this.#pendingByUser.set(userId, userPending + 1);
    return undefined;
  }

  /** Gives back the place `reserve` took. */
  release(userId: string | undefined): void {
    this.#pending--;
    if (userId === undefined) return;
    const left = (this.#pendingByUser.get(userId) ?? 1) - 1;
    if (left > 0) this.#pendingByUser.set(userId, left);
    else this.#pendingByUser.delete(userId);
  }

  /** Whether the hub applies `evict-oldest` (checked again at registration). */
  get evictsOldest(): boolean {
    return this.#limits.perUserLimit === 'evict-oldest';
  }

  get maxClientsPerUser(): number {
    return this.#limits.maxClientsPerUser;
  }
}
