// The client library against the real orderbook-gateway binary, in Node (its WebSocket
// with --experimental-websocket on Node 20, else mini-websocket.mjs): REST-published books arrive, a restart of
// the gateway on the same port is survived with a resubscribe, a session is restored
// without resubscribing, a throttled symbol's seq gap triggers a resync, and a token
// (minted here, HS256) goes first with its symbols claim enforced per symbol.
// CTest passes OBGW_BIN_DIR (the build's bin directory); without a gateway there the test
// says so and is skipped. OBGW_MINI_WEBSOCKET=1 uses the small client even where Node has one.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { WebSocketClient } from '../../gateway/web/static/client/orderbook-client.js';
import { MiniWebSocket } from './mini-websocket.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN_DIR = path.resolve(process.env.OBGW_BIN_DIR || path.join(here, '../../build/bin'));
const GATEWAY = path.join(BIN_DIR, 'orderbook-gateway');
const skip = !existsSync(GATEWAY) ? `no gateway binary at ${GATEWAY}` : false;
// Node's own WebSocket (undici) where there is one, else the small one of this folder.
const NodeWebSocket = typeof globalThis.WebSocket === 'function' && !process.env.OBGW_MINI_WEBSOCKET
  ? globalThis.WebSocket : MiniWebSocket;

const running = new Set();
after(async () => { for (const g of running) await g.stop(); });

// The gateway as a child process; ready once it prints its ports.
function startGateway(args = []) {
  const proc = spawn(GATEWAY, ['--http_port=0', '--grpc_port=0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  const gateway = {
    proc,
    get output() { return output; },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
      running.delete(gateway);
    },
  };
  running.add(gateway);
  const ready = new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk;
      const m = /orderbook-gateway ready http=[^:\s]+:(\d+)/.exec(output);
      if (m) resolve(Number(m[1]));
    };
    proc.stdout.setEncoding('utf8').on('data', onData);
    proc.stderr.setEncoding('utf8').on('data', onData);
    exited.then((code) => reject(new Error(`gateway exited (${code}) before ready:\n${output}`)));
  });
  gateway.ready = ready.then((port) => { gateway.port = port; return gateway; });
  return gateway;
}

async function publish(port, symbol, body) {
  const res = await fetch(`http://127.0.0.1:${port}/broadcast/orderbook?symbol=${encodeURIComponent(symbol)}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.text());
}

// A WebSocket that records what the client sends, to check what went over the wire.
function recordingWebSocket(log) {
  return class extends NodeWebSocket {
    send(text) {
      log.push(JSON.parse(text));
      super.send(text);
    }
  };
}

// Polls the gateway's /stats until `predicate` holds: the one thing a test cannot get as an
// event here is the gateway having finished closing a connection.
async function waitForStats(port, predicate, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await (await fetch(`http://127.0.0.1:${port}/stats`)).json();
    if (predicate(stats)) return stats;
    if (Date.now() > deadline) throw new Error(`stats never matched: ${JSON.stringify(stats)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function waitFor(client, type, predicate = () => true, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`no ${type} event within ${timeoutMs} ms`)); }, timeoutMs);
    const off = client.on(type, (detail) => {
      if (!predicate(detail)) return;
      clearTimeout(timer);
      off();
      resolve(detail);
    });
  });
}

function makeClient(port, id, options = {}) {
  const client = new WebSocketClient(id, {
    url: `ws://127.0.0.1:${port}`, minBackoffMs: 50, maxBackoffMs: 400, WebSocket: NodeWebSocket, ...options,
  });
  running.add({ stop: async () => client.disconnect() });
  return client;
}

function hs256(secret, claims) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

test('books reach the library, and it resubscribes after the gateway restarts', { skip }, async () => {
  let gateway = await startGateway().ready;
  const port = gateway.port;
  const client = makeClient(port, 'web-restart');
  client.subscribe('AAPL'); // Before connect: the guide's client lost this one.
  const opened = waitFor(client, 'state', (s) => s.state === 'open');
  const subscribed = waitFor(client, 'subscribed', (d) => d.symbol === 'AAPL');
  client.connect();
  await opened;
  await subscribed;
  const first = waitFor(client, 'orderbook', (d) => d.symbol === 'AAPL');
  await publish(port, 'AAPL', { bids: [{ price: 189.5, volume: 100, orders: 3 }], asks: [] });
  const { book, meta } = await first;
  assert.deepEqual(book.bids, [{ price: 189.5, volume: 100, orders: 3 }]);
  const epoch = meta.epoch;
  assert.ok(epoch > 0);

  const lost = waitFor(client, 'state', (s) => s.state === 'reconnecting');
  await gateway.stop();
  assert.equal((await lost).code, 1001, 'server shutting down');
  const reopened = waitFor(client, 'state', (s) => s.state === 'open', 15000);
  const resubscribed = waitFor(client, 'subscribed', (d) => d.symbol === 'AAPL', 15000);
  gateway = await startGateway([`--http_port=${port}`]).ready;
  await reopened;
  await resubscribed;
  const again = waitFor(client, 'orderbook', (d) => d.symbol === 'AAPL');
  await publish(port, 'AAPL', { bids: [[190, 1, 1]], asks: [] });
  const next = await again;
  assert.equal(next.book.bids[0].price, 190);
  assert.notEqual(next.meta.epoch, epoch, 'a new gateway run');
  assert.equal(next.meta.seq, 1);
  client.disconnect();
  await gateway.stop();
});

