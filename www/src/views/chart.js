// A uPlot line chart that resizes with its box, shades outage spans behind the plot and can draw
// state strips (route state, pressure state) along its top edge.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { COLORS } from "./colors.js";

const dpr = () => window.devicePixelRatio || 1;

/** Seconds on the x axis. */
const X_SERIES = { label: "t", value: (u, v) => (v == null ? "–" : `${v} s`) };
const X_AXIS = { values: (u, vals) => vals.map((v) => `${v}s`), size: 36 };

/** A y range from 0 to at least `floor`, with headroom. */
export const fromZero = (floor) => (u, min, max) => [0, Math.max(floor, (max ?? 0) * 1.15)];

/**
 * makeChart(box, { series, scales, axes, height }) -> { update(data, { spans, strips }) }
 * series: uPlot series for the y values (x is added); spans: [[t0, t1]] shaded as outages;
 * strips: [{ color(t) -> css colour or null, points: [{ t, ... }] }] drawn as 5px bands on top;
 * x: [from, to], the seconds shown.
 */
export function makeChart(box, { series, scales = {}, axes = [], height = 210 }) {
  let spans = [];
  let strips = [];
  let xRangeNow = null; // [from, to] seconds, the same for every view
  const width = () => Math.max(240, Math.floor(box.clientWidth || 400));
  const opts = {
    width: width(),
    height,
    pxAlign: false,
    scales: { x: { time: false, range: (u, min, max) => xRangeNow ?? [min ?? 0, max ?? 10] }, ...scales },
    axes: [X_AXIS, ...(axes.length ? axes : [{ size: 44 }])],
    series: [X_SERIES, ...series],
    // Names only in the legend (the readout under each chart states the numbers); hovering one
    // chart draws the same second's cursor on all of them.
    legend: { live: false },
    cursor: { drag: { x: false, y: false }, points: { show: false }, sync: { key: "ballast-demo" } },
    hooks: {
      drawClear: [(u) => drawSpans(u, spans)],
      draw: [(u) => drawStrips(u, strips)],
    },
  };
  const empty = [[], ...series.map(() => [])];
  const u = new uPlot(opts, empty, box);
  // uPlot's canvas is a picture of numbers that the panel's readout states in text.
  u.root.setAttribute("aria-hidden", "true");
  let lastWidth = width();
  const resize = new ResizeObserver(() => {
    const w = width();
    if (w !== lastWidth) {
      lastWidth = w;
      u.setSize({ width: w, height });
    }
  });
  resize.observe(box);
  return {
    plot: u,
    destroy() {
      resize.disconnect();
      u.destroy();
    },
    update(data, extra = {}) {
      spans = extra.spans ?? [];
      strips = extra.strips ?? [];
      xRangeNow = extra.x ?? null;
      u.setData(data);
    },
  };
}

function xRange(u, a, b) {
  const { left, width } = u.bbox;
  const x0 = Math.max(left, u.valToPos(a, "x", true));
  const x1 = Math.min(left + width, u.valToPos(b, "x", true));
  return x1 > x0 ? [x0, x1] : null;
}

function drawSpans(u, spans) {
  if (!spans.length || u.data[0].length === 0) return;
  const { ctx, bbox } = u;
  ctx.save();
  ctx.fillStyle = COLORS.outageBand;
  for (const [a, b] of spans) {
    const r = xRange(u, a, b);
    if (r) ctx.fillRect(r[0], bbox.top, r[1] - r[0], bbox.height);
  }
  ctx.restore();
}

function drawStrips(u, strips) {
  if (!strips.length || u.data[0].length === 0) return;
  const { ctx, bbox } = u;
  const h = 5 * dpr();
  ctx.save();
  strips.forEach((strip, i) => {
    const y = bbox.top + i * (h + 2 * dpr());
    for (const p of strip.points) {
      const color = strip.color(p);
      if (!color) continue;
      const r = xRange(u, p.t - 1, p.t);
      if (!r) continue;
      ctx.fillStyle = color;
      ctx.fillRect(r[0], y, r[1] - r[0] + 0.5, h);
    }
  });
  ctx.restore();
}
