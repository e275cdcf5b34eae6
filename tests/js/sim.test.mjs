// ballast-fetch/sim in Node: the tools wasm module runs the same engine as the native simulator
// and gives the same series for the same seed (every preset's fingerprint equals the one the
// native run committed in tests/fixtures/sim-golden.tsv); summaries add up; bad input is a
// ScenarioError naming its path; playback paces a run and stops on a signal with the run so far;
// rehearse judges a config against naive.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { presets, simulate, play, rehearse, randomSeed, ScenarioError } from "../../pkg/sim-node.js";

const TRACE = { fromMs: 0, toMs: 20_000, max: 300 };
const golden = readFileSync(new URL("../fixtures/sim-golden.tsv", import.meta.url), "utf8")
  .trim()
  .split("\n")
  .slice(1)
  .map((line) => line.split("\t"));

test("every preset gives, in wasm, the run the native simulator committed (same seed, same series)", () => {
  assert.equal(golden.length, 14);
  for (const [preset, policy, seed, digest, offered, attempts] of golden) {
    const run = simulate(preset, { policy, seed: Number(seed), trace: TRACE });
    assert.equal(run.digest, digest, `${preset} ${policy}`);
    assert.equal(run.summary.offered, Number(offered));
    assert.equal(run.summary.attempts, Number(attempts));
  }
});

test("presets: the seven named scenarios, in order, each runnable from its object form too", () => {
  assert.deepEqual(Object.keys(presets), [
    "burst",
    "primary-outage",
    "brownout-tail",
    "throttle-storm",
    "slow-drift",
    "overload-ramp",
    "metastable",
  ]);
  assert.ok(Object.isFrozen(presets));
  const byName = simulate("primary-outage", { seed: 3 });
  const byObject = simulate(structuredClone(presets["primary-outage"]), { seed: 3 });
  assert.equal(byObject.digest, byName.digest);
  assert.notEqual(simulate("primary-outage", { seed: 4 }).digest, byName.digest);
});

test("a run's series adds up to its summary", () => {
  for (const name of Object.keys(presets)) {
    for (const policy of ["naive", "ballast"]) {
      const { series, summary } = simulate(name, { policy, seed: 2 });
      const sum = (k) => series.reduce((a, p) => a + p[k], 0);
      assert.equal(series.length, summary.durationMs / 1000, name);
      assert.equal(sum("offered"), summary.offered, `${name} ${policy} offered`);
      assert.equal(sum("attempts"), summary.attempts, `${name} ${policy} attempts`);
      assert.equal(sum("successes"), summary.successes, `${name} ${policy} successes`);
      assert.equal(sum("shed"), summary.shed, `${name} ${policy} shed`);
      assert.ok(Math.abs(summary.amplification - summary.attempts / summary.offered) < 1e-12);
      for (const p of series) {
        const routed = Object.values(p.byRoute).reduce((a, n) => a + n, 0);
        assert.equal(routed, p.attempts, `${name} ${policy} t=${p.t}: attempts by route`);
      }
    }
  }
});

test("metastable: naive stays collapsed after the trigger ends, ballast recovers", () => {
  const naive = simulate("metastable", { policy: "naive" }).summary;
  const ballast = simulate("metastable", { policy: "ballast" }).summary;
  assert.equal(naive.recovered, false);
  assert.ok(naive.belowHalfAfterTriggerMs >= naive.durationMs - naive.triggerEndMs - 1000, JSON.stringify(naive));
  assert.equal(ballast.recovered, true);
  assert.ok(ballast.belowHalfAfterTriggerMs < 30_000, JSON.stringify(ballast));
  assert.ok(naive.amplification > 2 && ballast.amplification < 1.1);
});

