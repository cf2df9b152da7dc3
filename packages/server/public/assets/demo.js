// The ssehub demo page: one EventSource on /events, a form that publishes with POST /publish,
// and a simulated network drop that shows the hub replaying exactly the missed events.
// Plain browser JavaScript, no build step, no dependencies.

const MAX_LOG_ENTRIES = 500;
/** How often the head id is read while the browser reconnects by itself, in ms. */
const HEAD_POLL_MS = 250;
/** Events the hub itself sends; always listened for. */
const HUB_EVENTS = ['connected', 'ssehub:reset', 'ssehub:evicted'];
/**
 * Hub events sent without an `id:` field. Their `lastEventId` is the previous event's id (the
 * browser keeps it), so it must not be read as theirs.
 */
const EVENTS_WITHOUT_ID = new Set(['connected', 'ssehub:evicted']);
const RESET_REASONS = {
  stale: 'they are older than the history the hub keeps',
  'unknown-epoch': 'the hub restarted since, and its history started over',
  ahead: 'that id is newer than anything the hub has published',
  malformed: 'that id is not one the hub hands out',
  'too-long': 'that id is too long',
};
const STATE_TEXT = {
  idle: 'Disconnected',
  connecting: 'Connecting…',
  open: 'Connected',
  reconnecting: 'Reconnecting…',
  dropped: 'Dropped (offline)',
  closed: 'Disconnected',
  failed: 'Refused',
};

const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

const ui = {
  connectForm: document.getElementById('connect-form'),
  userId: byTestId('user-id'),
  rooms: byTestId('rooms'),
  eventTypes: byTestId('event-types'),
  connect: byTestId('connect'),
  disconnect: byTestId('disconnect'),
  drop: byTestId('drop'),
  reconnect: byTestId('reconnect'),
  state: byTestId('connection-state'),
  clientId: byTestId('client-id'),
  lastEventId: byTestId('last-event-id'),
  resumePoint: byTestId('resume-point'),
  sendForm: document.getElementById('send-form'),
  targetLabel: document.getElementById('target-label'),
  targetField: document.getElementById('target-field'),
  targetName: byTestId('target-name'),
  eventName: byTestId('event-name'),
  messageText: byTestId('message-text'),
  send: byTestId('send'),
  sendResult: byTestId('send-result'),
  log: byTestId('event-log'),
  logEmpty: byTestId('log-empty'),
  eventCount: byTestId('event-count'),
  clearLog: byTestId('clear-log'),
  resetBanner: byTestId('reset-banner'),
  resetText: byTestId('reset-text'),
};

const session = {
  /** The current EventSource, or null. */
  source: null,
  mode: 'idle',
  /** Event types listened for on the current source. */
  listening: new Set(),
  /** The id of the last event seen: what a resume starts from. */
  lastId: null,
  /** The hub's head id just after a fresh connection: the resume point before any event is seen. */
  baseline: null,
  /** Counts fresh connections (Connect), to drop answers meant for an earlier one. */
  serial: 0,
  /**
   * Which events of the current connection are replays: those after `from` and at or before
   * `upTo`, the hub's head id read (GET /status) before the connection was made, so a live
   * event is never marked as replayed.
   */
  replay: { from: null, upTo: null },
  /** False between a connection error and the next open (the browser's own reconnect). */
  openSinceError: true,
  eventCount: 0,
};

// ── Ids ─────────────────────────────────────────────────────────────────────────────────

/** `<epoch>-<seq>` → { epoch, seq }, or null. */
function parseId(id) {
  const match = /^([A-Za-z0-9]{1,32})-(\d{1,16})$/.exec(id ?? '');
  return match === null ? null : { epoch: match[1], seq: Number(match[2]) };
}

/** -1, 0 or 1; null when the ids are not comparable (another epoch, or not hub ids). */
function compareIds(a, b) {
  const x = parseId(a);
  const y = parseId(b);
  if (x === null || y === null || x.epoch !== y.epoch) return null;
  return Math.sign(x.seq - y.seq);
}

// ── Log ─────────────────────────────────────────────────────────────────────────────────

