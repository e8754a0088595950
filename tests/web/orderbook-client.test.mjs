// Unit tests of gateway/web/static/client/orderbook-client.js under `node --test`: a fake
// WebSocket whose server side each test plays, and an injected clock, timers and random.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  WebSocketClient, backoffDelay, normalizeBook, normalizeLevels, parseGatewayTime,
} from '../../gateway/web/static/client/orderbook-client.js';
import { FakeClock, book, fakeWebSocketClass, recordEvents, settle } from './fakes.mjs';

function makeClient(options = {}, clientId = 'tab-1') {
  const WS = fakeWebSocketClass();
  const clock = new FakeClock();
  const client = new WebSocketClient(clientId, {
    url: 'ws://gateway.test:8002',
    WebSocket: WS,
    random: () => 0.5,
    now: clock.now,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    ...options,
  });
  const socket = () => WS.instances.at(-1);
  return { client, WS, clock, socket };
}

// --- Subscriptions before open ---------------------------------------------------------

test('subscriptions made before connect() are sent once the socket is open', async () => {
  const { client, socket } = makeClient();
  client.subscribe('AAPL');
  client.subscribe('MSFT');
  client.connect();
  assert.equal(socket().url, 'ws://gateway.test:8002/ws/tab-1');
  await settle();
  assert.deepEqual(socket().sent, [], 'nothing is sent before open');
  socket().serverOpen();
  await settle();
  // First what this connection holds (a restored session counts), then what is missing.
  assert.deepEqual(socket().sent.map((m) => m.action), ['list_subscriptions']);
  socket().serverAccept([]);
  const subscribes = socket().sentOf('subscribe');
  assert.equal(subscribes.length, 1, 'one request for both: one token of the rate limit');
  assert.deepEqual(subscribes[0].symbols, ['AAPL', 'MSFT']);
  assert.equal(client.state, 'open');
  assert.deepEqual(client.subscriptions, ['AAPL', 'MSFT']);
});

test('subscriptions made while connecting, and after open, all reach the gateway', async () => {
  const { client, socket } = makeClient();
  client.connect();
  client.subscribe('AAPL'); // CONNECTING: the guide's client dropped this one.
  socket().serverAccept([]);
  assert.deepEqual(socket().sentOf('subscribe').map((m) => m.symbol), ['AAPL']);
  client.subscribe('MSFT');
  client.subscribe('BRK.B');
  await settle();
  assert.deepEqual(socket().sentOf('subscribe').at(-1).symbols, ['MSFT', 'BRK.B']);
  client.subscribe('MSFT'); // Already wanted: nothing new.
  await settle();
  assert.equal(socket().sentOf('subscribe').length, 2);
});

test('books are delivered to onOrderBookUpdate and as orderbook events, with meta', async () => {
  const { client, socket, clock } = makeClient();
  const calls = [];
  client.onOrderBookUpdate = (symbol, b, meta) => calls.push({ symbol, b, meta });
  const events = recordEvents(client, ['orderbook', 'subscribed']);
  client.subscribe('AAPL');
  client.connect();
  socket().serverAccept([]);
  socket().confirmLastSubscribe({ epoch: 77, snapshots: { AAPL: 41 } });
  clock.time = Date.parse('2026-12-02T20:00:00.200Z');
  socket().serverSend(book('AAPL', 42, { timestamp: '2026-12-02T20:00:00.123456+00:00' }));
  assert.equal(calls.length, 2);
  assert.equal(calls[0].symbol, 'AAPL');
  assert.deepEqual(calls[0].meta.snapshot, true);
  assert.deepEqual(calls[0].meta.baseline, true);
  assert.equal(calls[0].meta.epoch, 77);
  const live = calls[1].meta;
  assert.equal(live.seq, 42);
  assert.equal(live.snapshot, false);
  assert.equal(live.epoch, 77);
  assert.equal(live.gatewayTime, '2026-12-02T20:00:00.123456+00:00');
  assert.ok(Math.abs(live.latencyMs - 76.544) < 1e-3, `latency ${live.latencyMs}`);
  assert.equal(live.receivedAt, clock.time);
  assert.deepEqual(calls[1].b.bids, [{ price: 100, volume: 5, orders: 2 }]);
  assert.deepEqual(events.map((e) => e.type), ['subscribed', 'orderbook', 'orderbook']);
  assert.equal(events[1].book.asks[0].price, 101);
});

// --- Backoff ----------------------------------------------------------------------------

