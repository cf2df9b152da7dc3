import type http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { completeOf, expectRecentDate, getHead, hubOf, RawSocket, Scope, sleep, sseServer, waitFor } from './helpers.js';

const scope = new Scope();
afterEach(() => scope.dispose());

const BODY_408 = '{"error":{"code":"request_timeout","message":"the request head took too long"}}';

/** Active timers of this process (the timer of a head being read is one). */
const timers = (): number => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;

describe('headersTimeoutMs', () => {
  it('answers a head not complete in time with an exact 408 and closes the connection', async () => {
    const hub = hubOf(scope);
    const { port, sockets } = await sseServer(scope, hub, { headersTimeoutMs: 200 });
    const raw = RawSocket.open(scope, port, { allowHalfOpen: true });
    await raw.connected;
    const started = Date.now();
    raw.write('GET /events HTTP/1.1\r\nHost: 127.');
    await raw.until(() => raw.ended, 'the server to end the connection', 2000);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1500);
    const { head, body } = completeOf(raw.received);
    expect(head.lines).toEqual([
      'HTTP/1.1 408 Request Timeout',
      'content-type: application/json; charset=utf-8',
      expect.stringMatching(/^date: /),
      `content-length: ${BODY_408.length}`,
      'connection: close',
    ]);
    expectRecentDate(head.headers.date?.[0]);
    expect(body).toBe(BODY_408);
    // Closed by the server, not by this side.
    await waitFor(() => sockets[0]?.destroyed === true, 'the server to close its socket');
    expect(raw.socket.writableEnded).toBe(false);
    expect(hub.counters).toMatchObject({ connections: 0, refused: 0 });
  });

  it('answers 408 to a connection that sends nothing', async () => {
    const { port } = await sseServer(scope, hubOf(scope), { headersTimeoutMs: 100 });
    const raw = RawSocket.open(scope, port);
    await raw.closedPromise();
    expect(completeOf(raw.received).body).toBe(BODY_408);
  });

  it('counts from the connection, not from the last byte: a head trickling in too slowly gets 408', async () => {
    const { port } = await sseServer(scope, hubOf(scope), { headersTimeoutMs: 150 });
    const raw = RawSocket.open(scope, port);
    await raw.connected;
    const head = getHead('/events');
    for (let at = 0; at < head.length && !raw.closed; at += 8) {
      raw.write(head.slice(at, at + 8));
      await sleep(40);
    }
    await raw.closedPromise();
    expect(raw.text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(raw.text.split('HTTP/1.1').length).toBe(2);
  });

  it('does not touch a stream whose head came in time', async () => {
    const hub = hubOf(scope);
    const { port } = await sseServer(scope, hub, { headersTimeoutMs: 100 });
    const raw = RawSocket.open(scope, port);
    raw.write(getHead('/events?id=in-time'));
    await raw.untilBody((text) => text.includes('event: connected'), 'the greeting');
    await sleep(250);
    const id = await hub.broadcast('chat', 'later');
    await raw.untilBody((text) => text.endsWith(`id: ${id}\nevent: chat\ndata: later\n\n`), 'the event');
    expect(raw.text).not.toContain('408');
    expect(raw.closed).toBe(false);
    expect(hub.connectionCount()).toBe(1);
  });

  it('does not touch a connection handed to the fallback in time', async () => {
    const { port } = await sseServer(scope, hubOf(scope), {
      headersTimeoutMs: 100,
      fallback: (_req: http.IncomingMessage, res: http.ServerResponse) => res.end('fallback'),
    });
    const raw = RawSocket.open(scope, port);
    raw.write('GET /other HTTP/1.1\r\nHost: x\r\n\r\n');
    await raw.until(() => raw.text.endsWith('\r\n\r\nfallback'), 'the fallback answer');
    const answered = raw.text;
    await sleep(250);
    expect(raw.text).toBe(answered);
    expect(raw.closed).toBe(false);
  });

  it('leaves no timer behind when a client leaves before its head is complete', async () => {
    const { port, sockets } = await sseServer(scope, hubOf(scope), { headersTimeoutMs: 10_000 });
    const before = timers();
    const raw = RawSocket.open(scope, port);
    raw.write('GET /eve');
    await waitFor(() => sockets.length === 1 && sockets[0]?.bytesRead === 8, 'the server to read the first bytes');
    expect(timers()).toBe(before + 1);
    raw.socket.destroy();
    await waitFor(() => sockets[0]?.destroyed === true, 'the server to see the client leave');
    await waitFor(() => timers() === before, 'the head timer to be cleared', 1000);
  });
});
