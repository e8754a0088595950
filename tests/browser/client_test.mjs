// The client library (/client/orderbook-client.js, as the gateway serves it) and the guide's
// own WebSocketClient, in one headless chromium, against the real gateway:
//   - subscriptions made before the socket is open work (snapshot, then live books);
//   - after the gateway restarts on the same port the library reconnects and resubscribes;
//   - a seq gap (a frame dropped by playwright's routeWebSocket between page and gateway)
//     triggers a resync: the 'gap' event, an unsubscribe + subscribe, books flowing again;
//   - the guide's WebSocketClient (tests/integration/guide_websocket_client.js, types
//     stripped; also used by browser_client_test.cc) still receives books;
//   - no console errors (only the browser's own "connection refused" lines while the
//     restart test has the gateway down).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  launchBrowser, publishRest, restBook, startGateway, stopAll, watchConsole,
} from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
let gateway;
let browser;
const watches = [];

before(async () => {
  gateway = await startGateway();
  browser = await launchBrowser();
});

after(async () => {
  await stopAll();
});

// A page at the gateway's origin (its /health document: any same-origin document will do)
// with the library imported and a recorder of every event of the clients it makes.
// `beforeLoad(page)` runs before the document loads: playwright routes WebSockets by
// patching the page's WebSocket, which older versions do only for documents loaded later.
async function libraryPage(gw, label, beforeLoad = async () => {}) {
  const context = await browser.newContext();
  // /health is a JSON document without the page's `<link rel="icon">`, so chromium asks for
  // /favicon.ico, which the gateway does not have: a 404 console line that is this test's
  // choice of document, not the library's.
  await context.route((url) => url.pathname === '/favicon.ico', (route) => route.fulfill({ status: 204 }));
  const page = await context.newPage();
  const watch = watchConsole(page, label);
  watches.push(watch);
  await beforeLoad(page);
  await page.goto(`${gw.base}/health`);
  await page.evaluate(async () => {
    const { WebSocketClient } = await import('/client/orderbook-client.js');
    globalThis.log = { books: [], states: [], gaps: [], subscribed: [], unsubscribed: [], errors: [], callbacks: [] };
    globalThis.makeClient = (id, options) => {
      const client = new WebSocketClient(id, options);
      for (const type of ['state', 'gap', 'subscribed', 'unsubscribed', 'error']) {
        const list = { state: log.states, gap: log.gaps, subscribed: log.subscribed, unsubscribed: log.unsubscribed, error: log.errors }[type];
        client.addEventListener(type, (e) => list.push({ id, ...e.detail }));
      }
      client.addEventListener('orderbook', (e) => {
        const { symbol, book, meta } = e.detail;
        log.books.push({ id, symbol, bids: book.bids, asks: book.asks, seq: meta.seq, epoch: meta.epoch, snapshot: meta.snapshot });
      });
      // The guide's callback is kept: it must see the same books.
      client.onOrderBookUpdate = (symbol, book) => log.callbacks.push({ id, symbol, bid: book.bids[0]?.price });
      return client;
    };
  });
  return { page, watch, context };
}

// Waits until the page's log has an entry in `list` matching `predicate` (a function source
// evaluated in the page with the entry as `e`).
function waitLog(page, list, predicate, timeout = 15000) {
  return page.waitForFunction(
    ([l, p]) => globalThis.log[l].some(new Function('e', `return (${p});`)),
    [list, predicate], { timeout });
}

test('subscriptions made before the socket opens work', async () => {
  const { page } = await libraryPage(gateway, 'before-open');
  await publishRest(gateway, 'PRE1', restBook(10.5, 10.52));
  const before = await page.evaluate((wsBase) => {
    const c = makeClient('before-open', { url: wsBase });
    globalThis.c1 = c;
    c.subscribe('PRE1');
    c.subscribe('PRE2');
    const seen = { state: c.state, subscriptions: c.subscriptions };
    c.connect();
    return seen;
  }, gateway.wsBase);
  assert.deepEqual(before, { state: 'idle', subscriptions: ['PRE1', 'PRE2'] });

  // PRE1 had a book: its snapshot arrives; PRE2 had none: its first book is the next publish.
  await waitLog(page, 'books', "e.symbol === 'PRE1' && e.snapshot && e.bids[0].price === 10.5");
  await waitLog(page, 'subscribed', "e.symbol === 'PRE2'");
  await publishRest(gateway, 'PRE2', restBook(20.25, 20.3));
  await waitLog(page, 'books', "e.symbol === 'PRE2' && !e.snapshot && e.bids[0].price === 20.25");
  await waitLog(page, 'callbacks', "e.symbol === 'PRE2' && e.bid === 20.25");
  assert.equal(await page.evaluate(() => c1.state), 'open');
  await page.evaluate(() => c1.disconnect());
  await page.waitForFunction(() => c1.state === 'closed');
});

