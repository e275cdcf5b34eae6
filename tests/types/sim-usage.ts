// Compiled with `tsc --noEmit -p tests/types`: pkg/sim.d.ts must describe real usage of
// ballast-fetch/sim (tests/js/sim.test.mjs runs the same calls).
import {
  presets,
  simulate,
  play,
  rehearse,
  drawRaster,
  randomSeed,
  ScenarioError,
  type Scenario,
  type SimulationRun,
  type RehearseReport,
} from "../../pkg/sim.js";

const mine: Scenario = {
  name: "mine",
  durationMs: 60_000,
  arrivals: [{ kind: "poisson", rate: 50 }, { kind: "burst", rate: 200, startMs: 10_000, durationMs: 5_000 }],
  routes: [
    {
      name: "primary",
      latency: { medianMs: 40, p99Ms: 300, tail: { p: 0.01, ms: 2_000 } },
      capacity: { limit: 80, latencyPerRequestMs: 2, errorPerRequest: 0.01 },
      events: [{ kind: "outage", startMs: 20_000, durationMs: 10_000 }, { kind: "throttle", startMs: 40_000, durationMs: 5_000, limitPerSec: 30, retryAfterS: 1 }],
    },
    { name: "backup", fallback: true, latency: { medianMs: 80, p99Ms: 400 } },
  ],
};

const run: SimulationRun = simulate(mine, { policy: "naive", seed: randomSeed() });
const amp: number = run.summary.amplification;
const p99: number | null = run.series[0].latencyP99;
const fromPreset = simulate(presets.metastable, { policy: { budget: { ratio: 0.1 } }, trace: { fromMs: 0, toMs: 10_000 } });
const report: RehearseReport = rehearse({ retry: { maxAttempts: 3 } }, ["metastable", mine], { maxAmplification: 1.5 });
const failed: boolean = report.breaches.length > 0;

async function page(canvas: HTMLCanvasElement, signal: AbortSignal) {
  const out = await play("burst", { speed: 20, signal, onFrame: ({ t, points }) => void [t, points.length] });
  const drawn = drawRaster(canvas, out.tasks, { fromS: 0, toS: 20 });
  return drawn.rows + drawn.ticks;
}

try {
  simulate("metastable", { seed: 1.5 });
} catch (e) {
  if (e instanceof ScenarioError) {
    const where: string = e.path;
    void where;
  }
}

void [amp, p99, fromPreset, failed, page];