test('backoffDelay: full jitter below a cap that doubles from min up to max', () => {
  const top = () => 0.999999;
  const caps = [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000];
  caps.forEach((cap, i) => {
    assert.equal(backoffDelay(i + 1, 500, 30000, () => 0), 0);
    assert.equal(backoffDelay(i + 1, 500, 30000, top), Math.floor(0.999999 * cap));
  });
  assert.equal(backoffDelay(5000, 500, 30000, top), Math.floor(0.999999 * 30000), 'no overflow');
  // With the real Math.random: spread over the whole window, never beyond it.
  const samples = Array.from({ length: 2000 }, () => backoffDelay(4, 500, 30000));
  assert.ok(samples.every((d) => d >= 0 && d < 4000));
  assert.ok(Math.min(...samples) < 400 && Math.max(...samples) > 3600, 'jitter covers [0, cap)');
  assert.ok(new Set(samples).size > 500, 'jitter: delays differ');
});

test('reconnects for ever with capped exponential backoff, waiting exactly the drawn delay', async () => {
  const draws = [0.25, 0.9, 0.5, 0.99, 0.1, 0.7, 0.3, 0.8, 0.6, 0.4, 0.95, 0.05];
  let i = 0;
  const { client, WS, socket, clock } = makeClient({ random: () => draws[i++ % draws.length] });
  const states = recordEvents(client, ['state']);
  client.connect();
  for (let attempt = 1; attempt <= 12; attempt++) {
    // Each attempt fails before the gateway answers: the backoff keeps growing.
    socket().serverClose(1006);
    const last = states.at(-1);
    const cap = Math.min(30000, 500 * 2 ** (attempt - 1));
    assert.equal(last.state, 'reconnecting');
    assert.equal(last.attempt, attempt);
    assert.equal(last.delayMs, Math.floor(draws[(attempt - 1) % draws.length] * cap));
    assert.ok(last.delayMs < cap && last.delayMs <= 30000);
    const before = WS.instances.length;
    if (last.delayMs > 0) {
      clock.advance(last.delayMs - 1);
      assert.equal(WS.instances.length, before, 'not before the delay');
    }
    clock.advance(1);
    assert.equal(WS.instances.length, before + 1, `attempt ${attempt} reconnects`);
    assert.equal(client.state, 'connecting');
  }
  // A connection the gateway answers resets the backoff.
  socket().serverAccept([]);
  socket().serverClose(1001, 'server shutting down');
  assert.equal(states.at(-1).attempt, 1);
  assert.equal(states.at(-1).code, 1001);
  assert.equal(states.at(-1).reason, 'server shutting down');
});

test('a gateway that accepts the socket and closes it at once does not reset the backoff', () => {
  const { client, socket, clock } = makeClient({ random: () => 0.999 });
  const states = recordEvents(client, ['state']);
  client.connect();
  const delays = [];
  for (let attempt = 1; attempt <= 4; attempt++) {
    socket().serverOpen(); // 101, then 1008 "Connection limit exceeded" (docs/protocol.md 2.10).
    socket().serverClose(1008, 'Connection limit exceeded');
    assert.equal(states.at(-1).attempt, attempt);
    delays.push(states.at(-1).delayMs);
    clock.advance(states.at(-1).delayMs);
  }
  assert.deepEqual(delays, [499, 999, 1998, 3996]);
  assert.ok(!states.some((s) => s.state === 'open'));
});

test('a socket that never opens is given up after connectTimeoutMs and retried', () => {
  const { client, WS, socket, clock } = makeClient({ connectTimeoutMs: 3000 });
  const states = recordEvents(client, ['state']);
  client.connect();
  const first = socket();
  clock.advance(2999);
  assert.equal(client.state, 'connecting');
  clock.advance(1);
  assert.equal(client.state, 'reconnecting');
  assert.equal(states.at(-1).code, 4000);
  assert.ok(first.closedByClient, 'the stuck socket is closed');
  first.serverClose(1006); // Its late close event changes nothing.
  assert.equal(states.filter((s) => s.state === 'reconnecting').length, 1);
  clock.advance(states.at(-1).delayMs);
  assert.equal(WS.instances.length, 2);
});

// --- disconnect() -----------------------------------------------------------------------

