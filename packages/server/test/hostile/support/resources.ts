/**
 * What an attack could leave behind in the process: file descriptors, libuv handles (sockets,
 * timers) and connections the server still counts. Read before an attack as a baseline, and
 * waited for afterwards: everything must come back within a bound.
 */
import { readdirSync } from 'node:fs';
import { expect } from 'vitest';
import { request } from '../../support/http.js';
import { sleep } from './rawConnection.js';
import type { HostileTarget } from './target.js';

export interface ResourceSnapshot {
  /** Open file descriptors of this process (/proc/self/fd). */
  readonly fds: number;
  /** TCP sockets libuv holds open (`process.getActiveResourcesInfo()`). */
  readonly sockets: number;
  /** Every active resource libuv reports: sockets, servers, timers… */
  readonly handles: number;
}

export function resources(): ResourceSnapshot {
  const active = process.getActiveResourcesInfo();
  return {
    fds: readdirSync('/proc/self/fd').length,
    sockets: active.filter((resource) => resource === 'TCPSocketWrap').length,
    handles: active.length,
  };
}

/** Polls `check` every 20 ms until it holds; fails after `timeoutMs`, with `describe()` in the message. */
export async function eventually(check: () => boolean | Promise<boolean>, describe: () => string, timeoutMs = 5000): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${describe()}`);
    await sleep(20);
  }
  return Date.now() - started;
}

/** The number of streams `/status` reports (with the publishing credential in production). */
export async function statusClients(target: HostileTarget): Promise<number> {
  const answer = await request(target.url, '/status', { headers: { ...target.publishHeaders } });
  expect(answer.status).toBe(200);
  return answer.json.clients as number;
}

/** Slack allowed over the baseline: the probe's or a status request's socket still closing. */
export const RESOURCE_SLACK = { fds: 4, sockets: 2, handles: 6 } as const;

/**
 * Waits until the server holds no connection but the `keep` it had before the attack (the
 * witness's stream), the hub no stream but those (the dashboard none), `/status` says so, and the process's file
 * descriptors and handles are back within {@link RESOURCE_SLACK} of `baseline`. Resolves with
 * how long it took, in ms.
 */
export async function expectBackToBaseline(
  target: HostileTarget,
  baseline: ResourceSnapshot,
  keep: { connections: number; streams: number },
  timeoutMs = 5000,
): Promise<number> {
  const started = Date.now();
  await eventually(
    () =>
      target.server.hub.clients.size === keep.streams &&
      target.server.hub.connectionCount() === keep.streams &&
      target.server.dashboard.hub.clients.size === 0,
    () =>
      `streams: ${target.server.hub.clients.size} (connectionCount ${target.server.hub.connectionCount()}), expected ${keep.streams}; ` +
      `dashboard: ${target.server.dashboard.hub.clients.size}`,
    timeoutMs,
  );
  let connections = -1;
  await eventually(
    async () => (connections = await target.openConnections()) === keep.connections,
    () => `connections: ${connections}, expected ${keep.connections}`,
    timeoutMs,
  );
  expect(await statusClients(target)).toBe(keep.streams);
  let now = resources();
  await eventually(
    () => {
      now = resources();
      return (
        now.fds <= baseline.fds + RESOURCE_SLACK.fds &&
        now.sockets <= baseline.sockets + RESOURCE_SLACK.sockets &&
        now.handles <= baseline.handles + RESOURCE_SLACK.handles
      );
    },
    () => `resources ${JSON.stringify(now)}, baseline ${JSON.stringify(baseline)}`,
    timeoutMs,
  );
  return Date.now() - started;
}