function clock(date = new Date()) {
  return `${date.toLocaleTimeString([], { hour12: false })}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function append(entry) {
  const log = ui.log;
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
  log.append(entry);
  while (log.childElementCount > MAX_LOG_ENTRIES) log.firstElementChild.remove();
  ui.logEmpty.hidden = true;
  if (nearBottom) log.scrollTop = log.scrollHeight;
}

/** A line about the connection itself (not an event). */
function logSystem(text, tone = 'info') {
  const entry = element('li', `entry system tone-${tone}`);
  entry.dataset.testid = 'system';
  const time = element('time', 'time', clock());
  entry.append(time, element('span', 'system-text', text));
  append(entry);
}

/** Chat-shaped data ({ from, text }) gets a speech line above the raw data. */
function chatLine(data) {
  if (!data.startsWith('{')) return null;
  try {
    const value = JSON.parse(data);
    if (value === null || typeof value !== 'object' || typeof value.text !== 'string') return null;
    const line = element('p', 'chat');
    line.dataset.testid = 'event-text';
    if (typeof value.from === 'string') line.append(element('span', 'from', value.from));
    line.append(element('span', 'text', value.text));
    return line;
  } catch {
    return null;
  }
}

function logEvent({ type, id, data, replayed, duplicate }) {
  const entry = element('li', `entry event type-${type.replace(/[^a-z0-9-]/gi, '_')}`);
  entry.dataset.testid = 'event';
  entry.dataset.type = type;
  entry.dataset.id = id ?? '';
  entry.dataset.replayed = String(replayed);
  entry.dataset.duplicate = String(duplicate);
  if (replayed) entry.classList.add('replayed');
  if (duplicate) entry.classList.add('duplicate');

  const head = element('div', 'entry-head');
  head.append(element('time', 'time', clock()));
  const typeBadge = element('span', 'type', type);
  typeBadge.dataset.testid = 'event-type';
  head.append(typeBadge);
  const idText = element('span', 'id mono', id ? `#${id}` : 'no id');
  idText.dataset.testid = 'event-id';
  head.append(idText);
  if (replayed) {
    const badge = element('span', 'badge badge-replay', 'replayed');
    badge.dataset.testid = 'replayed-badge';
    badge.title = 'Missed while disconnected, replayed by the hub on reconnect';
    head.append(badge);
  }
  if (duplicate) head.append(element('span', 'badge badge-dup', 'duplicate'));
  entry.append(head);

  const chat = chatLine(data);
  if (chat !== null) entry.append(chat);
  const raw = element('pre', chat === null ? 'data' : 'data data-raw', data);
  raw.dataset.testid = 'event-data';
  entry.append(raw);
  append(entry);
  session.eventCount++;
  ui.eventCount.textContent = `${session.eventCount} event${session.eventCount === 1 ? '' : 's'}`;
}

// ── State ───────────────────────────────────────────────────────────────────────────────

function setMode(mode, detail) {
  session.mode = mode;
  ui.state.dataset.state = mode;
  ui.state.textContent = detail ? `${STATE_TEXT[mode]} · ${detail}` : STATE_TEXT[mode];
  const live = session.source !== null || Boolean(session.attempt);
  ui.connect.disabled = live;
  ui.disconnect.disabled = !(live || mode === 'dropped');
  ui.drop.disabled = mode !== 'open';
  ui.reconnect.disabled = mode !== 'dropped';
  for (const input of [ui.userId, ui.rooms]) input.disabled = live || mode === 'dropped';
}

function setLastId(id) {
  session.lastId = id;
  ui.lastEventId.textContent = id ?? '–';
  ui.resumePoint.textContent = resumePoint() ?? '–';
}

function setBaseline(id) {
  session.baseline = id;
  ui.resumePoint.textContent = resumePoint() ?? '–';
}

/** The event types wanted: the input's list plus the hub's own. */
function wantedTypes() {
  const listed = ui.eventTypes.value
    .split(',')
    .map((type) => type.trim())
    .filter((type) => type !== '');
  return new Set([...listed, ...HUB_EVENTS]);
}

function roomsWanted() {
  return [
    ...new Set(
      ui.rooms.value
        .split(',')
        .map((room) => room.trim())
        .filter((room) => room !== ''),
    ),
  ];
}

/** The hub's newest event id, or null when /status cannot tell. */
async function fetchHeadId() {
  try {
    const response = await fetch('/status', { cache: 'no-store' });
    if (!response.ok) return null;
    const status = await response.json();
    return status?.history?.headId ?? null;
  } catch {
    return null;
  }
}

// ── The EventSource ─────────────────────────────────────────────────────────────────────

function onEvent(source, type, message) {
  if (source !== session.source) return;
  if (type === 'connected') {
    let identity = {};
    try {
      identity = JSON.parse(message.data);
    } catch {}
    ui.clientId.textContent = identity.clientId ?? '–';
    logEvent({ type, id: null, data: message.data, replayed: false, duplicate: false });
    if (session.lastId === null) {
      // Nothing seen yet: everything after the current head is what this page could miss.
      const serial = session.serial;
      fetchHeadId().then((head) => {
        if (serial === session.serial && session.lastId === null) setBaseline(head);
      });
    }
    return;
  }
  const id = EVENTS_WITHOUT_ID.has(type) ? null : message.lastEventId || null;
  const order = id === null || session.lastId === null ? null : compareIds(id, session.lastId);
  const duplicate = order !== null && order <= 0;
  const { from, upTo } = session.replay;
  const replayed =
    type !== 'ssehub:reset' &&
    id !== null &&
    from !== null &&
    upTo !== null &&
    compareIds(id, from) === 1 &&
    (compareIds(id, upTo) ?? 1) <= 0;
  if (type === 'ssehub:reset') showReset(message.data);
  logEvent({ type, id, data: message.data, replayed, duplicate });
  if (id !== null && !duplicate) setLastId(id);
}

