/**
 * Shared pieces of the browser end-to-end tests: Chromium from the Debian package (never a
 * downloaded browser), an in-process hub on a free port, publishing, and an `eventsource` client
 * that records what it receives.
 */

import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EventSource } from 'eventsource';
import { pino } from 'pino';
import { type Browser, chromium, type Page } from 'playwright-core';
import { loadConfig } from '../../src/config.js';
import { createServer, type SsehubServer } from '../../src/createServer.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * The little of the DOM that functions run inside the page use. The server's tsconfig has no
 * DOM lib, so these are declared here, for this module only.
 */
export interface PageElement {
  readonly dataset: Record<string, string | undefined>;
  readonly textContent: string | null;
  querySelector(selector: string): PageElement | null;
  getAttribute(name: string): string | null;
}
declare const document: { querySelector(selector: string): PageElement | null };
const IN_CI = process.env.CI === 'true';

/**
 * Skip the browser suites only on a developer machine without Chromium. In CI nothing skips:
 * a missing browser fails the suite (see {@link launchBrowser}).
 */
export const skipBrowser = !existsSync(CHROMIUM_PATH) && !IN_CI;
if (skipBrowser) {
  console.warn(
    `\n⚠️  SKIPPING the browser end-to-end tests: no Chromium at ${CHROMIUM_PATH}.\n` +
      '    Install it with `apt-get update && apt-get install -y chromium` to run them.\n',
  );
}

/** Where screenshots go (gitignored). */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../../../../artifacts/', import.meta.url));

/** Launches the system Chromium, headless. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is missing at ${CHROMIUM_PATH}: CI must install the Debian package "chromium".`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Launches Chromium, or tells why it cannot: suites then fail each test with that reason. */
export async function tryLaunchBrowser(): Promise<{ browser?: Browser; error?: unknown }> {
  try {
    return { browser: await launchBrowser() };
  } catch (error) {
    return { error };
  }
}

/** A hub server running in-process on a free loopback port. */
export interface TestHub {
  readonly server: SsehubServer;
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the server the way the CLI would, from environment-style settings. */
export async function startHub(env: Record<string, string> = {}): Promise<TestHub> {
  const config = loadConfig({ env: { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env } });
  const server = createServer(config, { logger: pino({ level: 'silent' }) });
  const address = await server.listen();
  return { server, url: address.url, close: () => server.close({ timeoutMs: 1000 }) };
}

/** POST /publish; returns the event id the hub assigned. */
export async function publish(url: string, body: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${url}/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as { id?: string };
  if (response.status !== 202 || typeof answer.id !== 'string') {
    throw new Error(`publish failed: ${response.status} ${JSON.stringify(answer)}`);
  }
  return answer.id;
}

/** Polls `check` until it returns true. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One event as an `eventsource` client saw it. */
export interface Received {
  readonly type: string;
  readonly id: string;
  readonly data: string;
}

/** A Node EventSource (the `eventsource` package) recording events of the given types. */
export class Recorder {
  readonly source: EventSource;
  readonly events: Received[] = [];
  identity: { clientId: string; userId: string | null } | undefined;

  constructor(url: string, types: readonly string[] = ['message']) {
    this.source = new EventSource(url);
    this.source.addEventListener('connected', (event) => {
      this.identity = JSON.parse(event.data);
    });
    for (const type of types) {
      this.source.addEventListener(type, (event) => {
        this.events.push({ type, id: event.lastEventId, data: event.data });
      });
    }
  }

  connected(): Promise<void> {
    return until(() => this.identity !== undefined, 'the connected event');
  }

  close(): void {
    this.source.close();
  }
}

/** An event entry of the demo page's log, as the page shows it. */
export interface LoggedEvent {
  type: string;
  id: string;
  data: string;
  replayed: boolean;
  duplicate: boolean;
}

/** Every event entry of the demo page's log, in order. */
export function loggedEvents(page: Page): Promise<LoggedEvent[]> {
  return page.$$eval('[data-testid="event-log"] [data-testid="event"]', (entries) =>
    entries.map((entry) => {
      const element = entry as unknown as PageElement;
      return {
        type: element.dataset.type ?? '',
        id: element.dataset.id ?? '',
        data: element.querySelector('[data-testid="event-data"]')?.textContent ?? '',
        replayed: element.dataset.replayed === 'true',
        duplicate: element.dataset.duplicate === 'true',
      };
    }),
  );
}

/** Waits until the element with this data-testid shows exactly `text`. */
export async function waitForText(page: Page, testId: string, text: string, timeoutMs = 10_000): Promise<void> {
  try {
    await page.waitForFunction(
      ([id, expected]) => document.querySelector(`[data-testid="${id}"]`)?.textContent?.trim() === expected,
      [testId, text] as const,
      { timeout: timeoutMs, polling: 50 },
    );
  } catch (error) {
    const shown = await page
      .getByTestId(testId)
      .first()
      .textContent()
      .catch(() => null);
    throw new Error(`[data-testid="${testId}"] never showed "${text}" (shows ${JSON.stringify(shown)}): ${(error as Error).message}`);
  }
}

/** The [data-room, size] rows of the dashboard's rooms table. */
export function roomRows(page: Page): Promise<Array<[string, string]>> {
  return page.$$eval('[data-testid="room-row"]', (rows) =>
    rows.map((row) => {
      const element = row as unknown as PageElement;
      return [element.dataset.room ?? '', element.querySelector('[data-testid="room-size"]')?.textContent ?? ''] as [string, string];
    }),
  );
}

/** Waits until a numeric data attribute of the element with this data-testid exceeds `min`. */
export async function waitForAttributeAbove(page: Page, testId: string, attribute: string, min: number): Promise<void> {
  await page.waitForFunction(
    ([id, name, floor]) => Number(document.querySelector(`[data-testid="${id}"]`)?.getAttribute(name)) > floor,
    [testId, attribute, min] as const,
    { polling: 50 },
  );
}

/** A full-page screenshot in artifacts/. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = `${ARTIFACTS_DIR}${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Collects uncaught page errors and console errors, to assert none happened. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  return errors;
}
