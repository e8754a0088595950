// orderbook-client.js: the browser client of orderbook-gateway (docs/browser-client.md).
//
// A plain ES module with no dependencies and no build step: the gateway serves it at
// /client/orderbook-client.js. It keeps the integration guide's WebSocketClient API
// (new WebSocketClient(clientId), connect, subscribe, unsubscribe, disconnect,
// onOrderBookUpdate) and fixes its bugs: subscriptions made before the socket opens are
// kept and sent once it is open, reconnects go on for ever with capped exponential
// backoff and full jitter, disconnect() stops them, and a reconnect gets its symbols
// back (from the gateway's session_restored or by subscribing again). On top: per-symbol
// seq/epoch gap detection, connection-state events, the browser token of
// docs/protocol.md 2.15, and both shapes of `data` normalised.
//
// It runs in browsers and in Node 20 (pass `WebSocket` in the options there).

const SYMBOL_RE = /^[A-Za-z0-9._:-]{1,32}$/;
// readyState values, spelled out: a WebSocket implementation passed in the options
// need not carry the static constants.
const WS_OPEN = 1;
const WS_CLOSED = 3;
// The gateway refuses lists of more than 1000 symbols per request (too_many_symbols).
const MAX_SYMBOLS_PER_REQUEST = 1000;
// Errors that refuse a whole subscribe request: none of its symbols is subscribed, and
// asking again cannot help, so they leave the wanted set (docs/protocol.md 2.6).
const REQUEST_REFUSALS = new Set([
  'subscription_limit', 'invalid_symbol', 'invalid_symbols', 'too_many_symbols', 'missing_symbol',
]);

// Event with a `detail`: CustomEvent where there is one (browsers, Node 19+); Node 18, the
// nodejs of Debian 12, has Event but no global CustomEvent.
const DetailEvent = typeof globalThis.CustomEvent === 'function' ? globalThis.CustomEvent
  : class DetailEvent extends Event {
    constructor(type, init = {}) {
      super(type, init);
      this.detail = init.detail ?? null;
    }
  };

// --- Pure helpers, exported for tests and for pages that receive books elsewhere ----------

/**
 * Full-jitter backoff (AWS architecture blog, "Exponential Backoff And Jitter"): a delay
 * drawn uniformly from [0, min(maxMs, minMs * 2^(attempt-1))). Jitter spreads the
 * reconnects of every browser that lost the same gateway (a deploy) over the whole window
 * instead of having them all arrive together at each step.
 * @param {number} attempt 1 for the first reconnect after a drop, 2 for the next, ...
 */
export function backoffDelay(attempt, minMs, maxMs, random = Math.random) {
  const cap = Math.min(maxMs, minMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * cap);
}

function toNumber(value) {
  if (typeof value === 'number') return value;
  // REST bodies are forwarded verbatim, and many publishers quote prices ("189.50")
  // to keep their decimal text.
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  return NaN;
}

const PRICE_KEYS = ['price', 'p', 'px', 'Price'];
const VOLUME_KEYS = ['volume', 'size', 'quantity', 'qty', 'amount', 'vol', 'v', 'Volume'];
const ORDERS_KEYS = ['orders', 'order_count', 'orderCount', 'order_num', 'orderNum',
  'num_orders', 'numOrders', 'count', 'Orders'];

function pick(object, keys) {
  for (const key of keys) if (object[key] !== undefined) return object[key];
  return undefined;
}

/**
 * One side of a book as [{price, volume, orders}], in the order received. Levels are
 * `[price, volume, orders, ...]` arrays (gRPC books, docs/protocol.md 4.4; Futu-style
 * tuples) or objects with price/volume/orders under common names (REST bodies, which the
 * gateway forwards unread). `orders` is null when the level does not say. A level
 * without a finite price and volume is skipped: a ladder cannot place it.
 */
export function normalizeLevels(levels) {
  if (!Array.isArray(levels)) return [];
  const out = [];
  for (const level of levels) {
    let price;
    let volume;
    let orders;
    if (Array.isArray(level)) {
      [price, volume, orders] = level;
    } else if (level !== null && typeof level === 'object') {
      price = pick(level, PRICE_KEYS);
      volume = pick(level, VOLUME_KEYS);
      orders = pick(level, ORDERS_KEYS);
    } else {
      continue;
    }
    price = toNumber(price);
    volume = toNumber(volume);
    if (!Number.isFinite(price) || !Number.isFinite(volume)) continue;
    orders = toNumber(orders);
    out.push({ price, volume, orders: Number.isFinite(orders) ? orders : null });
  }
  return out;
}

