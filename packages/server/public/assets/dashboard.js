// The ssehub dashboard: figures, a hand-drawn SVG chart and tables fed by /dashboard/stream
// (one `stats` event a second). Plain browser JavaScript, no build step, no dependencies.

const WINDOW_MS = 120_000;
/** A gap longer than this between two samples breaks the chart's lines. */
const GAP_MS = 3_500;
const SVG_NS = 'http://www.w3.org/2000/svg';
const CHART = { width: 720, height: 240, left: 48, right: 14, top: 14, bottom: 28 };
const STATE_TEXT = {
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Reconnecting…',
  failed: 'Unavailable',
  locked: 'Key required',
};
/** Where the key is kept: sessionStorage, so it lasts as long as the tab and no longer. */
const KEY_STORAGE = 'ssehub.dashboard.key';

const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

const ui = {
  state: byTestId('stream-state'),
  updated: byTestId('updated'),
  nodeInfo: byTestId('node-info'),
  connections: byTestId('connections'),
  users: byTestId('users'),
  rooms: byTestId('rooms'),
  eventsPerSecond: byTestId('events-per-second'),
  deliveredPerSecond: byTestId('delivered-per-second'),
  chart: byTestId('throughput-chart'),
  grid: document.querySelector('[data-role="grid"]'),
  area: document.querySelector('[data-role="area"]'),
  empty: document.querySelector('[data-role="empty"]'),
  seriesEvents: byTestId('series-events'),
  seriesDelivered: byTestId('series-delivered'),
  roomsBody: byTestId('rooms-table').tBodies[0],
  roomsNote: byTestId('rooms-note'),
  historyBar: byTestId('history-bar'),
  historyFill: byTestId('history-bar').firstElementChild,
  historySize: byTestId('history-size'),
  historyPercent: byTestId('history-percent'),
  historyBytes: byTestId('history-bytes'),
  historyOldest: byTestId('history-oldest'),
  historyHead: byTestId('history-head'),
  slowDisconnects: byTestId('slow-disconnects'),
  dropped: byTestId('dropped'),
  keyForm: byTestId('key-form'),
  keyInput: byTestId('key-input'),
  keyError: byTestId('key-error'),
};

/** Samples of the last two minutes: { time, events, delivered }. */
const samples = [];

// ── Formatting ──────────────────────────────────────────────────────────────────────────

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const rate = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = -1;
  do {
    value /= 1024;
    unit++;
  } while (value >= 1024 && unit < units.length - 1);
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Sets a figure's text and its raw value (data-value), for people and for tests. */
function setFigure(node, value, format = integer) {
  node.textContent = format.format(value);
  node.dataset.value = String(value);
}

function setState(state) {
  ui.state.dataset.state = state;
  ui.state.textContent = STATE_TEXT[state];
}

// ── Chart ───────────────────────────────────────────────────────────────────────────────

