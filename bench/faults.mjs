// 2. Behaviour under faults, against the loopback chaos origin (bench/origin.mjs, its own process)
// with fixed seeds. Each scenario runs every client on its own origin key (so hits are counted per
// client), several runs, and reports medians over runs.
//
//   a outage    the only origin answers 503 to everything: amplification = origin hits / tasks
//   b flaky     10% random 503s (mulberry32, seed per run): success rate and amplification
//   c mirror    primary refuses connections, a mirror is up: success rate and p99
//   d tail      5% of responses take 500 ms: p99 and extra load (hits / tasks - 1)
//   e overload  the origin serves at most N at once (20 ms each, so N x 50 req/s) and queues the
//               rest (FIFO backlog); tasks arrive open loop at 2x that capacity: goodput
//               (successful tasks/s) and p99 of successful tasks
//
// a and b only count (hits, successes), so their clients run side by side; c, d and e measure
// time, so their clients run one after the other. a-d are closed loops (a fixed number of
// workers); e is an open loop (arrivals do not wait for completions, as with real users).
//
//   node bench/faults.mjs [--smoke] [--runs=N] [--only=a,b,...]

import { BALLAST, P_RETRY_TIME_SCALE } from "./scenarios.mjs";
import { ballastClient, makeClients, withFallback } from "./clients.mjs";
import { createFetch } from "../pkg/node.js";
import {
  SMOKE,
  argValue,
  closedPort,
  emit,
  median,
  runOpenLoop,
  runTasks,
  startOrigin,
  summarize,
} from "./lib/common.mjs";

const RUNS = Number(argValue("runs", SMOKE ? 1 : 3));
const ONLY = argValue("only", "a,b,c,d,e").split(",");
const N_LIMIT = 8;

const S = (full, smoke) => (SMOKE ? smoke : full);
const SCENARIOS = [
  {
    id: "a",
    key: "outage",
    title: "full outage of the only origin",
    parallel: true,
    spec: { tasks: S(500, 60), concurrency: S(50, 20), maxMs: S(30_000, 8_000) },
    path: (k) => `/outage?key=${k}`,
  },
  {
    id: "b",
    key: "flaky",
    title: "10% random 503s",
    parallel: true,
    spec: { tasks: S(2000, 200), concurrency: 16, maxMs: S(30_000, 8_000) },
    path: (k, run) => `/flaky?key=${k}&p=0.1&seed=${1000 + run}`,
  },
  {
    id: "c",
    key: "mirror",
    title: "primary down (connection refused), mirror up",
    parallel: false,
    spec: { tasks: S(160, 32), concurrency: 32, maxMs: S(15_000, 4_000) },
    path: (k) => `/json?key=${k}`, // on the primary (refused) and on the mirror (counted)
  },
  {
    id: "d",
    key: "tail",
    title: "heavy tail: 5% of responses take 500 ms",
    parallel: false,
    spec: { tasks: S(600, 80), concurrency: 16, maxMs: S(15_000, 3_000) },
    path: (k, run) => `/tail?key=${k}&p=0.05&ms=500&seed=${2000 + run}`,
  },
  {
    id: "e",
    key: "overload",
    title: `overload: origin serves ${N_LIMIT} at once (20 ms each, ${N_LIMIT * 50} req/s) and queues the rest; offered ${N_LIMIT * 100} tasks/s`,
    parallel: false,
    spec: { tasks: S(800, 200), rate: N_LIMIT * 100, maxMs: S(10_000, 3_000) },
    path: (k) => `/limited?key=${k}&n=${N_LIMIT}&ms=20`,
  },
].filter((s) => ONLY.includes(s.id));

const origin = await startOrigin();
const primary = `http://127.0.0.1:${await closedPort()}`; // nothing listens: connection refused
const ENV = { origin: origin.url, primary, mirror: origin.url };

/** Whether this build of ballast accepts `config` (a ConfigError means a feature is missing). */
function accepts(config) {
  try {
    createFetch(config);
    return true;
  } catch (e) {
    if (e?.name === "ConfigError") return false;
    throw e;
  }
}

