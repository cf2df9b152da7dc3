import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  loggedEvents,
  publish,
  Recorder,
  screenshot,
  skipBrowser,
  startHub,
  type TestHub,
  tryLaunchBrowser,
  until,
  waitForText,
  watchErrors,
} from './support.js';

describe.skipIf(skipBrowser)('demo page (/) in Chromium', () => {
  let hub: TestHub;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  const recorders: Recorder[] = [];
  let launchError: unknown;

  beforeAll(async () => {
    const [started, launched] = await Promise.all([startHub(), tryLaunchBrowser()]);
    hub = started;
    launchError = launched.error;
    browser = launched.browser as Browser;
  });

  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  beforeEach(async () => {
    // A browser that cannot start fails every test (in CI), rather than skipping them.
    if (launchError !== undefined) throw launchError;
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    errors = watchErrors(page);
  });

  afterEach(async () => {
    for (const recorder of recorders.splice(0)) recorder.close();
    await context?.close();
    expect(errors ?? []).toEqual([]);
  });

  /** The user's open connections on the hub. */
  const connections = (user: string, on: TestHub = hub) => on.server.hub.connectionCount(user);

  /** Opens the demo page and connects as `user` to `rooms`. */
  async function connectAs(user: string, rooms: string, on: TestHub = hub): Promise<void> {
    await page.goto(`${on.url}/`);
    await page.getByTestId('user-id').fill(user);
    await page.getByTestId('rooms').fill(rooms);
    await page.getByTestId('connect').click();
    await page.locator('[data-testid="connection-state"][data-state="open"]').waitFor();
    await page.locator('[data-testid="event"][data-type="connected"]').waitFor();
    expect(connections(user, on)).toBe(1);
  }

  /** Waits until the page's log holds an event with this id. */
  const shown = (id: string) => page.locator(`[data-testid="event"][data-id="${id}"]`).waitFor();

  it('connects and shows a message published with POST /publish, exactly as sent', async () => {
    await connectAs('alice', 'lobby');
    const clientId = await page.getByTestId('client-id').textContent();
    expect(hub.server.hub.clients.get(clientId ?? '')?.userId).toBe('alice');

    const text = 'Hello from the test — ünïcødé, <b>not bold</b> & "quotes"';
    const id = await publish(hub.url, { data: text, users: ['alice'] });
    await shown(id);

    const events = await loggedEvents(page);
    expect(events.filter((event) => event.type !== 'connected')).toEqual([
      { type: 'message', id, data: text, replayed: false, duplicate: false },
    ]);
    expect(await page.locator('[data-testid="event-log"] b').count()).toBe(0);
    await waitForText(page, 'last-event-id', id);
    await waitForText(page, 'event-count', '2 events');
  });

  it('sends a message to a room with its form, and another client in that room receives exactly it', async () => {
    const bob = new Recorder(`${hub.url}/events?user=bob&room=team-x`, ['chat', 'message']);
    recorders.push(bob);
    await bob.connected();
    await connectAs('alice', 'lobby');

    await page.getByTestId('target-room').check();
    await page.getByTestId('target-name').fill('team-x');
    await page.getByTestId('event-name').fill('chat');
    await page.getByTestId('message-text').fill('Ship it at 5 pm 🚀');
    await page.getByTestId('send').click();
    const result = page.locator('[data-testid="send-result"][data-id]');
    await result.waitFor();
    const id = (await result.getAttribute('data-id')) ?? '';
    expect(id).toMatch(/^[A-Za-z0-9]+-\d+$/);
    expect(await result.textContent()).toContain(`#${id}`);

    // A marker published after it: once bob has it, everything before it has arrived too.
    const marker = await publish(hub.url, { event: 'chat', data: 'marker', rooms: ['team-x'] });
    await until(() => bob.events.some((event) => event.id === marker), 'the marker event');
    expect(bob.events).toEqual([
      { type: 'chat', id, data: JSON.stringify({ from: 'alice', text: 'Ship it at 5 pm 🚀' }) },
      { type: 'chat', id: marker, data: 'marker' },
    ]);
    // The page itself is not in team-x: it never shows the message.
    expect((await loggedEvents(page)).map((event) => event.id)).not.toContain(id);
  });

  it('replays the events missed during a dropped connection exactly once, in order, marked replayed', async () => {
    await connectAs('carol', 'lobby');
    const before = await publish(hub.url, { data: 'before the drop', users: ['carol'] });
    await shown(before);

    await page.getByTestId('drop').click();
    await page.locator('[data-testid="connection-state"][data-state="dropped"]').waitFor();
    await until(() => connections('carol') === 0, 'the hub to see the drop');

    const missed: string[] = [];
    for (const n of [1, 2, 3]) missed.push(await publish(hub.url, { data: `missed ${n}`, rooms: ['lobby'] }));
    expect(connections('carol')).toBe(0);

    await page.getByTestId('reconnect').click();
    await page.locator('[data-testid="connection-state"][data-state="open"]').waitFor();
    await shown(missed[2] as string);
    const live = await publish(hub.url, { data: 'live again', users: ['carol'] });
    await shown(live);

    const events = (await loggedEvents(page)).filter((event) => event.type !== 'connected');
    expect(events).toEqual([
      { type: 'message', id: before, data: 'before the drop', replayed: false, duplicate: false },
      ...missed.map((id, i) => ({ type: 'message', id, data: `missed ${i + 1}`, replayed: true, duplicate: false })),
      { type: 'message', id: live, data: 'live again', replayed: false, duplicate: false },
    ]);
    expect(await page.getByTestId('replayed-badge').count()).toBe(3);
    expect(await page.getByTestId('reset-banner').isHidden()).toBe(true);
    await screenshot(page, 'demo-replay');
  });

  it('replays after a drop even when no event was seen before it (resumes from the head at connect)', async () => {
    await publish(hub.url, { data: 'old news, not for this page' });
    await connectAs('frank', 'lobby');
    const head = hub.server.hub.stats().history.headId;
    await waitForText(page, 'resume-point', head);
    await page.getByTestId('drop').click();
    await until(() => connections('frank') === 0, 'the hub to see the drop');
    const missed = await publish(hub.url, { data: 'missed while away', users: ['frank'] });
    await page.getByTestId('reconnect').click();
    await shown(missed);
    const events = (await loggedEvents(page)).filter((event) => event.type !== 'connected');
    expect(events).toEqual([{ type: 'message', id: missed, data: 'missed while away', replayed: true, duplicate: false }]);
  });

  it('reconnects by itself with Last-Event-ID when the hub ends the stream, and shows the missed events', async () => {
    await connectAs('dave', 'lobby');
    const before = await publish(hub.url, { data: 'seen', users: ['dave'] });
    await shown(before);
    const replaysBefore = hub.server.hub.counters.replays;

    // The hub ends dave's stream (its `retry:` hint makes the browser wait ~2 s), and events are
    // published while the browser is away.
    for (const client of [...(hub.server.hub.users.get('dave') ?? [])]) client.close();
    await until(() => connections('dave') === 0, 'the hub to end the stream');
    const missed: string[] = [];
    for (const n of [1, 2, 3]) missed.push(await publish(hub.url, { event: 'notice', data: `while away ${n}`, users: ['dave'] }));
    expect(connections('dave')).toBe(0);
    await page.locator('[data-testid="connection-state"][data-state="reconnecting"]').waitFor();

    // No click: the EventSource reconnects on its own, sending Last-Event-ID.
    await shown(missed[2] as string);
    await page.locator('[data-testid="connection-state"][data-state="open"]').waitFor();
    expect(hub.server.hub.counters.replays).toBe(replaysBefore + 1);
    expect(connections('dave')).toBe(1);

    const events = (await loggedEvents(page)).filter((event) => event.type !== 'connected');
    expect(events).toEqual([
      { type: 'message', id: before, data: 'seen', replayed: false, duplicate: false },
      ...missed.map((id, i) => ({ type: 'notice', id, data: `while away ${i + 1}`, replayed: true, duplicate: false })),
    ]);
    // The stream continues live after the replay.
    const live = await publish(hub.url, { data: 'live', users: ['dave'] });
    await shown(live);
    expect((await loggedEvents(page)).at(-1)).toEqual({ type: 'message', id: live, data: 'live', replayed: false, duplicate: false });
  });

  it('shows ssehub:reset clearly when the missed events are gone from the history', async () => {
    const small = await startHub({ SSEHUB_HISTORY_SIZE: '2' });
    try {
      await connectAs('erin', 'lobby', small);
      const seen = await publish(small.url, { data: 'seen', users: ['erin'] });
      await shown(seen);
      await page.getByTestId('drop').click();
      await until(() => connections('erin', small) === 0, 'the hub to see the drop');
      const lost: string[] = [];
      for (const n of [1, 2, 3, 4, 5]) lost.push(await publish(small.url, { data: `lost ${n}`, users: ['erin'] }));

      await page.getByTestId('reconnect').click();
      const banner = page.getByTestId('reset-banner');
      await banner.waitFor({ state: 'visible' });
      expect(await banner.getAttribute('data-reason')).toBe('stale');
      expect(await banner.textContent()).toContain(seen);
      const reset = page.locator('[data-testid="event"][data-type="ssehub:reset"]');
      await reset.waitFor();
      const headId = small.server.hub.stats().history.headId;
      expect(JSON.parse((await reset.getByTestId('event-data').textContent()) ?? '')).toEqual({
        reason: 'stale',
        lastEventId: seen,
        headId,
      });
      await waitForText(page, 'last-event-id', headId);

      const after = await publish(small.url, { data: 'after the reset', users: ['erin'] });
      await shown(after);
      const events = (await loggedEvents(page)).filter((event) => event.type !== 'connected');
      expect(events.map((event) => [event.type, event.data, event.replayed])).toEqual([
        ['message', 'seen', false],
        ['ssehub:reset', JSON.stringify({ reason: 'stale', lastEventId: seen, headId }), false],
        ['message', 'after the reset', false],
      ]);
      expect(events.map((event) => event.id)).not.toContain(lost[0]);
      await screenshot(page, 'demo-reset');
    } finally {
      await context.close();
      await small.close();
    }
  });
});
