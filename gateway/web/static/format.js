// Pure helpers of the live page: no DOM, no network, so node --test can load them
// (tests/browser/page_format_test.mjs).

// The demo feed's symbols: deploy/run-demo.sh runs `orderbook-feed --symbols=10`, which
// publishes the first 10 of ingest/feed/book_generator.cc's kTickers, in this order.
export const DEMO_SYMBOLS = Object.freeze([
  'AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'META', 'TSLA', 'BRK.B', 'JPM', 'V',
]);

// docs/protocol.md 2.2: the gateway refuses anything else with invalid_symbol; checking here
// keeps a typo in the input box from costing a round trip and an error banner.
const SYMBOL_RE = /^[A-Za-z0-9._:-]{1,32}$/;
export function isValidSymbol(s) {
  return typeof s === 'string' && SYMBOL_RE.test(s);
}

// "AAPL, msft  BRK.B" -> ['AAPL', 'MSFT', 'BRK.B']. Symbols are case sensitive on the gateway,
// but every ticker the demo (and most venues) publish is upper case, and a user typing "aapl"
// means AAPL; symbols with lower-case letters can still be given through ?symbols=.
export function parseSymbolList(text, { upper = true } = {}) {
  const out = [];
  for (const raw of String(text).split(/[\s,;]+/)) {
    if (!raw) continue;
    const s = upper ? raw.toUpperCase() : raw;
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

// The gateway's timestamps are Python isoformat() with 6 fractional digits and "+00:00"
// (docs/protocol.md 2.3); Date.parse would drop the microseconds, which matter for a
// latency of a few hundred microseconds. Returns milliseconds since 1970 (fractional), or NaN.
const ISO_RE = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)?$/;
export function parseIsoMs(text) {
  if (typeof text !== 'string') return NaN;
  const m = ISO_RE.exec(text.trim());
  if (!m) return NaN;
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
  let ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  if (frac) ms += Number(`0.${frac}`) * 1000;
  if (zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60000;
  }
  return ms;
}

// Levels sorted for a ladder: best first (bids: highest price, asks: lowest), levels that are
// not finite numbers dropped. gRPC books arrive in the order the producer wrote them and REST
// bodies are whatever the backend posted, so the page cannot assume either is sorted.
export function sortLevels(levels, side) {
  const ok = (levels || []).filter(
    (l) => l && Number.isFinite(l.price) && Number.isFinite(l.volume) && l.volume >= 0);
  ok.sort(side === 'bids' ? (a, b) => b.price - a.price : (a, b) => a.price - b.price);
  return ok;
}

// What changed at each price since the previous book of the same side, for the flash:
// 'new' (price not there before), 'up' / 'down' (volume grew / shrank), or '' (same).
export function levelChanges(prevLevels, levels) {
  const before = new Map();
  for (const l of prevLevels || []) before.set(l.price, l.volume);
  return levels.map((l) => {
    if (!before.has(l.price)) return prevLevels ? 'new' : '';
    const v = before.get(l.price);
    if (l.volume > v) return 'up';
    if (l.volume < v) return 'down';
    return '';
  });
}

// Cumulative volume outward from the best price: the depth chart's steps.
export function cumulative(levels) {
  let sum = 0;
  return levels.map((l) => ({ price: l.price, total: (sum += l.volume) }));
}

// Decimal places to show for a book's prices: enough for its finest tick, at most 8, so
// 189.5 and 189.48 line up as 189.50 / 189.48.
export function priceDecimals(levels) {
  let places = 2;
  for (const l of levels) {
    const text = String(l.price);
    if (text.includes('e')) return 8;
    const dot = text.indexOf('.');
    if (dot >= 0) places = Math.max(places, text.length - dot - 1);
  }
  return Math.min(places, 8);
}

export function formatVolume(v) {
  if (!Number.isFinite(v)) return '';
  if (Math.abs(v) >= 1e9) return `${(v / 1e9).toFixed(2)}B`;
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(Math.min(6, Math.max(2, priceDecimals([{ price: v }]))));
}

// "850 ms", "12.3 s", "4 min": the age of a book or of a health answer.
export function formatAge(ms) {
  if (!Number.isFinite(ms)) return '–';
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3600000) return `${Math.floor(ms / 60000)} min`;
  return `${(ms / 3600000).toFixed(1)} h`;
}

// Latency with sub-millisecond precision where it is that small: "0.4 ms", "12 ms".
export function formatLatency(ms) {
  if (!Number.isFinite(ms)) return '–';
  // Within a millisecond below zero is the two clocks' resolution, not a message from the
  // future; further below, the gateway's clock is ahead of this one, and that is shown.
  if (ms < 0 && ms > -1) ms = 0;
  if (Math.abs(ms) < 10) return `${ms.toFixed(1)} ms`;
  return formatAge(ms);
}

export function formatUptime(seconds) {
  if (!Number.isFinite(seconds)) return '–';
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}

// The p-th percentile (0..100) of a list of numbers, nearest rank; NaN when empty.
export function percentile(values, p) {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

// The `sub` claim of a JWT, read without verifying it (the gateway verifies): the page's
// client_id must equal it (docs/protocol.md 2.15, token_wrong_sub).
export function jwtSubject(token) {
  try {
    const part = String(token).split('.')[1];
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const json = decodeURIComponent(
      Array.from(atob(b64), (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''));
    const sub = JSON.parse(json).sub;
    return typeof sub === 'string' && sub ? sub : null;
  } catch {
    return null;
  }
}
