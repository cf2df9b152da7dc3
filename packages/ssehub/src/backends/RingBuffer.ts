/**
 * A first-in first-out queue in a circular array: push at the back, shift at the front, both
 * O(1), and a slot is cleared the moment its item leaves, so nothing evicted stays reachable.
 */
export class RingBuffer<T> {
  #items: (T | undefined)[] = new Array(16);
  #start = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** The item `index` places from the front (0 is the oldest). */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.#size) return undefined;
    return this.#items[(this.#start + index) & (this.#items.length - 1)];
  }

  push(item: T): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#items[(this.#start + this.#size) & (this.#items.length - 1)] = item;
    this.#size++;
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#start];
    this.#items[this.#start] = undefined;
    this.#start = (this.#start + 1) & (this.#items.length - 1);
    this.#size--;
    return item;
  }

  clear(): void {
    this.#items = new Array(16);
    this.#start = 0;
    this.#size = 0;
  }

  // Capacities stay powers of two, so that an index wraps with a mask.
  #grow(): void {
    const items: (T | undefined)[] = new Array(this.#items.length * 2);
    for (let i = 0; i < this.#size; i++) items[i] = this.#items[(this.#start + i) & (this.#items.length - 1)];
    this.#items = items;
    this.#start = 0;
  }
}
