// What the browser tests share: the gateway and the demo feed as child processes on free
// ports, headless Debian chromium through playwright-core (never a downloaded browser), REST
// publishes, and a console watcher. Everything started here is stopped by stopAll(), which
// the tests call from their `after` hooks and which also runs when the process exits.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE_DIR = path.resolve(here, '../..');
// CMake passes the build's bin directory; by hand: OBGW_BIN_DIR=build/bin node --test ...
export const BIN_DIR = path.resolve(process.env.OBGW_BIN_DIR || path.join(SOURCE_DIR, 'build/bin'));
export const WEB_ROOT = path.resolve(process.env.OBGW_WEB_ROOT || path.join(SOURCE_DIR, 'gateway/web/static'));
export const CHROMIUM = process.env.OBGW_CHROMIUM || '/usr/bin/chromium';

const children = new Set();
const browsers = new Set();

// A child process whose output is kept (printed when a test fails) and searchable.
class Child {
  constructor(name, file, args) {
    this.name = name;
    this.output = '';
    this.proc = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = once(this.proc, 'exit').then(([code, signal]) => ({ code, signal }));
    this.proc.on('error', (err) => { this.output += `spawn error: ${err.message}\n`; });
    for (const stream of [this.proc.stdout, this.proc.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => { this.output += chunk; this.proc.emit('output'); });
    }
    children.add(this);
    this.exited.then(() => children.delete(this));
  }

  // Resolves with the first match of `re` in the output, within timeoutMs.
  waitFor(re, timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = re.exec(this.output);
        if (m) { cleanup(); resolve(m); }
      };
      const onExit = () => { cleanup(); reject(new Error(`${this.name} exited before ${re}:\n${this.output}`)); };
      const timer = setTimeout(() => { cleanup(); reject(new Error(`${this.name}: no ${re} within ${timeoutMs} ms:\n${this.output}`)); }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.proc.off('output', check);
        this.proc.off('exit', onExit);
      };
      this.proc.on('output', check);
      this.proc.on('exit', onExit);
      check();
    });
  }

  // SIGTERM (the gateway's graceful shutdown, docs/protocol.md 2.12), SIGKILL after graceMs.
  async stop(graceMs = 5000) {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.exited;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}

// The gateway on 127.0.0.1; port 0 lets it pick (its ready line says which), a given port
// is reused, which the restart test needs. `webRoot` (default: gateway/web/static) is passed
// as --web_root, so the files under test are the tree's; `webRoot: null` serves the copies
// built into the binary, as deploy/run-demo.sh does.
export async function startGateway({ httpPort = 0, grpcPort = 0, webRoot = WEB_ROOT, args = [] } = {}) {
  const argv = ['--bind=127.0.0.1', `--http_port=${httpPort}`, `--grpc_port=${grpcPort}`, '--threads=2', ...args];
  if (webRoot) argv.push(`--web_root=${webRoot}`);
  const child = new Child('orderbook-gateway', path.join(BIN_DIR, 'orderbook-gateway'), argv);
  const m = await child.waitFor(/orderbook-gateway ready http=\S+:(\d+) grpc=\S+:(\d+)/);
  child.httpPort = Number(m[1]);
  child.grpcPort = Number(m[2]);
  child.base = `http://127.0.0.1:${child.httpPort}`;
  child.wsBase = `ws://127.0.0.1:${child.httpPort}`;
  return child;
}

// orderbook-feed: the demo feed, publishing over gRPC (orderbook.v1.OrderBookIngest/Publish).
export function startFeed(gateway, { symbols = 10, rate = 20, count = 0, seed = 1, args = [] } = {}) {
  const argv = [`--target=127.0.0.1:${gateway.grpcPort}`, `--symbols=${symbols}`, `--rate=${rate}`,
    `--count=${count}`, `--seed=${seed}`, '--report_every_s=0', ...args];
  return new Child('orderbook-feed', path.join(BIN_DIR, 'orderbook-feed'), argv);
}

// POST /broadcast/orderbook (docs/protocol.md 3.1): the body reaches subscribers verbatim.
export async function publishRest(gateway, symbol, book) {
  const res = await fetch(`${gateway.base}/broadcast/orderbook?symbol=${encodeURIComponent(symbol)}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(book),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`publish ${symbol}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
}

export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Debian's chromium in a container without a user namespace sandbox.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  browsers.add(browser);
  browser.on('disconnected', () => browsers.delete(browser));
  return browser;
}

// Every console error, warning-level `error` entries of the browser's own log (failed
// requests) included, and every uncaught exception of a page. `allow` is a list of regexps
// for errors a test causes on purpose (a gateway it stopped refuses connections).
export function watchConsole(page, label = 'page') {
  const problems = [];
  const allowed = [];
  const watch = {
    problems,
    allowed,
    allow: [],
    assertClean() {
      if (problems.length) {
        throw new Error(`${label}: ${problems.length} console error(s):\n  ${problems.join('\n  ')}`);
      }
    },
  };
  const record = (text) => {
    if (watch.allow.some((re) => re.test(text))) allowed.push(text);
    else problems.push(text);
  };
  page.on('console', (msg) => {
    if (msg.type() === 'error') record(`console.error: ${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => record(`uncaught: ${err.stack || err.message}`));
  page.on('crash', () => record('page crashed'));
  return watch;
}

export async function stopAll() {
  await Promise.allSettled([...browsers].map((b) => b.close()));
  await Promise.allSettled([...children].map((c) => c.stop()));
}

// A synchronous last resort when the runner exits without the after hooks (an uncaught
// error): no child outlives the test.
process.on('exit', () => {
  for (const c of children) { try { c.proc.kill('SIGKILL'); } catch { /* already gone */ } }
});

// A book for a REST publish, levels as [price, volume, orders] like the gRPC rendering
// (docs/protocol.md 4.4), so one assertion fits both paths.
export function restBook(bestBid, bestAsk, { levels = 5, step = 0.01, volume = 100 } = {}) {
  const bids = [];
  const asks = [];
  for (let i = 0; i < levels; i++) {
    bids.push([+(bestBid - i * step).toFixed(4), volume * (i + 1), i + 1]);
    asks.push([+(bestAsk + i * step).toFixed(4), volume * (i + 1), i + 1]);
  }
  return { bids, asks, timestamp: new Date().toISOString() };
}