/** A round axis maximum at or above `value`: 1, 2, 5, 10, 20, 50… */
function niceMax(value) {
  if (value <= 4) return 4;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A path through the samples, broken where samples are missing. */
function linePath(points, x, y, key) {
  let d = '';
  let previous = null;
  for (const point of points) {
    const command = previous === null || point.time - previous.time > GAP_MS ? 'M' : 'L';
    d += `${command}${x(point.time).toFixed(1)},${y(point[key]).toFixed(1)}`;
    previous = point;
  }
  return d;
}

function drawChart(now) {
  const { width, height, left, right, top, bottom } = CHART;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const start = now - WINDOW_MS;
  const max = niceMax(Math.max(0, ...samples.map((sample) => Math.max(sample.events, sample.delivered))));
  const x = (time) => left + ((time - start) / WINDOW_MS) * plotWidth;
  const y = (value) => top + plotHeight - (value / max) * plotHeight;

  const grid = [];
  for (let i = 0; i <= 4; i++) {
    const value = (max / 4) * i;
    grid.push(svg('line', { class: 'grid-line', x1: left, x2: width - right, y1: y(value), y2: y(value) }));
    grid.push(svg('text', { class: 'axis-label', x: left - 8, y: y(value) + 4, 'text-anchor': 'end' }, rate.format(value)));
  }
  for (const secondsAgo of [120, 90, 60, 30, 0]) {
    const label = secondsAgo === 0 ? 'now' : `−${secondsAgo}s`;
    const anchor = secondsAgo === 120 ? 'start' : secondsAgo === 0 ? 'end' : 'middle';
    grid.push(svg('text', { class: 'axis-label', x: x(now - secondsAgo * 1000), y: height - 8, 'text-anchor': anchor }, label));
  }
  ui.grid.replaceChildren(...grid);

  const points = samples.filter((sample) => sample.time >= start);
  ui.seriesEvents.setAttribute('d', linePath(points, x, y, 'events'));
  ui.seriesDelivered.setAttribute('d', linePath(points, x, y, 'delivered'));
  ui.seriesEvents.dataset.points = String(points.length);
  ui.seriesDelivered.dataset.points = String(points.length);
  ui.chart.dataset.max = String(max);
  ui.chart.dataset.peakEvents = String(Math.max(0, ...points.map((point) => point.events)));

  // The area under events/s, closed along the baseline of each unbroken run.
  let area = '';
  let run = [];
  const flush = () => {
    if (run.length > 1) {
      area += `M${x(run[0].time).toFixed(1)},${y(0).toFixed(1)}`;
      for (const point of run) area += `L${x(point.time).toFixed(1)},${y(point.events).toFixed(1)}`;
      area += `L${x(run[run.length - 1].time).toFixed(1)},${y(0).toFixed(1)}Z`;
    }
    run = [];
  };
  for (const point of points) {
    if (run.length > 0 && point.time - run[run.length - 1].time > GAP_MS) flush();
    run.push(point);
  }
  flush();
  ui.area.setAttribute('d', area);
  ui.empty.style.display = points.length > 1 ? 'none' : '';
}

// ── Tables and figures ──────────────────────────────────────────────────────────────────

function renderRooms(roomSizes, total) {
  if (roomSizes.length === 0) {
    const row = document.createElement('tr');
    row.className = 'empty-row';
    const cell = document.createElement('td');
    cell.colSpan = 3;
    cell.textContent = 'No rooms with members.';
    row.append(cell);
    ui.roomsBody.replaceChildren(row);
  } else {
    const largest = Math.max(...roomSizes.map((room) => room.size));
    ui.roomsBody.replaceChildren(
      ...roomSizes.map((room) => {
        const row = document.createElement('tr');
        row.dataset.testid = 'room-row';
        row.dataset.room = room.name;
        const name = document.createElement('td');
        name.className = 'room-name';
        name.textContent = room.name;
        const size = document.createElement('td');
        size.className = 'num';
        size.dataset.testid = 'room-size';
        size.textContent = integer.format(room.size);
        const share = document.createElement('td');
        const bar = document.createElement('div');
        bar.className = 'mini-bar';
        const fill = document.createElement('span');
        fill.style.width = `${Math.max(4, (room.size / largest) * 100)}%`;
        bar.append(fill);
        share.append(bar);
        row.append(name, size, share);
        return row;
      }),
    );
  }
  ui.roomsNote.textContent = total > roomSizes.length ? `largest ${roomSizes.length} of ${integer.format(total)}` : '';
}

function renderHistory(history) {
  const fraction = history.maxEvents > 0 ? Math.min(1, history.size / history.maxEvents) : 0;
  // A history that holds anything shows at least a sliver.
  ui.historyFill.style.width = history.size > 0 ? `max(4px, ${(fraction * 100).toFixed(2)}%)` : '0';
  ui.historyBar.setAttribute('aria-valuenow', fraction.toFixed(4));
  ui.historyBar.dataset.size = String(history.size);
  ui.historyBar.dataset.max = String(history.maxEvents);
  ui.historySize.textContent =
    history.maxEvents > 0 ? `${integer.format(history.size)} / ${integer.format(history.maxEvents)} events` : 'history off';
  ui.historySize.dataset.value = String(history.size);
  ui.historyPercent.textContent = history.maxEvents > 0 ? `${(fraction * 100).toFixed(fraction > 0 && fraction < 0.01 ? 2 : 0)}%` : '';
  ui.historyBytes.textContent = formatBytes(history.bytes);
  ui.historyOldest.textContent = history.oldestId ?? '–';
  ui.historyHead.textContent = history.headId;
}

function render(stats) {
  setFigure(ui.connections, stats.clients);
  setFigure(ui.users, stats.users);
  setFigure(ui.rooms, stats.rooms);
  setFigure(ui.eventsPerSecond, stats.eventsPerSecond, rate);
  setFigure(ui.deliveredPerSecond, stats.deliveredPerSecond, rate);
  renderRooms(stats.roomSizes, stats.rooms);
  renderHistory(stats.history);
  setFigure(ui.slowDisconnects, stats.slowDisconnects);
  setFigure(ui.dropped, stats.dropped);
  ui.slowDisconnects.classList.toggle('alert', stats.slowDisconnects > 0);
  ui.dropped.classList.toggle('alert', stats.dropped > 0);

  samples.push({ time: stats.time, events: stats.eventsPerSecond, delivered: stats.deliveredPerSecond });
  while (samples.length > 0 && samples[0].time < stats.time - WINDOW_MS) samples.shift();
  drawChart(stats.time);
  ui.updated.textContent = `updated ${new Date(stats.time).toLocaleTimeString([], { hour12: false })}`;
}

// ── The key ─────────────────────────────────────────────────────────────────────────────
// A hub with a publish key or JWTs shows its figures only to publishers. EventSource cannot
// set headers, so the stream takes the key as ?token=; /status takes it as a bearer token.

function storedKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

function storeKey(key) {
  try {
    if (key === null) sessionStorage.removeItem(KEY_STORAGE);
    else sessionStorage.setItem(KEY_STORAGE, key);
  } catch {}
}

/** Shows the key form; `problem` says why the last key was refused. */
function askForKey(problem) {
  setState('locked');
  ui.keyError.textContent = problem;
  ui.keyForm.hidden = false;
  ui.keyInput.focus();
}

ui.keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const key = ui.keyInput.value.trim();
  if (key === '') return;
  storeKey(key);
  ui.keyInput.value = '';
  ui.keyError.textContent = '';
  ui.keyForm.hidden = true;
  setState('connecting');
  connect();
});