test('after the gateway restarts on the same port, the library reconnects and resubscribes', async () => {
  const gw = await startGateway();
  const { page, watch } = await libraryPage(gw, 'restart');
  await page.evaluate((wsBase) => {
    // Short backoff, so the test does not wait 30 s; the jitter stays on.
    globalThis.c2 = makeClient('restart-client', { url: wsBase, minBackoffMs: 100, maxBackoffMs: 800 });
    c2.subscribe('RST');
    c2.connect();
  }, gw.wsBase);
  await waitLog(page, 'subscribed', "e.symbol === 'RST'");
  await publishRest(gw, 'RST', restBook(50, 50.1));
  await waitLog(page, 'books', "e.symbol === 'RST' && e.bids[0].price === 50");
  const firstEpoch = await page.evaluate(() => c2.epoch);

  // Down: the browser itself logs each refused attempt; those lines, and only those, are
  // expected while the gateway is away.
  watch.allow.push(/WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/ws\/restart-client' failed/);
  const port = gw.httpPort;
  await gw.stop();
  await page.waitForFunction(() => c2.state === 'reconnecting');
  // A few refused attempts, so the restart is really a reconnect loop, not one retry.
  await page.waitForFunction(() => log.states.filter((s) => s.state === 'reconnecting').length >= 3, null, { timeout: 15000 });

  const gw2 = await startGateway({ httpPort: port });
  await page.waitForFunction(() => c2.state === 'open', null, { timeout: 15000 });
  // The new run has no session for this client_id: the library subscribes again by itself.
  await page.waitForFunction(
    (e1) => log.subscribed.some((s) => s.symbol === 'RST') && c2.epoch !== null && c2.epoch !== e1, firstEpoch);
  await publishRest(gw2, 'RST', restBook(51, 51.1));
  await waitLog(page, 'books', "e.symbol === 'RST' && e.bids[0].price === 51");
  const states = await page.evaluate(() => log.states.map((s) => s.state));
  assert.deepEqual(states.slice(0, 3), ['connecting', 'open', 'reconnecting']);
  assert.equal(states.at(-1), 'open');
  const attempts = await page.evaluate(() => log.states.filter((s) => s.state === 'reconnecting').map((s) => s.delayMs));
  for (const d of attempts) assert.ok(d >= 0 && d <= 800, `backoff ${d} ms within [0, maxBackoffMs]`);
  await page.evaluate(() => c2.disconnect());
  await gw2.stop();
});

test('a seq gap triggers a resync (a frame dropped between gateway and page)', async () => {
  const sent = [];      // what the library sent, as the gateway got it
  let dropSeq = null;   // the seq of the GAP book to drop, once known
  const dropped = [];
  const { page } = await libraryPage(gateway, 'gap', (p) => p.routeWebSocket(/\/ws\/gap-client/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((message) => {
      sent.push(JSON.parse(message));
      server.send(message);
    });
    server.onMessage((message) => {
      const msg = JSON.parse(message);
      if (msg.type === 'orderbook_update' && msg.symbol === 'GAP' && msg.seq === dropSeq) {
        dropped.push(msg.seq);
        return;
      }
      ws.send(message);
    });
  }));
  await page.evaluate((wsBase) => {
    globalThis.c3 = makeClient('gap-client', { url: wsBase });
    c3.subscribe('GAP');
    c3.connect();
  }, gateway.wsBase);
  await waitLog(page, 'subscribed', "e.symbol === 'GAP'");
  const r1 = await publishRest(gateway, 'GAP', restBook(30, 30.1));
  assert.equal(r1.subscribers, 1);
  await waitLog(page, 'books', "e.symbol === 'GAP' && e.bids[0].price === 30");
  const seq1 = await page.evaluate(() => log.books.filter((b) => b.symbol === 'GAP').at(-1).seq);

  dropSeq = seq1 + 1;
  // Two REST requests are two producers (docs/protocol.md 2.4 item 3): either book may get
  // seq1 + 1, so what follows looks at seqs, not at prices.
  await publishRest(gateway, 'GAP', restBook(31, 31.1));
  await publishRest(gateway, 'GAP', restBook(32, 32.1));  // seq1 + 1 is dropped, seq1 + 2 arrives
  await waitLog(page, 'gaps', "e.symbol === 'GAP'");
  assert.deepEqual(dropped, [seq1 + 1]);
  const gap = await page.evaluate(() => log.gaps[0]);
  assert.equal(gap.expected, seq1 + 1);
  assert.equal(gap.got, seq1 + 2);
  // The newest book is shown all the same (each book is a full book).
  await waitLog(page, 'books', `e.symbol === 'GAP' && e.seq === ${seq1 + 2} && !e.snapshot`);

  // The resync: the library asks again, unsubscribing then subscribing, and the fresh
  // subscription's snapshot is the book it has, seq1 + 2.
  await page.waitForFunction(() => log.subscribed.filter((s) => s.symbol === 'GAP').length >= 2);
  await waitLog(page, 'books', `e.symbol === 'GAP' && e.snapshot && e.seq === ${seq1 + 2}`);
  const actions = sent.filter((m) => [m.symbol, ...(m.symbols || [])].includes('GAP')).map((m) => m.action);
  assert.deepEqual(actions.slice(-2), ['unsubscribe', 'subscribe'], JSON.stringify(sent));
  // Live again, with no further gap.
  await publishRest(gateway, 'GAP', restBook(33, 33.1));
  await waitLog(page, 'books', "e.symbol === 'GAP' && e.bids[0].price === 33 && !e.snapshot");
  assert.equal(await page.evaluate(() => log.gaps.length), 1);
  await page.evaluate(() => c3.disconnect());
});