test('no reconnect after disconnect(), from open, from the backoff wait, or while fetching a token', async () => {
  {
    const { client, WS, socket, clock } = makeClient();
    client.subscribe('AAPL');
    client.connect();
    socket().serverAccept([]);
    client.disconnect();
    assert.equal(client.state, 'closed');
    assert.deepEqual(socket().closedByClient, { code: 1000, reason: 'client disconnect' });
    socket().serverClose(1000); // The close handshake's event: ignored.
    clock.advance(10 * 60_000);
    assert.equal(WS.instances.length, 1);
    assert.deepEqual(client.subscriptions, ['AAPL'], 'kept for a later connect()');
    assert.deepEqual(clock.pending(), []);
  }
  {
    const { client, WS, socket, clock } = makeClient();
    client.connect();
    socket().serverClose(1006);
    assert.equal(client.state, 'reconnecting');
    client.disconnect();
    clock.advance(10 * 60_000);
    assert.equal(WS.instances.length, 1);
    assert.equal(client.state, 'closed');
  }
  {
    let release;
    const { client, WS } = makeClient({ token: () => new Promise((r) => { release = r; }) });
    client.connect();
    await settle(); // token() called, its promise pending.
    client.disconnect();
    release('jwt');
    await settle();
    assert.equal(WS.instances.length, 0, 'the token arrived after disconnect(): no socket');
    assert.equal(client.state, 'closed');
  }
});

test('connect() after disconnect() follows the wanted symbols again', async () => {
  const { client, WS, socket } = makeClient();
  client.subscribe('AAPL');
  client.connect();
  socket().serverAccept([]);
  client.disconnect();
  client.connect();
  assert.equal(WS.instances.length, 2);
  socket().serverAccept([]);
  assert.equal(socket().sentOf('subscribe')[0].symbol, 'AAPL');
});

// --- Reconnect: resubscribe or restore ----------------------------------------------------

test('after a reconnect without a restored session it subscribes again', () => {
  const { client, socket, clock } = makeClient();
  client.subscribe('AAPL');
  client.subscribe('MSFT');
  client.connect();
  socket().serverAccept([]);
  socket().confirmLastSubscribe();
  socket().serverClose(1001, 'server shutting down');
  clock.advance(30_000);
  socket().serverAccept([]);
  assert.deepEqual(socket().sentOf('subscribe')[0].symbols, ['AAPL', 'MSFT']);
});

test('after a reconnect with session_restored it subscribes only the missing symbols', () => {
  const { client, socket, clock } = makeClient();
  const events = recordEvents(client, ['subscribed', 'orderbook']);
  client.subscribe('AAPL');
  client.subscribe('MSFT');
  client.connect();
  socket().serverAccept([]);
  socket().confirmLastSubscribe();
  socket().serverClose(1006);
  clock.advance(30_000);
  client.subscribe('TSLA'); // While away.
  const ws = socket();
  ws.serverOpen();
  ws.serverSend({ type: 'session_restored', symbols: ['AAPL', 'MSFT'] });
  ws.serverSend(book('AAPL', 9, { snapshot: true, epoch: 1000 }));
  ws.serverSend({ type: 'subscriptions', symbols: ['AAPL', 'MSFT'], req_id: ws.sentOf('list_subscriptions')[0].req_id });
  assert.deepEqual(ws.sentOf('subscribe').map((m) => m.symbol ?? m.symbols), ['TSLA']);
  assert.deepEqual(ws.sentOf('unsubscribe'), []);
  assert.ok(events.some((e) => e.type === 'subscribed' && e.symbol === 'AAPL' && e.restored));
  assert.ok(events.some((e) => e.type === 'orderbook' && e.symbol === 'AAPL' && e.meta.seq === 9));
});

test("a restored session's symbols the page no longer wants are unsubscribed", () => {
  const { client, socket } = makeClient();
  const received = [];
  client.onOrderBookUpdate = (symbol) => received.push(symbol);
  client.subscribe('AAPL');
  client.connect(); // A reload: the id's stored session still holds OLD.
  socket().serverAccept(['OLD'], { restored: ['OLD'] });
  assert.deepEqual(socket().sentOf('unsubscribe').map((m) => m.symbol), ['OLD']);
  assert.deepEqual(socket().sentOf('subscribe').map((m) => m.symbol), ['AAPL']);
  socket().serverSend(book('OLD', 3));
  assert.deepEqual(received, [], 'books of unwanted symbols are not delivered');
});

