// The live page: wires the client library to the symbol picker, one BookCard per symbol, the
// connection / latency / health strip. Plain ES modules served as they are (no build step).
//
// URL options (all optional):
//   ?symbols=AAPL,MSFT   follow these instead of the remembered (or demo) symbols
//   #token=JWT           the browser token when the gateway runs with auth (docs/protocol.md
//                        2.15); in the fragment so it never reaches a server log. The page's
//                        client_id is then the token's `sub`, which the gateway requires.
import { WebSocketClient } from '/client/orderbook-client.js';
import { BookCard } from './book-card.js';
import {
  DEMO_SYMBOLS, formatAge, formatLatency, formatUptime, isValidSymbol, jwtSubject, parseIsoMs,
  parseSymbolList, percentile,
} from './format.js';
import { HealthPoller } from './health.js';

const MAX_SYMBOLS = 50;            // the gateway's default --max_subscriptions
const LATENCY_WINDOW = 200;        // live books the latency percentiles are taken over
const STORAGE_SYMBOLS = 'obgw.page.symbols';
const STORAGE_CLIENT = 'obgw.page.clientId';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const fragment = new URLSearchParams(location.hash.slice(1));

// --- who we are -------------------------------------------------------------------------
const token = fragment.get('token') || undefined;
// One client_id per tab, kept across reloads: docs/protocol.md 2.14 (tabs sharing an id share
// one session, so each tab gets its own; a reload gets its session back).
function clientId() {
  const sub = token && jwtSubject(token);
  if (sub) return sub;
  let id = null;
  try { id = sessionStorage.getItem(STORAGE_CLIENT); } catch { /* storage disabled */ }
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(6));
    id = `page-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
    try { sessionStorage.setItem(STORAGE_CLIENT, id); } catch { /* storage disabled */ }
  }
  return id;
}

function initialSymbols() {
  if (params.has('symbols')) {
    return parseSymbolList(params.get('symbols'), { upper: false }).filter(isValidSymbol);
  }
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_SYMBOLS) || 'null');
    if (Array.isArray(saved)) return saved.filter(isValidSymbol);
  } catch { /* unreadable: fall back to the demo */ }
  return [...DEMO_SYMBOLS];
}

const id = clientId();
// The library's default URL: this page's host. The gateway's Content-Security-Policy for the
// page lets it connect nowhere else, so there is no option for another gateway.
const client = new WebSocketClient(id, { token });

const cards = new Map();   // symbol -> BookCard, in display order
const pending = new Map(); // symbol -> the newest book not yet drawn
const latencies = [];      // ms, the last LATENCY_WINDOW live books
let lastBook = { at: NaN, symbol: null };
let frameRequested = false;
let healthOffset = null;   // {offsetMs, rtt} from the last /health answer

// Wall-clock time with performance.now()'s resolution. The monotonic clock can drift from
// the wall clock (NTP slews it, a suspended laptop): past a millisecond apart, Date.now() wins.
function preciseNow() {
  const precise = performance.timeOrigin + performance.now();
  const wall = Date.now();
  return precise - wall > -1 && precise - wall < 2 ? precise : wall;
}

// --- symbols ------------------------------------------------------------------------------
function saveSymbols() {
  if (params.has('symbols')) return;  // a URL's list is that link's, not the remembered one
  try { localStorage.setItem(STORAGE_SYMBOLS, JSON.stringify([...cards.keys()])); } catch { /* */ }
}

function notice(text) {
  const n = $('notice');
  n.textContent = text || '';
  n.hidden = !text;
}

function addSymbol(symbol) {
  if (cards.has(symbol)) return;
  if (!isValidSymbol(symbol)) {
    notice(`"${symbol}" is not a symbol: 1-32 characters of A-Z a-z 0-9 . _ : -`);
    return;
  }
  if (cards.size >= MAX_SYMBOLS) {
    notice(`At most ${MAX_SYMBOLS} symbols per connection (the gateway's --max_subscriptions).`);
    return;
  }
  const card = new BookCard(symbol, { onRemove: removeSymbol });
  cards.set(symbol, card);
  $('cards').append(card.root);
  // Before connect() too: the library queues it until the socket is open.
  client.subscribe(symbol);
  renderChips();
  saveSymbols();
}

