import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built command (`npm run build`; `npm test` builds first). */
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** How a command ended. */
export interface Exited {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** When the process was seen to exit (ms since the epoch). */
  readonly at: number;
}

/** The `ssehub` command running in a child process. */
export interface RunningCli {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  readonly port: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exited>;
  /** Log lines so far, parsed. */
  logs(): Array<Record<string, unknown>>;
}

const running = new Set<ChildProcess>();

/** Kills (SIGKILL) every command a test started and left running. */
export function killAllClis(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/**
 * Starts `node dist/cli.js` with only the given environment (plus PATH), and resolves once it
 * has logged its listening address (at `info`: a `LOG_LEVEL` above it never resolves).
 */
export function startCli(env: Record<string, string>): Promise<RunningCli> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI], {
      env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
      stdio: 'pipe',
    });
    running.add(child);
    let stdout = '';
    let stderr = '';
    let started = false;
    const exited = new Promise<Exited>((done) => {
      child.on('close', (code, signal) => {
        running.delete(child);
        done({ code, signal, stdout, stderr, at: Date.now() });
      });
    });
    const logs = (): Array<Record<string, unknown>> =>
      stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk;
      if (started || !stdout.includes('\n')) return;
      const listening = logs().find((line) => line.msg === 'ssehub listening');
      if (listening === undefined) return;
      started = true;
      const url = String(listening.url);
      resolve({ child, pid: child.pid as number, url, port: Number(new URL(url).port), exited, logs });
    });
    void exited.then((finished) => {
      if (!started) reject(new Error(`ssehub exited before listening: ${JSON.stringify(finished)}`));
    });
  });
}