test('books missed while away are counted on the baseline of the same gateway run', () => {
  const { client, socket, clock } = makeClient();
  const metas = [];
  client.onOrderBookUpdate = (_s, _b, meta) => metas.push(meta);
  client.subscribe('AAPL');
  client.connect();
  socket().serverAccept([]);
  socket().confirmLastSubscribe({ epoch: 5, snapshots: { AAPL: 10 } });
  socket().serverClose(1006);
  clock.advance(30_000);
  socket().serverAccept([]);
  socket().confirmLastSubscribe({ epoch: 5, snapshots: { AAPL: 14 } });
  assert.equal(metas.at(-1).missed, 3);
  socket().serverClose(1006);
  clock.advance(30_000);
  socket().serverAccept([]);
  socket().confirmLastSubscribe({ epoch: 6, snapshots: { AAPL: 2 } }); // Gateway restarted.
  assert.equal(metas.at(-1).missed, null);
  assert.equal(metas.at(-1).epoch, 6);
});

// --- Gaps ---------------------------------------------------------------------------------

async function subscribedClient(options = {}) {
  const made = makeClient(options);
  made.client.subscribe('AAPL');
  made.client.connect();
  made.socket().serverAccept([]);
  made.socket().confirmLastSubscribe({ epoch: 1000, snapshots: { AAPL: 5 } });
  return made;
}

test('a seq gap emits gap and resubscribes for a fresh snapshot', async () => {
  const { client, socket, clock } = await subscribedClient();
  const events = recordEvents(client, ['gap', 'subscribed', 'unsubscribed', 'orderbook']);
  const ws = socket();
  ws.serverSend(book('AAPL', 6));
  ws.serverSend(book('AAPL', 9));
  const gap = events.find((e) => e.type === 'gap');
  assert.deepEqual(gap, { type: 'gap', symbol: 'AAPL', reason: 'seq', expected: 7, got: 9, resync: true });
  assert.equal(events.filter((e) => e.type === 'orderbook').length, 2, 'the book after the gap is shown');
  await settle();
  assert.deepEqual(ws.sentOf('unsubscribe').map((m) => m.symbol), ['AAPL']);
  ws.serverSend(book('AAPL', 11)); // Queued before the unsubscribe: shown, no second gap.
  assert.equal(events.filter((e) => e.type === 'gap').length, 1);
  ws.serverSend({ type: 'unsubscription_confirmed', symbol: 'AAPL', req_id: ws.sentOf('unsubscribe')[0].req_id });
  await settle();
  assert.deepEqual(ws.sentOf('subscribe').at(-1).symbol, 'AAPL');
  assert.ok(!events.some((e) => e.type === 'unsubscribed'), 'a resync is not an unsubscribe');
  clock.advance(100);
  ws.confirmLastSubscribe({ epoch: 1000, snapshots: { AAPL: 12 } });
  assert.ok(events.some((e) => e.type === 'subscribed' && e.resync === true));
  const snapshot = events.filter((e) => e.type === 'orderbook').at(-1);
  assert.equal(snapshot.meta.seq, 12);
  assert.equal(snapshot.meta.baseline, true);
  assert.deepEqual(client.subscriptions, ['AAPL']);
});

test('resyncs are bounded per symbol by resyncMinIntervalMs (conflation gaps are normal under load)', async () => {
  const { client, socket, clock } = await subscribedClient({ resyncMinIntervalMs: 5000 });
  const gaps = recordEvents(client, ['gap']);
  const ws = socket();
  ws.serverSend(book('AAPL', 8));
  await settle();
  ws.serverSend({ type: 'unsubscription_confirmed', symbol: 'AAPL', req_id: ws.sentOf('unsubscribe')[0].req_id });
  await settle();
  ws.confirmLastSubscribe({ snapshots: { AAPL: 8 } });
  clock.advance(1000);
  ws.serverSend(book('AAPL', 12));
  await settle();
  assert.deepEqual(gaps.map((g) => g.resync), [true, false]);
  assert.equal(ws.sentOf('unsubscribe').length, 1);
  clock.advance(4000);
  ws.serverSend(book('AAPL', 15));
  await settle();
  assert.deepEqual(gaps.map((g) => g.resync), [true, false, true]);
  assert.equal(ws.sentOf('unsubscribe').length, 2);
});