function showReset(data) {
  let info = {};
  try {
    info = JSON.parse(data);
  } catch {}
  const why = RESET_REASONS[info.reason] ?? info.reason ?? 'unknown reason';
  ui.resetText.textContent =
    `The hub could not replay the events after ${info.lastEventId ?? 'your last id'}: ${why} (reason "${info.reason}"). ` +
    `Events you missed are lost; reload your state from its source. Resuming from ${info.headId ?? 'now'}.`;
  ui.resetBanner.dataset.reason = info.reason ?? '';
  ui.resetBanner.hidden = false;
  logSystem(`Reset (${info.reason}): missed events cannot be replayed`, 'bad');
}

function listen(source, type) {
  if (session.listening.has(type)) return;
  session.listening.add(type);
  source.addEventListener(type, (message) => onEvent(source, type, message));
}

/** Opens a stream; with `resumeFrom`, asks the hub to replay what came after that id. */
async function openStream(resumeFrom) {
  closeSource();
  const userId = ui.userId.value.trim();
  const rooms = roomsWanted();
  const url = new URL('/events', location.href);
  if (userId !== '') url.searchParams.set('user', userId);
  for (const room of rooms) url.searchParams.append('room', room);
  if (resumeFrom !== null) url.searchParams.set('lastEventId', resumeFrom);

  // Mark "connecting" first, then read the head id (resume only), then open — unless the user
  // clicked something meanwhile.
  const attempt = Symbol('attempt');
  session.attempt = attempt;
  setMode(resumeFrom === null ? 'connecting' : 'reconnecting');
  session.replay = { from: resumeFrom, upTo: null };
  if (resumeFrom !== null) {
    logSystem(`Reconnecting with lastEventId ${resumeFrom}…`);
    const head = await fetchHeadId();
    if (session.attempt !== attempt) return;
    session.replay = { from: resumeFrom, upTo: head };
  } else {
    const where = rooms.length > 0 ? ` in ${rooms.join(', ')}` : '';
    logSystem(`Connecting${userId ? ` as ${userId}` : ''}${where}…`);
  }

  const source = new EventSource(url);
  session.source = source;
  session.listening = new Set();
  session.openSinceError = true;
  for (const type of wantedTypes()) listen(source, type);

  source.onopen = () => {
    if (source !== session.source) return;
    session.openSinceError = true;
    setMode('open');
    const from = session.replay.from;
    logSystem(from === null ? 'Connected' : `Connected, resuming after ${from}`, 'good');
  };

  source.onerror = () => {
    if (source !== session.source) return;
    if (source.readyState === EventSource.CONNECTING) {
      // The stream ended (the hub closed it, or the network failed): the browser reconnects by
      // itself and sends Last-Event-ID. Track the head meanwhile to know which events are replays.
      const wasOpen = session.openSinceError;
      session.openSinceError = false;
      if (!wasOpen) return;
      const from = session.lastId;
      session.replay = { from, upTo: null };
      setMode('reconnecting');
      logSystem(`Stream ended; the browser reconnects${from ? ` with Last-Event-ID ${from}` : ''}…`, 'warn');
      if (from !== null) trackHead(source, from);
      return;
    }
    // CLOSED: the hub refused the stream (an HTTP error); the browser will not retry.
    session.source = null;
    session.attempt = null;
    setMode('failed');
    explainRefusal(url);
  };
}

/**
 * While the browser waits to reconnect by itself, keeps reading the hub's head id: events up to
 * the last head read before the new stream opens are the replays. Reads that land after the
 * open are ignored, so a live event is never marked as replayed.
 */
async function trackHead(source, from) {
  const waiting = () => source === session.source && !session.openSinceError;
  while (waiting()) {
    const head = await fetchHeadId();
    if (!waiting()) return;
    if (head !== null) session.replay = { from, upTo: head };
    await new Promise((resolve) => setTimeout(resolve, HEAD_POLL_MS));
  }
}

/** Asks the same URL again to show why the hub refused it. */
async function explainRefusal(url) {
  const controller = new AbortController();
  try {
    const response = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
    if (response.ok) {
      controller.abort();
      logSystem('The connection failed', 'bad');
      return;
    }
    const body = await response.json().catch(() => null);
    logSystem(`The hub refused the connection: ${response.status} ${body?.error?.message ?? response.statusText}`, 'bad');
  } catch {
    logSystem('The hub cannot be reached', 'bad');
  }
}

