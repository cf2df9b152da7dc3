/**
 * The published types are the API: the built declaration files hold only the public surface.
 * No member of the hub's bookkeeping (its registry, stamps, cursors, internal hooks) reaches
 * them, and the list of exports changes only on purpose (update it here when it does).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dist = new URL('../../dist/', import.meta.url);
const declarations = ['index.d.ts', 'index.d.cts', 'protocol.d.ts'].map((file) => readFileSync(new URL(file, dist), 'utf8'));
// What the types declare, without their documentation (which may well say "registered").
const code = declarations.map((text) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, ''));
const index = declarations[0] as string;

const EXPORTS = [
  'Answer',
  'Audience',
  'Backend',
  'BackendEvents',
  'BackendError',
  'BackendListener',
  'BackendMessage',
  'BadgeUpdate',
  'BuiltinEvents',
  'Client',
  'ClientInit',
  'ClientNotFoundError',
  'ConnectRequest',
  'ConnectedEventData',
  'Connection',
  'ConnectionAcceptor',
  'ConnectionRefusedError',
  'DisconnectReason',
  'EventMap',
  'EventName',
  'EvictedEventData',
  'HelperEvents',
  'HistoryOptions',
  'HistoryStats',
  'Hub',
  'HubClosedError',
  'HubCounters',
  'HubOptions',
  'HubStats',
  'InvalidDataError',
  'InvalidFieldError',
  'LastEventIdClaim',
  'LogPosition',
  'LogRead',
  'LogStats',
  'Logger',
  'MemoryBackend',
  'MemoryBackendOptions',
  'MessageDraft',
  'NewItem',
  'NodeConnection',
  'NodeRequest',
  'NodeResponse',
  'Notification',
  'OverflowPolicy',
  'Producer',
  'PublishInfo',
  'PublishMessage',
  'Refusal',
  'ResetEventData',
  'ResetReason',
  'SSE_HEADERS',
  'SendOptions',
  'ServeOptions',
  'Sink',
  'SinkEvents',
  'SocketRequest',
  'SseEvent',
  'SseHubError',
  'SseHubErrorCode',
  'SseServer',
  'SseServerOptions',
  'SseStream',
  'StreamClosedError',
  'StreamListener',
  'StreamOptions',
  'StreamQueueOptions',
  'Target',
  'UnreadableReason',
  'WebConnection',
  'assertRetry',
  'assertSingleLineField',
  'canSetTcpUserTimeout',
  'createHub',
  'createNodeStream',
  'createSseServer',
  'createWebStream',
  'DEFAULT_MAX_LAST_EVENT_ID_LENGTH',
  'encodeComment',
  'encodeEvent',
  'encodeEventText',
  'encodeRetry',
  'encodeRetryText',
  'formatEventId',
  'parseEventId',
  'readLastEventId',
  'refuse',
  'serve',
  'serveFunction',
];

function exportedNames(text: string): string[] {
  const names: string[] = [];
  for (const match of text.matchAll(/^export \{([^}]*)\}(?: from '[^']*')?;?$/gm)) {
    for (const part of (match[1] as string).split(',')) {
      const name = part
        .trim()
        .replace(/^type /, '')
        .split(' as ')
        .pop()
        ?.trim();
      if (name) names.push(name);
    }
  }
  return names.sort();
}

describe('the published types', () => {
  it('export exactly the public API', () => {
    expect(exportedNames(index)).toEqual([...EXPORTS].sort());
  });

  it.each([
    'publishTo',
    'serveSocket',
    'registered',
    'stamp',
    'roomNames',
    'Member',
    'Registry',
    'Delivery',
    'Cursor',
    'Admission',
    'AudiencePublisher',
    '@internal',
  ])('never mention %s', (name) => {
    const pattern = name === '@internal' ? /@internal/ : new RegExp(`\\b${name}\\b`);
    for (const text of name === '@internal' ? declarations : code) expect(text).not.toMatch(pattern);
  });

  it('give the protocol entry no Node-only type (a browser can use it)', () => {
    const protocol = declarations[2] as string;
    expect(protocol).not.toMatch(/\bBuffer\b|node:|NodeJS\./);
  });
});
