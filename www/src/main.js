// The demo page: wires the controls to live mode (src/live.js) and live mode's runs to the views
// (src/views/), and holds the "Live" / "Simulation" switch (src/simulation.js). Data flows one way:
//   producer (live.js or the simulator) -> Runs (src/series.js) -> views.render(model)
import "./style.css";
import { createLive, DEFAULTS } from "./live.js";
import { createViews } from "./views/index.js";
import { createSimulation } from "./simulation.js";
import { summarize } from "./series.js";

const $ = (s) => document.querySelector(s);
const views = createViews(document);
let mode = "live";
let resumeLive = true; // whether leaving Simulation mode restarts live mode
const model = () => ({ runs: live.runs(), now: live.now() });

const live = createLive({
  params: DEFAULTS,
  seed: 1,
  onSecond() {
    if (mode !== "live") return;
    views.render(model());
    showSnapshot();
    showStatus();
  },
  onActivity() {
    // A raster frame still pending when the mode changes must not draw live calls over the simulator's.
    if (mode === "live") views.invalidateRaster(() => (mode === "live" ? model() : null));
  },
  onOutage: () => showStatus(),
});

// ---- controls -------------------------------------------------------------------------------
function valueOf(input) {
  if (input.tagName === "SELECT") return input.value;
  return Number(input.value) * Number(input.dataset.scale ?? 1);
}

function showOutput(input) {
  const out = input.parentElement.querySelector("output");
  if (out) out.textContent = `${input.value}${input.dataset.unit ?? ""}`;
}

function patchFor(input) {
  const [a, b] = input.dataset.param.split(".");
  return b ? { [a]: { [b]: valueOf(input) } } : { [a]: valueOf(input) };
}

for (const input of document.querySelectorAll("#live-controls [data-param]")) {
  // The controls start from live mode's params (src/live.js DEFAULTS), the one source of them.
  const [a, b] = input.dataset.param.split(".");
  const v = b ? live.params[a][b] : live.params[a];
  input.value = input.tagName === "SELECT" ? v : String(Math.round((v / Number(input.dataset.scale ?? 1)) * 1000) / 1000);
  showOutput(input);
  const onChange = () => {
    // A route's p99 never goes below its median: drag one and the other follows.
    const route = input.dataset.route;
    if (route) {
      const p50 = $(`[data-param="${route}.p50"]`);
      const p99 = $(`[data-param="${route}.p99"]`);
      if (Number(p99.value) < Number(p50.value)) {
        const other = input === p50 ? p99 : p50;
        other.value = input.value;
        showOutput(other);
        live.set(patchFor(other));
      }
    }
    showOutput(input);
    live.set(patchFor(input));
    showStatus();
  };
  input.addEventListener("input", onChange);
  input.addEventListener("change", onChange);
}

$("#live-controls").addEventListener("submit", (e) => e.preventDefault());
// On a phone the settings fold away under the buttons, so the charts come first.
const narrow = window.matchMedia("(max-width: 999px)");
const fold = () => document.querySelectorAll(".settings").forEach((d) => (d.open = !narrow.matches));
fold();
narrow.addEventListener("change", fold);

$("#outage").addEventListener("click", () => {
  if (live.outageActive()) live.stopOutage();
  else live.startOutage(Number($("#outage-sec").value));
  showStatus();
});

$("#pause").addEventListener("click", () => {
  if (live.running) live.pause();
  else live.start();
  showStatus();
});

$("#reset").addEventListener("click", () => {
  live.reset();
  views.render(model());
});

function showStatus() {
  const pause = $("#pause");
  pause.textContent = live.running ? "Pause" : "Resume";
  const outage = $("#outage");
  const active = live.outageActive();
  outage.dataset.active = String(active);
  outage.textContent = active ? `End outage now (${Math.ceil(live.outageLeftMs() / 1000)} s left)` : "Start outage";
  // The status (a live region) changes only when the state does, not every second.
  const p = live.params;
  const down = active ? ` Primary down: ${p.outage === "network" ? "connections refused" : "every request answers 503"}.` : "";
  const text = `${live.running ? "Running" : "Paused"}: ${p.rate} calls/s to each wrapper.${down}`;
  const status = $("#status");
  if (status.textContent !== text) status.textContent = text;
}

function showSnapshot() {
  const details = $("#snapshot-panel details");
  if (details.open) $("#snapshot").textContent = JSON.stringify(live.snapshot(), null, 2);
}
$("#snapshot-panel details").addEventListener("toggle", showSnapshot);

// ---- Live / Simulation -----------------------------------------------------------------------
const simulation = createSimulation($("#sim-controls"), {
  summary: $(".sim-summary"),
  render: (m) => {
    if (mode === "simulation") views.render(m);
  },
});

for (const radio of document.querySelectorAll('input[name="mode"]')) {
  radio.addEventListener("change", () => {
    if (!radio.checked) return;
    mode = radio.value;
    const sim = mode === "simulation";
    $("#live-controls").hidden = sim;
    $("#sim-controls").hidden = !sim;
    for (const el of document.querySelectorAll(".live-only")) el.hidden = sim;
    for (const el of document.querySelectorAll(".sim-only")) el.hidden = !sim;
    document.body.dataset.mode = mode;
    if (sim) {
      resumeLive = live.running;
      live.pause();
      simulation.open();
    } else {
      simulation.close();
      if (resumeLive) live.start();
      views.render(model());
    }
    showStatus();
  });
}

// ---- start ----------------------------------------------------------------------------------
live.start();
views.render(model());
showStatus();
document.body.dataset.mode = mode;
document.documentElement.dataset.ready = "1";
// For the console and tests/demo/run.mjs.
window.ballastDemo = { live, views, summarize, sim: simulation.info, readyAt: performance.now() };
