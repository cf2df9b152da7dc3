import type http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { getHead, hubOf, RawSocket, Scope, sleep, sseServer, waitFor } from './helpers.js';

const scope = new Scope();
afterEach(() => scope.dispose());

describe('SseServer close()', () => {
  it('closes connections still sending their head, keeps event streams until hub.close(), then calls back', async () => {
    const hub = hubOf(scope);
    const { server, port } = await sseServer(scope, hub);
    const stream = RawSocket.open(scope, port);
    stream.write(getHead('/events?id=s'));
    await stream.untilBody((text) => text.includes('event: connected'), 'the stream');
    const reading = RawSocket.open(scope, port);
    reading.write('GET /events HTTP/1.1\r\nHo');
    await sleep(20);

    let closed = false;
    server.close(() => {
      closed = true;
    });
    await reading.closedPromise();
    // Cut, not answered.
    expect(reading.received.byteLength).toBe(0);

    const id = await hub.broadcast('chat', 'still here');
    await stream.untilBody((text) => text.endsWith(`id: ${id}\nevent: chat\ndata: still here\n\n`), 'an event after close()');
    await sleep(20);
    expect(closed).toBe(false);
    await hub.close();
    await waitFor(() => closed, 'the close callback');
    expect(stream.body.complete).toBe(true);
  });

  it('closes an idle kept-alive fallback connection at once, and a busy one once its answer is out', async () => {
    const hub = hubOf(scope);
    const { server, port } = await sseServer(scope, hub, {
      fallback: (req: http.IncomingMessage, res: http.ServerResponse) => {
        const delay = req.url === '/slow' ? 80 : 0;
        setTimeout(() => res.end(`answer ${req.url}`), delay);
      },
    });
    const idle = RawSocket.open(scope, port);
    idle.write('GET /fast HTTP/1.1\r\nHost: x\r\n\r\n');
    await idle.until(() => idle.text.endsWith('answer /fast'), 'the first answer');
    const busy = RawSocket.open(scope, port);
    busy.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(20);

    let closed = false;
    server.close(() => {
      closed = true;
    });
    await idle.closedPromise();
    expect(busy.closed).toBe(false);
    await busy.closedPromise();
    expect(busy.text).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nanswer \/slow$/);
    await waitFor(() => closed, 'the close callback');
  });

  it('closeAllConnections() cuts reading and handed-over connections, busy or not, but no event stream', async () => {
    const hub = hubOf(scope);
    const { server, port } = await sseServer(scope, hub, {
      fallback: (_req: http.IncomingMessage, _res: http.ServerResponse) => {
        // Never answers.
      },
    });
    const stream = RawSocket.open(scope, port);
    stream.write(getHead('/events?id=s'));
    await stream.untilBody((text) => text.includes('event: connected'), 'the stream');
    const reading = RawSocket.open(scope, port);
    reading.write('GET /ev');
    const busy = RawSocket.open(scope, port);
    busy.write('GET /other HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(30);
    server.closeAllConnections();
    await reading.closedPromise();
    await busy.closedPromise();
    expect(busy.received.byteLength).toBe(0);
    await sleep(20);
    expect(stream.closed).toBe(false);
    expect(hub.connectionCount()).toBe(1);
  });
});
