// The live page at / in headless chromium, against the real gateway serving the copies of
// gateway/web/static built into it (as deploy/run-demo.sh runs it: no --web_root) and the
// demo feed publishing over gRPC:
//   - the page shows, for every demo symbol, exactly the book that orderbook-feed's last gRPC
//     publish made (compared with the frames the page's own WebSocket received);
//   - a REST publish changes a ladder; the symbol picker adds and removes a symbol;
//   - connection state, book age, latency and /health are shown;
//   - a gateway restart on the same port shows as reconnecting / unreachable, then open,
//     "restarted" and books again;
//   - no console errors; a screenshot goes to $OBGW_SCREENSHOT (docs/page.png in the README).
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  launchBrowser, publishRest, restBook, SOURCE_DIR, WEB_ROOT, startFeed, startGateway, stopAll,
  watchConsole,
} from './harness.mjs';

const DEMO = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'META', 'TSLA', 'BRK.B', 'JPM', 'V'];
const SCREENSHOT = path.resolve(process.env.OBGW_SCREENSHOT || path.join(SOURCE_DIR, 'build/page.png'));

let gateway;
let browser;
let page;
let watch;
const frames = [];  // every orderbook_update the page's WebSocket received, parsed

before(async () => {
  gateway = await startGateway({ webRoot: null });
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  page = await context.newPage();
  watch = watchConsole(page, 'live page');
  page.on('websocket', (ws) => {
    ws.on('framereceived', ({ payload }) => {
      const msg = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
      if (msg.type === 'orderbook_update') frames.push(msg);
    });
  });
});

after(async () => {
  await stopAll();
});

const state = () => page.locator('#conn').getAttribute('data-state');

// What the page shows in a symbol's card: seq, and the ladder's best bid / best ask rows.
async function shown(symbol) {
  return page.evaluate((s) => {
    const card = document.querySelector(`.card[data-symbol="${CSS.escape(s)}"]`);
    if (!card) return null;
    const row = (sel) => {
      const r = card.querySelector(sel);
      return r && !r.classList.contains('empty')
        ? { price: Number(r.querySelector('.px').textContent), orders: Number(r.querySelector('.ord').textContent) }
        : null;
    };
    // Bid rows are laid out best first; ask rows best last (nearest the spread).
    const asks = card.querySelectorAll('.ladder-row.ask:not(.empty)');
    const bestAsk = asks.length ? asks[asks.length - 1] : null;
    return {
      seq: card.dataset.seq ? Number(card.dataset.seq) : null,
      badge: card.querySelector('.badge').textContent,
      bestBid: row('.ladder-row.bid'),
      bestAsk: bestAsk && {
        price: Number(bestAsk.querySelector('.px').textContent),
        orders: Number(bestAsk.querySelector('.ord').textContent),
      },
    };
  }, symbol);
}

const best = (levels, side) => levels.reduce((a, b) => ((side === 'bids' ? b[0] > a[0] : b[0] < a[0]) ? b : a));

test("the gateway serves the tree's page files (its built-in copies are current)", async () => {
  for (const name of readdirSync(WEB_ROOT).filter((n) => /\.(html|js|css)$/.test(n))) {
    const res = await fetch(`${gateway.base}/${name === 'index.html' ? '' : name}`);
    assert.equal(res.status, 200, name);
    assert.equal(await res.text(), readFileSync(path.join(WEB_ROOT, name), 'utf8'),
      `${name}: the binary's copy differs from the tree's; rebuild orderbook-gateway`);
  }
});

test('the page opens, follows the demo symbols and says it is connected', async () => {
  await page.goto(`${gateway.base}/`);
  await page.waitForFunction(() => document.querySelector('#conn').dataset.state === 'open');
  const chips = await page.locator('#chips .chip').evaluateAll((els) => els.map((e) => e.dataset.symbol));
  assert.deepEqual(chips, DEMO);
  assert.equal(await page.locator('.card').count(), DEMO.length);
  // Nothing published yet: every card waits for its first book.
  for (const s of DEMO) assert.equal((await shown(s)).seq, null);
  // A poll sent before the page's WebSocket was counted may still show 0:
  // wait for one that counts it (polls are 2 s apart).
  await page.waitForFunction(() => /^healthy · 1 conns/.test(document.querySelector('#health-text').textContent));
});

