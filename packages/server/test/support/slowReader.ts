import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SLOW_READER = fileURLToPath(new URL('../reliability/fixtures/slowReader.py', import.meta.url));

/** Whether python3 runs here (the slow readers need it to set SO_RCVBUF and read a byte at a time). */
export const pythonAvailable = ((): boolean => {
  try {
    execFileSync('python3', ['-c', 'import socket'], { stdio: 'ignore' });
    return true;
  } catch {
    // CI installs python3 (.ci/run): there nothing may skip.
    if (process.env.CI === 'true') throw new Error('python3 is missing: the slow-reader tests need it');
    console.warn('\n*** SKIPPED: the slow-reader cases need python3 (apt-get install python3); CI runs them. ***\n');
    return false;
  }
})();

/** A slow reader's process, and the local port of its connection. */
export interface SlowReader {
  readonly process: ChildProcess;
  readonly port: number;
}

/**
 * A subscriber of fixtures/slowReader.py in its own process: a 4 KiB receive buffer, then
 * `bytesPerSecond` read each second after the greeting (0: never). Resolves once it is greeted;
 * kill it when done (SIGKILL).
 */
export function slowReader(port: number, path: string, bytesPerSecond: number): Promise<SlowReader> {
  const child = spawn('python3', [SLOW_READER, '127.0.0.1', String(port), path, String(bytesPerSecond), '4096'], { stdio: 'pipe' });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const greeted = /greeted (\d+)/.exec(chunk.toString());
      if (greeted !== null) resolve({ process: child, port: Number(greeted[1]) });
    });
    child.on('exit', (code) => reject(new Error(`slowReader.py exited (${code}) before its greeting`)));
  });
}

/**
 * Bytes the kernel holds in the send queue of the loopback connection from `serverPort` to
 * `clientPort` (the `tx_queue` of /proc/net/tcp), or undefined when there is no such connection.
 */
export function kernelSendQueue(serverPort: number, clientPort: number): number | undefined {
  const hexPort = (port: number): string => port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const [, local, remote, , queues] = line.trim().split(/\s+/);
    if (local?.endsWith(`:${hexPort(serverPort)}`) && remote?.endsWith(`:${hexPort(clientPort)}`)) {
      return Number.parseInt(queues?.split(':')[0] ?? '', 16);
    }
  }
  return undefined;
}