/**
 * `data` of an orderbook_update as {bids, asks, timestamp, raw}: the same shape whether
 * the book came over REST (the POST body verbatim) or gRPC ([[price,volume,orders],...]).
 * `raw` is `data` itself, for fields this does not know (source_time_ns, ...).
 */
export function normalizeBook(data) {
  const isObject = data !== null && typeof data === 'object' && !Array.isArray(data);
  const source = isObject ? data : {};
  const timestamp = source.timestamp ?? source.time ?? null;
  return {
    bids: normalizeLevels(source.bids ?? source.Bids ?? source.Bid ?? source.bid),
    asks: normalizeLevels(source.asks ?? source.Asks ?? source.Ask ?? source.ask),
    timestamp,
    raw: data,
  };
}

/**
 * The gateway's `timestamp` ("2024-01-01T12:00:00.123456+00:00") in milliseconds since
 * 1970, keeping the microseconds as a fraction (Date.parse stops at milliseconds). Null
 * when absent or not ISO 8601.
 */
export function parseGatewayTime(text) {
  if (typeof text !== 'string') return null;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$/.exec(text);
  if (!m) return null;
  const whole = Date.parse(m[1] + (m[3] ?? 'Z'));
  if (Number.isNaN(whole)) return null;
  return m[2] ? whole + Number(`0.${m[2]}`) * 1000 : whole;
}

function validClientId(id) {
  if (typeof id !== 'string' || id.length === 0) return false;
  // 1-128 bytes, no '/' and no control characters (docs/protocol.md 2.1).
  if (new TextEncoder().encode(id).length > 128) return false;
  return !/[/\u0000-\u001f\u007f]/.test(id);
}

function defaultBaseUrl() {
  const location = globalThis.location;
  if (!location || !location.host) {
    throw new TypeError('WebSocketClient: pass options.url outside a browser page');
  }
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
}

// --- The client ---------------------------------------------------------------------------

/**
 * A WebSocket client of orderbook-gateway: see orderbook-client.d.ts for the API and
 * docs/browser-client.md for the behaviour. Events (it is an EventTarget): 'state',
 * 'orderbook', 'gap', 'error', 'subscribed', 'unsubscribed', 'authenticated'.
 */
export class WebSocketClient extends EventTarget {
  /** The guide's callback, kept: (symbol, book, meta). */
  onOrderBookUpdate = null;

  #clientId;
  #options;
  #state = 'idle';
  #wanted = new Set(); // What the caller asked for, in order; survives reconnects.
  #ws = null;
  #generation = 0; // Bumped by disconnect() and each connection: stale callbacks see it.
  #attempt = 0; // Failed connections since the last one that reached 'open'.
  #reconnectTimer = null;
  #connectTimer = null;
  #refreshTimer = null;
  #resyncTimer = null;
  // Per connection: what this connection holds on the gateway, as far as it knows.
  // symbol -> 'subscribing' | 'live' | 'unsubscribing'
  #held = new Map();
  // symbol -> number of the request that made it 'subscribing' or 'unsubscribing'.
  #heldBy = new Map();
  #synced = false; // The gateway answered the list_subscriptions sent on open.
  #legacy = false; // The server does not know list_subscriptions (the Python middleware).
  #epoch = null; // This connection's gateway run, from subscription_confirmed.
  #requests = new Map(); // req_id -> {n, action, symbols, remaining}
  #nextRequest = 1;
  #syncRequest = null; // Number of the list_subscriptions sent on open.
  #dirty = new Set(); // Symbols whose wanted and held states may differ.
  #resyncs = new Set(); // Symbols to resubscribe for a fresh snapshot.
  #flushQueued = false;
  // Per symbol, across reconnects: {epoch, seq, baseline, resyncing, lastResyncAt}.
  #track = new Map();

