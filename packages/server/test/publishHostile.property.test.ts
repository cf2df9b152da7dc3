/**
 * Fuzzing of `POST /publish` with hostile JSON bodies, read back from `GET /events` as raw
 * bytes parsed by `eventsource-parser`. Event names, data (strings and JSON values), room,
 * user and client names are built from line breaks, U+2028/U+2029/U+0085, NUL, lone
 * surrogates, a BOM, field look-alikes, and lengths around the limits; subscribers join with
 * hostile user and room names of their own. It proves that, whatever the answer, each answer
 * is the one the API documents (202, or 400 with `invalid_event_name` / `invalid_body` /
 * `invalid_json`), and that a subscriber sees exactly the events answered 202 that target it,
 * with the ids those answers returned, in order, and nothing else.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_NAME_LENGTH } from '../src/auth.js';
import { MAX_EVENT_NAME_LENGTH } from '../src/routes/publish.js';
import {
  dataAsRead,
  forbiddenText,
  hostileJson,
  hostileText,
  type Parsed,
  singleLineText,
  WireSubscriber,
  wellFormed,
  wtf8,
} from './support/hostile.js';
import { type Answer, publish, request } from './support/http.js';
import { startServer, type TestServer } from './support/server.js';

const RUNS = 80;
const FEW_RUNS = 10;
const LONG_RUNS = 3;

const RESERVED = /^(connected|ssehub:.*)$/s;
const FIELDS = new Set(['event', 'data', 'rooms', 'users', 'clients', 'history']);

/** The length the body checks measure: code points (a lone surrogate counts one, as a pair does). */
const codePoints = (text: string): number => [...text].length;

/** `text` repeated to exactly `length` code points (never empty). */
const sized = (text: string, length: number): string => {
  const unit = text === '' ? 'x' : text;
  return [...unit.repeat(Math.ceil(length / codePoints(unit)))].slice(0, length).join('');
};

// ── What is sent ───────────────────────────────────────────────────────────────────────────

/** Who a per-run subscriber is: hostile names a query string can carry (well-formed, 1 to 256 long). */
interface Identity {
  user: string;
  rooms: string[];
}

const queryName = fc.oneof(
  { weight: 4, arbitrary: hostileText(12, 1).map(wellFormed) },
  { weight: 1, arbitrary: hostileText(8, 1).map((text) => wellFormed(sized(text, MAX_NAME_LENGTH))) },
);

const identity: fc.Arbitrary<Identity> = fc.record({ user: queryName, rooms: fc.array(queryName, { maxLength: 3 }) });

/** A name in a target: the subscriber's own (by index), or any other, valid or not. */
type NameDraft = { own: number } | { other: string };

const otherName = fc.oneof(
  { weight: 10, arbitrary: hostileText(10, 1) },
  { weight: 1, arbitrary: fc.constant('') },
  {
    weight: 1,
    arbitrary: fc
      .tuple(hostileText(6, 1), fc.constantFrom(MAX_NAME_LENGTH, MAX_NAME_LENGTH + 1, 5000))
      .map(([text, length]) => sized(text, length)),
  },
);

const nameDraft: fc.Arbitrary<NameDraft> = fc.oneof(
  fc.nat().map((own) => ({ own })),
  otherName.map((other) => ({ other })),
);
// An empty list is refused too ("leave the field out to target everyone"): seldom drawn.
const nameList = fc.oneof(
  { weight: 9, arbitrary: fc.array(nameDraft, { minLength: 1, maxLength: 3 }) },
  { weight: 1, arbitrary: fc.constant<NameDraft[]>([]) },
);
const names = fc.option(nameList, { nil: undefined, freq: 2 });

const eventName = fc.oneof(
  { weight: 8, arbitrary: singleLineText(16, 1) },
  { weight: 3, arbitrary: forbiddenText() },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constantFrom('connected', 'ssehub:reset', 'ssehub:evicted'),
      singleLineText(8).map((text) => `ssehub:${text}`),
    ),
  },
  { weight: 1, arbitrary: fc.constant('') },
  {
    weight: 1,
    arbitrary: fc
      .tuple(singleLineText(6, 1), fc.constantFrom(MAX_EVENT_NAME_LENGTH, MAX_EVENT_NAME_LENGTH + 1, 4000))
      .map(([text, length]) => sized(text, length)),
  },
  { weight: 3, arbitrary: fc.constant(undefined) },
);

