// Small hand-drawn line charts on a canvas (no libraries). Series keep at most `limit`
// points: old points are dropped so a long session stays small.
"use strict";

class Series {
  constructor(limit = 600) { this.xs = []; this.ys = []; this.limit = limit; }
  push(x, y) {
    if (y === null || y === undefined || !Number.isFinite(y)) return;
    this.xs.push(x); this.ys.push(y);
    if (this.xs.length > this.limit) { this.xs.shift(); this.ys.shift(); }
  }
  clear() { this.xs.length = 0; this.ys.length = 0; }
}

function setupCanvas(canvas) {
  // crisp lines on high-DPI screens: back the CSS size with device pixels
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width, h = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(w * ratio)) { canvas.width = Math.round(w * ratio); canvas.height = Math.round(h * ratio); }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return { ctx, w, h };
}

// lines: [{series, color, axis: "left"|"right"}]; right-axis series get their own range
// (or a fixed `rightRange`).
function drawChart(canvas, lines, opts = {}) {
  const { ctx, w, h } = setupCanvas(canvas);
  const pad = { l: 38, r: opts.rightRange ? 34 : 8, t: 8, b: 18 };
  ctx.clearRect(0, 0, w, h);
  ctx.font = "10px system-ui, sans-serif";
  const all = lines.filter(l => l.series.xs.length);
  if (!all.length) {
    ctx.fillStyle = "#9aa4b2"; ctx.fillText(opts.empty || "no data yet", pad.l, h / 2); return;
  }
  let x0 = Infinity, x1 = -Infinity;
  for (const l of all) { x0 = Math.min(x0, l.series.xs[0]); x1 = Math.max(x1, l.series.xs[l.series.xs.length - 1]); }
  if (x1 <= x0) x1 = x0 + 1;
  const range = (axis) => {
    if (axis === "right" && opts.rightRange) return opts.rightRange;
    let lo = Infinity, hi = -Infinity;
    for (const l of all) if ((l.axis || "left") === axis) for (const y of l.series.ys) { lo = Math.min(lo, y); hi = Math.max(hi, y); }
    if (!Number.isFinite(lo)) return [0, 1];
    if (opts.leftRange && axis === "left") return opts.leftRange;
    if (hi - lo < 1e-6) { lo -= 0.5; hi += 0.5; }
    const m = (hi - lo) * 0.08; return [lo - m, hi + m];
  };
  const ranges = { left: range("left"), right: range("right") };
  const X = x => pad.l + (x - x0) / (x1 - x0) * (w - pad.l - pad.r);
  const Y = (y, r) => h - pad.b - (y - r[0]) / (r[1] - r[0]) * (h - pad.t - pad.b);
  // grid and axis labels
  ctx.strokeStyle = "#eef0f3"; ctx.fillStyle = "#6b7480"; ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = ranges.left[0] + (ranges.left[1] - ranges.left[0]) * i / 4, y = Y(v, ranges.left);
    ctx.beginPath(); ctx.moveTo(pad.l, y); ctx.lineTo(w - pad.r, y); ctx.stroke();
    ctx.fillText(fmt(v), 2, y + 3);
    if (opts.rightRange) {
      const rv = ranges.right[0] + (ranges.right[1] - ranges.right[0]) * i / 4;
      ctx.fillText(fmt(rv), w - pad.r + 4, y + 3);
    }
  }
  ctx.fillText(fmt(x0), pad.l, h - 4);
  const last = fmt(x1); ctx.fillText(last, w - pad.r - ctx.measureText(last).width, h - 4);
  for (const l of all) {
    const r = ranges[l.axis || "left"], s = l.series;
    ctx.strokeStyle = l.color; ctx.lineWidth = 1.6; ctx.beginPath();
    for (let i = 0; i < s.xs.length; i++) {
      const px = X(s.xs[i]), py = Y(s.ys[i], r);
      i ? ctx.lineTo(px, py) : ctx.moveTo(px, py);
    }
    ctx.stroke();
  }
}

function fmt(v) {
  const a = Math.abs(v);
  if (a >= 10000) return (v / 1000).toFixed(0) + "k";
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return v.toFixed(1);
  return v.toFixed(2);
}
