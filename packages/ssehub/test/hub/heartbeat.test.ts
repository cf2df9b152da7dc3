import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHub } from '../../src/index.js';
import { listen } from '../support/servers.js';
import { fromQuery, type RawStream, Scope, waitFor } from './helpers.js';

const scope = new Scope();
afterEach(async () => {
  vi.restoreAllMocks();
  await scope.dispose();
});

describe('heartbeat', () => {
  it('sends a `:` comment to an idle connection every interval', async () => {
    const { hub, url } = await scope.serve({ heartbeatMs: 100 });
    const headId = hub.stats().history.headId;
    const stream = scope.raw(`${url}/?id=idle`);
    await stream.connected();
    const started = Date.now();
    await stream.until(() => stream.heartbeats >= 3, 'three heartbeats', 3000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    const prefix = `retry: 2000\n\nid: ${headId}\nevent: connected\ndata: {"clientId":"idle","userId":null}\n\n`;
    expect(stream.text).toBe(prefix + ':\n\n'.repeat(stream.heartbeats));
  });

  it('is off with heartbeatMs 0', async () => {
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
    const hub = createHub({ heartbeatMs: 0 });
    expect(setIntervalSpy).not.toHaveBeenCalled();
    await hub.close();
  });

  it('uses one shared timer for every client: connecting 50 clients adds no interval', async () => {
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
    const clearIntervalSpy = vi.spyOn(globalThis, 'clearInterval');
    // (The dead-peer guard has a shared timer of its own, tested in deadPeer.test.ts.)
    const hub = createHub({ heartbeatMs: 100, deadPeerTimeoutMs: 0, authenticate: fromQuery });
    scope.defer(() => hub.close({ timeoutMs: 200 }));
    expect(setIntervalSpy).toHaveBeenCalledTimes(1);
    expect(setIntervalSpy.mock.calls[0]?.[1]).toBe(100);
    const timer = setIntervalSpy.mock.results[0]?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);

    const server = await listen(hub.handler());
    scope.defer(() => server.close());
    const streams: RawStream[] = [];
    for (let i = 0; i < 50; i++) streams.push(scope.raw(`${server.url}/?id=c${i}`));
    await waitFor(() => hub.connectionCount() === 50, '50 connections');
    for (const stream of streams) await stream.connected();
    expect(setIntervalSpy).toHaveBeenCalledTimes(1);

    // The one timer serves them all.
    for (const stream of streams) await stream.until(() => stream.heartbeats >= 1, 'a heartbeat', 3000);
    expect(setIntervalSpy).toHaveBeenCalledTimes(1);

    await hub.close();
    expect(clearIntervalSpy).toHaveBeenCalledWith(timer);
    for (const stream of streams) await stream.until(() => stream.ended, 'the end of the stream');
  });
});
