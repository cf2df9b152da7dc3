import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  publish,
  Recorder,
  roomRows,
  screenshot,
  skipBrowser,
  startHub,
  type TestHub,
  tryLaunchBrowser,
  until,
  waitForAttributeAbove,
  waitForText,
  watchErrors,
} from './support.js';

describe.skipIf(skipBrowser)('dashboard (/dashboard) in Chromium', () => {
  let hub: TestHub;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const recorders: Recorder[] = [];
  let launchError: unknown;

  beforeAll(async () => {
    const [started, launched] = await Promise.all([startHub(), tryLaunchBrowser()]);
    hub = started;
    launchError = launched.error;
    browser = launched.browser as Browser;
    if (launchError !== undefined) return;
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
  });

  beforeEach(() => {
    // A browser that cannot start fails every test (in CI), rather than skipping them.
    if (launchError !== undefined) throw launchError;
  });

  afterAll(async () => {
    for (const recorder of recorders) recorder.close();
    await browser?.close();
    await hub?.close();
  });

  it('shows the exact number of connections, users and rooms, and follows them down', async () => {
    const errors = watchErrors(page);
    await page.goto(`${hub.url}/dashboard`);
    await page.locator('[data-testid="stream-state"][data-state="open"]').waitFor();
    // The dashboard's own stream is served by a hub of its own: it is never counted.
    await waitForText(page, 'connections', '0');
    expect(hub.server.dashboard.hub.clients.size).toBe(1);
    expect(hub.server.hub.clients.size).toBe(0);

    const who = [
      ['u1', 'alpha'],
      ['u1', 'alpha'],
      ['u2', 'alpha'],
      ['u3', 'beta'],
      ['u4', ''],
    ] as const;
    for (const [user, room] of who) {
      recorders.push(new Recorder(`${hub.url}/events?user=${user}${room ? `&room=${room}` : ''}`));
    }
    await Promise.all(recorders.map((recorder) => recorder.connected()));

    await waitForText(page, 'connections', '5');
    await waitForText(page, 'users', '4');
    await waitForText(page, 'rooms', '2');
    expect(await roomRows(page)).toEqual([
      ['alpha', '3'],
      ['beta', '1'],
    ]);
    const status = (await (await fetch(`${hub.url}/status`)).json()) as { clients: number; users: number };
    expect([status.clients, status.users]).toEqual([5, 4]);

    // History fill and the throughput chart follow published events.
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push(await publish(hub.url, { data: `event ${n}`, rooms: ['alpha'] }));
    await waitForText(page, 'history-head', ids[2] as string);
    await waitForText(page, 'history-size', '3 / 10,000 events');
    await waitForText(page, 'history-oldest', ids[0] as string);
    await waitForAttributeAbove(page, 'throughput-chart', 'data-peak-events', 0);
    expect(Number(await page.getByTestId('series-events').getAttribute('data-points'))).toBeGreaterThanOrEqual(2);
    expect(await page.getByTestId('slow-disconnects').textContent()).toBe('0');
    expect(await page.getByTestId('dropped').textContent()).toBe('0');

    // Both of u1's connections and u3's close: 2 connections of 2 users are left.
    for (const index of [0, 1, 3]) recorders[index]?.close();
    await waitForText(page, 'connections', '2');
    await waitForText(page, 'users', '2');
    await waitForText(page, 'rooms', '1');
    expect(await roomRows(page)).toEqual([['alpha', '1']]);
    expect(hub.server.hub.clients.size).toBe(2);

    await screenshot(page, 'dashboard');
    expect(errors).toEqual([]);
  });

  it('counts the demo page as one connection while it is connected', async () => {
    const demo = await context.newPage();
    const errors = watchErrors(demo);
    const baseline = hub.server.hub.clients.size;
    await waitForText(page, 'connections', String(baseline));
    await demo.goto(`${hub.url}/?user=viewer&room=alpha`);
    await demo.getByTestId('connect').click();
    await demo.locator('[data-testid="event"][data-type="connected"]').waitFor();
    await waitForText(page, 'connections', String(baseline + 1));
    await demo.getByTestId('disconnect').click();
    await until(() => hub.server.hub.clients.size === baseline, 'the hub to see the page disconnect');
    await waitForText(page, 'connections', String(baseline));
    await demo.close();
    expect(errors).toEqual([]);
  });
});

/** The page's sessionStorage, in functions run inside the page (the tsconfig has no DOM lib). */
declare const sessionStorage: { getItem(name: string): string | null };

describe.skipIf(skipBrowser)('dashboard with a publish key (production mode) in Chromium', () => {
  const KEY = 'dashboard-publish-key-0123456789';
  const STORAGE = 'ssehub.dashboard.key';
  let hub: TestHub;
  let browser: Browser;
  let launchError: unknown;

  beforeAll(async () => {
    const [started, launched] = await Promise.all([startHub({ SSEHUB_PUBLISH_KEY: KEY }), tryLaunchBrowser()]);
    hub = started;
    launchError = launched.error;
    browser = launched.browser as Browser;
  });

  beforeEach(() => {
    if (launchError !== undefined) throw launchError;
  });

  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  it('asks for the key on a 401, refuses a wrong one, keeps the right one for the tab', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${hub.url}/dashboard`);

    // No key yet: the stream answers 401 and the page asks for one.
    await page.getByTestId('key-form').waitFor({ state: 'visible' });
    await page.locator('[data-testid="stream-state"][data-state="locked"]').waitFor();
    expect(hub.server.dashboard.hub.clients.size).toBe(0);

    await page.getByTestId('key-input').fill('not-the-key');
    await page.getByTestId('key-submit').click();
    await page.locator('[data-testid="key-error"]:not(:empty)').waitFor();
    expect(await page.getByTestId('key-error').textContent()).toContain('refused');
    expect(await page.getByTestId('key-form').isVisible()).toBe(true);
    expect(await page.evaluate((name) => sessionStorage.getItem(name), STORAGE)).toBeNull();

    await page.getByTestId('key-input').fill(KEY);
    await page.getByTestId('key-submit').click();
    await page.locator('[data-testid="stream-state"][data-state="open"]').waitFor();
    expect(await page.getByTestId('key-form').isVisible()).toBe(false);
    await waitForText(page, 'connections', '0');
    const recorder = new Recorder(`${hub.url}/events?user=u1&room=ops`);
    await recorder.connected();
    await waitForText(page, 'connections', '1');
    expect(await roomRows(page)).toEqual([['ops', '1']]);
    // The node line comes from GET /status, read with the same key.
    await until(async () => ((await page.getByTestId('node-info').textContent()) ?? '').includes('n-'), 'the node line');
    expect(await page.evaluate((name) => sessionStorage.getItem(name), STORAGE)).toBe(KEY);
    expect(hub.server.dashboard.hub.clients.size).toBe(1);

    // A reload in the same tab reconnects with the kept key, without asking.
    await page.reload();
    await page.locator('[data-testid="stream-state"][data-state="open"]').waitFor();
    expect(await page.getByTestId('key-form').isVisible()).toBe(false);
    await waitForText(page, 'connections', '1');
    recorder.close();
    await screenshot(page, 'dashboard-key');

    // The refused requests show in the console as failed loads (401); nothing else may.
    expect(errors.filter((error) => !/\b401\b/.test(error))).toEqual([]);
    await context.close();
  });
});
