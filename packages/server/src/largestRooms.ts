/**
 * The largest rooms of a hub, as `/status` and the dashboard list them. Both ask often (every
 * request, every second) and a hub may hold many rooms, so this is a bounded selection, a
 * binary heap of at most `limit` rooms (O(R log limit)), and never a sort of every room.
 * @module
 */

import type { Hub } from 'ssehub';

/** A room and its member count. */
export interface RoomSize {
  readonly name: string;
  readonly size: number;
}

/** Whether a room of `size` members named `name` is listed before `other`: larger first, then by name. */
function outranks(size: number, name: string, other: RoomSize): boolean {
  return size !== other.size ? size > other.size : name < other.name;
}

// The heap keeps the room that ranks last at its root: the one a better room replaces.
// Every parent ranks after its children.

function siftUp(heap: RoomSize[], index: number): void {
  const room = heap[index] as RoomSize;
  while (index > 0) {
    const parentIndex = (index - 1) >> 1;
    const parent = heap[parentIndex] as RoomSize;
    if (!outranks(parent.size, parent.name, room)) break;
    heap[index] = parent;
    index = parentIndex;
  }
  heap[index] = room;
}

function siftDown(heap: RoomSize[], index: number): void {
  const room = heap[index] as RoomSize;
  const length = heap.length;
  for (;;) {
    let child = 2 * index + 1;
    if (child >= length) break;
    const right = child + 1;
    // The child that ranks last goes up.
    if (right < length) {
      const left = heap[child] as RoomSize;
      if (outranks(left.size, left.name, heap[right] as RoomSize)) child = right;
    }
    const candidate = heap[child] as RoomSize;
    if (!outranks(room.size, room.name, candidate)) break;
    heap[index] = candidate;
    index = child;
  }
  heap[index] = room;
}

/** The `limit` largest rooms, largest first, ties by name: the ones worth looking at. */
export function largestRooms(hub: Pick<Hub, 'rooms'>, limit: number): RoomSize[] {
  if (limit <= 0) return [];
  const heap: RoomSize[] = [];
  for (const [name, members] of hub.rooms) {
    const size = members.size;
    if (heap.length < limit) {
      heap.push({ name, size });
      siftUp(heap, heap.length - 1);
    } else if (outranks(size, name, heap[0] as RoomSize)) {
      heap[0] = { name, size };
      siftDown(heap, 0);
    }
  }
  // Names are unique, so no two rooms rank the same.
  return heap.sort((a, b) => (outranks(a.size, a.name, b) ? -1 : 1));
}
