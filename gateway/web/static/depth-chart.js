// The depth chart of one book on a <canvas>: cumulative bid volume stepping down to the
// left of the spread, cumulative ask volume stepping up to the right. Canvas rather than SVG
// because it is redrawn for every book and a few hundred path points would otherwise be
// DOM nodes to diff.
import { cumulative, formatVolume } from './format.js';

const BID = { line: '#22c55e', fill: 'rgba(34, 197, 94, 0.22)' };
const ASK = { line: '#ef4444', fill: 'rgba(239, 68, 68, 0.22)' };

export class DepthChart {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.book = null;
    this.decimals = 2;
    // The canvas follows its CSS box (the grid resizes cards), at the device's pixel ratio so
    // lines stay sharp on high-DPI screens.
    this.observer = new ResizeObserver(() => this.draw());
    this.observer.observe(canvas);
  }

  // bids / asks: sorted best first (format.js sortLevels).
  update(bids, asks, decimals) {
    this.book = { bids, asks };
    this.decimals = decimals;
    this.draw();
  }

  destroy() {
    this.observer.disconnect();
  }

  draw() {
    const { canvas, ctx } = this;
    const cssW = canvas.clientWidth;
    const cssH = canvas.clientHeight;
    if (!cssW || !cssH) return;
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    if (!this.book) return;

    const bids = cumulative(this.book.bids);
    const asks = cumulative(this.book.asks);
    if (!bids.length && !asks.length) {
      ctx.fillStyle = '#8b93a7';
      ctx.font = '12px system-ui, sans-serif';
      ctx.textAlign = 'center';
      ctx.fillText('empty book', cssW / 2, cssH / 2);
      return;
    }

    const pad = { l: 4, r: 4, t: 6, b: 16 };
    const w = cssW - pad.l - pad.r;
    const h = cssH - pad.t - pad.b;
    const prices = [...bids, ...asks].map((p) => p.price);
    let lo = Math.min(...prices);
    let hi = Math.max(...prices);
    if (lo === hi) { lo -= 1; hi += 1; }
    const maxTotal = Math.max(1e-12, ...bids.map((p) => p.total), ...asks.map((p) => p.total));
    const x = (price) => pad.l + ((price - lo) / (hi - lo)) * w;
    const y = (total) => pad.t + h - (total / maxTotal) * h;
    const base = pad.t + h;

    // One side: from the best price outward, a step at every level.
    const side = (points, colors, direction) => {
      if (!points.length) return;
      ctx.beginPath();
      ctx.moveTo(x(points[0].price), base);
      let prevTotal = 0;
      for (const p of points) {
        ctx.lineTo(x(p.price), y(prevTotal));
        ctx.lineTo(x(p.price), y(p.total));
        prevTotal = p.total;
      }
      const edge = direction < 0 ? pad.l : pad.l + w;
      ctx.lineTo(edge, y(prevTotal));
      ctx.lineTo(edge, base);
      ctx.closePath();
      ctx.fillStyle = colors.fill;
      ctx.fill();
      ctx.strokeStyle = colors.line;
      ctx.lineWidth = 1.5;
      ctx.stroke();
    };
    side(bids, BID, -1);
    side(asks, ASK, +1);

    // Axis labels: the outer prices and the deepest cumulative volume.
    ctx.fillStyle = '#8b93a7';
    ctx.font = '10px ui-monospace, SFMono-Regular, Menlo, monospace';
    ctx.textBaseline = 'alphabetic';
    ctx.textAlign = 'left';
    ctx.fillText(lo.toFixed(this.decimals), pad.l, cssH - 3);
    ctx.textAlign = 'right';
    ctx.fillText(hi.toFixed(this.decimals), pad.l + w, cssH - 3);
    ctx.textAlign = 'center';
    ctx.fillText(`Σ ${formatVolume(maxTotal)}`, pad.l + w / 2, cssH - 3);
  }
}
