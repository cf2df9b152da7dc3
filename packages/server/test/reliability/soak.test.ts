/**
 * Soak: a few hundred publishes a second through `POST /publish` while subscribers drop and
 * come back with Last-Event-ID at random, against a server in this process. Every subscriber's
 * ids must form exactly the sequence addressed to it (no loss, no duplicate, no reordering),
 * checked as the events come so that the check itself holds constant memory; and the heap after
 * GC, the resident memory and the descriptors at the end must be where they were after warm-up.
 *
 * Short by default (20 s); the long run:
 *   SSEHUB_SOAK_MS=600000 npx vitest run packages/server/test/reliability/soak.test.ts
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Publisher } from '../support/publisher.js';
import { exposeGc, MiB, openFds, settledHeap, statusKiB, waitUntil } from '../support/resources.js';
import { startServer, type TestServer } from '../support/server.js';
import { readSse, type SseReader, seqOf } from '../support/sseReader.js';

const DURATION_MS = Number(process.env.SSEHUB_SOAK_MS ?? 20_000);
const RATE_PER_S = 300;
const SEED = 0x50a1c;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Mulberry32: the same schedule of publishes and drops for the same seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a publish targets (none: everyone); kinds are numbered from 1 (0 marks a seq not answered yet). */
const KINDS: ReadonlyArray<{ rooms?: readonly string[]; users?: readonly string[] }> = [
  {},
  { rooms: ['r1'] },
  { rooms: ['r2'] },
  { rooms: ['r3'] },
  { users: ['u1'] },
  { users: ['u2'] },
  { users: ['u3'] },
  { rooms: ['r1'], users: ['u3'] },
];

interface Identity {
  readonly user: string;
  readonly rooms: readonly string[];
}

const IDENTITIES: readonly Identity[] = [
  { user: 'u1', rooms: ['r1'] },
  { user: 'u1', rooms: ['r2'] },
  { user: 'u2', rooms: ['r1', 'r3'] },
  { user: 'u3', rooms: [] },
  { user: 'u4', rooms: ['r2'] },
  { user: 'u2', rooms: [] },
  { user: 'u5', rooms: ['r1', 'r2', 'r3'] },
  { user: 'u6', rooms: [] },
  { user: 'u3', rooms: ['r3'] },
  { user: 'u7', rooms: ['r2', 'r3'] },
];

function addressed(kind: number, identity: Identity): boolean {
  const target = KINDS[kind - 1];
  if (target === undefined) return false;
  if (target.rooms === undefined && target.users === undefined) return true;
  if (target.users?.includes(identity.user) === true) return true;
  return identity.rooms.some((room) => target.rooms?.includes(room) === true);
}

/** seq → kind of every answered publish, and how far it is known without a hole. */
class Ledger {
  kinds = new Uint8Array(1 << 16);
  frontier = 0;

  record(seq: number, kind: number): void {
    while (seq >= this.kinds.length) {
      const grown = new Uint8Array(this.kinds.length * 2);
      grown.set(this.kinds);
      this.kinds = grown;
    }
    this.kinds[seq] = kind;
    while (this.kinds[this.frontier + 1] !== 0 && this.frontier + 1 < this.kinds.length) this.frontier++;
  }

  kindOf(seq: number): number {
    return this.kinds[seq] ?? 0;
  }
}

/** A subscriber that resumes with its Last-Event-ID after every drop, checked event by event. */
class ResumingSubscriber {
  readonly identity: Identity;
  readonly #hub: TestServer;
  readonly #random: () => number;
  #reader: SseReader | undefined;
  #stopped = false;
  #dropping = true;
  #dropTimer: NodeJS.Timeout | undefined;
  lastId: string | undefined;
  clientId: string | undefined;
  /** The newest seq checked; everything addressed up to it has arrived exactly once, in order. */
  verified = -1;
  /** Received and not checked yet (the publisher's answer may come after the event): [seq, kind]. */
  readonly pending: Array<[number, number]> = [];
  readonly faults: string[] = [];
  received = 0;
  connections = 0;
  resets = 0;

  constructor(hub: TestServer, identity: Identity, random: () => number) {
    this.#hub = hub;
    this.identity = identity;
    this.#random = random;
  }