test('every ladder shows the book that the last gRPC publish (orderbook-feed) made', async () => {
  // 5 books per symbol over one gRPC Publish stream; the feed exits when it is done.
  const feed = startFeed(gateway, { symbols: DEMO.length, rate: 200, count: 5 * DEMO.length });
  const { code } = await feed.exited;
  assert.equal(code, 0, feed.output);
  assert.match(feed.output, /server accepted 50, rejected 0/);

  // The last frame of each symbol that reached the page's socket, and then the DOM.
  for (const s of DEMO) {
    await page.waitForFunction(
      (sym) => document.querySelector(`.card[data-symbol="${CSS.escape(sym)}"]`)?.dataset.seq === '5', s);
    const last = frames.filter((f) => f.symbol === s).at(-1);
    assert.equal(last.seq, 5, `${s}: the gateway numbered the feed's books 1..5`);
    assert.ok(Array.isArray(last.data.bids[0]), `${s}: a gRPC book, levels as [price, volume, orders]`);
    const view = await shown(s);
    const bid = best(last.data.bids, 'bids');
    const ask = best(last.data.asks, 'asks');
    assert.deepEqual(view.bestBid, { price: bid[0], orders: bid[2] }, `${s} best bid`);
    assert.deepEqual(view.bestAsk, { price: ask[0], orders: ask[2] }, `${s} best ask`);
    assert.equal(view.badge, 'live');
  }
  // A live book was measured: gateway timestamp to this browser.
  assert.match(await page.locator('#latency-text').textContent(), /ms · p50 .* \(\d+ books\)/);
  assert.match(await page.locator('#last-book-text').textContent(), / ago \(/);
});

test('a REST publish changes the ladder; the symbol picker adds and removes a symbol', async () => {
  await publishRest(gateway, 'AAPL', restBook(101.25, 101.27));
  await page.waitForFunction(() => document.querySelector('.card[data-symbol="AAPL"]').dataset.seq === '6');
  const aapl = await shown('AAPL');
  assert.deepEqual(aapl.bestBid, { price: 101.25, orders: 1 });
  assert.deepEqual(aapl.bestAsk, { price: 101.27, orders: 1 });

  // Typed in lower case: the picker upper-cases; published before the subscription, so the
  // gateway's snapshot fills the card at once.
  await publishRest(gateway, 'NFLX', restBook(612.3, 612.5));
  await page.fill('#symbol-input', 'nflx');
  await page.press('#symbol-input', 'Enter');
  await page.waitForFunction(() => document.querySelector('.card[data-symbol="NFLX"]')?.dataset.seq === '1');
  assert.equal((await shown('NFLX')).badge, 'snapshot');
  assert.deepEqual((await shown('NFLX')).bestBid, { price: 612.3, orders: 1 });
  assert.ok(await page.evaluate(() => globalThis.orderbookPage.client.subscriptions.includes('NFLX')));

  await page.click('#chips .chip[data-symbol="NFLX"] button');
  assert.equal(await page.locator('.card[data-symbol="NFLX"]').count(), 0);
  await page.waitForFunction(() => !globalThis.orderbookPage.client.subscriptions.includes('NFLX'));
  // An invalid symbol is refused by the page before any request.
  await page.fill('#symbol-input', 'BAD/SYMBOL');
  await page.press('#symbol-input', 'Enter');
  assert.match(await page.locator('#notice').textContent(), /is not a symbol/);
  assert.equal(await state(), 'open');
});

test('after a reload, books keep moving with the demo feed; screenshot', async () => {
  // A reload keeps the tab's client_id (sessionStorage) and the symbols (localStorage): the
  // gateway restores the session, or the library subscribes again; either way the cards fill.
  const seqBefore = Object.fromEntries(await Promise.all(DEMO.map(async (s) => [s, (await shown(s)).seq])));
  const id = await page.locator('#client-id').textContent();
  await page.reload();
  assert.equal(await page.locator('#client-id').textContent(), id);
  await page.waitForFunction(() => document.querySelector('#conn').dataset.state === 'open');
  assert.deepEqual(await page.locator('#chips .chip').evaluateAll((els) => els.map((e) => e.dataset.symbol)), DEMO);
  // The README's demo: 10 symbols at 20 books/s, running while the page watches.
  const feed = startFeed(gateway, { symbols: DEMO.length, rate: 20, seed: 7 });
  await page.waitForFunction((before) => Object.entries(before).every(([s, seq]) => {
    const card = document.querySelector(`.card[data-symbol="${CSS.escape(s)}"]`);
    return Number(card.dataset.seq) >= seq + 3;
  }), seqBefore, { timeout: 20000 });
  // The health poll after the reload's new connection counts it (polls are 2 s apart).
  await page.waitForFunction(() => /^healthy · 1 conns/.test(document.querySelector('#health-text').textContent));
  // Ages count between books and stay small while the feed runs.
  const ages = await page.locator('.card dd:nth-of-type(2)').allTextContents();
  for (const age of ages) assert.match(age, /^\d+ ms$|^\d\.\d s$/);
  mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT });
  await feed.stop();
  watch.assertClean();
});

test('the page shows a gateway restart and comes back with books (same port)', async () => {
  // The browser logs each refused request itself while the gateway is down: expected, and
  // only those lines.
  watch.allow.push(
    /WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/ws\/page-[0-9a-f]+' failed/,
    /Failed to load resource: net::ERR_CONNECTION_REFUSED \(http:\/\/127\.0\.0\.1:\d+\/health\)/);
  const port = gateway.httpPort;
  const grpcPort = gateway.grpcPort;
  await gateway.stop();
  // Checked in one evaluation: a fully jittered delay may be ~0 ms, and then
  // the state is 'connecting' again before a second read; with the gateway
  // down, the attempts go on with growing delays, one of which is seen.
  await page.waitForFunction(() => document.querySelector('#conn').dataset.state === 'reconnecting' &&
      /^reconnecting: attempt \d+, in \d+\.\d s$/.test(document.querySelector('#conn-text').textContent));
  await page.waitForFunction(() => document.querySelector('#health').dataset.status === 'unreachable');

  gateway = await startGateway({ httpPort: port, grpcPort, webRoot: null });
  // The library's backoff is the default (0.5 s doubling, full jitter): a few seconds at most.
  await page.waitForFunction(() => document.querySelector('#conn').dataset.state === 'open', null, { timeout: 30000 });
  await page.waitForFunction(() => /restarted/.test(document.querySelector('#health-text').textContent), null, { timeout: 10000 });
  // The new run numbers from 1 again; its books reach the page.
  await publishRest(gateway, 'MSFT', restBook(400.5, 400.6));
  await page.waitForFunction(() => document.querySelector('.card[data-symbol="MSFT"]').dataset.seq === '1');
  assert.deepEqual((await shown('MSFT')).bestBid, { price: 400.5, orders: 1 });
  watch.assertClean();
});
