// The fallback event timeline: an SVG with one lane per fallback reason and per routing event
// (eject, restore, fallback becoming the default, pressure state changes), one mark per event, the
// outages shaded; and below it the same events as text, consecutive repeats grouped, newest first.
import { FALLBACK_REASONS } from "../series.js";
import { LANE_COLORS, COLORS } from "./colors.js";

const NS = "http://www.w3.org/2000/svg";
const LANES = [
  ...FALLBACK_REASONS.map((r) => ({ key: r, label: `fallback: ${r}`, match: (e) => e.type === "fallback" && e.reason === r })),
  { key: "eject", label: "eject", match: (e) => e.type === "eject" },
  { key: "restore", label: "restore", match: (e) => e.type === "restore" },
  { key: "fallback-default", label: "fallback is default", match: (e) => e.type === "fallback-default" },
  { key: "pressure", label: "pressure state", match: (e) => e.type === "pressure" },
];
const LANE_H = 18;
const AXIS_H = 20;
const MAX_GROUPS = 40;

const el = (name, attrs = {}, text) => {
  const n = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  if (text !== undefined) n.textContent = text;
  return n;
};
const fmtT = (t) => `${t.toFixed(1)} s`;

/** Events of every run, merged in time order; scenario events (outage, config) once. */
function mergedEvents(runs) {
  const seen = new Set();
  const all = [];
  for (const run of runs) {
    for (const e of run.events) {
      if (e.type === "outage") {
        const k = `${e.reason}@${e.t}`;
        if (seen.has(k)) continue;
        seen.add(k);
      }
      all.push(run.policy === "ballast" || e.type === "outage" ? e : { ...e, policy: run.policy });
    }
  }
  return all.sort((a, b) => a.t - b.t);
}

function describe(e) {
  switch (e.type) {
    case "fallback":
      return { what: "fallback", why: e.reason, where: [e.route && `→ ${e.route}`, e.from && `(failed on ${e.from})`, e.detail].filter(Boolean).join(" ") };
    case "eject":
    case "restore":
      return { what: e.type, why: e.reason, where: [e.route, e.detail].filter(Boolean).join(", ") };
    case "fallback-default":
      return { what: "fallback-default", why: e.reason, where: e.detail ?? "" };
    case "pressure":
      return { what: "pressure", why: e.reason, where: e.detail ?? "" };
    case "outage":
      return { what: "outage", why: e.reason, where: e.detail ?? "" };
    default:
      return { what: e.type, why: e.reason ?? "", where: e.detail ?? "" };
  }
}