test("bad input is a ScenarioError naming the input and the path of the bad field", () => {
  const ok = presets["primary-outage"];
  const cases = [
    [() => simulate({ ...ok, durationMs: "long" }), "scenario", "durationMs", /invalid type/],
    [() => simulate({ ...ok, arrivals: [{ kind: "poisson", rate: 10, burst: 1 }] }), "scenario", "arrivals[0]", /unknown field `burst`/],
    [() => simulate({ ...ok, arrivals: [{ kind: "tidal", rate: 1 }] }), "scenario", "arrivals[0].kind", /unknown variant `tidal`/],
    [() => simulate({ ...ok, routes: [{ ...ok.routes[0], errorRate: 2 }] }), "scenario", "routes[0].errorRate", /allowed: a probability/],
    [() => simulate({ ...ok, routes: [{ ...ok.routes[0], errorRat: 0.1 }] }), "scenario", "routes[0].errorRat", /unknown field `errorRat`/],
    [() => simulate({ ...ok, routes: [{ ...ok.routes[0], events: [{ kind: "outage", startMs: 0, durationMs: 1, status: 200.5 }] }] }), "scenario", "routes[0].events[0]", /status|u16|200.5/],
    [() => simulate({ ...ok, routes: [{ ...ok.routes[0], latency: { medianMs: 10 } }] }), "scenario", "routes[0].latency", /missing field `p99Ms`/],
    [() => simulate("metastabel"), "scenario", "", /no preset named "metastabel" \(presets: burst, /],
    [() => simulate("burst", { seed: -1 }), "options", "seed", /integer/],
    [() => simulate("burst", { policy: "blind" }), "options", "policy", /"ballast", "naive" or a ballast config/],
    [() => simulate("burst", { policy: { budget: { ratoi: 0.1 } } }), "options", "policy.budget.ratoi", /no such option/],
    [() => simulate("burst", { policy: { retry: { maxAttempts: 0 } } }), "options", "policy.retry.maxAttempts", /allowed/],
    [() => simulate("burst", { durationMs: 1e12 }), "options", "durationMs", /86400000/],
    [() => simulate("burst", { speed: 3 }), "options", "speed", /unknown field `speed`/],
  ];
  for (const [fn, input, path, message] of cases) {
    assert.throws(fn, (e) => {
      assert.ok(e instanceof ScenarioError, `${path}: ${e}`);
      assert.equal(e.input, input, e.message);
      assert.equal(e.path, path, e.message);
      assert.match(e.message, message);
      if (path) assert.ok(e.message.includes(path), e.message);
      return true;
    });
  }
  // And the module keeps working after every one of them.
  assert.equal(simulate("burst", { policy: "naive", seed: 1, trace: TRACE }).digest, golden[0][3]);
});

test("play paces the run frame by frame and resolves with the run simulate gives", async () => {
  const frames = [];
  const run = await play("primary-outage", { speed: 2000, seed: 5, onFrame: (f) => frames.push(f) });
  assert.equal(run.digest, simulate("primary-outage", { seed: 5 }).digest);
  const points = frames.flatMap((f) => f.points);
  assert.deepEqual(points, run.series, "the frames carry every point, once, in order");
  assert.deepEqual(frames.flatMap((f) => f.events), run.events);
  assert.ok(frames.length >= 4, `${frames.length} frames`);
  assert.ok(frames.every((f, i) => i === 0 || f.t > frames[i - 1].t));
});

test("a playback stopped by its signal resolves with the run so far: a shorter run", async () => {
  const ac = new AbortController();
  let frames = 0;
  const run = await play("burst", {
    speed: 50,
    seed: 9,
    signal: ac.signal,
    onFrame: () => {
      frames += 1;
      if (frames === 4) ac.abort();
    },
  });
  assert.equal(frames, 4);
  const seconds = run.series.length;
  assert.ok(seconds >= 4 && seconds < presets.burst.durationMs / 1000, `${seconds} s`);
  assert.equal(run.summary.durationMs, seconds * 1000);
  assert.equal(run.digest, simulate("burst", { seed: 9, durationMs: seconds * 1000 }).digest);
});

test("play checks its own options", async () => {
  await assert.rejects(play("burst", { speed: 0 }), (e) => e instanceof ScenarioError && e.path === "speed");
  await assert.rejects(play("burst", { onFrame: 3 }), TypeError);
  await assert.rejects(play("burst", { signal: {} }), TypeError);
});

test("rehearse: the defaults stay within the limits where naive retries do not", () => {
  const report = rehearse({}, ["primary-outage", "metastable"]);
  assert.equal(report.seed, 1);
  assert.deepEqual(report.thresholds, { maxAmplification: 2, minSuccess: 0 });
  assert.deepEqual(report.rows.map((r) => r.scenario), ["primary-outage", "metastable"]);
  assert.deepEqual(report.breaches, []);
  for (const r of report.rows) {
    assert.equal(r.config.policy, "config");
    assert.equal(r.naive.policy, "naive");
    assert.ok(r.config.amplification < r.naive.amplification, r.scenario);
  }
  const strict = rehearse({}, "metastable", { maxAmplification: 0.5, minSuccess: 0.99 });
  assert.deepEqual(strict.breaches.map((b) => b.metric), ["amplification", "successRate"]);
  assert.equal(rehearse({}).rows.length, 7, "every preset by default");
  assert.throws(() => rehearse({ budget: 3 }), (e) => e instanceof ScenarioError && e.input === "config" && e.path === "budget");
  assert.throws(() => rehearse({}, ["burst", { durationMs: 1 }]), (e) => e instanceof ScenarioError && e.index === 1);
});

test("randomSeed: integers below 2^53 from the platform's random source", () => {
  const seeds = new Set(Array.from({ length: 20 }, () => randomSeed()));
  assert.equal(seeds.size, 20);
  for (const s of seeds) assert.ok(Number.isSafeInteger(s) && s >= 0);
});