const data = fc.oneof({ weight: 3, arbitrary: hostileText(40) }, { weight: 3, arbitrary: hostileJson() }, fc.constant(null));

interface ItemDraft {
  event: string | undefined;
  /** Absent data is refused: the field is required. */
  data: { value: unknown } | undefined;
  rooms: NameDraft[] | undefined;
  users: NameDraft[] | undefined;
  clients: NameDraft[] | undefined;
  /** A field the API does not know. */
  unknown: string | undefined;
}

const itemDraft: fc.Arbitrary<ItemDraft> = fc.record({
  event: eventName,
  data: fc.option(
    data.map((value) => ({ value })),
    { nil: undefined, freq: 20 },
  ),
  rooms: names,
  users: names,
  clients: names,
  unknown: fc.oneof(
    { weight: 19, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: hostileText(6, 1).filter((key) => !FIELDS.has(key)) },
  ),
});

/** One `POST /publish`: a single event, or a batch. */
const requestDraft = fc.oneof(
  { weight: 3, arbitrary: itemDraft.map((item) => ({ batch: false, items: [item] })) },
  { weight: 1, arbitrary: fc.array(itemDraft, { minLength: 1, maxLength: 3 }).map((items) => ({ batch: true, items })) },
);

type Item = Record<string, unknown> & { event?: string; data?: unknown; rooms?: string[]; users?: string[]; clients?: string[] };

/** The item a draft stands for, with the subscriber's own names filled in. */
function resolve(draft: ItemDraft, own: { rooms: string[]; users: string[]; clients: string[] }): Item {
  const list = (drafts: NameDraft[] | undefined, mine: string[]): string[] | undefined =>
    drafts?.map((name) => ('other' in name ? name.other : (mine[name.own % Math.max(1, mine.length)] ?? 'no such name')));
  const item: Item = {};
  if (draft.event !== undefined) item.event = draft.event;
  if (draft.data !== undefined) item.data = draft.data.value;
  const rooms = list(draft.rooms, own.rooms);
  const users = list(draft.users, own.users);
  const clients = list(draft.clients, own.clients);
  if (rooms !== undefined) item.rooms = rooms;
  if (users !== undefined) item.users = users;
  if (clients !== undefined) item.clients = clients;
  if (draft.unknown !== undefined) item[draft.unknown] = true;
  return item;
}

// ── What must come back ────────────────────────────────────────────────────────────────────

/** The answer the API documents for a body of these items: the first bad item decides. */
function verdict(items: readonly Item[]): { status: 202 } | { status: 400; code: 'invalid_event_name' | 'invalid_body' } {
  const badNames = (list: string[] | undefined): boolean =>
    list !== undefined && (list.length === 0 || list.some((name) => name === '' || codePoints(name) > MAX_NAME_LENGTH));
  for (const item of items) {
    const event = item.event;
    if (event !== undefined && (/[\r\n\0]/.test(event) || RESERVED.test(event))) return { status: 400, code: 'invalid_event_name' };
    if (!('data' in item)) return { status: 400, code: 'invalid_body' };
    if (event !== undefined && (event === '' || codePoints(event) > MAX_EVENT_NAME_LENGTH)) return { status: 400, code: 'invalid_body' };
    if (badNames(item.rooms) || badNames(item.users) || badNames(item.clients)) return { status: 400, code: 'invalid_body' };
    if (Object.keys(item).some((key) => !FIELDS.has(key))) return { status: 400, code: 'invalid_body' };
  }
  return { status: 202 };
}

/** Whether a connection with these names is a recipient of `item`. */
function reaches(item: Item, who: { user: string | undefined; rooms: readonly string[]; clientId: string }): boolean {
  if (item.rooms === undefined && item.users === undefined && item.clients === undefined) return true;
  return (
    (item.rooms?.some((room) => who.rooms.includes(room)) ?? false) ||
    (who.user !== undefined && (item.users?.includes(who.user) ?? false)) ||
    (item.clients?.includes(who.clientId) ?? false)
  );
}

