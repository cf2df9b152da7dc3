/**
 * Hostile events through the hub to a real WHATWG client (the `eventsource` package), on
 * `hub.handler()` over node:http and on `createSseServer(hub)`. Every event the client
 * dispatches is recorded, whatever its type (not only the types listened for), so a forged
 * event of any type would show. It proves that the client sees exactly the published events
 * — type, data, lastEventId — in order, that refused event names leave no trace, and that the
 * client never errors (a reconnection would show as an error and a second `connected`).
 */
import { EventSource } from 'eventsource';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHub, type Hub, InvalidFieldError } from '../../src/index.js';
import { Scope, sseServer } from '../http/helpers.js';
import { fromQuery, waitFor } from '../hub/helpers.js';
import { dataAsRead, forbiddenField, hostileJson, hostileText, singleLineText, wellFormed } from '../support/hostile.js';
import { listen } from '../support/servers.js';

const RUNS = 20;

interface Dispatched {
  type: string;
  data: string;
  lastEventId: string;
}

/** An `EventSource` recording every message event it dispatches, of any type. */
class EveryEventClient {
  readonly source: EventSource;
  readonly events: Dispatched[] = [];
  errors = 0;
  seen = 0;

  constructor(url: string) {
    this.source = new EventSource(url);
    const dispatch = this.source.dispatchEvent.bind(this.source);
    this.source.dispatchEvent = (event: Event): boolean => {
      if (event.type === 'error') this.errors++;
      else if ('data' in event) {
        const message = event as MessageEvent;
        this.events.push({ type: message.type, data: message.data as string, lastEventId: message.lastEventId });
      }
      return dispatch(event);
    };
  }

  until(type: string, data: string): Promise<void> {
    return waitFor(
      () => this.events.slice(this.seen).some((event) => event.type === type && event.data === data),
      `a "${type}" event with data ${JSON.stringify(data)}; got ${JSON.stringify(this.events.slice(this.seen))}`,
    );
  }

  take(): Dispatched[] {
    const events = this.events.slice(this.seen);
    this.seen = this.events.length;
    return events;
  }
}

const hostileData = fc.oneof(hostileText(32), hostileJson(8));

describe('a real EventSource receiving hostile events through the hub', () => {
  const scope = new Scope();
  let hub: Hub;
  let clients: EveryEventClient[];
  let fences = 0;

  beforeAll(async () => {
    hub = createHub({ heartbeatMs: 0, authenticate: fromQuery<Record<string, unknown>> });
    scope.defer(() => hub.close({ timeoutMs: 500 }));
    const onHttp = await listen(hub.handler());
    scope.defer(() => onHttp.close());
    const onSocket = await sseServer(scope, hub);
    clients = [new EveryEventClient(`${onHttp.url}/events?id=node`), new EveryEventClient(`${onSocket.url}/events?id=socket`)];
    for (const client of clients) scope.defer(() => client.source.close());
    await Promise.all(
      clients.map((client, i) => client.until('connected', JSON.stringify({ clientId: ['node', 'socket'][i], userId: null }))),
    );
    for (const client of clients) expect(client.take()).toHaveLength(1);
  });

  afterAll(() => scope.dispose());

  /** Starts a run from a known state, whatever an earlier (failed) run left: a fence seen by both clients. */
  async function settle(): Promise<void> {
    const fence = String(++fences);
    await hub.broadcast('fence', fence);
    for (const client of clients) {
      await client.until('fence', fence);
      client.take();
    }
  }

  it('dispatches exactly the published events, with their type, data and lastEventId, and nothing else', async () => {
    const item = fc.record({ event: fc.oneof(singleLineText(12), forbiddenField(4)), data: hostileData });
    await fc.assert(
      fc.asyncProperty(fc.array(item, { minLength: 1, maxLength: 4 }), async (items) => {
        await settle();
        const want: Dispatched[] = [];
        for (const { event, data } of items) {
          const sending = hub.broadcast(event, data);
          if (/[\r\n\0]/.test(event)) {
            await expect(sending).rejects.toBeInstanceOf(InvalidFieldError);
            continue;
          }
          const id = await sending;
          want.push({
            type: event === '' ? 'message' : wellFormed(event),
            data: typeof data === 'string' ? dataAsRead(data) : JSON.stringify(data),
            lastEventId: id,
          });
        }
        const fence = String(++fences);
        want.push({ type: 'fence', data: fence, lastEventId: await hub.broadcast('fence', fence) });
        for (const client of clients) {
          await client.until('fence', fence);
          expect(client.take()).toEqual(want);
          expect(client.errors).toBe(0);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