function removeSymbol(symbol) {
  if (!cards.has(symbol)) return;
  client.unsubscribe(symbol);
  dropCard(symbol);
}

function dropCard(symbol) {
  const card = cards.get(symbol);
  card.destroy();
  cards.delete(symbol);
  pending.delete(symbol);
  renderChips();
  saveSymbols();
}

function renderChips() {
  const list = $('chips');
  list.replaceChildren(...[...cards.keys()].map((symbol) => {
    const li = document.createElement('li');
    li.className = 'chip';
    li.dataset.symbol = symbol;
    const name = document.createElement('span');
    name.textContent = symbol;
    const x = document.createElement('button');
    x.type = 'button';
    x.textContent = '×';
    x.setAttribute('aria-label', `Remove ${symbol}`);
    x.addEventListener('click', () => removeSymbol(symbol));
    li.append(name, x);
    return li;
  }));
}

$('add-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('symbol-input');
  notice('');
  for (const s of parseSymbolList(input.value)) addSymbol(s);
  input.value = '';
});

$('reset-symbols').addEventListener('click', () => {
  notice('');
  for (const s of [...cards.keys()]) if (!DEMO_SYMBOLS.includes(s)) removeSymbol(s);
  for (const s of DEMO_SYMBOLS) addSymbol(s);
});

$('symbol-suggestions').replaceChildren(...DEMO_SYMBOLS.map((s) => {
  const o = document.createElement('option');
  o.value = s;
  return o;
}));

// --- books --------------------------------------------------------------------------------
client.addEventListener('orderbook', (event) => {
  const { symbol, book, meta } = event.detail;
  if (!cards.has(symbol)) return;  // an unsubscribed symbol's books still in flight
  const gatewayMs = parseIsoMs(meta.gatewayTime);
  // Now, to a fraction of a millisecond: the library's receivedAt is Date.now(), whole
  // milliseconds, as coarse as the latency of a local gateway itself. The library dispatches
  // synchronously from the socket's message event, so now is when the book arrived.
  const receivedAt = preciseNow();
  // A snapshot's timestamp is when its book was published, possibly minutes ago: that is an
  // age, not a delivery latency, so only live books are measured.
  const latencyMs = !meta.snapshot && Number.isFinite(gatewayMs) ? receivedAt - gatewayMs : NaN;
  if (Number.isFinite(latencyMs)) {
    latencies.push(latencyMs);
    if (latencies.length > LATENCY_WINDOW) latencies.shift();
  }
  if (Number.isFinite(gatewayMs) && !(gatewayMs < lastBook.at)) lastBook = { at: gatewayMs, symbol };
  pending.set(symbol, { book, meta, gatewayMs, latencyMs });
  // Drawn at the next frame: a burst of books for one symbol costs one redraw, and a hidden
  // tab (no frames) keeps only the newest book per symbol.
  if (!frameRequested) {
    frameRequested = true;
    requestAnimationFrame(drawPending);
  }
});

function drawPending() {
  frameRequested = false;
  for (const [symbol, p] of pending) {
    const card = cards.get(symbol);
    if (card) card.show(p.book, p.meta, p.gatewayMs, p.latencyMs);
  }
  pending.clear();
  renderLatency();
}

client.addEventListener('gap', (event) => {
  cards.get(event.detail.symbol)?.gap();
});

client.addEventListener('error', (event) => {
  const { code, message, symbol } = event.detail || {};
  // Shown, not logged: the page's own console stays clean, and the user sees why a symbol
  // has no book (forbidden by the token, subscription limit, ...).
  notice(`gateway: ${code || 'error'}${symbol ? ` (${symbol})` : ''}: ${message || ''}`);
  // A refused subscription (forbidden by the token, over the limit, ...) has left the
  // library's wanted set: its card would wait for ever, so it goes too.
  const wanted = new Set(client.subscriptions);
  for (const s of event.detail?.symbols || []) {
    if (!wanted.has(s) && cards.has(s)) dropCard(s);
  }
});