// ── The stream ──────────────────────────────────────────────────────────────────────────

let source = null;
let nodeShown = false;

function connect() {
  source?.close();
  const url = new URL('/dashboard/stream', location.href);
  const key = storedKey();
  if (key !== null) url.searchParams.set('token', key);
  const current = new EventSource(url);
  source = current;
  current.addEventListener('stats', (event) => {
    setState('open');
    render(JSON.parse(event.data));
    if (!nodeShown) showNode();
  });
  current.onopen = () => setState('open');
  current.onerror = () => {
    if (current !== source) return;
    // CLOSED: the hub answered with an error, and the browser will not retry by itself.
    if (current.readyState === EventSource.CLOSED) explainRefusal(url, key);
    else setState('reconnecting');
  };
}

/** EventSource hides the status of a refusal: asks again to tell a missing key from an outage. */
async function explainRefusal(url, key) {
  const controller = new AbortController();
  try {
    const response = await fetch(url, { headers: { accept: 'text/event-stream' }, cache: 'no-store', signal: controller.signal });
    if (response.status === 401 || response.status === 403) {
      const body = await response.json().catch(() => null);
      // A refused key is forgotten: asking again beats failing on every reload.
      if (key !== null) storeKey(null);
      const reason = body?.error?.message ?? response.statusText;
      askForKey(key === null ? '' : `The hub refused this key: ${reason}`);
      return;
    }
    controller.abort();
  } catch {}
  setState('failed');
}

async function showNode() {
  nodeShown = true;
  const key = storedKey();
  try {
    const headers = key === null ? {} : { authorization: `Bearer ${key}` };
    const response = await fetch('/status', { cache: 'no-store', headers });
    if (!response.ok) return;
    const status = await response.json();
    ui.nodeInfo.textContent = [status.version && `v${status.version}`, status.nodeId].filter(Boolean).join(' · ');
  } catch {}
}

drawChart(Date.now());
setState('connecting');
connect();