/** The event a subscriber parses for an accepted item: the data as the server read it, strings as is, the rest as JSON. */
function parsedOf(item: Item, id: string): Parsed {
  const received: unknown = JSON.parse(JSON.stringify(item.data));
  return {
    id,
    event: item.event === undefined ? undefined : wellFormed(item.event),
    data: typeof received === 'string' ? dataAsRead(received) : JSON.stringify(received),
  };
}

function expectError(answer: Answer, code: string): void {
  expect({ status: answer.status, code: answer.json?.error?.code }).toEqual({ status: 400, code });
}

describe('POST /publish with hostile bodies', () => {
  let hub: TestServer;
  /** In no room, of no user: it must see exactly the broadcasts (and what names its client id). */
  let anonymous: WireSubscriber;
  let anonymousId: string;
  let epoch: string;
  let seq = 0;
  let fences = 0;

  beforeAll(async () => {
    hub = await startServer({ SSEHUB_HEARTBEAT_MS: '3600000' });
    anonymous = new WireSubscriber(`${hub.url}/events`);
    await anonymous.until((event) => event.event === 'connected', 'the connected event');
    const [connected] = anonymous.take();
    anonymousId = (JSON.parse(connected?.data ?? '{}') as { clientId: string }).clientId;
    expect(connected).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9]+-0$/),
      event: 'connected',
      data: JSON.stringify({ clientId: anonymousId, userId: null }),
    });
    epoch = (connected?.id ?? '').split('-')[0] as string;
  });

  afterAll(async () => {
    anonymous.close();
    await hub.close();
  });

  /**
   * Publishes a fence to everyone and returns, for each subscriber, the events it parsed up to
   * and including it. Its id must follow the last one the run expects.
   */
  async function fence(subscribers: readonly WireSubscriber[]): Promise<{ fence: Parsed; seen: Parsed[][] }> {
    const text = `fence ${++fences}`;
    const answer = await publish(hub.url, { event: 'fence', data: text });
    expect(answer.status).toBe(202);
    expect(answer.json.id).toBe(`${epoch}-${++seq}`);
    return { fence: { id: answer.json.id, event: 'fence', data: text }, seen: await readUpTo(subscribers, text) };
  }

  /**
   * Starts a run from a known state, whatever an earlier (failed) run left: a fence read to
   * the end by the anonymous subscriber, and the seq of the hub's head.
   */
  async function settle(): Promise<void> {
    const text = `fence ${++fences}`;
    const answer = await publish(hub.url, { event: 'fence', data: text });
    expect(answer.status).toBe(202);
    await readUpTo([anonymous], text);
    expect(hub.server.hub.stats().history.headId).toBe(answer.json.id);
    seq = Number((answer.json.id as string).split('-')[1]);
  }

  async function readUpTo(subscribers: readonly WireSubscriber[], text: string): Promise<Parsed[][]> {
    const seen: Parsed[][] = [];
    for (const subscriber of subscribers) {
      await subscriber.until((event) => event.event === 'fence' && event.data === text, text);
      seen.push(subscriber.take());
      expect(subscriber.errors).toEqual([]);
      expect(subscriber.comments).toEqual([]);
      // The retry hint of the connection, once: nothing published made another.
      expect(subscriber.retries).toEqual([2000]);
    }
    return seen;
  }

  it('delivers exactly the events answered 202, with their ids, in order, to exactly their targets', async () => {
    await fc.assert(
      fc.asyncProperty(identity, fc.array(requestDraft, { minLength: 1, maxLength: 4 }), async (who, drafts) => {
        await settle();
        const query = [`user=${encodeURIComponent(who.user)}`, ...who.rooms.map((room) => `room=${encodeURIComponent(room)}`)].join('&');
        const subscriber = new WireSubscriber(`${hub.url}/events?${query}`);
        try {
          await subscriber.until((event) => event.event === 'connected', 'the connected event');
          expect(subscriber.status).toBe(200);
          const [connected, ...more] = subscriber.take();
          expect(more).toEqual([]);
          const clientId = (JSON.parse(connected?.data ?? '{}') as { clientId: string }).clientId;
          // The hostile user name comes back exactly, as JSON; the id is the head.
          expect(connected).toEqual({ id: `${epoch}-${seq}`, event: 'connected', data: JSON.stringify({ clientId, userId: who.user }) });

          const own = { rooms: who.rooms, users: [who.user], clients: [clientId] };
          const wantSubscriber: Parsed[] = [];
          const wantAnonymous: Parsed[] = [];
          for (const draft of drafts) {
            const items = draft.items.map((item) => resolve(item, own));
            const answer = await publish(hub.url, draft.batch ? items : items[0]);
            const expected = verdict(items);
            if (expected.status === 400) {
              expectError(answer, expected.code);
              continue;
            }
            expect(answer.status).toBe(202);
            const ids: string[] = draft.batch ? answer.json.ids : [answer.json.id];
            // One seq per published event, none for a refused request.
            expect(ids).toEqual(items.map(() => `${epoch}-${++seq}`));
            items.forEach((item, i) => {
              const event = parsedOf(item, ids[i] as string);
              if (reaches(item, { user: who.user, rooms: who.rooms, clientId })) wantSubscriber.push(event);
              if (reaches(item, { user: undefined, rooms: [], clientId: anonymousId })) wantAnonymous.push(event);
            });
          }
          const { fence: last, seen } = await fence([subscriber, anonymous]);
          expect(seen).toEqual([
            [...wantSubscriber, last],
            [...wantAnonymous, last],
          ]);
        } finally {
          subscriber.close();
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses a body that is not UTF-8 (lone surrogates written raw) with invalid_json, and publishes nothing', async () => {
    const withSurrogate = fc
      .tuple(hostileText(12), fc.constantFrom('\uD800', '\uDBFF', '\uDC00', '\uDFFF'), hostileText(12))
      .map(([before, lone, after]) => before + lone + after)
      // Halves that meet may pair up: keep only texts with a surrogate truly alone.
      .filter((text) => wellFormed(text) !== text);
    await fc.assert(
      fc.asyncProperty(withSurrogate, fc.constantFrom('event', 'data', 'rooms'), async (text, field) => {
        await settle();
        // JSON text with the surrogates left unescaped: WTF-8 writes each as three bytes no UTF-8 decoder accepts.
        const raw = (value: string): string =>
          JSON.stringify(value).replace(/\\u(d[89a-f][0-9a-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
        const json = {
          event: `{"event":${raw(text)},"data":1}`,
          data: `{"event":"x","data":${raw(text)}}`,
          rooms: `{"data":1,"rooms":[${raw(text)}]}`,
        }[field];
        const body = wtf8(json);
        const answer = await request(hub.url, '/publish', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        expectError(answer, 'invalid_json');
        const { fence: last, seen } = await fence([anonymous]);
        expect(seen).toEqual([[last]]);
      }),
      { numRuns: FEW_RUNS },
    );
  });

  it('delivers hostile data of 64 KiB to 128 KiB intact, under an event name of the longest length', async () => {
    // The pattern and the size are drawn, the value built from them: a failure prints short.
    const pattern = hostileText(40, 8);
    const size = fc.integer({ min: 64 * 1024, max: 128 * 1024 });
    const namePattern = singleLineText(8, 1).filter((text) => !RESERVED.test(sized(text, MAX_EVENT_NAME_LENGTH)));
    await fc.assert(
      fc.asyncProperty(pattern, size, namePattern, async (unit, length, name) => {
        await settle();
        const text = sized(unit, length);
        const event = sized(name, MAX_EVENT_NAME_LENGTH);
        const answers = [await publish(hub.url, { event, data: text }), await publish(hub.url, { event, data: { text } })];
        expect(answers.map((answer) => answer.status)).toEqual([202, 202]);
        const ids = answers.map((answer) => answer.json.id as string);
        expect(ids).toEqual([`${epoch}-${++seq}`, `${epoch}-${++seq}`]);
        const { fence: last, seen } = await fence([anonymous]);
        const [got] = seen;
        expect(got?.length).toBe(3);
        expect(got?.[0]?.data === dataAsRead(text)).toBe(true);
        expect(got?.[1]?.data === JSON.stringify({ text })).toBe(true);
        expect(got?.map(({ id, event }) => ({ id, event }))).toEqual([
          { id: ids[0], event: wellFormed(event) },
          { id: ids[1], event: wellFormed(event) },
          { id: last.id, event: 'fence' },
        ]);
      }),
      { numRuns: LONG_RUNS },
    );
  });
});
