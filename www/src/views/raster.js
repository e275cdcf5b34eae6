// The per-task raster: one canvas per policy; each row is one call (newest at the top), each bar one
// attempt, drawn from when it started after the call began, as long as it took, coloured by its
// outcome. Both canvases share the time scale, so a row's length is the call's latency and the
// number of bars in it is what that call cost the origin.
import { OUTCOME_COLORS, OUTCOME_LABELS } from "./colors.js";

const ROW = 3; // CSS px per call
const NICE = [250, 500, 1000, 2000, 3000, 5000, 10000, 20000, 30000];

function colorOf(a, fallbackRoutes) {
  if (a.outcome === null || a.outcome === undefined) return OUTCOME_COLORS.running;
  if (a.outcome === "ok") return fallbackRoutes.has(a.route) ? OUTCOME_COLORS["ok-fallback"] : OUTCOME_COLORS.ok;
  return OUTCOME_COLORS[a.outcome] ?? OUTCOME_COLORS.aborted;
}

// A canvas's pixel size: its CSS size times the device pixel ratio.
function fit(c, cssW, cssH) {
  const dpr = window.devicePixelRatio || 1;
  if (c.width !== Math.round(cssW * dpr) || c.height !== Math.round(cssH * dpr)) {
    c.width = Math.round(cssW * dpr);
    c.height = Math.round(cssH * dpr);
  }
}

/** The legend as HTML: `labels` { key: text } with `colors` { key: css colour }. */
export function rasterLegend(container, colors = OUTCOME_COLORS, labels = OUTCOME_LABELS) {
  container.replaceChildren(
    ...Object.entries(labels).map(([k, label]) => {
      const li = document.createElement("li");
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = colors[k];
      li.append(sw, label);
      return li;
    }),
  );
}

export function createRaster(figure) {
  const panes = new Map();
  for (const pane of figure.querySelectorAll("[data-policy]")) {
    panes.set(pane.dataset.policy, {
      canvas: pane.querySelector("canvas"),
      readout: pane.querySelector(".raster-readout"),
      axis: pane.querySelector(".raster-axis") ?? document.createElement("div"),
    });
  }
  let pending = false;
  let latest = null;

  /**
   * Draws now. model: { runs: Run[], now: seconds on the runs' clock, drawTasks? }. With
   * `drawTasks(canvas, run) -> { calls, attempts, text, axis?: [fromS, toS] }` the panes are drawn
   * by it instead (Simulation mode: the simulator's own raster), at the canvas's pixel size.
   */
  function render(model) {
    const { runs, now } = model;
    for (const pane of panes.values()) pane.axis.hidden = !model.drawTasks;
    if (model.drawTasks) {
      for (const run of runs) {
        const pane = panes.get(run.policy);
        if (pane) drawWith(model.drawTasks, run, pane);
      }
      return;
    }
    // Rows that fit, per pane.
    const views = [];
    let maxEnd = 0;
    for (const run of runs) {
      const pane = panes.get(run.policy);
      if (!pane) continue;
      const cssW = Math.max(120, Math.floor(pane.canvas.clientWidth || 300));
      const cssH = Math.max(60, Math.floor(pane.canvas.clientHeight || 240));
      const axisH = 16;
      const rows = Math.floor((cssH - axisH) / ROW);
      const tasks = run.tasks.slice(-rows);
      for (const k of tasks) {
        for (const a of k.attempts) {
          const end = a.at + (a.ms ?? Math.max(0, (now - k.t) * 1000 - a.at));
          if (end > maxEnd) maxEnd = end;
        }
      }
      views.push({ run, pane, cssW, cssH, axisH, tasks });
    }
    const span = NICE.find((n) => n >= maxEnd * 1.05) ?? NICE[NICE.length - 1];
    for (const v of views) draw(v, span, now);
  }

  function drawWith(drawTasks, run, pane) {
    fit(pane.canvas, Math.max(120, Math.floor(pane.canvas.clientWidth || 300)), Math.max(60, Math.floor(pane.canvas.clientHeight || 240)));
    const { calls, attempts, text, axis } = drawTasks(pane.canvas, run);
    pane.canvas.dataset.calls = String(calls);
    pane.canvas.dataset.attempts = String(attempts);
    pane.canvas.setAttribute("aria-label", `${run.label}: ${text}`);
    if (pane.readout && pane.readout.textContent !== text) pane.readout.textContent = text;
    if (axis) {
      const [a, b] = axis;
      const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
        const s = document.createElement("span");
        s.textContent = `${Math.round((a + f * (b - a)) * 10) / 10} s`;
        return s;
      });
      pane.axis.replaceChildren(...ticks);
    }
  }

  function draw({ run, pane, cssW, cssH, axisH, tasks }, span, now) {
    const dpr = window.devicePixelRatio || 1;
    const c = pane.canvas;
    fit(c, cssW, cssH);
    const ctx = c.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    const plotH = cssH - axisH;
    const left = 4;
    const plotW = cssW - left - 8;
    const xOf = (ms) => left + Math.min(1, ms / span) * plotW;
    const fallbackRoutes = new Set(run.meta.routes.slice(1));
    let attempts = 0;
    let calls = 0;
    // Newest call on the top row.
    for (let i = tasks.length - 1, row = 0; i >= 0; i--, row++) {
      const k = tasks[i];
      const y = row * ROW;
      calls++;
      for (const a of k.attempts) {
        attempts += a.outcome === "shed" ? 0 : 1;
        const ms = a.ms ?? Math.max(0, (now - k.t) * 1000 - a.at);
        const x0 = xOf(a.at);
        const w = Math.max(2, xOf(a.at + ms) - x0);
        ctx.fillStyle = colorOf(a, fallbackRoutes);
        ctx.fillRect(x0, y, w, ROW - 1);
      }
    }
    // Axis.
    ctx.fillStyle = "#444";
    ctx.strokeStyle = "#888";
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "top";
    ctx.beginPath();
    ctx.moveTo(left, plotH + 0.5);
    ctx.lineTo(left + plotW, plotH + 0.5);
    ctx.stroke();
    const label = (v) => (v >= 1000 ? `${v / 1000} s` : `${v} ms`);
    for (const f of plotW < 260 ? [0, 0.5, 1] : [0, 0.25, 0.5, 0.75, 1]) {
      const x = left + f * plotW;
      ctx.textAlign = f === 0 ? "left" : f === 1 ? "right" : "center";
      ctx.fillText(f === 0 ? "0" : label(Math.round(f * span)), x, plotH + 3);
    }
    const perCall = calls ? attempts / calls : 0;
    pane.canvas.dataset.calls = String(calls);
    pane.canvas.dataset.attempts = String(attempts);
    const text = calls
      ? `${calls} newest calls, ${attempts} attempts: ${perCall.toFixed(2)} per call.`
      : "No calls yet.";
    pane.canvas.setAttribute("aria-label", `${run.label}: ${text}`);
    if (pane.readout && pane.readout.textContent !== text) pane.readout.textContent = text;
  }

  /** Draws on the next animation frame (many events in one frame make one drawing); a null model draws nothing. */
  function invalidate(getModel) {
    latest = getModel;
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      const model = latest();
      if (model) render(model);
    });
  }

  return { render, invalidate };
}