test('resyncOnGap: false reports gaps and sends nothing; throttleMs implies it', async () => {
  {
    const { client, socket } = await subscribedClient({ resyncOnGap: false });
    const gaps = recordEvents(client, ['gap']);
    socket().serverSend(book('AAPL', 9));
    await settle();
    assert.equal(gaps.length, 1);
    assert.equal(gaps[0].resync, false);
    assert.equal(socket().sentOf('unsubscribe').length, 0);
  }
  {
    const { client, socket } = await subscribedClient({ throttleMs: 100 });
    assert.equal(socket().url, 'ws://gateway.test:8002/ws/tab-1?throttle_ms=100');
    const gaps = recordEvents(client, ['gap']);
    socket().serverSend(book('AAPL', 9));
    await settle();
    assert.equal(gaps[0].resync, false);
    assert.equal(socket().sentOf('unsubscribe').length, 0);
  }
});

test('a new epoch under a live subscription is a gap of reason epoch', async () => {
  const { client, socket } = await subscribedClient();
  const gaps = recordEvents(client, ['gap']);
  socket().serverSend(book('AAPL', 6));
  socket().serverSend(book('AAPL', 1, { epoch: 2000 })); // A cluster's new numbering run.
  assert.deepEqual(gaps, [{
    type: 'gap', symbol: 'AAPL', reason: 'epoch', expected: 7, got: 1, fromEpoch: 1000, toEpoch: 2000, resync: true,
  }]);
  socket().serverSend(book('AAPL', 2));
  assert.equal(gaps.length, 1, 'seq is compared within the new epoch');
});

test('consecutive seq is no gap, and the first book after a confirmation is the baseline', async () => {
  const { client, socket } = await subscribedClient();
  const gaps = recordEvents(client, ['gap']);
  for (let seq = 6; seq < 20; seq++) socket().serverSend(book('AAPL', seq));
  assert.equal(gaps.length, 0);
  // A conflated-away snapshot: the first book after the confirmation jumps, no gap.
  client.subscribe('MSFT');
  await settle();
  socket().confirmLastSubscribe();
  socket().serverSend(book('MSFT', 40));
  socket().serverSend(book('MSFT', 41));
  assert.equal(gaps.length, 0);
});

// --- Auth -------------------------------------------------------------------------------

test('the token is the first message, before list_subscriptions and any subscribe', async () => {
  const { client, socket } = makeClient({ token: 'header.payload.sig' });
  client.subscribe('AAPL');
  client.connect();
  socket().serverOpen();
  assert.deepEqual(socket().sent[0].action, 'auth');
  assert.deepEqual(socket().sent[0].token, 'header.payload.sig');
  assert.deepEqual(socket().sent.map((m) => m.action), ['auth', 'list_subscriptions']);
  socket().serverSend({ type: 'authenticated', sub: 'tab-1', exp: 4_000_000_000, req_id: socket().sent[0].req_id });
  socket().serverSend({ type: 'subscriptions', symbols: [], req_id: socket().sent[1].req_id });
  assert.deepEqual(socket().sent.map((m) => m.action), ['auth', 'list_subscriptions', 'subscribe']);
});

test('a token function is called before each connect; its failure is an error and a retry', async () => {
  let calls = 0;
  let fail = true;
  const { client, WS, socket, clock } = makeClient({
    token: async () => { calls++; if (fail) throw new Error('login service down'); return `jwt-${calls}`; },
  });
  const errors = recordEvents(client, ['error']);
  const states = recordEvents(client, ['state']);
  // Exactly to the reconnect: the fake clock runs timers before promise callbacks, so
  // going further would also fire the token's own timeout.
  const toReconnect = () => clock.advance(states.at(-1).delayMs);
  client.connect();
  await settle();
  assert.equal(WS.instances.length, 0);
  assert.equal(errors[0].code, 'token_unavailable');
  assert.match(errors[0].message, /login service down/);
  assert.equal(client.state, 'reconnecting');
  fail = false;
  toReconnect();
  await settle();
  assert.equal(WS.instances.length, 1);
  socket().serverOpen();
  assert.equal(socket().sent[0].token, 'jwt-2');
  socket().serverClose(1008, 'token expired');
  toReconnect();
  await settle();
  socket().serverOpen();
  assert.equal(socket().sent[0].token, 'jwt-3', 'a fresh token per connect');
});

