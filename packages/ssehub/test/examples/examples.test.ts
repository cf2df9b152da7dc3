import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordingClient } from '../support/clients.js';
import { skipRedis } from '../support/redisServer.js';

const examplesDir = fileURLToPath(new URL('../../../../examples/', import.meta.url));
const running: ChildProcess[] = [];

afterEach(async () => {
  for (const child of running.splice(0)) {
    child.kill('SIGKILL');
    if (child.exitCode === null) await once(child, 'exit');
  }
});

/** Starts an example on a free port and resolves with its base URL (from its first line). */
async function start(file: string): Promise<string> {
  const child = spawn(process.execPath, [`${examplesDir}${file}`], {
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.push(child);
  let output = '';
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    output += chunk.toString();
    const match = /http:\/\/127\.0\.0\.1:\d+/.exec(output);
    if (match) return match[0];
  }
  throw new Error(`${file} exited before printing its address: ${output}`);
}

describe('examples', () => {
  it('chat-rooms: a message posted to a room reaches its members only', async () => {
    const base = await start('chat-rooms.mjs');
    const member = new RecordingClient(`${base}/events?user=ada&room=lobby`, ['connected', 'chat']);
    const outsider = new RecordingClient(`${base}/events?user=bob&room=other`, ['connected', 'chat']);
    await member.waitFor('connected');
    await outsider.waitFor('connected');
    const response = await fetch(`${base}/rooms/lobby?user=bob`, { method: 'POST', body: 'hello lobby' });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    await member.waitFor('chat');
    expect(member.of('chat')).toEqual([{ type: 'chat', data: JSON.stringify({ from: 'bob', text: 'hello lobby' }), lastEventId: id }]);
    expect(outsider.of('chat')).toEqual([]);
    member.close();
    outsider.close();
  });

  it('notifications: every connection of the user gets the notification and the badge', async () => {
    const base = await start('notifications.mjs');
    const types = ['connected', 'notification', 'badge-update'];
    const tab1 = new RecordingClient(`${base}/events?user=grace`, types);
    const tab2 = new RecordingClient(`${base}/events?user=grace`, types);
    await tab1.waitFor('connected');
    await tab2.waitFor('connected');
    expect((await fetch(`${base}/notify/grace`, { method: 'POST', body: 'Ada follows you' })).status).toBe(202);
    for (const tab of [tab1, tab2]) {
      await tab.waitFor('badge-update');
      expect(JSON.parse(tab.of('notification')[0]?.data ?? '')).toEqual({
        title: 'New follower',
        message: 'Ada follows you',
        level: 'info',
      });
      expect(JSON.parse(tab.of('badge-update')[0]?.data ?? '')).toEqual({ badge: 'notifications', count: 1 });
      tab.close();
    }
  });

  it('log-streaming: multi-line log events arrive whole', async () => {
    const base = await start('log-streaming.mjs');
    const logs = new RecordingClient(`${base}/logs`, ['log']);
    await logs.waitFor('log', 2);
    expect(logs.of('log')[0]?.lastEventId).toBe('1');
    expect(logs.of('log')[1]?.data).toMatch(/^\S+ INFO request 2 served\nstack line 1\nstack line 2$/);
    logs.close();
  });

  it('job-progress: progress from 0 to 100 then done', async () => {
    const base = await start('job-progress.mjs');
    const job = new RecordingClient(`${base}/jobs/42`, ['progress', 'done']);
    await job.waitFor('done', 1, 10_000);
    expect(job.of('progress').map((event) => JSON.parse(event.data).percent)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(JSON.parse(job.of('done')[0]?.data ?? '')).toEqual({ job: '42', result: 'ok' });
    job.close();
  });

  it('live-dashboard: figures arrive every second and count the viewer', async () => {
    const base = await start('live-dashboard.mjs');
    const viewer = new RecordingClient(`${base}/events`, ['metrics']);
    await viewer.waitFor('metrics', 1, 5000);
    expect(JSON.parse(viewer.of('metrics')[0]?.data ?? '').viewers).toBe(1);
    viewer.close();
    // Served by createSseServer: everything but the stream is node:http's 404.
    const other = await fetch(`${base}/other`);
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ error: { code: 'not_found', message: 'not found' } });
  });
});

describe.skipIf(skipRedis)('examples on Redis', () => {
  it('redis-cluster: each user gets exactly its own transactions, in order, on either hub', async () => {
    // Its own redis-server on a free port, never one from the environment.
    const { REDIS_URL: _, ...env } = process.env;
    const child = spawn(process.execPath, [`${examplesDir}redis-cluster/run.mjs`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.push(child);
    let output = '';
    let errors = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    const [code] = await once(child, 'exit');
    expect(code, `exit code; stderr: ${errors}`).toBe(0);
    const lines = output.trim().split('\n');
    expect(lines.filter((line) => line.startsWith('ada@'))).toEqual([
      'ada@hub-a: transaction t1 pending 42.5',
      'ada@hub-a: transaction t1 settled 42.5',
      'ada@hub-a: transaction t3 pending 9.99',
    ]);
    expect(lines.filter((line) => line.startsWith('grace@'))).toEqual([
      'grace@hub-b: transaction t2 pending 120',
      'grace@hub-b: transaction t2 failed 120',
      'grace@hub-b: transaction t4 settled 7',
    ]);
    expect(lines.filter((line) => line.startsWith('publisher'))).toEqual([
      'publisher → ada: t1 pending',
      'publisher → grace: t2 pending',
      'publisher → ada: t1 settled',
      'publisher → ada: t3 pending',
      'publisher → grace: t2 failed',
      'publisher → grace: t4 settled',
    ]);
    expect(lines.at(-1)).toBe('done');
  }, 30_000);
});
