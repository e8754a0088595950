// Polls GET /health (docs/protocol.md 3.3) and estimates the offset between the gateway's
// clock and this browser's from its `timestamp`, which says how far the page's latency
// figure (browser clock minus gateway clock) can be trusted when they are different machines.
import { parseIsoMs } from './format.js';

export class HealthPoller extends EventTarget {
  constructor({ url = '/health', intervalMs = 2000, timeoutMs = 1500 } = {}) {
    super();
    this.url = url;
    this.intervalMs = intervalMs;
    this.timeoutMs = timeoutMs;
    this.timer = null;
    this.last = null;        // the last answer's body
    this.lastOkAt = NaN;     // Date.now() of the last answer
    this.epoch = null;
  }

  start() {
    if (this.timer !== null) return;
    const loop = async () => {
      await this.poll();
      // Scheduled after the answer, not on a fixed interval: a slow gateway never has two
      // polls of this page in flight.
      if (this.timer !== null) this.timer = setTimeout(loop, this.intervalMs);
    };
    this.timer = setTimeout(loop, 0);
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
  }

  async poll() {
    const sent = Date.now();
    let detail;
    try {
      const res = await fetch(this.url, {
        cache: 'no-store',
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: { Accept: 'application/json' },
      });
      const received = Date.now();
      const body = await res.json();
      const gatewayMs = parseIsoMs(body.timestamp);
      // The gateway stamped `timestamp` somewhere within the round trip; assuming the middle,
      // the offset is known to within half the round trip.
      const rtt = received - sent;
      const offsetMs = Number.isFinite(gatewayMs) ? gatewayMs - (sent + received) / 2 : NaN;
      const restarted = this.epoch !== null && body.epoch !== undefined && body.epoch !== this.epoch;
      if (body.epoch !== undefined) this.epoch = body.epoch;
      this.last = body;
      this.lastOkAt = received;
      detail = { ok: res.ok, body, httpStatus: res.status, rtt, offsetMs, restarted };
    } catch (err) {
      // Connection refused while the gateway restarts, or the timeout: shown on the page, not
      // thrown (the browser itself logs the failed request).
      detail = { ok: false, error: err && err.name === 'TimeoutError' ? 'timeout' : 'unreachable' };
    }
    this.dispatchEvent(new CustomEvent('health', { detail }));
  }
}
