import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SLOW_READER = fileURLToPath(new URL('../reliability/fixtures/slowReader.py', import.meta.url));

/** Whether python3 runs here (the slow readers need it to set SO_RCVBUF and read a byte at a time). */
export const pythonAvailable = ((): boolean => {
  try {
    execFileSync('python3', ['-c', 'import socket'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * A subscriber of fixtures/slowReader.py in its own process: a 4 KiB receive buffer, then
 * `bytesPerSecond` read each second after the greeting (0: never). Resolves once it is greeted;
 * kill it when done (SIGKILL).
 */
export function slowReader(port: number, path: string, bytesPerSecond: number): Promise<ChildProcess> {
  const child = spawn('python3', [SLOW_READER, '127.0.0.1', String(port), path, String(bytesPerSecond), '4096'], { stdio: 'pipe' });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('greeted')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`slowReader.py exited (${code}) before its greeting`)));
  });
}