  get #path(): string {
    const params = new URLSearchParams({ user: this.identity.user });
    for (const room of this.identity.rooms) params.append('room', room);
    return `/events?${params}`;
  }

  async connect(): Promise<void> {
    if (this.#stopped) return;
    this.connections++;
    let reader: SseReader;
    try {
      reader = await readSse(
        this.#hub.url,
        this.#path,
        (event) => this.#onEvent(event),
        this.lastId === undefined ? {} : { 'last-event-id': this.lastId },
      );
    } catch (error) {
      this.faults.push(`connect failed: ${(error as Error).message}`);
      setTimeout(() => void this.connect(), 50);
      return;
    }
    if (reader.status !== 200) this.faults.push(`status ${reader.status}`);
    this.#reader = reader;
    void reader.ended.then(() => {
      if (this.#reader !== reader) return;
      this.#reader = undefined;
      if (!this.#stopped) setTimeout(() => void this.connect(), Math.floor(this.#random() * 100));
    });
  }

  /** Drops the connection at a random moment from now: from this side, or from the server's. */
  scheduleDrop(): void {
    clearTimeout(this.#dropTimer);
    this.#dropTimer = setTimeout(
      () => {
        if (this.#stopped || !this.#dropping) return;
        if (this.#random() < 0.33 && this.clientId !== undefined && this.#hub.server.hub.getClient(this.clientId) !== undefined) {
          this.#hub.server.hub.disconnect(this.clientId);
        } else this.#reader?.destroy();
        this.scheduleDrop();
      },
      300 + Math.floor(this.#random() * 1200),
    );
  }

  #onEvent(event: { event?: string; id?: string; data: string }): void {
    if (event.event === 'connected') {
      this.clientId = (JSON.parse(event.data) as { clientId: string }).clientId;
      // Only a new connection's greeting has an id (the head): where this subscriber's sequence starts.
      if (event.id !== undefined) {
        if (this.lastId !== undefined) this.faults.push('a resume was greeted as a new connection');
        this.lastId = event.id;
        this.verified = seqOf(event.id);
      }
      return;
    }
    if (event.event === 'ssehub:reset') {
      this.resets++;
      this.faults.push(`reset: ${event.data}`);
      return;
    }
    if (event.id === undefined) return;
    this.lastId = event.id;
    this.received++;
    this.pending.push([seqOf(event.id), Number(event.data.slice(1, event.data.indexOf('-')))]);
  }

  /** Checks what has arrived against the ledger, as far as the ledger is known. */
  check(ledger: Ledger): void {
    while (this.pending.length > 0 && (this.pending[0] as [number, number])[0] <= ledger.frontier) {
      const [seq, kindInData] = this.pending.shift() as [number, number];
      if (seq <= this.verified) {
        this.fault(`seq ${seq} after ${this.verified}: a duplicate or out of order`);
        continue;
      }
      for (let missed = this.verified + 1; missed < seq; missed++) {
        if (addressed(ledger.kindOf(missed), this.identity)) this.fault(`seq ${missed} missed (got ${seq} after ${this.verified})`);
      }
      const kind = ledger.kindOf(seq);
      if (!addressed(kind, this.identity)) this.fault(`seq ${seq} (kind ${kind}) is not addressed to it`);
      if (kind !== kindInData) this.fault(`seq ${seq}: data of kind ${kindInData}, published as kind ${kind}`);
      this.verified = seq;
    }
  }

  fault(text: string): void {
    if (this.faults.length < 10) this.faults.push(text);
    else this.faults[9] = `… and more (last: ${text})`;
  }

  /** No more drops; a connection that ends still comes back. */
  stopDropping(): void {
    this.#dropping = false;
    clearTimeout(this.#dropTimer);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#dropTimer);
    this.#reader?.destroy();
  }
}

describe(`soak: ${RATE_PER_S} publishes/s with subscribers dropping and resuming, for ${DURATION_MS / 1000} s`, () => {
  it(
    'every subscriber gets exactly its addressed sequence; memory and descriptors stay flat',
    async () => {
      const gc = exposeGc();
      const random = prng(SEED);
      // History covers a couple of seconds of absence many times over, and fills during warm-up.
      const hub = await startServer({ SSEHUB_HISTORY_SIZE: '1500' });
      cleanups.push(() => hub.close());
      const ledger = new Ledger();
      // Descriptors with the server alone: where they must return once everyone has left.
      const fdsAtStart = openFds();
      const subscribers = IDENTITIES.map((identity) => new ResumingSubscriber(hub, identity, random));
      cleanups.push(() => {
        for (const subscriber of subscribers) subscriber.stop();
      });
      await Promise.all(subscribers.map((subscriber) => subscriber.connect()));
      await waitUntil(() => subscribers.every((subscriber) => subscriber.verified >= 0), 'every greeting');
      for (const subscriber of subscribers) subscriber.scheduleDrop();

      const publisher = new Publisher(hub.url, 8);
      cleanups.push(() => publisher.close());
      let published = 0;
      let inFlight = 0;
      const publishFaults: string[] = [];
      const publishOne = (kind: number): Promise<void> => {
        inFlight++;
        const n = published++;
        return publisher.publish({ event: 'tick', data: `k${kind}-${n}`, ...KINDS[kind - 1] }).then(
          (answer) => {
            inFlight--;
            if (answer.status === 202) ledger.record(seqOf(answer.json.id), kind);
            else if (publishFaults.length < 5) publishFaults.push(`${answer.status} ${JSON.stringify(answer.json)}`);
          },
          (error: Error) => {
            inFlight--;
            if (publishFaults.length < 5) publishFaults.push(error.message);
          },
        );
      };

      const warmUpMs = Math.max(5000, DURATION_MS / 4);
      let warm: { heap: number; rssKiB: number } | undefined;
      const started = Date.now();
      while (Date.now() - started < DURATION_MS) {
        const due = Math.floor(((Date.now() - started) * RATE_PER_S) / 1000);
        // At most a second's worth waiting for answers: a stalled server shows as a shortfall, not a pile-up here.
        while (published < due && inFlight < RATE_PER_S) void publishOne(1 + Math.floor(random() * KINDS.length));
        for (const subscriber of subscribers) subscriber.check(ledger);
        if (warm === undefined && Date.now() - started >= warmUpMs) {
          warm = { heap: await settledHeap(gc), rssKiB: statusKiB('self', 'VmRSS') };
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // No more drops: every subscriber is (or comes back) connected and gets a last event, to everyone.
      for (const subscriber of subscribers) subscriber.stopDropping();
      await waitUntil(() => inFlight === 0, 'every publish to be answered');
      await publishOne(1);
      const endSeq = ledger.frontier;
      await waitUntil(
        () => {
          for (const subscriber of subscribers) subscriber.check(ledger);
          return subscribers.every((subscriber) => subscriber.verified >= endSeq && subscriber.pending.length === 0);
        },
        'every subscriber to reach the last event',
        10_000,
      );
      const end = { heap: await settledHeap(gc), rssKiB: statusKiB('self', 'VmRSS') };
      if (warm === undefined) throw new Error('the run ended before warm-up');
      for (const subscriber of subscribers) subscriber.stop();
      publisher.close();
      await waitUntil(() => hub.server.hub.connectionCount() === 0, 'every subscriber to leave');
      const fdsAtEnd = await new Promise<number>((resolve) => {
        const deadline = Date.now() + 5000;
        const poll = (): void => {
          const fds = openFds();
          if (fds <= fdsAtStart || Date.now() > deadline) resolve(fds);
          else setTimeout(poll, 20);
        };
        poll();
      });

      const faults = subscribers.flatMap((subscriber, i) => subscriber.faults.map((fault) => `#${i}: ${fault}`));
      const stats = hub.server.hub.stats();
      const reconnects = subscribers.reduce((sum, subscriber) => sum + subscriber.connections - 1, 0);
      const received = subscribers.reduce((sum, subscriber) => sum + subscriber.received, 0);
      console.info(
        `[figures] soak ${JSON.stringify({
          durationMs: DURATION_MS,
          published,
          delivered: received,
          reconnects,
          replays: stats.counters.replays,
          resets: stats.counters.resets,
          lost: faults.filter((fault) => fault.includes('missed')).length,
          faults: faults.length,
          heapWarmMiB: +(warm.heap / MiB).toFixed(2),
          heapEndMiB: +(end.heap / MiB).toFixed(2),
          rssWarmMiB: +(warm.rssKiB / 1024).toFixed(1),
          rssEndMiB: +(end.rssKiB / 1024).toFixed(1),
          fdsBefore: fdsAtStart,
          fdsAfter: fdsAtEnd,
        })}`,
      );

      expect(publishFaults).toEqual([]);
      expect(faults).toEqual([]);
      // The server kept up with the rate (within a fifth, for a machine busy with other work).
      expect(published).toBeGreaterThanOrEqual(0.8 * ((RATE_PER_S * DURATION_MS) / 1000));
      expect(reconnects).toBeGreaterThanOrEqual(DURATION_MS / 1000);
      expect(stats.counters.resets).toBe(0);
      expect(stats.counters.replays).toBeGreaterThan(0);
      expect(end.heap - warm.heap).toBeLessThan(8 * MiB);
      expect((end.rssKiB - warm.rssKiB) / 1024).toBeLessThan(48);
      expect(fdsAtEnd).toBeLessThanOrEqual(fdsAtStart);
    },
    DURATION_MS + 25_000,
  );
});