function closeSource() {
  session.attempt = null;
  if (session.source !== null) {
    session.source.close();
    session.source = null;
  }
}

/** Where a resume starts: the last event seen, or the head when this page connected. */
function resumePoint() {
  return session.lastId ?? session.baseline;
}

// ── Actions ─────────────────────────────────────────────────────────────────────────────

ui.connectForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!ui.connectForm.reportValidity()) return;
  // A fresh connection: no resume, a clean slate.
  session.serial++;
  setBaseline(null);
  setLastId(null);
  ui.resetBanner.hidden = true;
  ui.clientId.textContent = '–';
  openStream(null);
});

ui.disconnect.addEventListener('click', () => {
  closeSource();
  setMode('closed');
  ui.clientId.textContent = '–';
  logSystem('Disconnected');
});

ui.drop.addEventListener('click', () => {
  // What a network drop looks like to the page: the stream is gone. A new EventSource would not
  // send Last-Event-ID by itself, so the reconnect passes the last id as ?lastEventId=.
  closeSource();
  setMode('dropped');
  const from = resumePoint();
  logSystem(from === null ? 'Connection dropped.' : `Connection dropped. Events after ${from} will be replayed on reconnect.`, 'warn');
});

ui.reconnect.addEventListener('click', () => {
  openStream(resumePoint());
});

ui.eventTypes.addEventListener('change', () => {
  if (session.source === null) return;
  for (const type of wantedTypes()) listen(session.source, type);
});

ui.clearLog.addEventListener('click', () => {
  ui.log.replaceChildren();
  session.eventCount = 0;
  ui.eventCount.textContent = '0 events';
  ui.logEmpty.hidden = false;
  ui.resetBanner.hidden = true;
});

function targetKind() {
  return ui.sendForm.querySelector('input[name="target"]:checked').value;
}

function updateTarget() {
  const kind = targetKind();
  ui.targetField.hidden = kind === 'all';
  ui.targetName.required = kind !== 'all';
  ui.targetLabel.textContent = kind === 'user' ? 'User id' : 'Room';
}

for (const radio of ui.sendForm.querySelectorAll('input[name="target"]')) radio.addEventListener('change', updateTarget);

/** Makes sure events of this type show up: listed in the input, listened for on the stream. */
function ensureListening(type) {
  const listed = ui.eventTypes.value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (!listed.includes(type) && !HUB_EVENTS.includes(type)) ui.eventTypes.value = [...listed, type].join(', ');
  if (session.source !== null) listen(session.source, type);
}

ui.messageText.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.sendForm.requestSubmit();
  }
});

ui.sendForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!ui.sendForm.reportValidity()) return;
  const kind = targetKind();
  const name = ui.targetName.value.trim();
  const type = ui.eventName.value.trim() || 'message';
  const body = { event: type, data: { from: ui.userId.value.trim() || 'anonymous', text: ui.messageText.value } };
  if (kind === 'room') body.rooms = [name];
  if (kind === 'user') body.users = [name];
  ensureListening(type);
  ui.send.disabled = true;
  ui.sendResult.className = 'send-result';
  ui.sendResult.textContent = 'Publishing…';
  try {
    const response = await fetch('/publish', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => null);
    if (response.status === 202 && answer?.id) {
      const to = kind === 'all' ? 'everyone' : `${kind} ${name}`;
      ui.sendResult.textContent = `Published “${type}” to ${to} as #${answer.id}`;
      ui.sendResult.dataset.id = answer.id;
      ui.sendResult.classList.add('ok');
      ui.messageText.value = '';
      ui.messageText.focus();
    } else {
      ui.sendResult.textContent = `Not published: ${answer?.error?.message ?? `${response.status} ${response.statusText}`}`;
      delete ui.sendResult.dataset.id;
      ui.sendResult.classList.add('error');
    }
  } catch {
    ui.sendResult.textContent = 'Not published: the hub cannot be reached';
    ui.sendResult.classList.add('error');
  } finally {
    ui.send.disabled = false;
  }
});

// ── Start ───────────────────────────────────────────────────────────────────────────────

const params = new URLSearchParams(location.search);
ui.userId.value = params.get('user') ?? `guest-${Math.random().toString(36).slice(2, 6)}`;
if (params.has('room')) ui.rooms.value = params.getAll('room').join(', ');
if (params.has('types')) ui.eventTypes.value = params.get('types');
document.getElementById('curl-example').textContent =
  `curl -X POST ${location.origin}/publish -H 'content-type: application/json' -d '{"event":"chat","data":{"text":"hi"},"rooms":["lobby"]}'`;
updateTarget();
setMode('idle');
document.documentElement.dataset.ready = 'true';
