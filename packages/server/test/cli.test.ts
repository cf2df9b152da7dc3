import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SETTINGS } from '../src/config.js';
import { openStream, publish, request } from './support/http.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcess>();

/** Runs the built command with only the given environment (plus PATH), to the end. */
function run(args: string[], env: Record<string, string> = {}, timeoutMs = 10_000): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'pipe' });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    const timer = setTimeout(
      () => reject(new Error(`ssehub ${args.join(' ')} did not exit; stdout: ${stdout}; stderr: ${stderr}`)),
      timeoutMs,
    );
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Starts the command and resolves with its first log line (the listening address). */
function start(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; lines: () => string[]; exited: Promise<Finished> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'pipe' });
    running.add(child);
    let stdout = '';
    let stderr = '';
    const exited = new Promise<Finished>((done) => {
      child.on('close', (code, signal) => {
        running.delete(child);
        done({ code, signal, stdout, stderr });
      });
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      const first = stdout.split('\n')[0];
      if (stdout.includes('\n') && first !== undefined) {
        const line = JSON.parse(first) as { url?: string; msg: string };
        if (line.url !== undefined) resolve({ child, url: line.url, lines: () => stdout.split('\n').filter(Boolean), exited });
        else reject(new Error(`unexpected first line: ${first}`));
      }
    });
    void exited.then((finished) => reject(new Error(`ssehub exited early: ${JSON.stringify(finished)}`)));
  });
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
});

afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
});

describe('ssehub command line', () => {
  it('--help lists every setting with its variable and flag, and exits 0', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(0);
    for (const spec of Object.values(SETTINGS)) {
      expect(result.stdout).toContain(`--${spec.flag} ${spec.arg}`);
      expect(result.stdout).toMatch(new RegExp(`\\s${spec.env}\\s`));
    }
    expect(result.stdout).toContain('Usage: ssehub [options]');
  });

  it('--version prints the version', async () => {
    const result = await run(['--version']);
    expect([result.code, result.stdout]).toEqual([0, '0.1.0\n']);
  });

  it('exits 2 naming the setting for an invalid variable or flag', async () => {
    const env = await run([], { SSEHUB_MAX_BATCH: 'lots' });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('SSEHUB_MAX_BATCH (--max-batch): must be a whole number (1..10000), got "lots"');
    expect(env.stdout).toBe('');
    const flag = await run(['--port', 'eighty'], { PORT: '9000' });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('PORT (--port): must be a whole number (0..65535), got "eighty"');
  });

  it('exits 2 for an unknown flag', async () => {
    const result = await run(['--colour', 'blue']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Unknown option '--colour'");
  });

  it('exits 2 for a REDIS_URL that is not a Redis URL, without echoing it', async () => {
    for (const [args, env] of [
      [[], { REDIS_URL: 'http://user:secret@127.0.0.1:6379' }],
      [['--redis-url', 'http://user:secret@127.0.0.1:6379'], {}],
    ] as const) {
      const result = await run([...args], env);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('REDIS_URL (--redis-url): must start with redis:// or rediss://');
      expect(result.stderr).not.toContain('secret');
    }
  });

  it('exits 1 when the port is taken', async () => {
    const blocker = http.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await run([], { PORT: String(port) });
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stdout.trim()).msg).toBe('ssehub could not listen');
    } finally {
      blocker.close();
    }
  });
});

describe('a running ssehub process', () => {
  it('logs one JSON line at start, serves, and on SIGTERM ends streams with a retry hint and exits 0', async () => {
    const hub = await start({ PORT: '0', SSEHUB_PUBLISH_KEY: 'publish-key-0123456789abcdef' });
    const startLine = JSON.parse(hub.lines()[0] as string);
    expect(startLine).toMatchObject({
      level: 'info',
      msg: 'ssehub listening',
      version: '0.1.0',
      subscribe: 'open',
      publish: 'authenticated',
    });
    expect(startLine.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(startLine.nodeId).toMatch(/^n-[0-9a-f]{8}$/);

    const stream = await openStream(hub.url, '/events?room=ops');
    await stream.until((text) => text.includes('event: connected'));
    const answer = await publish(hub.url, { data: 'hello', rooms: ['ops'] }, { authorization: 'Bearer publish-key-0123456789abcdef' });
    expect(answer.status).toBe(202);
    await stream.until((text) => text.includes('data: hello'));
    const beforeSignal = stream.text().length;
    // Quiet at info: no per-request lines.
    expect(hub.lines()).toHaveLength(1);

    const signalled = Date.now();
    hub.child.kill('SIGTERM');
    await stream.ended;
    const finished = await hub.exited;
    expect(finished.code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(10_000);
    // After the signal: a retry hint, then the end of the stream.
    expect(stream.text().slice(beforeSignal)).toMatch(/^retry: \d+\n\n$/);
    const lines = finished.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1] as string)).toMatchObject({ level: 'info', msg: 'ssehub stopped', signal: 'SIGTERM' });
    await expect(request(hub.url, '/healthz')).rejects.toThrow();
  });

  it('logs each connection at debug, and exits 0 on SIGINT', async () => {
    const hub = await start({ PORT: '0', LOG_LEVEL: 'debug' });
    const stream = await openStream(hub.url, '/events?user=ada&token=secret-in-query');
    await stream.until((text) => text.includes('event: connected'));
    hub.child.kill('SIGINT');
    const finished = await hub.exited;
    expect(finished.code).toBe(0);
    const lines = finished.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: string; msg: string; userId?: string; path?: string });
    expect(lines.find((line) => line.msg === 'ssehub: client connected')).toMatchObject({ level: 'debug', userId: 'ada' });
    expect(lines.find((line) => line.msg === 'request' && line.path === '/events')).toMatchObject({ level: 'debug' });
    expect(lines.at(-1)).toMatchObject({ level: 'info', msg: 'ssehub stopped', signal: 'SIGINT' });
    // Query strings (tokens) never reach the logs.
    expect(finished.stdout).not.toContain('secret-in-query');
  });
});
