// Unit tests of the live page's pure helpers (gateway/web/static/format.js), no browser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  cumulative, DEMO_SYMBOLS, formatAge, formatLatency, isValidSymbol, jwtSubject, levelChanges,
  parseIsoMs, parseSymbolList, percentile, priceDecimals, sortLevels,
} from '../../gateway/web/static/format.js';

test('parseIsoMs keeps the microseconds of the gateway timestamp', () => {
  const ms = parseIsoMs('2024-01-01T12:00:00.123456+00:00');
  assert.equal(Math.round((ms - Date.UTC(2024, 0, 1, 12)) * 1000), 123456);
  assert.equal(parseIsoMs('2024-01-01T12:00:00Z'), Date.UTC(2024, 0, 1, 12));
  assert.equal(parseIsoMs('2024-01-01T14:00:00+02:00'), Date.UTC(2024, 0, 1, 12));
  assert.equal(parseIsoMs('2024-01-01T07:30:00-04:30'), Date.UTC(2024, 0, 1, 12));
  assert.ok(Number.isNaN(parseIsoMs('yesterday')));
  assert.ok(Number.isNaN(parseIsoMs(undefined)));
});

test('symbols: the demo feed list, validation, parsing the input box', () => {
  assert.equal(DEMO_SYMBOLS.length, 10);
  assert.ok(DEMO_SYMBOLS.every(isValidSymbol));
  assert.ok(isValidSymbol('BTC:USD') && isValidSymbol('HK.00700'));
  assert.ok(!isValidSymbol('') && !isValidSymbol('A B') && !isValidSymbol('x'.repeat(33)));
  assert.deepEqual(parseSymbolList(' aapl, msft;AAPL  brk.b '), ['AAPL', 'MSFT', 'BRK.B']);
  assert.deepEqual(parseSymbolList('us.aapl', { upper: false }), ['us.aapl']);
});

test('ladder helpers: sorting, flashes, cumulative depth, decimals', () => {
  const bids = sortLevels([{ price: 1, volume: 5 }, { price: 3, volume: 1 }, { price: NaN, volume: 1 }, { price: 2, volume: 2 }], 'bids');
  assert.deepEqual(bids.map((l) => l.price), [3, 2, 1]);
  const asks = sortLevels([{ price: 5, volume: 1 }, { price: 4, volume: 2 }], 'asks');
  assert.deepEqual(asks.map((l) => l.price), [4, 5]);
  assert.deepEqual(levelChanges(null, bids), ['', '', '']);  // the first book does not flash
  assert.deepEqual(levelChanges([{ price: 3, volume: 2 }, { price: 2, volume: 2 }], bids), ['down', '', 'new']);
  assert.deepEqual(levelChanges([{ price: 3, volume: 0.5 }], [{ price: 3, volume: 1 }]), ['up']);
  assert.deepEqual(cumulative(bids).map((p) => p.total), [1, 3, 8]);
  assert.equal(priceDecimals([{ price: 189.5 }, { price: 189.48 }]), 2);
  assert.equal(priceDecimals([{ price: 0.0001234 }]), 7);
  assert.equal(priceDecimals([{ price: 1e-7 }]), 8);
});

test('formatting and percentiles', () => {
  assert.equal(formatAge(850), '850 ms');
  assert.equal(formatAge(12345), '12.3 s');
  assert.equal(formatAge(-5), '0 ms');
  assert.equal(formatLatency(0.42), '0.4 ms');
  assert.equal(formatLatency(42), '42 ms');
  assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
  assert.equal(percentile([5, 1, 3, 2, 4], 99), 5);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('jwtSubject reads sub without verifying (the gateway verifies)', () => {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  assert.equal(jwtSubject(`${part({ alg: 'HS256' })}.${part({ sub: 'alice-ü', exp: 1 })}.sig`), 'alice-ü');
  assert.equal(jwtSubject(`${part({ alg: 'HS256' })}.${part({ exp: 1 })}.sig`), null);
  assert.equal(jwtSubject('garbage'), null);
});