test('a token function is asked again ahead of exp and sent as a refresh auth', async () => {
  let calls = 0;
  const { client, socket, clock } = makeClient({ token: () => `jwt-${++calls}`, refreshMarginMs: 60_000 });
  client.connect();
  await settle();
  socket().serverOpen();
  const exp = Math.floor(clock.time / 1000) + 300; // 5 minutes
  socket().serverSend({ type: 'authenticated', sub: 'tab-1', exp, req_id: socket().sent[0].req_id });
  socket().serverSend({ type: 'subscriptions', symbols: [], req_id: socket().sent[1].req_id });
  const refreshAt = exp * 1000 - 60_000;
  clock.advance(refreshAt - clock.time - 1);
  await settle();
  assert.equal(socket().sentOf('auth').length, 1);
  clock.advance(1);
  await settle();
  assert.deepEqual(socket().sentOf('auth').map((m) => m.token), ['jwt-1', 'jwt-2']);
  assert.equal(client.state, 'open', 'a refresh does not reconnect');
});

test('a refused token is surfaced as error and the client reconnects with backoff', () => {
  const { client, socket } = makeClient({ token: 'expired.jwt.x' });
  const events = recordEvents(client, ['error', 'state']);
  client.connect();
  socket().serverOpen();
  socket().serverSend({ type: 'error', code: 'token_expired', message: 'The token has expired (exp)', req_id: socket().sent[0].req_id });
  socket().serverClose(1008, 'token_expired');
  const error = events.find((e) => e.type === 'error');
  assert.equal(error.code, 'token_expired');
  assert.equal(events.at(-1).state, 'reconnecting');
  assert.equal(events.at(-1).reason, 'token_expired');
});

// --- Errors -----------------------------------------------------------------------------

test('forbidden is per symbol: that one leaves subscriptions, the others go ahead', async () => {
  const { client, socket } = makeClient();
  const errors = recordEvents(client, ['error']);
  client.subscribe('AAPL');
  client.subscribe('SECRET');
  client.connect();
  socket().serverAccept([]);
  const request = socket().sentOf('subscribe')[0];
  socket().serverSend({ type: 'subscription_confirmed', symbol: 'AAPL', epoch: 1, req_id: request.req_id });
  socket().serverSend({ type: 'error', code: 'forbidden', message: 'Your token does not allow this symbol', symbol: 'SECRET', req_id: request.req_id });
  assert.deepEqual(errors, [{
    type: 'error', code: 'forbidden', message: 'Your token does not allow this symbol', symbol: 'SECRET', symbols: ['SECRET'], reqId: request.req_id,
  }]);
  assert.deepEqual(client.subscriptions, ['AAPL']);
});

test('a refused subscribe request (subscription_limit) names its symbols in the error', async () => {
  const { client, socket } = makeClient();
  const errors = recordEvents(client, ['error']);
  client.subscribe('A');
  client.connect();
  socket().serverAccept([]);
  socket().confirmLastSubscribe();
  client.subscribe('B');
  client.subscribe('C');
  await settle();
  const request = socket().sentOf('subscribe').at(-1);
  socket().serverSend({ type: 'error', code: 'subscription_limit', message: 'Subscription limit exceeded: at most 1 per connection', req_id: request.req_id });
  assert.deepEqual(errors[0].symbols, ['B', 'C']);
  assert.deepEqual(client.subscriptions, ['A']);
});

test('after rate_limited it asks what it holds and sends what the gateway dropped', async () => {
  const { client, socket, clock } = makeClient();
  client.subscribe('A');
  client.connect();
  socket().serverAccept([]);
  // The subscribe of A was refused by the rate limit: the error carries no req_id.
  socket().serverSend({ type: 'error', code: 'rate_limited', message: 'Too many messages: at most 50.000000 per second; this one was ignored' });
  clock.advance(1000);
  const lists = socket().sentOf('list_subscriptions');
  assert.equal(lists.length, 2);
  client.subscribe('B'); // Sent after the list: answered after it, must not be resent.
  await settle();
  socket().serverSend({ type: 'subscriptions', symbols: [], req_id: lists[1].req_id });
  const subscribes = socket().sentOf('subscribe').map((m) => m.symbol ?? m.symbols);
  assert.deepEqual(subscribes, ['A', 'B', 'A']);
});

test('the legacy middleware (no list_subscriptions) gets one subscribe per symbol', () => {
  const { client, socket } = makeClient();
  client.subscribe('AAPL');
  client.subscribe('MSFT');
  client.connect();
  socket().serverOpen();
  socket().serverSend({ type: 'error', message: 'Unknown action: list_subscriptions' });
  assert.deepEqual(socket().sentOf('subscribe').map((m) => m.symbol), ['AAPL', 'MSFT']);
  assert.equal(client.state, 'open');
});

