/**
 * What a process holds, for tests that prove nothing leaks: open descriptors, memory, libuv
 * handles and requests, listeners.
 * @module
 */

import type { EventEmitter } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The engine's garbage collector (no `--expose-gc` needed at start). */
export function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Open file descriptors of a process (`self` or a pid), from /proc. */
export function openFds(pid: number | 'self' = 'self'): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** A field of /proc/<pid>/status in KiB: `VmRSS` (resident now) or `VmHWM` (peak resident). */
export function statusKiB(pid: number | 'self', field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

/** `process.getActiveResourcesInfo()` counted by type (TCPSocketWrap, Timeout, …). */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** Listeners of each emitter, summed over every event name. */
export function listenerCount(...emitters: EventEmitter[]): number {
  let total = 0;
  for (const emitter of emitters) for (const name of emitter.eventNames()) total += emitter.listenerCount(name);
  return total;
}

/** Heap used after full collections (twice: finalizers free more on the second pass), in bytes. */
export async function settledHeap(gc: () => void): Promise<number> {
  for (let pass = 0; pass < 3; pass++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

export const MiB = 1024 * 1024;

/** Polls `predicate` every 20 ms until it holds, or throws after `timeoutMs` naming `what`. */
export async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
