// ===== SIMULATION MODE: the simulator's place =====================================================
// Not written yet. The "Simulation" mode switch shows the #sim-controls section of index.html
// ("coming soon") and renders the runs this module returns, which for now are empty.
//
// To plug the deterministic simulator in:
//   1. add `simulate(scenario, { policy, seed, durationMs })` returning, per policy,
//      `{ series: Point[], events: Event[], tasks?: Task[], summary }` in the format documented at
//      the top of src/series.js (t in whole seconds from 1; the same scenario, hence the same
//      `offered` and `outage` per second, for both policies);
//   2. build scenario controls inside #sim-controls (keep real <label>s on every input);
//   3. return `POLICIES.map((policy) => runFromSimulation(policy, simulate(scenario, { policy, seed,
//      durationMs }), meta))` from `simulationRuns()` below, with meta = { label, warn, critical,
//      routes } (routes: [] for naive, the scenario's route names, primary first, for ballast);
//   4. main.js then calls `views.render({ runs, now: durationMs / 1000 })` once per result, and
//      every chart, the timeline and the raster draw it exactly as they draw live mode.
import { createRun } from "./series.js";

export const SIMULATOR_AVAILABLE = false;

/** The runs Simulation mode shows: empty until the simulator exists. */
export function simulationRuns() {
  return [
    createRun("naive", { label: "naive (simulated)" }),
    createRun("ballast", { label: "ballast (simulated)", routes: ["primary", "fallback"] }),
  ];
}

/** Mounts the simulator's controls in `section` (#sim-controls); `show(runs)` renders runs. */
export function mountSimulation(section, show) {
  show(simulationRuns());
}