/** The ballast rows of a scenario: the main one and its extras, with what exists in this build. */
function ballastPlan(b) {
  const main = b.config(ENV);
  const plan = { notes: [], extra: [] };
  if (accepts(main)) {
    Object.assign(plan, { config: main, label: b.label, manualFallback: false });
  } else if (b.unavailable) {
    const u = b.unavailable;
    Object.assign(plan, { config: u.config(ENV), manualFallback: u.manualFallback ?? false, pending: u.pending });
  } else throw new Error(`this build of ballast rejects the scenario config ${JSON.stringify(main)}`);
  for (const x of b.extra ?? []) {
    const cfg = x.config(ENV);
    if (accepts(cfg)) plan.extra.push({ ...x, config: cfg });
    else plan.notes.push(`row "${x.label}" not run: ${x.unavailable ?? "config rejected"}`);
  }
  return plan;
}

async function runClient(sc, client, run) {
  const key = `${sc.key}-${client.id}-${run}`;
  const url = origin.url + sc.path(key, run);
  const call = client.make();
  let task = () => call(url);
  if (sc.key === "mirror") {
    const viaPrimary = primary + sc.path(key, run);
    task = client.manualFallback === false ? () => call(viaPrimary) : withFallback(call, viaPrimary, url);
  }
  const res = sc.spec.rate ? await runOpenLoop(task, sc.spec) : await runTasks(task, sc.spec);
  const { hits, maxInFlight } = await origin.stats(key);
  return { ...summarize(res, hits), originMaxOpen: maxInFlight };
}

/** The scenario's extra ballast rows, right after the "ballast" row. */
function withExtras(clients, plan, run) {
  const extra = plan.extra.map((x) => ({
    ...ballastClient(x.id, x.label, { ...x.config, seed: 7 + run }),
    manualFallback: false,
  }));
  const i = clients.findIndex((c) => c.id === "ballast");
  return [...clients.slice(0, i + 1), ...extra, ...clients.slice(i + 1)];
}

const out = { runs: RUNS, nLimit: N_LIMIT, pRetryTimeScale: P_RETRY_TIME_SCALE, scenarios: [] };
try {
  for (const sc of SCENARIOS) {
    const plan = ballastPlan(BALLAST[sc.key]);
    const clientsFor = (run) =>
      withExtras(makeClients({ ballast: { ...plan.config, seed: 7 + run }, pRetryTimeScale: P_RETRY_TIME_SCALE }), plan, run).map((c) =>
        c.id === "ballast" ? { ...c, label: plan.label ?? c.label, manualFallback: plan.manualFallback } : c,
      );
    const perRun = []; // perRun[r][id] = summary
    for (let run = 0; run < RUNS; run++) {
      const clients = clientsFor(run);
      const results = {};
      if (sc.parallel) {
        const all = await Promise.all(clients.map((c) => runClient(sc, c, run)));
        clients.forEach((c, i) => (results[c.id] = all[i]));
      } else {
        for (const c of clients) results[c.id] = await runClient(sc, c, run);
      }
      perRun.push(results);
      process.stderr.write(`faults: ${sc.id} (${sc.key}) run ${run + 1}/${RUNS} done\n`);
    }
    const ids = Object.keys(perRun[0]);
    const clients = clientsFor(0);
    const rows = ids.map((id) => {
      const c = clients.find((x) => x.id === id);
      const pick = (f) => median(perRun.map((r) => f(r[id])));
      return {
        id,
        label: c.label,
        peer: c.peer,
        mode: c.mode,
        tasks: pick((s) => s.tasks),
        success: pick((s) => s.success),
        amplification: pick((s) => s.amplification),
        p50: pick((s) => s.p50),
        p99: pick((s) => s.p99),
        p99ok: pick((s) => s.p99ok),
        goodput: pick((s) => s.goodput),
        originMaxOpen: pick((s) => s.originMaxOpen),
        pRetryScaled: id === "p-retry",
        pending: c.id === "ballast" ? plan.pending : undefined,
        perRun: perRun.map((r) => ({ success: r[id].success, amplification: r[id].amplification, p99: r[id].p99 })),
      };
    });
    out.scenarios.push({ id: sc.id, key: sc.key, title: sc.title, spec: sc.spec, rows, notes: plan.notes, ballastConfig: plan.config });
  }
} finally {
  await origin.close();
}
emit(out);