// --- connection ---------------------------------------------------------------------------
const STATE_TEXT = {
  idle: 'idle',
  connecting: 'connecting…',
  open: 'open',
  reconnecting: 'reconnecting',
  closed: 'closed',
};
let retryAt = NaN;
let retryAttempt = 0;

function renderConnection() {
  const state = client.state;
  const box = $('conn');
  box.dataset.state = state;
  let text = STATE_TEXT[state] || state;
  if (state === 'reconnecting' && Number.isFinite(retryAt)) {
    const left = Math.max(0, retryAt - Date.now());
    text = `reconnecting: attempt ${retryAttempt}, in ${(left / 1000).toFixed(1)} s`;
  }
  $('conn-text').textContent = text;
}

client.addEventListener('state', (event) => {
  const { state, attempt, delayMs } = event.detail || {};
  if (state === 'reconnecting' && Number.isFinite(delayMs)) {
    retryAt = Date.now() + delayMs;
    retryAttempt = attempt;
  } else {
    retryAt = NaN;
  }
  renderConnection();
});

// --- the strip: last book, latency, health --------------------------------------------------
function renderLatency() {
  if (!latencies.length) return;
  const last = latencies[latencies.length - 1];
  $('latency-text').textContent =
    `${formatLatency(last)} · p50 ${formatLatency(percentile(latencies, 50))}` +
    ` · p99 ${formatLatency(percentile(latencies, 99))} (${latencies.length} books)`;
}

function tick() {
  const now = Date.now();
  for (const card of cards.values()) card.tick(now);
  $('last-book-text').textContent = Number.isFinite(lastBook.at)
    ? `${formatAge(now - lastBook.at)} ago (${lastBook.symbol})` : 'none yet';
  if (client.state === 'reconnecting') renderConnection();
}
setInterval(tick, 250);

const health = new HealthPoller();
health.addEventListener('health', (event) => {
  const d = event.detail;
  const box = $('health');
  if (!d.ok && !d.body) {
    box.dataset.status = 'unreachable';
    const since = Number.isFinite(health.lastOkAt)
      ? `, last answer ${formatAge(Date.now() - health.lastOkAt)} ago` : '';
    $('health-text').textContent = `${d.error}${since}`;
    return;
  }
  const b = d.body;
  box.dataset.status = b.status || 'unknown';
  healthOffset = { offsetMs: d.offsetMs, rtt: d.rtt };
  const parts = [
    b.status + (b.reason ? ` (${b.reason})` : ''),
    `${b.active_connections ?? '?'} conns`,
    `queue ${b.queue_depth ?? '?'}`,
    `up ${formatUptime(b.uptime_seconds)}`,
  ];
  if (b.version) parts.push(`v${b.version}`);
  if (Number.isFinite(d.offsetMs)) {
    parts.push(`clock offset ${d.offsetMs >= 0 ? '+' : ''}${d.offsetMs.toFixed(0)} ms ±${Math.ceil(d.rtt / 2)}`);
  }
  if (d.restarted) parts.push('restarted');
  $('health-text').textContent = parts.join(' · ');
  box.title = `GET /health, polled every 2 s; epoch ${b.epoch}. The clock offset is the gateway's `
    + 'clock minus this browser\'s, estimated from the answer\'s timestamp.';
});

// --- start ----------------------------------------------------------------------------------
$('client-id').textContent = `client_id ${id}${token ? ' (from the token)' : ''}`;
for (const s of initialSymbols()) addSymbol(s);
if (!cards.size) notice('No symbols: add one above, or press "Demo symbols".');
client.connect();
health.start();
renderConnection();
tick();

// For a developer's console (and nothing else depends on it).
globalThis.orderbookPage = { client, cards, health, latencies, get clockOffset() { return healthOffset; } };
