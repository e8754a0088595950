// Test doubles for the client library: a WebSocket whose server side the test drives,
// and a manual clock with timers, injected through WebSocketClient's options so that no
// test waits on real time.

/** A fresh WebSocket class per test: `instances` holds every socket the client made. */
export function fakeWebSocketClass() {
  class FakeWebSocket {
    static instances = [];

    constructor(url) {
      this.url = url;
      this.readyState = 0; // CONNECTING
      this.sent = [];
      this.closedByClient = null;
      this.onopen = this.onmessage = this.onclose = this.onerror = null;
      FakeWebSocket.instances.push(this);
    }

    send(text) {
      if (this.readyState !== 1) throw new Error('InvalidStateError: not open');
      this.sent.push(JSON.parse(text));
    }

    close(code, reason) {
      this.closedByClient = { code, reason };
      this.readyState = 3;
    }

    // --- the server's side ---
    serverOpen() {
      this.readyState = 1;
      this.onopen?.({ type: 'open' });
    }

    serverSend(message) {
      this.onmessage?.({ data: typeof message === 'string' ? message : JSON.stringify(message) });
    }

    serverClose(code = 1006, reason = '') {
      this.readyState = 3;
      this.onerror?.({ type: 'error' });
      this.onclose?.({ code, reason, wasClean: code !== 1006 });
    }

    /** The client messages of one action, in order. */
    sentOf(action) {
      return this.sent.filter((m) => m.action === action);
    }

    /** Opens and answers the list_subscriptions sent on open with `held`. */
    serverAccept(held = [], { restored = null } = {}) {
      this.serverOpen();
      if (restored) this.serverSend({ type: 'session_restored', symbols: restored });
      const list = this.sentOf('list_subscriptions').at(-1);
      if (!list) throw new Error(`no list_subscriptions sent: ${JSON.stringify(this.sent)}`);
      this.serverSend({ type: 'subscriptions', symbols: held, req_id: list.req_id });
    }

    /** Confirms every symbol of the last subscribe request, each with an optional snapshot. */
    confirmLastSubscribe({ epoch = 1000, snapshots = {} } = {}) {
      const request = this.sentOf('subscribe').at(-1);
      const symbols = request.symbols ?? [request.symbol];
      for (const symbol of symbols) {
        this.serverSend({ type: 'subscription_confirmed', symbol, epoch, req_id: request.req_id });
        if (snapshots[symbol] !== undefined) {
          this.serverSend(book(symbol, snapshots[symbol], { snapshot: true, epoch }));
        }
      }
      return symbols;
    }
  }
  return FakeWebSocket;
}

/** An orderbook_update as the gateway renders it (docs/protocol.md 2.3). */
export function book(symbol, seq, { snapshot = false, epoch, data, timestamp } = {}) {
  const message = {
    type: 'orderbook_update', symbol, seq,
    timestamp: timestamp ?? '2026-12-02T20:00:00.123456+00:00',
  };
  if (snapshot) message.snapshot = true;
  if (epoch !== undefined) message.epoch = epoch;
  message.data = data ?? { bids: [[100, 5, 2]], asks: [[101, 3, 1]] };
  return message;
}

/** Manual time: timers run only when the test advances the clock. */
export class FakeClock {
  constructor(start = 1_800_000_000_000) {
    this.time = start;
    this.timers = new Map();
    this.nextId = 1;
    this.now = () => this.time;
    this.setTimeout = (fn, ms) => {
      const id = this.nextId++;
      this.timers.set(id, { at: this.time + Math.max(0, ms), fn, ms });
      return id;
    };
    this.clearTimeout = (id) => { this.timers.delete(id); };
  }

  /** Delays of the timers still pending, in creation order. */
  pending() {
    return [...this.timers.values()].map((t) => t.ms);
  }

  /** Moves time forward, running each timer that falls due, in due order. */
  advance(ms) {
    const end = this.time + ms;
    for (;;) {
      let next = null;
      for (const [id, t] of this.timers) {
        if (t.at <= end && (next === null || t.at < next[1].at)) next = [id, t];
      }
      if (next === null) break;
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
    }
    this.time = end;
  }
}

/** Lets queued microtasks and promise callbacks run (the client batches its requests). */
export function settle() {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Records the details of the client's events, by type. */
export function recordEvents(client, types) {
  const log = [];
  for (const type of types) client.addEventListener(type, (e) => log.push({ type, ...e.detail }));
  return log;
}