  /**
   * @param {string} clientId the /ws/{client_id} path segment: names the gateway session
   * @param {object} [options] see orderbook-client.d.ts (WebSocketClientOptions)
   */
  constructor(clientId, options = {}) {
    super();
    if (!validClientId(clientId)) {
      throw new TypeError("WebSocketClient: clientId must be 1-128 bytes, no '/' or control characters");
    }
    const o = {
      url: undefined,
      token: undefined,
      minBackoffMs: 500,
      maxBackoffMs: 30000,
      WebSocket: undefined,
      throttleMs: 0,
      restore: true,
      resyncOnGap: undefined,
      resyncMinIntervalMs: 5000,
      connectTimeoutMs: 10000,
      refreshMarginMs: 60000,
      random: Math.random,
      now: Date.now,
      setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
      clearTimeout: (id) => globalThis.clearTimeout(id),
      ...options,
    };
    if (!(o.minBackoffMs > 0) || !(o.maxBackoffMs >= o.minBackoffMs)) {
      throw new RangeError('WebSocketClient: need 0 < minBackoffMs <= maxBackoffMs');
    }
    if (!Number.isInteger(o.throttleMs) || o.throttleMs < 0 || o.throttleMs > 60000) {
      throw new RangeError('WebSocketClient: throttleMs must be an integer from 0 to 60000');
    }
    if (o.token !== undefined && typeof o.token !== 'string' && typeof o.token !== 'function') {
      throw new TypeError('WebSocketClient: token must be a string or a function');
    }
    // Under a throttle, gaps are the throttle working (docs/protocol.md 2.8): resyncing
    // would only cost messages. Elsewhere the default follows the API: resync on a gap.
    if (o.resyncOnGap === undefined) o.resyncOnGap = o.throttleMs === 0;
    this.#clientId = clientId;
    this.#options = o;
  }

