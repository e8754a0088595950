// Type declarations of /client/orderbook-client.js (docs/browser-client.md).

/** One price level, whichever shape the publisher sent. */
export interface Level {
  price: number;
  volume: number;
  /** Number of orders at the level; null when the book does not say. */
  orders: number | null;
}

/** A book as delivered: REST bodies and gRPC books normalised to one shape. */
export interface OrderBook {
  /** In the order the publisher sent them (not re-sorted). */
  bids: Level[];
  asks: Level[];
  /** The publisher's `timestamp` field of `data` (verbatim), or null. */
  timestamp: string | number | null;
  /** `data` exactly as received (REST: the POST body; gRPC: docs/protocol.md 4.4). */
  raw: unknown;
}

export interface OrderBookMeta {
  /** Per-symbol sequence number (docs/protocol.md 2.4); null from a legacy server. */
  seq: number | null;
  /** The gateway run this seq belongs to; null when not known yet. */
  epoch: number | null;
  /** True on the snapshot that follows a subscription. */
  snapshot: boolean;
  /** True on the first book of a subscription (the baseline: no gap check). */
  baseline: boolean;
  /** On a baseline after a reconnect to the same gateway run: books missed while away. */
  missed: number | null;
  /** The message's `timestamp` (when the gateway sequenced the book), verbatim. */
  gatewayTime: string | null;
  /** gatewayTime in ms since 1970 (microseconds as a fraction), or null. */
  gatewayTimeMs: number | null;
  /** receivedAt - gatewayTimeMs: gateway-to-page latency (includes clock skew). */
  latencyMs: number | null;
  /** Date.now() (or options.now()) when the message was handled. */
  receivedAt: number;
}

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface StateDetail {
  state: ConnectionState;
  /** Failed connections in a row ('reconnecting': the number of the coming attempt). */
  attempt: number;
  /** 'reconnecting': the wait before the next attempt; otherwise 0. */
  delayMs: number;
  /** 'reconnecting': the close code of the lost connection (4000: connect timeout). */
  code?: number | null;
  reason?: string;
}

export interface OrderBookDetail { symbol: string; book: OrderBook; meta: OrderBookMeta; }

export interface GapDetail {
  symbol: string;
  /** 'seq': seq jumped within a subscription; 'epoch': a new numbering run began. */
  reason: 'seq' | 'epoch';
  expected: number;
  got: number;
  fromEpoch?: number;
  toEpoch?: number;
  /** Whether the client resubscribes for a fresh snapshot (resyncOnGap, rate bound). */
  resync: boolean;
}

export interface ErrorDetail {
  /** The gateway's `code` (docs/protocol.md 2.6), or one of this library's:
   * 'token_unavailable', 'connect_failed', 'invalid_message'. */
  code: string | null;
  message: string;
  /** The symbol of a `forbidden`. */
  symbol: string | null;
  /** Symbols a refused request named; they left `subscriptions`. */
  symbols?: string[];
  reqId?: string | number;
}

export interface SubscribedDetail { symbol: string; restored?: boolean; resync?: boolean; }
export interface UnsubscribedDetail { symbol: string; }
export interface AuthenticatedDetail { sub: string | null; exp: number | null; }

export interface WebSocketClientEventMap {
  state: CustomEvent<StateDetail>;
  orderbook: CustomEvent<OrderBookDetail>;
  gap: CustomEvent<GapDetail>;
  error: CustomEvent<ErrorDetail>;
  subscribed: CustomEvent<SubscribedDetail>;
  unsubscribed: CustomEvent<UnsubscribedDetail>;
  authenticated: CustomEvent<AuthenticatedDetail>;
}

/** What the client uses of a WebSocket (the browser's, undici's, a test fake). The
 * handlers are typed loosely so that the DOM's WebSocket class is assignable. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: any;
  onmessage: any;
  onclose: any;
  onerror: any;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export type TokenSource = string | (() => string | Promise<string>);

export interface WebSocketClientOptions {
  /** Gateway base URL (ws:, wss:, http: or https:); default ws(s)://<location.host>. */
  url?: string;
  /** A JWT, or a function called before each connect and ahead of `exp` (refresh). */
  token?: TokenSource;
  /** Backoff: delay = random(0, min(maxBackoffMs, minBackoffMs * 2^(attempt-1))). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Default globalThis.WebSocket (Node 20: pass one). */
  WebSocket?: WebSocketConstructor;
  /** ?throttle_ms=N: at most one book per symbol per N ms (0-60000; 0 = none). */
  throttleMs?: number;
  /** false: ?restore=0, start without the client_id's stored session. Default true. */
  restore?: boolean;
  /** Resubscribe for a fresh snapshot on a gap. Default true, false with throttleMs. */
  resyncOnGap?: boolean;
  /** At most one resync per symbol per this many ms (default 5000). */
  resyncMinIntervalMs?: number;
  /** Socket open plus first answer within this, else retry (default 10000). */
  connectTimeoutMs?: number;
  /** Refresh a function token this long before `exp` (at most half its life; 60000). */
  refreshMarginMs?: number;
  /** Test hooks: randomness, clock and timers. */
  random?: () => number;
  now?: () => number;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (id: unknown) => void;
}

export declare class WebSocketClient extends EventTarget {
  constructor(clientId: string, options?: WebSocketClientOptions);
  readonly clientId: string;
  readonly state: ConnectionState;
  /** The symbols the caller wants (kept across reconnects and disconnect()). */
  readonly subscriptions: string[];
  /** The current connection's gateway run, or null. */
  readonly epoch: number | null;
  /** The WebSocket URL it connects to. */
  readonly url: string;
  /** The guide's callback: (symbol, book, meta). */
  onOrderBookUpdate: ((symbol: string, book: OrderBook, meta: OrderBookMeta) => void) | null;
  connect(): void;
  disconnect(): void;
  /** Throws TypeError for a symbol outside the gateway's rules. */
  subscribe(symbol: string): void;
  unsubscribe(symbol: string): void;
  /** addEventListener with the detail; returns a function that removes the listener. */
  on<K extends keyof WebSocketClientEventMap>(
    type: K, handler: (detail: WebSocketClientEventMap[K]['detail']) => void): () => void;
  addEventListener<K extends keyof WebSocketClientEventMap>(
    type: K, listener: (event: WebSocketClientEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof WebSocketClientEventMap>(
    type: K, listener: (event: WebSocketClientEventMap[K]) => void,
    options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions): void;
}

export declare function backoffDelay(attempt: number, minMs: number, maxMs: number,
  random?: () => number): number;
export declare function normalizeLevels(levels: unknown): Level[];
export declare function normalizeBook(data: unknown): OrderBook;
export declare function parseGatewayTime(text: unknown): number | null;