export function createTimeline(figure) {
  const box = figure.querySelector(".timeline-plot");
  const list = figure.querySelector(".timeline-list");
  const svg = el("svg", { role: "img", class: "timeline-svg" });
  const title = el("title", {}, "Fallback and routing events over time");
  svg.append(title);
  box.append(svg);
  let lastKey = "";

  function render({ runs, from, to }) {
    const events = mergedEvents(runs);
    drawSvg(events, from, to);
    drawList(events);
  }

  function drawSvg(events, from, to) {
    const width = Math.max(260, Math.floor(box.clientWidth || 400));
    const narrow = width < 560;
    const height = LANES.length * LANE_H + AXIS_H;
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    svg.replaceChildren(title);

    // Lane labels first, to size the label column to the longest ("fallback: " left out when narrow).
    const counts = LANES.map((lane) => events.reduce((n, e) => n + (e.t >= from && e.t <= to && lane.match(e) ? e.n ?? 1 : 0), 0));
    const labels = LANES.map((lane, i) => {
      const text = `${narrow ? lane.label.replace("fallback: ", "") : lane.label} (${counts[i]})`;
      const node = el("text", { y: i * LANE_H + LANE_H - 5, "text-anchor": "end", class: counts[i] ? "lane-label" : "lane-label empty" }, text);
      svg.append(node);
      return node;
    });
    const longest = Math.max(...labels.map((n) => n.getComputedTextLength?.() || n.textContent.length * 6));
    const labelW = Math.min(Math.ceil(longest) + 10, Math.floor(width * 0.5));
    for (const n of labels) n.setAttribute("x", labelW - 6);
    const plotW = width - labelW - 8;
    const span = Math.max(1, to - from);
    const xOf = (t) => labelW + ((t - from) / span) * plotW;

    // Outages: shaded across every lane.
    let start = null;
    const shade = (a, b) => {
      const x0 = Math.max(labelW, xOf(a));
      const x1 = Math.min(labelW + plotW, xOf(b));
      if (x1 > x0) svg.append(el("rect", { x: x0, y: 0, width: x1 - x0, height: LANES.length * LANE_H, fill: COLORS.outageBand, class: "outage" }));
    };
    for (const e of events) {
      if (e.type !== "outage") continue;
      if (e.reason === "start") start = e.t;
      else if (start !== null) {
        shade(start, e.t);
        start = null;
      }
    }
    if (start !== null) shade(start, to);

    LANES.forEach((lane, i) => {
      const y = i * LANE_H;
      svg.append(el("line", { x1: labelW, x2: labelW + plotW, y1: y + LANE_H - 0.5, y2: y + LANE_H - 0.5, class: "lane-rule" }));
      const used = new Set();
      const g = el("g", { fill: LANE_COLORS[lane.key], class: "marks", "data-lane": lane.key });
      for (const e of events) {
        if (e.t < from || e.t > to || !lane.match(e)) continue;
        const x = Math.round(xOf(e.t));
        if (used.has(x)) continue; // one mark per pixel column is enough to see
        used.add(x);
        const big = lane.key === "eject" || lane.key === "restore";
        g.append(el("rect", { x: x - (big ? 1.5 : 1), y: y + 3, width: big ? 3 : 2, height: LANE_H - 6, class: "mark" }));
      }
      svg.append(g);
    });

    // Axis: a tick every 10, 20 or 30 s.
    const step = span / (plotW / 70) <= 10 ? 10 : span / (plotW / 70) <= 20 ? 20 : 30;
    const axisY = LANES.length * LANE_H;
    for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
      const x = xOf(t);
      svg.append(el("line", { x1: x, x2: x, y1: axisY, y2: axisY + 4, class: "tick" }));
      svg.append(el("text", { x, y: axisY + 15, "text-anchor": "middle", class: "tick-label" }, `${Math.round(t)}s`));
    }
    const said = LANES.map((lane, i) => `${lane.label}: ${counts[i]}`).join("; ");
    svg.setAttribute("aria-label", `Events from ${Math.round(from)} s to ${Math.round(to)} s. ${said}.`);
  }

  function drawList(events) {
    const groups = [];
    for (let i = events.length - 1; i >= 0 && groups.length < MAX_GROUPS; i--) {
      const e = events[i];
      const key = `${e.policy ?? ""}|${e.type}|${e.reason}|${e.route}|${e.from}`;
      const last = groups[groups.length - 1];
      if (last && last.key === key && e.type === "fallback") {
        last.n += e.n ?? 1;
        last.t0 = e.t;
      } else groups.push({ key, e, n: e.n ?? 1, t0: e.t, t1: e.t });
    }
    const key = groups.map((g) => `${g.key}${g.n}${g.t0}`).join();
    if (key === lastKey) return;
    lastKey = key;
    if (!groups.length) {
      const li = document.createElement("li");
      li.className = "none";
      li.textContent = "No fallback or routing events yet.";
      list.replaceChildren(li);
      return;
    }
    list.replaceChildren(
      ...groups.map((g) => {
        const li = document.createElement("li");
        const d = describe(g.e);
        li.dataset.type = g.e.type;
        li.dataset.reason = g.e.reason ?? "";
        const time = document.createElement("span");
        time.className = "when";
        time.textContent = g.t0 < g.t1 ? `${fmtT(g.t0)}–${fmtT(g.t1)}` : fmtT(g.t1);
        const what = document.createElement("b");
        what.textContent = `${g.e.policy ? `${g.e.policy} ` : ""}${d.what}`;
        what.style.borderColor = LANE_COLORS[g.e.type === "fallback" ? g.e.reason : g.e.type] ?? "#555";
        const why = document.createElement("span");
        why.className = "reason";
        why.textContent = d.why;
        const rest = document.createElement("span");
        rest.className = "where";
        rest.textContent = `${d.where}${g.n > 1 ? ` ×${g.n}` : ""}`;
        li.append(time, " ", what, " ", why, " ", rest);
        return li;
      }),
    );
  }

  return { render };
}
