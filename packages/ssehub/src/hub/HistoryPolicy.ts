import type { Target } from '../backends/Backend.js';
import type { SendOptions } from './Audience.js';

/** Which events are kept for resume: all, except those of ephemeral names or to ephemeral rooms, unless a send says otherwise. */
export class HistoryPolicy {
  readonly #events: ReadonlySet<string>;
  readonly #rooms: ReadonlySet<string>;

  constructor(ephemeralEvents: readonly string[] = [], ephemeralRooms: readonly string[] = []) {
    this.#events = new Set(ephemeralEvents);
    this.#rooms = new Set(ephemeralRooms);
  }

  keeps(event: string | undefined, target: Target, options: SendOptions | undefined): boolean {
    if (options?.history !== undefined) return options.history;
    if (event !== undefined && this.#events.has(event)) return false;
    if (target.rooms !== undefined && this.#rooms.size > 0) {
      for (const room of target.rooms) if (this.#rooms.has(room)) return false;
    }
    return true;
  }
}
