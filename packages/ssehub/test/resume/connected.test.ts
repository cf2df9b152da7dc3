import type { EventSourceInit } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import type { Target } from '../../src/backends/Backend.js';
import { RawStream } from '../hub/helpers.js';
import { fence, Harness, type Identity, received, resets, until } from './harness.js';

let harness: Harness | undefined;
const raws: RawStream[] = [];
afterEach(async () => {
  for (const raw of raws.splice(0)) raw.destroy();
  await harness?.dispose();
  harness = undefined;
});

/**
 * An `eventsource` init that records the Last-Event-ID header of every request the client
 * makes (null when it sends none), and can hold requests (the client's reconnects) until
 * released.
 */
function tracked() {
  const requests: Array<string | null> = [];
  let gate: Promise<void> | undefined;
  let open = (): void => {};
  const init: EventSourceInit = {
    fetch: async (url, options) => {
      requests.push(options.headers['Last-Event-ID'] ?? null);
      if (gate !== undefined) await gate;
      return fetch(url, options);
    },
  };
  return {
    init,
    requests,
    /** Requests from now on wait for `release()`. */
    hold(): void {
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    release(): void {
      gate = undefined;
      open();
    },
  };
}

describe('the connected event and resume', () => {
  it.each(['close', 'destroy'] as const)(
    'a fresh client dropped right after `connected` resumes from the head: exactly what it missed, in order, once (%s)',
    async (how) => {
      const h = (harness = await Harness.start({ retryMs: 50 }));
      const identity: Identity = { tag: 'a', user: 'u1', rooms: ['r1'] };
      // Published before the client exists: never for it, on neither connection.
      h.publish({ all: true }, 'before-0');
      h.publish({ users: ['u1'] }, 'before-1');
      await h.settled();
      const headId = h.hub.stats().history.headId;
      expect(headId).toBe(h.ledger[1]?.id);

      const tracker = tracked();
      const client = h.connect(identity, { init: tracker.init });
      await client.waitFor('connected');
      // Nothing but `connected` has reached it, and that carries the head id.
      expect(client.events.map((event) => [event.type, event.lastEventId])).toEqual([['connected', headId]]);

      // The server drops it; its reconnect is held until the events it misses are published.
      tracker.hold();
      expect(h.drop('a', how)).toBe(true);
      await until(() => h.hub.clients.size === 0, 'the dropped client to be gone');
      await until(() => tracker.requests.length === 2, 'the reconnect attempt');
      expect(client.events.map((event) => event.type)).toEqual(['connected']);

      const mix: Target[] = [
        { all: true },
        { rooms: ['r1'] },
        { users: ['u2'] },
        { users: ['u1'] },
        { rooms: ['r2'] },
        { rooms: ['r1'], users: ['u1'] }, // matches twice, must arrive once
      ];
      const missedFrom = h.ledger.length;
      for (let i = 0; i < 24; i++) h.publish(mix[i % mix.length] as Target, `missed-${i}`);
      await h.settled();
      const missed = h.expectedFor(identity, missedFrom);
      expect(missed).toHaveLength(16); // all, r1, u1, r1+u1 of 24 in a cycle of 6
      expect(h.hub.connectionCount()).toBe(0);

      tracker.release();
      await client.waitFor('connected', 2);
      await client.waitFor('message', missed.length);
      // A fence sent after the replay: any duplicate or stray event would arrive before it.
      await fence(h, client, 'u1');

      // Without the id on its first `connected`, the reconnect would carry no Last-Event-ID.
      expect(tracker.requests).toEqual([null, headId]);
      expect(received(client)).toEqual(missed);
      expect(resets(client)).toEqual([]);
      // The second connection resumed, so its `connected` has no id (eventsource reports '').
      expect(client.of('connected').map((event) => event.lastEventId)).toEqual([headId, '']);
      expect(h.hub.counters).toMatchObject({ replays: 1, replayedEvents: missed.length, resets: 0 });
    },
  );

  it("a resuming client's connected event has no id: the client stays where it resumed from", async () => {
    const h = (harness = await Harness.start({ retryMs: 50 }));
    const identity: Identity = { tag: 'a', user: 'u1' };
    const headAtConnect = h.hub.stats().history.headId;
    const tracker = tracked();
    const client = h.connect(identity, { init: tracker.init });
    await client.waitFor('connected');
    const mine = h.publish({ users: ['u1'] }, 'mine');
    h.publish({ users: ['u2'] }, 'not-mine-0');
    h.publish({ users: ['u2'] }, 'not-mine-1');
    await h.settled();
    await client.waitFor('message');
    // The head has moved past the client's last event id, with nothing for it in between.
    const headId = h.hub.stats().history.headId;
    expect(headId).toBe(h.ledger[2]?.id);
    expect(headId).not.toBe(mine.id);

    // The exact bytes, resuming by query: no `id:` line on `connected`, and nothing to replay.
    const raw = new RawStream(h.url({ tag: 'raw', user: 'u1' }, { lastEventId: mine.id }));
    raws.push(raw);
    const { clientId } = await raw.connected();
    expect(raw.text).toBe(`retry: 50\n\nevent: connected\ndata: {"clientId":"${clientId}","userId":"u1"}\n\n`);

    // The eventsource client, dropped, resumes from `mine` by header.
    expect(h.drop('a', 'destroy')).toBe(true);
    await client.waitFor('connected', 2);
    expect(tracker.requests).toEqual([null, mine.id]);
    // eventsource 4 gives each MessageEvent the event's own id, or '' when it has none
    // (`lastEventId: event.id || ""`), rather than the spec's carried-over last event ID.
    // Its internal last event ID, the one it sends on reconnect, is left untouched.
    expect(client.events.map((event) => [event.type, event.lastEventId])).toEqual([
      ['connected', headAtConnect],
      ['message', mine.id],
      ['connected', ''],
    ]);

    // That internal id shows in the next reconnect: still `mine`, not the head. Had the
    // resumed connection's `connected` carried the head id, this would be the head.
    expect(h.drop('a', 'destroy')).toBe(true);
    await client.waitFor('connected', 3);
    expect(tracker.requests).toEqual([null, mine.id, mine.id]);
    expect(client.of('connected').map((event) => event.lastEventId)).toEqual([headAtConnect, '', '']);
    expect(received(client)).toEqual([`${mine.id}|mine`]);
    expect(resets(client)).toEqual([]);
    // The raw stream and the two reconnects resumed, with nothing to replay.
    expect(h.hub.counters).toMatchObject({ replays: 3, replayedEvents: 0, resets: 0 });
  });
});