test('a reconnect with the same client_id gets the session back and subscribes only what is missing', { skip }, async () => {
  const gateway = await startGateway().ready;
  const a = makeClient(gateway.port, 'web-session');
  a.subscribe('AAPL');
  a.subscribe('OLD');
  a.connect();
  await waitFor(a, 'subscribed', (d) => d.symbol === 'OLD');
  // Listening before the publish: the book can arrive before the POST's reply does.
  const book = waitFor(a, 'orderbook', (d) => d.symbol === 'AAPL');
  await publish(gateway.port, 'AAPL', { bids: [[1, 1, 1]], asks: [] });
  await book;
  a.disconnect();
  // Restore goes to the id's only connection (docs/protocol.md 2.14): a's must be gone.
  await waitForStats(gateway.port, (s) => s.active_connections === 0);

  const sent = [];
  const b = makeClient(gateway.port, 'web-session', { WebSocket: recordingWebSocket(sent) });
  b.subscribe('AAPL');
  b.subscribe('MSFT');
  const restored = waitFor(b, 'subscribed', (d) => d.symbol === 'AAPL' && d.restored);
  const snapshot = waitFor(b, 'orderbook', (d) => d.symbol === 'AAPL' && d.meta.snapshot);
  const dropped = waitFor(b, 'unsubscribed', (d) => d.symbol === 'OLD');
  const msft = waitFor(b, 'subscribed', (d) => d.symbol === 'MSFT');
  b.connect();
  await Promise.all([restored, snapshot, dropped, msft]);
  const subscribed = sent.filter((m) => m.action === 'subscribe').map((m) => m.symbol ?? m.symbols);
  assert.deepEqual(subscribed, ['MSFT'], `sent: ${JSON.stringify(sent)}`);
  b.disconnect();
  await gateway.stop();
});

test('a seq gap (a throttled symbol) triggers a resync with a fresh snapshot', { skip }, async () => {
  const gateway = await startGateway().ready;
  const client = makeClient(gateway.port, 'web-gap', { throttleMs: 1000, resyncOnGap: true, resyncMinIntervalMs: 60000 });
  client.subscribe('GAP');
  client.connect();
  await waitFor(client, 'subscribed', (d) => d.symbol === 'GAP');
  const gap = waitFor(client, 'gap', (d) => d.symbol === 'GAP');
  const resynced = waitFor(client, 'subscribed', (d) => d.symbol === 'GAP' && d.resync);
  // Registered now: several frames can arrive in one turn of the event loop.
  const fresh = new Promise((resolve) => {
    let after = false;
    const off = client.on('subscribed', (d) => { if (d.symbol === 'GAP' && d.resync) after = true; });
    const offBook = client.on('orderbook', (d) => {
      if (after && d.symbol === 'GAP' && d.meta.baseline) { off(); offBook(); resolve(d); }
    });
  });
  // Within one throttle interval (1 s: ample even for a sanitizer build): the first goes
  // out at once, the next ones replace each other and the last goes out at its end.
  for (let i = 1; i <= 5; i++) await publish(gateway.port, 'GAP', { bids: [[i, 1, 1]], asks: [] });
  const g = await gap;
  assert.equal(g.reason, 'seq');
  assert.equal(g.resync, true);
  assert.ok(g.got > g.expected, JSON.stringify(g));
  await resynced;
  const snapshot = await fresh;
  // The newest book at the resync: 5 books, so seq 5 (which of the five it is, the hub
  // decides: each REST request may be another producer, docs/protocol.md 2.4 item 3).
  assert.equal(snapshot.meta.seq, 5, JSON.stringify(snapshot.meta));
  assert.equal(snapshot.meta.snapshot, true);
  assert.ok([1, 2, 3, 4, 5].includes(snapshot.book.bids[0].price));
  client.disconnect();
  await gateway.stop();
});

test('the token goes first; its symbols claim refuses one symbol, the other streams', { skip }, async () => {
  const secret = 'web-client-test-secret-0123456789abcdef';
  const gateway = await startGateway([`--jwt_secret=${secret}`]).ready;
  let minted = 0;
  const sent = [];
  const client = makeClient(gateway.port, 'alice', {
    WebSocket: recordingWebSocket(sent),
    token: async () => {
      minted++;
      return hs256(secret, { sub: 'alice', exp: Math.floor(Date.now() / 1000) + 600, symbols: ['AAPL'] });
    },
  });
  client.subscribe('AAPL');
  client.subscribe('SECRET');
  const authenticated = waitFor(client, 'authenticated');
  const forbidden = waitFor(client, 'error', (d) => d.code === 'forbidden');
  const subscribed = waitFor(client, 'subscribed', (d) => d.symbol === 'AAPL');
  client.connect();
  assert.equal((await authenticated).sub, 'alice');
  assert.equal((await forbidden).symbol, 'SECRET');
  await subscribed;
  assert.equal(sent[0].action, 'auth');
  assert.equal(minted, 1);
  assert.deepEqual(client.subscriptions, ['AAPL']);
  const got = waitFor(client, 'orderbook', (d) => d.symbol === 'AAPL');
  await publish(gateway.port, 'AAPL', { bids: [], asks: [{ price: 2, volume: 3 }] });
  assert.deepEqual((await got).book.asks, [{ price: 2, volume: 3, orders: null }]);
  client.disconnect();
  await gateway.stop();
});