test('invalid symbols and client ids are refused at the call', () => {
  assert.throws(() => new WebSocketClient('a/b', { url: 'ws://x' }), TypeError);
  assert.throws(() => new WebSocketClient('', { url: 'ws://x' }), TypeError);
  assert.throws(() => new WebSocketClient('x'.repeat(129), { url: 'ws://x' }), TypeError);
  assert.throws(() => new WebSocketClient('ok', { minBackoffMs: 0 }), RangeError);
  const { client } = makeClient();
  assert.throws(() => client.subscribe('A B'), TypeError);
  assert.throws(() => client.subscribe('X'.repeat(33)), TypeError);
  client.subscribe('BTC:USD');
  assert.deepEqual(client.subscriptions, ['BTC:USD']);
});

// --- Unsubscribe ------------------------------------------------------------------------

test('unsubscribe stops delivery at once and confirms with unsubscribed', async () => {
  const { client, socket } = await subscribedClient();
  const events = recordEvents(client, ['orderbook', 'unsubscribed']);
  client.unsubscribe('AAPL');
  await settle();
  assert.equal(socket().sentOf('unsubscribe')[0].symbol, 'AAPL');
  socket().serverSend(book('AAPL', 6)); // Queued before the unsubscribe reached the gateway.
  socket().serverSend({ type: 'unsubscription_confirmed', symbol: 'AAPL', req_id: socket().sentOf('unsubscribe')[0].req_id });
  assert.deepEqual(events, [{ type: 'unsubscribed', symbol: 'AAPL' }]);
  assert.deepEqual(client.subscriptions, []);
});

test('subscribe again while the unsubscribe is in flight ends subscribed', async () => {
  const { client, socket } = await subscribedClient();
  client.unsubscribe('AAPL');
  await settle();
  client.subscribe('AAPL');
  await settle();
  assert.equal(socket().sentOf('subscribe').length, 1, 'waits for the unsubscribe to be confirmed');
  socket().serverSend({ type: 'unsubscription_confirmed', symbol: 'AAPL', req_id: socket().sentOf('unsubscribe')[0].req_id });
  await settle();
  assert.equal(socket().sentOf('subscribe').length, 2);
});

// --- State events -----------------------------------------------------------------------

test('state events: connecting, open, reconnecting, connecting, open, closed', () => {
  const { client, socket, clock } = makeClient();
  const states = recordEvents(client, ['state']);
  assert.equal(client.state, 'idle');
  client.connect();
  socket().serverAccept([]);
  socket().serverClose(1006);
  clock.advance(states.at(-1).delayMs);
  socket().serverAccept([]);
  client.disconnect();
  assert.deepEqual(states.map((s) => s.state), ['connecting', 'open', 'reconnecting', 'connecting', 'open', 'closed']);
  assert.equal(states[2].delayMs, 250);
  assert.equal(states[2].attempt, 1);
  assert.equal(states[2].code, 1006);
  client.connect();
  client.connect(); // Already connecting: no second socket.
  assert.equal(states.filter((s) => s.state === 'connecting').length, 3);
});

// --- URL ----------------------------------------------------------------------------------

test('URL: base from the options, http(s) mapped to ws(s), id encoded, restore=0', () => {
  const url = (base, options = {}, id = 'tab-1') => new WebSocketClient(id, { url: base, ...options }).url;
  assert.equal(url('ws://h:8002'), 'ws://h:8002/ws/tab-1');
  assert.equal(url('https://h/gw/'), 'wss://h/gw/ws/tab-1');
  assert.equal(url('http://h:8002', { restore: false }), 'ws://h:8002/ws/tab-1?restore=0');
  assert.equal(url('ws://h', {}, 'a b?#é'), 'ws://h/ws/a%20b%3F%23%C3%A9');
  const saved = globalThis.location;
  globalThis.location = { protocol: 'https:', host: 'books.example:8443', href: 'https://books.example:8443/' };
  try {
    assert.equal(new WebSocketClient('p').url, 'wss://books.example:8443/ws/p');
  } finally {
    globalThis.location = saved;
  }
});

// --- Normalisation ------------------------------------------------------------------------

