import type { Hub } from 'ssehub';
import { describe, expect, it, vi } from 'vitest';
import { largestRooms, type RoomSize } from '../src/largestRooms.js';
import { DASHBOARD_ROOM_LIMIT } from '../src/routes/dashboard.js';
import { STATUS_ROOM_LIMIT } from '../src/routes/status.js';

type Rooms = Map<string, { size: number }>;

/** What a hub's `rooms` looks like to `largestRooms`: names and member counts. */
const hubOf = (rooms: Rooms): Hub => ({ rooms }) as unknown as Hub;

/** The expected answer, by a full sort: largest first, ties by name (code unit order). */
function reference(rooms: Rooms, limit: number): RoomSize[] {
  const all = [...rooms].map(([name, members]) => ({ name, size: members.size }));
  all.sort((a, b) => b.size - a.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return all.slice(0, limit);
}

/** A small seeded generator (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` rooms with sizes drawn from 1..maxSize (so that many sizes tie) and names from an
 * alphabet where code unit order and locale order differ ("B" < "a" < "é").
 */
function randomRooms(count: number, seed: number, maxSize = 40): Rooms {
  const next = random(seed);
  const alphabet = ['a', 'b', 'B', 'z', 'Z', 'é', '1', '-', ':'];
  const rooms: Rooms = new Map();
  while (rooms.size < count) {
    let name = '';
    const length = 1 + Math.floor(next() * 6);
    for (let i = 0; i < length; i++) name += alphabet[Math.floor(next() * alphabet.length)];
    rooms.set(name, { size: 1 + Math.floor(next() * maxSize) });
  }
  return rooms;
}

describe('largestRooms', () => {
  it('matches a full sort on 5,000 rooms of random sizes, at every limit', () => {
    for (const seed of [1, 2, 3]) {
      const rooms = randomRooms(5000, seed);
      for (const limit of [0, 1, 2, 7, DASHBOARD_ROOM_LIMIT, STATUS_ROOM_LIMIT, 4999, 5000, 6000]) {
        expect(largestRooms(hubOf(rooms), limit), `seed ${seed}, limit ${limit}`).toEqual(reference(rooms, limit));
      }
    }
  });

  it('orders ties by name, largest first, and handles no rooms', () => {
    const rooms: Rooms = new Map([
      ['b', { size: 2 }],
      ['a', { size: 2 }],
      ['c', { size: 5 }],
      ['B', { size: 2 }],
      ['d', { size: 1 }],
    ]);
    expect(largestRooms(hubOf(rooms), 3)).toEqual([
      { name: 'c', size: 5 },
      { name: 'B', size: 2 },
      { name: 'a', size: 2 },
    ]);
    expect(largestRooms(hubOf(new Map()), STATUS_ROOM_LIMIT)).toEqual([]);
  });

  it('is right when rooms arrive already in order, or in reverse (a heap’s worst cases)', () => {
    const ascending: Rooms = new Map(Array.from({ length: 3000 }, (_, i) => [`r${String(i).padStart(4, '0')}`, { size: i }]));
    const descending: Rooms = new Map([...ascending].reverse());
    for (const rooms of [ascending, descending]) {
      expect(largestRooms(hubOf(rooms), DASHBOARD_ROOM_LIMIT)).toEqual(reference(rooms, DASHBOARD_ROOM_LIMIT));
    }
  });

  it('never sorts more rooms than it lists: a bounded selection, not a sort of every room', () => {
    const rooms = randomRooms(5000, 4);
    const sort = vi.spyOn(Array.prototype, 'sort');
    const toSorted = vi.spyOn(Array.prototype, 'toSorted');
    let sorted: number[];
    try {
      largestRooms(hubOf(rooms), DASHBOARD_ROOM_LIMIT);
      sorted = [...sort.mock.contexts, ...toSorted.mock.contexts].map((array) => (array as unknown[]).length);
    } finally {
      sort.mockRestore();
      toSorted.mockRestore();
    }
    expect(Math.max(0, ...sorted)).toBeLessThanOrEqual(DASHBOARD_ROOM_LIMIT);
  });
});
