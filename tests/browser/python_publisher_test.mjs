// The end-to-end check: the guide's backend function, switched to the Python
// package (orderbook_gateway.broadcast_orderbook_to_websocket), publishes over gRPC to a
// browser. Headless chromium holds the guide's own WebSocketClient
// (tests/integration/guide_websocket_client.js) and the gateway's live page, both on the
// real gateway; python_backend.py (Debian's python3, the package from the build tree) calls
// the function with both `data` shapes (levels as objects, levels as arrays); the browser
// must show exactly those books: the guide's callback gets the gRPC rendering
// (docs/protocol.md 4.4) and the page's ladder the same prices and order counts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { launchBrowser, startGateway, stopAll, watchConsole } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env.OBGW_PYTHON3 || '/usr/bin/python3';
let gateway;
let browser;

before(async () => {
  gateway = await startGateway();
  browser = await launchBrowser();
});

after(async () => {
  await stopAll();
});

// The books the backend publishes, in the two shapes a REST publisher used.
const OBJECT_BOOK = {
  bids: [{ price: 189.5, volume: 300, orders: 3 }, { price: 189.49, volume: 120, orders: 2 }],
  asks: [{ price: 189.52, volume: 100, orders: 1 }],
  timestamp: '2024-01-01T12:00:00.000Z',
};
const ARRAY_BOOK = {
  bids: [[380.2, 12000, 15], [380, 53400, 41]],
  asks: [[380.4, 9000, 8], [380.6, 21000, 17]],
  timestamp: '2024-03-01T02:15:30.123Z',
};

async function runBackend(books) {
  const { stdout } = await promisify(execFile)(PYTHON, [path.join(here, 'python_backend.py'), JSON.stringify(books)], {
    env: { ...process.env, ORDERBOOK_GATEWAY_GRPC: `127.0.0.1:${gateway.grpcPort}` },
    timeout: 30000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

test("the guide's backend function publishes over gRPC to the browser", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const watch = watchConsole(page, 'live page');
  // The live page, showing the two symbols.
  await page.goto(`${gateway.base}/?symbols=PYOBJ,HK.00700`);
  await page.waitForFunction(() => document.querySelector('#conn')?.dataset.state === 'open');

  // The guide's frontend client (step 2.1) in a second page.
  const guidePage = await context.newPage();
  await context.route((url) => url.pathname === '/favicon.ico', (route) => route.fulfill({ status: 204 }));
  await guidePage.goto(`${gateway.base}/health`);
  const source = await readFile(path.join(here, '../integration/guide_websocket_client.js'), 'utf8');
  await guidePage.evaluate(async ({ src, wsBase }) => {
    globalThis.process = { env: { REACT_APP_WEBSOCKET_URL: wsBase } };
    const url = URL.createObjectURL(new Blob([src], { type: 'text/javascript' }));
    const { WebSocketClient } = await import(url);
    globalThis.guideBooks = [];
    globalThis.guide = new WebSocketClient('py-e2e');
    guide.onOrderBookUpdate = (symbol, data) => guideBooks.push({ symbol, data });
    guide.connect();
  }, { src: source, wsBase: gateway.wsBase });
  await guidePage.waitForFunction(() => guide.ws && guide.ws.readyState === WebSocket.OPEN);
  for (const symbol of ['PYOBJ', 'HK.00700']) {
    const confirmed = guidePage.waitForEvent('console', { predicate: (m) => m.text() === `Subscribed to ${symbol}` });
    await guidePage.evaluate((s) => guide.subscribe(s), symbol);
    await confirmed;
  }

  const result = await runBackend([['PYOBJ', OBJECT_BOOK], ['HK.00700', ARRAY_BOOK], ['NOT VALID', { bids: [] }]]);
  // The guide's function never raises: the invalid symbol is logged and reported as false.
  assert.deepEqual(result, { results: [true, true, false], accepted: 2, rejected: 0, errors: [] });

  await guidePage.waitForFunction(() => new Set(guideBooks.map((b) => b.symbol)).size === 2);
  const got = Object.fromEntries(await guidePage.evaluate(() => guideBooks.map((b) => [b.symbol, b.data])));
  // gRPC books reach the browser as [price, volume, orders] levels (docs/protocol.md 4.4).
  assert.deepEqual(got.PYOBJ, {
    bids: [[189.5, 300, 3], [189.49, 120, 2]], asks: [[189.52, 100, 1]], timestamp: OBJECT_BOOK.timestamp,
  });
  assert.deepEqual(got['HK.00700'], ARRAY_BOOK);

  // The live page shows the same books: best bid and best ask, price and orders.
  for (const [symbol, bid, ask] of [['PYOBJ', [189.5, 3], [189.52, 1]], ['HK.00700', [380.2, 15], [380.4, 8]]]) {
    await page.waitForFunction((s) => document.querySelector(`.card[data-symbol="${CSS.escape(s)}"]`)?.dataset.seq, symbol);
    const shown = await page.evaluate((s) => {
      const card = document.querySelector(`.card[data-symbol="${CSS.escape(s)}"]`);
      const read = (r) => [Number(r.querySelector('.px').textContent), Number(r.querySelector('.ord').textContent)];
      const asks = card.querySelectorAll('.ladder-row.ask:not(.empty)');
      return { bid: read(card.querySelector('.ladder-row.bid')), ask: read(asks[asks.length - 1]) };
    }, symbol);
    assert.deepEqual(shown, { bid, ask }, symbol);
  }
  watch.assertClean();
});