test('normalizeBook: gRPC books ([[price,volume,orders],...], docs/protocol.md 4.4)', () => {
  const data = JSON.parse('{"bids":[[320.2,1500,7],[320,0.5,0]],"asks":[[320.4,200,2]],' +
    '"timestamp":"2024-01-01T12:00:00Z","source_time_ns":1704110400123456789,"source_seq":42}');
  const b = normalizeBook(data);
  assert.deepEqual(b.bids, [{ price: 320.2, volume: 1500, orders: 7 }, { price: 320, volume: 0.5, orders: 0 }]);
  assert.deepEqual(b.asks, [{ price: 320.4, volume: 200, orders: 2 }]);
  assert.equal(b.timestamp, '2024-01-01T12:00:00Z');
  assert.equal(b.raw, data);
  assert.equal(b.raw.source_seq, 42);
});

test('normalizeBook: REST bodies verbatim (objects, quoted numbers, other names, Futu tuples)', () => {
  const rest = normalizeBook({
    bids: [{ price: '189.50', volume: 100, orders: 3 }, { price: 189.4, size: '20' }],
    asks: [{ p: 189.6, qty: 7, order_count: 1 }, { price: 'n/a', volume: 1 }, null, 'x'],
    timestamp: '2024-01-01T12:00:00Z',
  });
  assert.deepEqual(rest.bids, [{ price: 189.5, volume: 100, orders: 3 }, { price: 189.4, volume: 20, orders: null }]);
  assert.deepEqual(rest.asks, [{ price: 189.6, volume: 7, orders: 1 }], 'unusable levels skipped');
  const futu = normalizeBook({ Bid: [[10.5, 300, 4, {}]], Ask: [[10.6, 100, 1, {}]] });
  assert.deepEqual(futu.bids, [{ price: 10.5, volume: 300, orders: 4 }]);
  assert.deepEqual(futu.asks, [{ price: 10.6, volume: 100, orders: 1 }]);
  assert.deepEqual(normalizeBook({ bids: [], asks: [] }), { bids: [], asks: [], timestamp: null, raw: { bids: [], asks: [] } });
  assert.deepEqual(normalizeBook([1, 2]), { bids: [], asks: [], timestamp: null, raw: [1, 2] });
  assert.deepEqual(normalizeBook(null).bids, []);
  assert.deepEqual(normalizeLevels('nope'), []);
  assert.deepEqual(normalizeLevels([[1, 2]]), [{ price: 1, volume: 2, orders: null }]);
});

test('parseGatewayTime keeps microseconds', () => {
  assert.equal(parseGatewayTime('2024-01-01T12:00:00.123456+00:00'), Date.UTC(2024, 0, 1, 12) + 123.456);
  assert.equal(parseGatewayTime('2024-01-01T12:00:00Z'), Date.UTC(2024, 0, 1, 12));
  assert.equal(parseGatewayTime('2024-01-01T14:00:00.5+02:00'), Date.UTC(2024, 0, 1, 12) + 500);
  assert.equal(parseGatewayTime('yesterday'), null);
  assert.equal(parseGatewayTime(undefined), null);
});

test('unsubscribe before the confirmation: unsubscribed once both answers are in', async () => {
  const { client, socket } = makeClient();
  const events = recordEvents(client, ['subscribed', 'unsubscribed', 'orderbook']);
  client.subscribe('AAPL');
  client.connect();
  socket().serverAccept([]);
  client.unsubscribe('AAPL'); // The subscribe is out, its confirmation not yet in.
  await settle();
  const unsubscribe = socket().sentOf('unsubscribe')[0];
  assert.equal(unsubscribe.symbol, 'AAPL');
  socket().confirmLastSubscribe({ snapshots: { AAPL: 3 } });
  await settle();
  assert.equal(socket().sentOf('unsubscribe').length, 1, 'not sent twice');
  socket().serverSend({ type: 'unsubscription_confirmed', symbol: 'AAPL', req_id: unsubscribe.req_id });
  assert.deepEqual(events, [{ type: 'unsubscribed', symbol: 'AAPL' }], 'no subscribed, no book');
});

test('a token function that never answers is given up after connectTimeoutMs', async () => {
  const { client, WS, clock } = makeClient({ token: () => new Promise(() => {}), connectTimeoutMs: 4000 });
  const errors = recordEvents(client, ['error']);
  client.connect();
  await settle();
  clock.advance(3999);
  await settle();
  assert.equal(client.state, 'connecting');
  clock.advance(1);
  await settle();
  assert.equal(client.state, 'reconnecting');
  assert.equal(errors[0].code, 'token_unavailable');
  assert.equal(WS.instances.length, 0);
});
