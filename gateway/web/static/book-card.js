// One symbol's card: its header (seq, age, latency, resyncs), the price ladder and the depth
// chart. The ladder keeps a fixed pool of row elements and rewrites their text, so a book
// costs a few text updates, not a rebuilt table.
import { DepthChart } from './depth-chart.js';
import {
  formatAge, formatLatency, formatVolume, levelChanges, priceDecimals, sortLevels,
} from './format.js';

export const LADDER_DEPTH = 10;  // levels shown per side

// How long a changed level stays highlighted (style.css: its size or, new, its price). The flash is a static highlight switched on with
// the book and off by one timer per card, not an animation per row: with the demo's 20 books/s
// every level of every ladder changes, and 200 rows animating (background or opacity) kept the
// main thread busy enough to delay the WebSocket messages themselves by 100 ms and more on a
// 2-core machine without a GPU (which the page's latency figure then showed).
const FLASH_MS = 350;
// Users who asked their system for less motion get no flashes.
const reducedMotion = globalThis.matchMedia?.('(prefers-reduced-motion: reduce)');

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export class BookCard {
  constructor(symbol, { onRemove }) {
    this.symbol = symbol;
    this.prev = { bids: null, asks: null };
    this.lastBookAt = NaN;     // gateway time of the book shown (ms since 1970)
    this.resyncs = 0;
    this.flashTimer = null;

    this.root = el('section', 'card');
    this.root.dataset.symbol = symbol;

    const head = el('header', 'card-head');
    head.append(el('h2', 'card-symbol', symbol));
    this.badge = el('span', 'badge', 'waiting');
    head.append(this.badge);
    const remove = el('button', 'card-remove', '×');
    remove.type = 'button';
    remove.title = `Stop following ${symbol}`;
    remove.setAttribute('aria-label', `Remove ${symbol}`);
    remove.addEventListener('click', () => onRemove(symbol));
    head.append(remove);
    this.root.append(head);

    const facts = el('dl', 'card-facts');
    const fact = (label, title) => {
      const dt = el('dt', '', label);
      const dd = el('dd', '', '–');
      if (title) { dt.title = title; dd.title = title; }
      facts.append(dt, dd);
      return dd;
    };
    this.seqEl = fact('seq', 'The gateway\'s per-symbol sequence number of the book shown');
    this.ageEl = fact('age', 'Now minus the gateway timestamp of the book shown (for a snapshot: '
      + 'when its book was published, so it shows how old the book is)');
    this.latencyEl = fact('latency', 'End-to-end latency of the last live book: the time the '
      + 'browser received it minus the time the gateway sequenced it (the message\'s timestamp). '
      + 'Same machine: exact; otherwise it includes the clocks\' offset');
    this.spreadEl = fact('spread', 'Best ask minus best bid');
    this.resyncEl = fact('resyncs', 'seq gaps seen on this symbol: each one makes the client '
      + 'resubscribe for a fresh snapshot');
    this.root.append(facts);

    const body = el('div', 'card-body');
    this.ladder = el('div', 'ladder');
    this.ladder.setAttribute('role', 'table');
    this.ladder.setAttribute('aria-label', `${symbol} price ladder`);
    const columns = el('div', 'ladder-row ladder-cols');
    columns.append(el('span', 'px', 'price'), el('span', 'vol', 'size'), el('span', 'ord', 'orders'));
    this.ladder.append(columns);
    this.askRows = this.makeRows('ask');
    this.spreadRow = el('div', 'ladder-row ladder-spread', '');
    this.bidRows = this.makeRows('bid');
    // Asks above the spread, best (lowest) next to it: the pool is laid out reversed.
    for (let i = this.askRows.length - 1; i >= 0; i--) this.ladder.append(this.askRows[i].row);
    this.ladder.append(this.spreadRow);
    for (const r of this.bidRows) this.ladder.append(r.row);
    body.append(this.ladder);

    this.canvas = el('canvas', 'depth');
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', `${symbol} depth chart`);
    body.append(this.canvas);
    this.root.append(body);
    this.chart = new DepthChart(this.canvas);
  }

  makeRows(side) {
    const rows = [];
    for (let i = 0; i < LADDER_DEPTH; i++) {
      const row = el('div', `ladder-row ${side} empty`);
      row.setAttribute('role', 'row');
      const bar = el('span', 'bar');
      const px = el('span', 'px');
      const vol = el('span', 'vol');
      const ord = el('span', 'ord');
      row.append(bar, px, vol, ord);
      rows.push({ row, bar, px, vol, ord });
    }
    return rows;
  }

  // book: the client library's normalised book; meta: its {seq, snapshot, ...};
  // gatewayMs: the message's timestamp in ms; latencyMs: receivedAt - gatewayMs, or NaN for a
  // snapshot (its timestamp is the book's original one: an age, not a latency).
  show(book, meta, gatewayMs, latencyMs) {
    const bids = sortLevels(book.bids, 'bids');
    const asks = sortLevels(book.asks, 'asks');
    const shownBids = bids.slice(0, LADDER_DEPTH);
    const shownAsks = asks.slice(0, LADDER_DEPTH);
    const decimals = priceDecimals([...shownBids, ...shownAsks]);
    const maxVol = Math.max(1e-12, ...shownBids.map((l) => l.volume), ...shownAsks.map((l) => l.volume));

    this.fill(this.bidRows, shownBids, levelChanges(this.prev.bids, shownBids), decimals, maxVol);
    this.fill(this.askRows, shownAsks, levelChanges(this.prev.asks, shownAsks), decimals, maxVol);
    this.prev = { bids: shownBids, asks: shownAsks };

    if (bids.length && asks.length) {
      const spread = asks[0].price - bids[0].price;
      const mid = (asks[0].price + bids[0].price) / 2;
      this.spreadEl.textContent = spread.toFixed(decimals);
      this.spreadRow.textContent = `mid ${mid.toFixed(decimals + 1)} · spread ${spread.toFixed(decimals)}`;
    } else {
      this.spreadEl.textContent = '–';
      this.spreadRow.textContent = bids.length || asks.length ? 'one-sided book' : 'empty book';
    }

    this.chart.update(bids, asks, decimals);
    this.seqEl.textContent = meta.seq ?? '–';
    this.root.dataset.seq = meta.seq ?? '';
    this.lastBookAt = gatewayMs;
    if (Number.isFinite(latencyMs)) this.latencyEl.textContent = formatLatency(latencyMs);
    this.badge.textContent = meta.snapshot ? 'snapshot' : 'live';
    this.badge.className = `badge ${meta.snapshot ? 'snapshot' : 'live'}`;
    this.root.classList.remove('stale');
    this.tick(Date.now());
  }

  fill(rows, levels, changes, decimals, maxVol) {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      const level = levels[i];
      if (!level) {
        r.row.classList.add('empty');
        r.px.textContent = '';
        r.vol.textContent = '';
        r.ord.textContent = '';
        r.bar.style.transform = 'scaleX(0)';
        r.row.dataset.flash = '';
        continue;
      }
      r.row.classList.remove('empty');
      r.px.textContent = level.price.toFixed(decimals);
      r.vol.textContent = formatVolume(level.volume);
      r.ord.textContent = Number.isFinite(level.orders) ? String(level.orders) : '';
      r.bar.style.transform = `scaleX(${level.volume / maxVol})`;
      const change = reducedMotion?.matches ? '' : changes[i];
      if (r.row.dataset.flash !== change) r.row.dataset.flash = change;
    }
    if (changes.some(Boolean)) {
      clearTimeout(this.flashTimer);
      this.flashTimer = setTimeout(() => this.clearFlashes(), FLASH_MS);
    }
  }

  clearFlashes() {
    for (const r of [...this.bidRows, ...this.askRows]) {
      if (r.row.dataset.flash) r.row.dataset.flash = '';
    }
  }

  gap() {
    this.resyncs += 1;
    this.resyncEl.textContent = String(this.resyncs);
  }

  // Called a few times a second: the age keeps counting between books, and a book older
  // than 5 s greys the card (the feed stopped, or this symbol is not published).
  tick(now) {
    if (!Number.isFinite(this.lastBookAt)) return;
    const age = now - this.lastBookAt;
    this.ageEl.textContent = formatAge(age);
    this.root.classList.toggle('stale', age > 5000);
  }

  destroy() {
    clearTimeout(this.flashTimer);
    this.chart.destroy();
    this.root.remove();
  }
}
