/**
 * A subscriber that vanishes without a FIN (its network gone: no packet in or out) is found
 * and unregistered within a bounded time, `deadPeerTimeoutMs` plus the second it takes to arm
 * its socket: while heartbeats are in flight (TCP_USER_TIMEOUT, through the optional
 * `net-keepalive`) and while the connection is idle (TCP keep-alive). The peer is a real
 * process in its own network namespace whose link is taken down.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHub, createSseServer, type Hub } from '../../src/index.js';
import { DeadPeerGuard } from '../../src/stream/DeadPeerGuard.js';
import { IsolatedPeer, skipNetns } from '../support/netns.js';
import { waitFor } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const TIMEOUT_MS = 3000;

/** A subscriber in the namespace: opens `GET /events` and reads forever. */
function subscribe(peer: IsolatedPeer, port: number): void {
  peer.node(`
    const socket = require('net').connect(${port}, '${peer.hostAddress}');
    socket.on('connect', () => socket.write('GET /events HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'));
    socket.on('data', () => {});
    socket.on('error', () => {});
    setInterval(() => {}, 1e6);
  `);
}

async function dropsVanishedPeer(hub: Hub, listen: (host: string) => Promise<number>): Promise<number> {
  const peer = new IsolatedPeer();
  cleanups.push(() => peer.dispose());
  const port = await listen(peer.hostAddress);
  subscribe(peer, port);
  await waitFor(() => hub.clients.size === 1, 'the subscriber to connect');
  // Armed within a second; past that the peer vanishes.
  await new Promise((resolve) => setTimeout(resolve, 1200));
  peer.vanish();
  const vanishedAt = Date.now();
  await waitFor(() => hub.clients.size === 0, 'the vanished subscriber to be dropped', TIMEOUT_MS + 6000);
  return Date.now() - vanishedAt;
}

describe.skipIf(skipNetns)('a peer that vanishes without a FIN', () => {
  it('can have TCP_USER_TIMEOUT set here (net-keepalive loads)', async () => {
    expect(await DeadPeerGuard.available()).toBe(true);
  });

  it('is dropped within deadPeerTimeoutMs while heartbeats are in flight (node:http)', async () => {
    const hub = createHub({ heartbeatMs: 300, deadPeerTimeoutMs: TIMEOUT_MS });
    cleanups.push(() => hub.close({ timeoutMs: 100 }));
    const elapsed = await dropsVanishedPeer(hub, async (host) => {
      const server = http.createServer(hub.handler());
      server.listen(0, host);
      await once(server, 'listening');
      cleanups.push(() => {
        server.closeAllConnections();
        server.close();
      });
      return (server.address() as AddressInfo).port;
    });
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 1000);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 3000);
  });

  it('is dropped within deadPeerTimeoutMs when the connection is idle (createSseServer, no heartbeat)', async () => {
    const hub = createHub({ heartbeatMs: 0, deadPeerTimeoutMs: TIMEOUT_MS });
    cleanups.push(() => hub.close({ timeoutMs: 100 }));
    const elapsed = await dropsVanishedPeer(hub, async (host) => {
      const server = createSseServer(hub);
      server.listen(0, host);
      await once(server, 'listening');
      cleanups.push(() => {
        server.closeAllConnections();
        server.close();
      });
      return (server.address() as AddressInfo).port;
    });
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 3000);
  });
});