  get clientId() { return this.#clientId; }
  /** 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed' */
  get state() { return this.#state; }
  /** The symbols the caller wants, in the order first asked for. */
  get subscriptions() { return [...this.#wanted]; }
  /** The gateway run of the current connection (subscription_confirmed's epoch), or null. */
  get epoch() { return this.#epoch; }

  /** The WebSocket URL: <url>/ws/<clientId>[?throttle_ms=N][&restore=0]. */
  get url() {
    const base = this.#options.url ?? defaultBaseUrl();
    const u = new URL(base, globalThis.location?.href);
    if (u.protocol === 'http:') u.protocol = 'ws:';
    else if (u.protocol === 'https:') u.protocol = 'wss:';
    u.pathname = `${u.pathname.replace(/\/+$/, '')}/ws/${encodeURIComponent(this.#clientId)}`;
    if (this.#options.throttleMs > 0) u.searchParams.set('throttle_ms', String(this.#options.throttleMs));
    if (!this.#options.restore) u.searchParams.set('restore', '0');
    return u.toString();
  }

  /** Convenience: addEventListener with the event's detail; returns the remover. */
  on(type, handler) {
    const listener = (event) => handler(event.detail);
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }

  /** Opens the connection. A no-op while connecting or open; while waiting to reconnect,
   * tries at once (e.g. on the page's 'online' event). */
  connect() {
    if (this.#state === 'connecting' || this.#state === 'open') return;
    if (typeof (this.#options.WebSocket ?? globalThis.WebSocket) !== 'function') {
      throw new TypeError('WebSocketClient: no WebSocket here; pass options.WebSocket');
    }
    this.#clearTimer('reconnect');
    this.#open();
  }

  /** Closes the connection and stops reconnecting. The wanted symbols are kept: a later
   * connect() follows them again. */
  disconnect() {
    this.#generation++;
    this.#clearTimer('reconnect');
    this.#dropSocket(1000, 'client disconnect');
    this.#attempt = 0;
    if (this.#state !== 'closed' && this.#state !== 'idle') this.#setState('closed');
    else this.#state = 'closed';
  }

  /** Follows a symbol; before the socket is open it is remembered and sent once it is. */
  subscribe(symbol) {
    this.#checkSymbol(symbol);
    if (this.#wanted.has(symbol)) return;
    this.#wanted.add(symbol);
    this.#markDirty(symbol);
  }

  /** Stops following a symbol (no more books of it are delivered, from now on). */
  unsubscribe(symbol) {
    this.#checkSymbol(symbol);
    if (!this.#wanted.delete(symbol)) return;
    this.#track.delete(symbol);
    this.#resyncs.delete(symbol);
    // Not yet sent anywhere: nothing for the gateway to undo.
    if (!this.#held.has(symbol)) {
      this.#dirty.delete(symbol);
      this.#emit('unsubscribed', { symbol });
      return;
    }
    this.#markDirty(symbol);
  }

  // --- Connection lifecycle ---------------------------------------------------------------

  #open() {
    const generation = ++this.#generation;
    this.#setState('connecting', { attempt: this.#attempt });
    const token = this.#options.token;
    if (typeof token !== 'function') {
      this.#startSocket(token, generation);
      return;
    }
    // A function gives a fresh token (a JWT minted for this page) before each connect. A
    // login endpoint that never answers must not leave the client connecting for ever.
    const o = this.#options;
    let timer = null;
    const timeout = new Promise((_, reject) => {
      timer = o.setTimeout(() => reject(new Error(`token() gave nothing within ${o.connectTimeoutMs} ms`)),
        o.connectTimeoutMs);
    });
    Promise.race([Promise.resolve().then(() => token()), timeout])
      .finally(() => o.clearTimeout(timer))
      .then(
        (value) => {
          if (generation !== this.#generation) return; // disconnect() meanwhile.
          if (typeof value !== 'string' || value === '') {
            this.#emit('error', { code: 'token_unavailable', message: 'token() gave no string', symbol: null });
            this.#scheduleReconnect({});
            return;
          }
          this.#startSocket(value, generation);
        },
        (error) => {
          if (generation !== this.#generation) return;
          this.#emit('error', { code: 'token_unavailable', message: String(error?.message ?? error), symbol: null });
          this.#scheduleReconnect({});
        });
  }

  #startSocket(token, generation) {
    const WS = this.#options.WebSocket ?? globalThis.WebSocket;
    this.#held.clear();
    this.#heldBy.clear();
    this.#requests.clear();
    this.#synced = false;
    this.#legacy = false;
    this.#epoch = null;
    this.#syncRequest = null;
    for (const t of this.#track.values()) t.resyncing = false;
    let ws;
    try {
      ws = new WS(this.url);
    } catch (error) {
      this.#emit('error', { code: 'connect_failed', message: String(error?.message ?? error), symbol: null });
      this.#scheduleReconnect({});
      return;
    }
    this.#ws = ws;
    // A socket that neither opens nor fails (a black-holed address), or opens but gets no
    // answer (a gateway that closes us without a word later), must not stall for ever.
    this.#connectTimer = this.#options.setTimeout(() => {
      this.#connectTimer = null;
      this.#socketGone(ws, { code: 4000, reason: 'connect timeout' });
    }, this.#options.connectTimeoutMs);
    ws.onopen = () => {
      if (ws !== this.#ws || generation !== this.#generation) return;
      // The token goes first: with auth on, anything before it is refused
      // (docs/protocol.md 2.15). The gateway handles auth before reading on, so the
      // list_subscriptions behind it is answered after authenticated and after
      // session_restored, if any: its answer says exactly what this connection holds.
      if (token !== undefined) this.#request('auth', { token });
      this.#syncRequest = this.#request('list_subscriptions', {});
    };
    ws.onmessage = (event) => {
      if (ws !== this.#ws) return;
      this.#onMessage(event.data);
    };
    // Browsers give an error event no detail; the close event that follows says enough.
    ws.onerror = () => {};
    ws.onclose = (event) => {
      if (ws !== this.#ws) return;
      this.#socketGone(ws, event ?? {});
    };
  }

  // The current socket is gone (closed by the server, failed, or timed out): forget what
  // it held and reconnect, unless disconnect() ended it all.
  #socketGone(ws, { code, reason }) {
    if (ws !== this.#ws) return;
    this.#dropSocket(4000, 'connect timeout');
    if (this.#state === 'closed') return;
    this.#scheduleReconnect({ code: code ?? null, reason: reason ?? '' });
  }

  #dropSocket(code, reason) {
    const ws = this.#ws;
    this.#ws = null;
    this.#clearTimer('connect');
    this.#clearTimer('refresh');
    this.#clearTimer('resync');
    this.#held.clear();
    this.#heldBy.clear();
    this.#requests.clear();
    this.#synced = false;
    this.#flushQueued = false;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    ws.onerror = () => {}; // Late error events of a dropped socket are of no interest.
    if (ws.readyState !== WS_CLOSED) {
      try { ws.close(code, reason); } catch { /* Already closing. */ }
    }
  }

  #scheduleReconnect({ code = null, reason = '' }) {
    if (this.#state === 'closed') return;
    this.#attempt += 1;
    const o = this.#options;
    const delayMs = backoffDelay(this.#attempt, o.minBackoffMs, o.maxBackoffMs, o.random);
    this.#setState('reconnecting', { attempt: this.#attempt, delayMs, code, reason });
    this.#reconnectTimer = o.setTimeout(() => {
      this.#reconnectTimer = null;
      this.#open();
    }, delayMs);
  }

  #clearTimer(which) {
    const clear = (id) => { if (id !== null) this.#options.clearTimeout(id); };
    switch (which) {
      case 'reconnect': clear(this.#reconnectTimer); this.#reconnectTimer = null; break;
      case 'connect': clear(this.#connectTimer); this.#connectTimer = null; break;
      case 'refresh': clear(this.#refreshTimer); this.#refreshTimer = null; break;
      case 'resync': clear(this.#resyncTimer); this.#resyncTimer = null; break;
      default: break;
    }
  }

  #setState(state, extra = {}) {
    this.#state = state;
    this.#emit('state', { state, attempt: this.#attempt, delayMs: 0, ...extra });
  }

  // --- Sending ----------------------------------------------------------------------------

  #send(message) {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WS_OPEN) return false;
    try {
      ws.send(JSON.stringify(message));
      return true;
    } catch {
      return false; // Closing: its close event follows and reconnects.
    }
  }

  // Every request carries a req_id (echoed in its answers, docs/protocol.md 2.2), so that
  // an error can be tied to the symbols it refused. Returns the request's number.
  #request(action, fields, symbols = []) {
    const n = this.#nextRequest++;
    const reqId = `c${n}`;
    this.#requests.set(reqId, { n, reqId, action, symbols, remaining: symbols.length });
    this.#send({ action, ...fields, req_id: reqId });
    return n;
  }

  #markDirty(symbol) {
    this.#dirty.add(symbol);
    this.#queueFlush();
  }

  // Requests of one turn of the event loop go out together: subscribe('A');
  // subscribe('B') is one {"symbols":["A","B"]} message, one token of the rate limit.
  #queueFlush() {
    if (this.#flushQueued || !this.#synced) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      if (!this.#flushQueued) return;
      this.#flushQueued = false;
      this.#flush();
    });
  }

  #flush() {
    if (!this.#synced || !this.#ws) return;
    const toSubscribe = [];
    const toUnsubscribe = [];
    for (const symbol of this.#resyncs) {
      if (this.#held.get(symbol) === 'live' && this.#wanted.has(symbol)) toUnsubscribe.push(symbol);
    }
    this.#resyncs.clear();
    for (const symbol of this.#dirty) {
      const held = this.#held.get(symbol);
      const wanted = this.#wanted.has(symbol);
      if (wanted && held === undefined) {
        toSubscribe.push(symbol);
      } else if (!wanted && (held === 'live' || held === 'subscribing') &&
                 !toUnsubscribe.includes(symbol)) {
        toUnsubscribe.push(symbol);
      }
      // 'unsubscribing' and wanted: subscribed again once the confirmation is in.
    }
    this.#dirty.clear();
    this.#sendChange('unsubscribe', toUnsubscribe);
    this.#sendChange('subscribe', toSubscribe);
  }

  #sendChange(action, symbols) {
    // The legacy middleware knows only one `symbol` per request.
    const size = this.#legacy ? 1 : MAX_SYMBOLS_PER_REQUEST;
    const phase = action === 'subscribe' ? 'subscribing' : 'unsubscribing';
    for (let i = 0; i < symbols.length; i += size) {
      const chunk = symbols.slice(i, i + size);
      const n = this.#request(action, chunk.length === 1 ? { symbol: chunk[0] } : { symbols: chunk }, chunk);
      for (const symbol of chunk) {
        this.#held.set(symbol, phase);
        this.#heldBy.set(symbol, n);
      }
    }
  }

  // --- Receiving --------------------------------------------------------------------------

  #onMessage(text) {
    let message;
    try {
      message = JSON.parse(typeof text === 'string' ? text : String(text));
    } catch {
      this.#emit('error', { code: 'invalid_message', message: 'the server sent text that is not JSON', symbol: null });
      return;
    }
    if (message === null || typeof message !== 'object') return;
    switch (message.type) {
      case 'authenticated': return this.#onAuthenticated(message);
      case 'session_restored': return this.#onSessionRestored(message);
      case 'subscriptions': return this.#onSubscriptions(message);
      case 'subscription_confirmed': return this.#onSubscriptionConfirmed(message);
      case 'unsubscription_confirmed': return this.#onUnsubscriptionConfirmed(message);
      case 'orderbook_update': return this.#onBook(message);
      case 'error': return this.#onError(message);
      default: return undefined; // pong, and types newer than this library.
    }
  }

  #trackOf(symbol) {
    let t = this.#track.get(symbol);
    if (!t) {
      t = { epoch: null, seq: null, baseline: true, resyncing: false, lastResyncAt: -Infinity };
      this.#track.set(symbol, t);
    }
    return t;
  }

  #answered(reqId) {
    const request = this.#requests.get(reqId);
    if (!request) return undefined;
    if (request.action === 'subscribe' || request.action === 'unsubscribe') {
      if (--request.remaining <= 0) this.#requests.delete(reqId);
    }
    return request;
  }

  #onAuthenticated(message) {
    this.#emit('authenticated', { sub: message.sub ?? null, exp: message.exp ?? null });
    this.#scheduleRefresh(message.exp);
  }

  // The gateway gave this connection its client_id's session back (docs/protocol.md
  // 2.14): these symbols are live without a subscribe; their snapshots follow.
  #onSessionRestored(message) {
    if (!Array.isArray(message.symbols)) return;
    for (const symbol of message.symbols) {
      if (typeof symbol !== 'string') continue;
      this.#held.set(symbol, 'live');
      const t = this.#trackOf(symbol);
      t.baseline = true;
      if (this.#wanted.has(symbol)) this.#emit('subscribed', { symbol, restored: true });
      else this.#track.delete(symbol);
    }
  }

  // The answer to a list_subscriptions: every earlier request of this connection is
  // answered or was dropped by then (replies keep request order, docs/protocol.md 2.4),
  // so it tells exactly what this connection holds. Sent on open, and after a
  // rate_limited error (which does not say which request it dropped).
  #onSubscriptions(message) {
    const request = this.#requests.get(message.req_id);
    if (!request || request.action !== 'list_subscriptions') return;
    this.#settle(request, Array.isArray(message.symbols) ? message.symbols : []);
  }

  #settle(request, symbols) {
    for (const [reqId, other] of this.#requests) {
      if (other.n <= request.n && other.action !== 'auth') this.#requests.delete(reqId);
    }
    const serverHeld = new Set(symbols.filter((s) => typeof s === 'string'));
    for (const [symbol, held] of this.#held) {
      // A subscribe or unsubscribe sent before the list that the gateway never executed
      // (the ones sent after it are answered after it).
      if ((this.#heldBy.get(symbol) ?? 0) > request.n) continue;
      if (held === 'subscribing' && !serverHeld.has(symbol)) this.#held.delete(symbol);
      if (held === 'unsubscribing' && serverHeld.has(symbol)) this.#held.set(symbol, 'live');
    }
    for (const symbol of serverHeld) {
      if (!this.#held.has(symbol)) this.#held.set(symbol, 'live');
    }
    for (const symbol of this.#wanted) this.#dirty.add(symbol);
    for (const symbol of this.#held.keys()) this.#dirty.add(symbol);
    const first = !this.#synced;
    this.#synced = true;
    if (first) {
      this.#clearTimer('connect');
      // Backoff starts again only now: a gateway that accepts the socket and closes it
      // at once (connection limit, refused token) keeps the backoff growing.
      this.#attempt = 0;
      this.#setState('open');
    }
    this.#flush();
  }

  #onSubscriptionConfirmed(message) {
    const symbol = message.symbol;
    if (typeof symbol !== 'string') return;
    this.#answered(message.req_id);
    if (message.epoch !== undefined) this.#epoch = message.epoch;
    const held = this.#held.get(symbol);
    if (held === undefined || held === 'subscribing') this.#held.set(symbol, 'live');
    if (!this.#wanted.has(symbol)) {
      this.#markDirty(symbol); // Live but no longer wanted: unsubscribe, unless under way.
      return;
    }
    const t = this.#trackOf(symbol);
    // The first book after a confirmation is the baseline, snapshot or not
    // (docs/protocol.md 2.4 item 2).
    t.baseline = true;
    const resync = t.resyncing;
    t.resyncing = false;
    this.#emit('subscribed', { symbol, resync });
  }

  #onUnsubscriptionConfirmed(message) {
    const symbol = message.symbol;
    if (typeof symbol !== 'string') return;
    const request = this.#answered(message.req_id);
    this.#held.delete(symbol);
    if (request?.action === 'auth' && this.#wanted.has(symbol)) {
      // A refreshed token's symbols claim no longer allows it (docs/protocol.md 2.15).
      this.#wanted.delete(symbol);
      this.#track.delete(symbol);
      this.#emit('error', {
        code: 'forbidden', message: 'The refreshed token no longer allows this symbol', symbol,
      });
    }
    if (!this.#wanted.has(symbol)) {
      this.#emit('unsubscribed', { symbol });
      return;
    }
    this.#markDirty(symbol); // Still wanted: a resync, or a subscribe that came meanwhile.
  }

  #onBook(message) {
    const symbol = message.symbol;
    // Books of a symbol the caller dropped may still be on their way: not delivered.
    if (typeof symbol !== 'string' || !this.#wanted.has(symbol)) return;
    const o = this.#options;
    const receivedAt = o.now();
    const t = this.#trackOf(symbol);
    const seq = Number.isInteger(message.seq) ? message.seq : null;
    const baseline = t.baseline;
    // The book's run: a snapshot (and the first book of a new run) says it; otherwise the
    // connection's (baseline) or the run of the symbol's previous book.
    const epoch = message.epoch ?? (baseline ? this.#epoch : t.epoch) ?? this.#epoch;
    let missed = null;
    let gap = null;
    if (seq !== null) {
      if (baseline) {
        // Across a reconnect, same run: S - P - 1 books went by while away (2.4 item 5).
        if (t.seq !== null && t.epoch !== null && epoch !== null && t.epoch === epoch) {
          missed = Math.max(0, seq - t.seq - 1);
        }
        t.baseline = false;
      } else if (!t.resyncing && t.seq !== null) {
        if (message.epoch !== undefined && t.epoch !== null && message.epoch !== t.epoch) {
          gap = { reason: 'epoch', expected: t.seq + 1, got: seq, fromEpoch: t.epoch, toEpoch: message.epoch };
        } else if (seq !== t.seq + 1) {
          gap = { reason: 'seq', expected: t.seq + 1, got: seq };
        }
      }
      t.seq = seq;
      t.epoch = epoch ?? null;
    } else if (baseline) {
      t.baseline = false;
    }
    let resync = false;
    if (gap) {
      resync = o.resyncOnGap && this.#synced && this.#held.get(symbol) === 'live' &&
        receivedAt - t.lastResyncAt >= o.resyncMinIntervalMs;
      this.#emit('gap', { symbol, ...gap, resync });
    }
    const gatewayTimeMs = parseGatewayTime(message.timestamp);
    const meta = {
      seq,
      epoch: epoch ?? null,
      snapshot: message.snapshot === true,
      baseline,
      missed,
      gatewayTime: typeof message.timestamp === 'string' ? message.timestamp : null,
      gatewayTimeMs,
      latencyMs: gatewayTimeMs === null ? null : receivedAt - gatewayTimeMs,
      receivedAt,
    };
    const book = normalizeBook(message.data);
    if (typeof this.onOrderBookUpdate === 'function') {
      try {
        this.onOrderBookUpdate(symbol, book, meta);
      } catch (error) {
        // The caller's bug must not break this client's bookkeeping; it still surfaces.
        queueMicrotask(() => { throw error; });
      }
    }
    this.#emit('orderbook', { symbol, book, meta });
    if (resync) this.#resync(symbol, t, receivedAt);
  }

  // A fresh snapshot: unsubscribe, then subscribe again once that is confirmed. The books
  // that arrive until then are still shown (each is a full book), without gap checks.
  #resync(symbol, t, now) {
    t.resyncing = true;
    t.lastResyncAt = now;
    this.#resyncs.add(symbol);
    this.#queueFlush();
  }

  #onError(message) {
    const code = typeof message.code === 'string' ? message.code : null;
    const text = typeof message.message === 'string' ? message.message : '';
    const request = this.#requests.get(message.req_id);
    // The Python middleware answers list_subscriptions with a code-less error that
    // echoes no req_id: work as the guide's client does, one subscribe per symbol.
    if (!this.#synced && this.#syncRequest !== null &&
        (request?.action === 'list_subscriptions' ||
         (code === null && /^Unknown action/.test(text)))) {
      this.#legacy = true;
      this.#settle({ n: this.#syncRequest }, []);
      return;
    }
    const detail = { code, message: text, symbol: typeof message.symbol === 'string' ? message.symbol : null };
    if (message.req_id !== undefined) detail.reqId = message.req_id;
    if (code === 'forbidden' && detail.symbol !== null) {
      // The token does not allow this symbol; the request's other symbols went ahead.
      this.#answered(message.req_id);
      const symbol = detail.symbol;
      if (this.#held.get(symbol) === 'subscribing') this.#held.delete(symbol);
      this.#wanted.delete(symbol);
      this.#track.delete(symbol);
      detail.symbols = [symbol];
    } else if (request && request.action === 'subscribe' && REQUEST_REFUSALS.has(code)) {
      this.#requests.delete(message.req_id);
      for (const symbol of request.symbols) {
        if (this.#held.get(symbol) === 'subscribing') this.#held.delete(symbol);
        this.#wanted.delete(symbol);
        this.#track.delete(symbol);
      }
      detail.symbols = request.symbols;
    } else if (code === 'rate_limited' && this.#synced) {
      // Some request was dropped, and the error does not say which: ask the gateway what
      // this connection holds once the bucket has refilled a little, and reconcile.
      if (this.#resyncTimer === null) {
        this.#resyncTimer = this.#options.setTimeout(() => {
          this.#resyncTimer = null;
          if (this.#ws) this.#request('list_subscriptions', {});
        }, 1000);
      }
    }
    this.#emit('error', detail);
  }

  // --- Token refresh ----------------------------------------------------------------------

  // The gateway closes a connection whose token reached exp + leeway (1008 `token
  // expired`), so a function token is asked again ahead of exp: a margin of
  // refreshMarginMs, or half the time left for short-lived tokens. `exp` comes from the
  // gateway's `authenticated` answer, so the token need not be decoded here.
  #scheduleRefresh(exp) {
    this.#clearTimer('refresh');
    const token = this.#options.token;
    if (typeof token !== 'function' || typeof exp !== 'number' || !Number.isFinite(exp)) return;
    const o = this.#options;
    const remaining = exp * 1000 - o.now();
    const delay = Math.max(0, remaining - Math.min(o.refreshMarginMs, remaining / 2));
    const generation = this.#generation;
    const ws = this.#ws;
    this.#refreshTimer = o.setTimeout(() => {
      this.#refreshTimer = null;
      Promise.resolve()
        .then(() => token())
        .then((value) => {
          if (generation !== this.#generation || ws !== this.#ws) return;
          if (typeof value !== 'string' || value === '') throw new Error('token() gave no string');
          this.#request('auth', { token: value });
        })
        .catch((error) => {
          if (generation !== this.#generation || ws !== this.#ws) return;
          this.#emit('error', { code: 'token_unavailable', message: String(error?.message ?? error), symbol: null });
          // Try again while there is time; at exp the gateway closes and the reconnect
          // asks for a token anyway.
          const left = exp * 1000 - o.now();
          if (left > 2000) {
            this.#refreshTimer = o.setTimeout(() => this.#scheduleRefresh(exp), Math.min(5000, left / 4));
          }
        });
    }, delay);
  }

  // --- Helpers ----------------------------------------------------------------------------

  #checkSymbol(symbol) {
    if (typeof symbol !== 'string' || !SYMBOL_RE.test(symbol)) {
      throw new TypeError(`WebSocketClient: invalid symbol ${JSON.stringify(symbol)}: 1-32 characters of A-Z a-z 0-9 . _ : -`);
    }
  }

  #emit(type, detail) {
    this.dispatchEvent(new DetailEvent(type, { detail }));
  }
}