test("the guide's own WebSocketClient still receives books in the same browser", async () => {
  const { page } = await libraryPage(gateway, 'guide');
  const source = await readFile(path.join(here, '../integration/guide_websocket_client.js'), 'utf8');
  const logs = [];
  page.on('console', (msg) => logs.push(msg.text()));
  await page.evaluate(async ({ src, wsBase }) => {
    // The guide reads its URL from a bundler's process.env (create-react-app).
    globalThis.process = { env: { REACT_APP_WEBSOCKET_URL: wsBase } };
    const url = URL.createObjectURL(new Blob([src], { type: 'text/javascript' }));
    const { WebSocketClient } = await import(url);
    globalThis.guideBooks = [];
    globalThis.guide = new WebSocketClient('guide-client');
    guide.onOrderBookUpdate = (symbol, data) => guideBooks.push({ symbol, data });
    guide.connect();
  }, { src: source, wsBase: gateway.wsBase });
  // The guide's subscribe() only sends while the socket is open (the bug the library fixes).
  await page.waitForFunction(() => guide.ws && guide.ws.readyState === WebSocket.OPEN);
  const confirmed = page.waitForEvent('console', { predicate: (m) => m.text() === 'Subscribed to GUIDE' });
  await page.evaluate(() => guide.subscribe('GUIDE'));
  await confirmed;  // the guide logs subscription_confirmed
  const book = restBook(42, 42.5);
  await publishRest(gateway, 'GUIDE', book);
  await page.waitForFunction(() => guideBooks.some((b) => b.symbol === 'GUIDE'));
  const got = await page.evaluate(() => guideBooks.at(-1));
  // REST data arrives verbatim: the guide's callback gets exactly the posted body.
  assert.deepEqual(got, { symbol: 'GUIDE', data: book });
  assert.ok(logs.includes('WebSocket connected'));
});

test('no console errors on any page', () => {
  for (const w of watches) w.assertClean();
});
