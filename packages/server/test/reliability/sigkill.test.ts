/**
 * A hub process killed outright (SIGKILL: no shutdown, no `retry:`, no last chunk) while
 * subscribers are connected. They see their stream end at once; when a new process (in memory:
 * a new sequence) comes up on the same address, EventSource clients reconnect on their own with
 * their Last-Event-ID and are told, with `ssehub:reset` (reason `unknown-epoch`), that what they
 * missed cannot be replayed: never a silent gap.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { killAllClis, startCli } from '../support/cli.js';
import { publish, request } from '../support/http.js';
import { Subscriber } from '../support/sse.js';
import { epochOf, readSse, type StreamEnd } from '../support/sseReader.js';

const subscribers: Subscriber[] = [];
afterEach(() => {
  for (const subscriber of subscribers.splice(0)) subscriber.close();
  killAllClis();
});

describe('a hub process killed with SIGKILL', () => {
  it('ends every stream at once; on a new process a resume gets ssehub:reset (unknown-epoch), then live events', async () => {
    const first = await startCli({});
    for (let i = 0; i < 3; i++) {
      subscribers.push(await Subscriber.open(`${first.url}/events?user=u${i}&room=lobby`, { types: ['chat', 'ssehub:reset'] }));
    }
    // A raw reader too, to time the end of the stream without a client's reconnect logic.
    const raw = await readSse(first.url, '/events?room=lobby', () => {});

    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await publish(first.url, { event: 'chat', data: `before-${i}`, rooms: ['lobby'] })).json.id);
    await Promise.all(subscribers.map((subscriber) => subscriber.waitFor('chat', 5)));
    const lastId = ids.at(-1) as string;
    const errorsBefore = subscribers.map((subscriber) => subscriber.errors);

    const killedAt = Date.now();
    first.child.kill('SIGKILL');
    const end: StreamEnd = await raw.ended;
    const rawEndMs = end.at - killedAt;
    await Promise.all(
      subscribers.map((subscriber, i) => subscriber.until((s) => s.errors > (errorsBefore[i] as number), 5000, 'an error')),
    );
    const clientsNoticedMs = Date.now() - killedAt;
    expect((await first.exited).signal).toBe('SIGKILL');
    // Cut, not ended: no last chunk came.
    expect(end.how).toBe('error');

    // A new process on the same address: a new in-memory sequence, a new epoch.
    const second = await startCli({ PORT: String(first.port) });
    const restartedAt = Date.now();
    const head = (await request(second.url, '/status')).json.history.headId as string;
    expect(epochOf(head)).not.toBe(epochOf(lastId));
    // The EventSource clients come back by themselves (`retry: 2000`) with their Last-Event-ID.
    await Promise.all(subscribers.map((subscriber) => subscriber.waitFor('ssehub:reset', 1, 10_000)));
    const resumedMs = Date.now() - restartedAt;
    for (const subscriber of subscribers) {
      const reset = subscriber.of('ssehub:reset')[0];
      expect(JSON.parse(reset?.data ?? '{}')).toEqual({ reason: 'unknown-epoch', lastEventId: lastId, headId: head });
      // Its id moves the client to the new sequence.
      expect(reset?.lastEventId).toBe(head);
    }

    // After the reset, live events of the new process arrive, and nothing came between.
    const after = (await publish(second.url, { event: 'chat', data: 'after', rooms: ['lobby'] })).json.id as string;
    await Promise.all(subscribers.map((subscriber) => subscriber.waitFor('chat', 6)));
    for (const subscriber of subscribers) {
      const types = subscriber.events.map((event) => event.type);
      expect(types).toEqual(['connected', 'chat', 'chat', 'chat', 'chat', 'chat', 'connected', 'ssehub:reset', 'chat']);
      expect(subscriber.of('chat').at(-1)).toEqual({ type: 'chat', data: 'after', lastEventId: after });
    }

    // A client that resumes by hand (a Last-Event-ID header) is told the same, first thing after its greeting.
    const events: Array<{ event?: string; id?: string; data: string }> = [];
    const manual = await readSse(second.url, '/events?room=lobby', (event) => events.push(event), { 'last-event-id': lastId });
    const deadline = Date.now() + 5000;
    while (events.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    manual.destroy();
    expect(events.map((event) => event.event)).toEqual(['connected', 'ssehub:reset']);
    expect(JSON.parse(events[1]?.data ?? '{}')).toMatchObject({ reason: 'unknown-epoch', lastEventId: lastId });

    console.info(
      `[figures] sigkill ${JSON.stringify({ rawStreamEndMs: rawEndMs, eventSourceErrorWithinMs: clientsNoticedMs, resetWithinMsOfRestart: resumedMs })}`,
    );
    expect(rawEndMs).toBeLessThan(1000);
  }, 30_000);
});
