// Renders bench/RESULTS.md and bench/chart.svg from the results the sections produced.

const KB = 1024;
const n0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "–");
const n1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : "–");
const n2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : "–");
const ms = (x) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)) : "–");
const pct = (x, d = 1) => (Number.isFinite(x) ? `${(x * 100).toFixed(d)}%` : "–");
const signed = (x, f = n0) => (Number.isFinite(x) ? `${x >= 0 ? "+" : "−"}${f(Math.abs(x))}` : "–");
const kb = (b) => (Number.isFinite(b) ? `${(b / KB).toFixed(1)}` : "–");
const ns = (x) => (Number.isFinite(x) ? (x >= 10_000 ? `${(x / 1000).toFixed(1)} µs` : x >= 1000 ? `${(x / 1000).toFixed(2)} µs` : `${x.toFixed(0)} ns`) : "–");
const yes = (b) => (b === null || b === undefined ? "n/a" : b ? "**met**" : "**not met**");

const TEXT_COLUMNS = /^(client|what|scenario|target|measured|status|item|crate|library|worker|variant|piece|benchmark|group|preset|policy)$/i;
function table(head, rows) {
  const line = (cells) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map((h) => (TEXT_COLUMNS.test(h) ? "---" : "---:"))), ...rows.map(line)].join("\n");
}

/**
 * The row that judges latency for `id` at concurrency `c` in an overhead run `o` (Node's or
 * Deno's): the request-by-request one at concurrency 1 where it was measured (interleaved with raw
 * fetch, the steadiest), else the block pairs' row.
 */
const latencyRow = (o, id, c) =>
  (c === 1 ? o.latency?.find((x) => x.id === id) : undefined) ?? o.rows.find((x) => x.id === id && x.concurrency === c);

/** The targets and goals of the size limit: the browser path (esbuild bundle + small wasm, gzip). */
export const SIZE_LIMIT_KB = 54;
export const SIZE_GOAL_KB = 40;
/** Goals for ballast's own CPU per request beyond the floor (real-loop profiles), µs, by concurrency. */
export const CPU_GOAL_US = { 1: 3, 64: 6 };
/** The simulator's target: simulated tasks per second in Chromium, for every preset and policy. */
export const SIM_GOAL = 1_000_000;

/** µs per request of ballast's own code (its JS, the glue, the engine) in a profile-real median. */
const ownUs = (x) => Object.entries(x.usPerRequest).filter(([g]) => g.startsWith("ballast")).reduce((a, [, v]) => a + v, 0);
const totalUs = (x) => Object.values(x.usPerRequest).reduce((a, b) => a + b, 0);

/**
 * Evaluates the targets from the results; returns rows for the targets table. `kind`: "target"
 * (a limit: met or not), "goal" (where we want to be: met or not), "info" (diagnostic: says
 * where the figures come from, judged against nothing).
 */
export function targets(r) {
  const out = [];
  const ov = r.sections.overhead;
  if (ov?.rows) {
    const at = (id, c) => ov.rows.find((x) => x.id === id && x.concurrency === c);
    // Throughput against the least a timeout costs: raw fetch with an AbortSignal and a timer
    // that would abort it, in block pairs of ballast directly against it (`vsFloor`). The mean
    // ratio decides only when it is clear of the limit by two standard errors either way.
    for (const c of [1, 64]) {
      const v = ov.vsFloor?.find((x) => x.concurrency === c);
      if (!v) continue;
      const { mean: m, se } = v.rpsRatio;
      const shown = m - 2 * se >= 0.95 ? true : m + 2 * se < 0.95 ? false : null;
      out.push({
        kind: "target",
        target: `1. throughput at concurrency ${c} within 5% of the timeout floor (raw fetch + AbortSignal + timer)`,
        measured:
          `${pct(m)} ± ${pct(se)} of the floor (mean ± s.e. of ${v.pairs} block pairs against it); ` +
          `CPU per request ${signed(v.addedCpuUs.mean, n1)} ± ${n1(v.addedCpuUs.se)} µs beyond the floor's`,
        met: shown,
        status: shown === null ? "**not shown** (within two s.e. of the limit)" : undefined,
      });
    }
    // ballast's own code per request, from the CPU profiles of the real loop: the floor runs none of
    // it, so its own groups are what it costs beyond the floor in code it could make faster.
    for (const x of ov.cpu ?? []) {
      const c = x.concurrency;
      const goal = CPU_GOAL_US[c];
      if (goal === undefined) continue;
      const own = ownUs(x.ballast);
      out.push({
        kind: "goal",
        target: `1. goal: ballast's own CPU per request beyond the floor at concurrency ${c} ≤ ${goal} µs (real-loop CPU profiles)`,
        measured:
          `${n1(own)} µs (${Object.entries(x.ballast.usPerRequest)
            .filter(([g]) => g.startsWith("ballast"))
            .map(([g, v]) => `${shortGroup(g)} ${n1(v)}`)
            .join(", ")}); ` + `all of its process's CPU beyond the floor: ${signed(totalUs(x.ballast) - totalUs(x.floor), n1)} µs`,
        met: own <= goal,
      });
    }
    // Diagnostic rows: against raw fetch, latency, like for like with the peers, Deno.
    for (const c of [1, 64]) {
      const b = at("ballast", c);
      if (!b) continue;
      const floor = at("fetch-deadline", c);
      out.push({
        kind: "info",
        target: `throughput at concurrency ${c} vs raw fetch (no timeout at all), and the floor's`,
        measured:
          `${pct(b.rpsRatio)} of raw fetch (${n0(b.rps)} vs ${n0(at("fetch", c).rps)} req/s); the floor ${pct(floor.rpsRatio)}: ` +
          `their quotient, ${pct(b.rpsRatio / floor.rpsRatio)}, carries the spread of both medians`,
      });
    }
    const b1 = latencyRow(ov, "ballast", 1);
    const f1 = latencyRow(ov, "fetch-deadline", 1);
    if (b1) {
      out.push({
        kind: "info",
        target: "added p50 latency at concurrency 1 vs raw fetch",
        measured:
          `${signed(b1.addedP50Us)} µs (p99 ${signed(b1.addedP99Us)} µs)${b1 === at("ballast", 1) ? "" : ", request by request"}` +
          (f1 ? `; the floor ${signed(f1.addedP50Us)} µs` : ""),
      });
    }
    // Peers are compared by their ratio to raw fetch measured in the same pair (back to back),
    // which the machine's drift from second to second disturbs far less than raw req/s.
    const beats = (b, peers) => ({
      beaten: peers.filter((p) => b.rpsRatio >= p.rpsRatio),
      lost: peers.filter((p) => b.rpsRatio < p.rpsRatio).map((p) => p.label),
    });
    const wrappers = (c, mode) =>
      ov.rows.filter((x) => x.concurrency === c && mode.includes(x.mode) && x.peer !== "ballast" && x.peer !== "fetch");
    for (const c of [1, 64]) {
      const b = at("ballast", c);
      if (!b) continue;
      const eq = wrappers(c, ["equivalent"]);
      const r1 = beats(b, eq);
      const def = wrappers(c, ["defaults"]);
      const r0 = beats(b, def);
      out.push({
        kind: "info",
        target: `like for like, concurrency ${c}: ballast (defaults) vs the peers given the same timeouts and retries (≈ ballast rows), and at their defaults`,
        measured:
          `same timeouts: faster than ${r1.beaten.length} of ${eq.length}${r1.lost.length ? ` (slower than ${r1.lost.join(", ")})` : ""}; ` +
          `their defaults: faster than ${r0.beaten.length} of ${def.length}${r0.lost.length ? ` (slower than ${r0.lost.join(", ")})` : ""}`,
      });
      const dn = ov.deno?.rows;
      const dat = (id) => dn?.find((x) => x.id === id && x.concurrency === c);
      if (dat("ballast") && dat("fetch-deadline")) {
        const db = dat("ballast");
        const fl = dat("fetch-deadline");
        const p50 = latencyRow(ov.deno, "ballast", c).addedP50Us;
        const flP50 = latencyRow(ov.deno, "fetch-deadline", c).addedP50Us;
        out.push({
          kind: "info",
          target: `same in Deno, concurrency ${c}: ballast (defaults) vs the floor there (${pct(fl.rpsRatio)} of raw fetch, ${signed(flP50)} µs p50)`,
          measured: `${pct(db.rpsRatio / fl.rpsRatio)} of the floor; ${pct(db.rpsRatio)} of raw fetch, ${signed(p50)} µs p50`,
        });
      }
      const nt = at("ballast-notimers", c);
      if (nt) {
        out.push({
          kind: "info",
          target: `concurrency ${c}: ballast with timeouts null (no signal of its own) vs raw fetch`,
          measured: `${pct(nt.rpsRatio)} of raw fetch, ${signed(nt.addedP50Us)} µs p50`,
        });
      }
    }
  }
  const sc = (id) => r.sections.faults?.scenarios?.find((s) => s.id === id);
  const row = (s, id) => s?.rows.find((x) => x.id === id);
  const a = row(sc("a"), "ballast");
  if (a) out.push({ kind: "target", target: "2a. outage amplification ≤ 1.05x (ballast defaults)", measured: `${n2(a.amplification)}x`, met: a.amplification <= 1.05 });
  const b = row(sc("b"), "ballast");
  if (b) {
    out.push({ kind: "target", target: "2b. 10% 503s: success ≥ 99.9%", measured: pct(b.success, 2), met: b.success >= 0.999 });
    out.push({ kind: "target", target: "2b. 10% 503s: amplification ≤ 1.12x", measured: `${n2(b.amplification)}x`, met: b.amplification <= 1.12 });
  }
  const sz = r.sections.size;
  if (sz?.bundles) {
    const t = sz.bundles.ballast.totalGzip;
    const measured = `${kb(t)} KB (JS ${kb(sz.bundles.ballast.js.gzip)} + wasm ${kb(sz.bundles.ballast.wasm.gzip)})`;
    out.push({ kind: "target", target: `3. browser path (esbuild bundle of createFetch + the small wasm, gzip) ≤ ${SIZE_LIMIT_KB} KB`, measured, met: t <= SIZE_LIMIT_KB * KB });
    out.push({ kind: "goal", target: `3. goal: browser path ≤ ${SIZE_GOAL_KB} KB gzip`, measured: `${kb(t)} KB (${kb(Math.max(0, t - SIZE_GOAL_KB * KB))} KB to go)`, met: t <= SIZE_GOAL_KB * KB });
  }
  const sim = r.sections.sim;
  if (sim?.chromium?.rows?.length) {
    const low = sim.chromium.rows.reduce((a, x) => (x.tasksPerSec < a.tasksPerSec ? x : a));
    out.push({
      kind: "target",
      target: `6. simulator ≥ ${n0(SIM_GOAL / 1000)}k simulated tasks/s in Chromium, every preset and policy`,
      measured: `lowest ${n0(low.tasksPerSec / 1000)}k (${low.preset}, ${low.policy})`,
      met: low.tasksPerSec >= SIM_GOAL,
    });
  }
  return out;
}

/** A profile group's name, short: "its JS", "glue", "engine". */
function shortGroup(g) {
  if (/JS/.test(g)) return "JS";
  if (/glue/.test(g)) return "glue";
  if (/engine/.test(g)) return "engine";
  return g;
}

// Cells shared by the overhead tables (Node block pairs, request by request, Deno).
const rowLabel = (a) => (a.mode === "diagnostic" ? `_${a.label}_` : a.label);
const latencyCells = (a) => [ms(a.p50), ms(a.p99), signed(a.addedP50Us), signed(a.addedP99Us)];
const cpuCells = (a) => [n0(a.cpuUsPerReq), signed(a.addedCpuUs)];

/**
 * The CPU-profile table of the overhead section (bench/lib/profile-real.mjs): per group of code,
 * main-thread CPU per request for raw fetch, the floor (raw fetch + signal + timer) and ballast at
 * each concurrency. Ballast's own groups are the most that making its code faster could win back;
 * "ballast − floor" is what its defaults cost beyond what any timeout costs.
 */
function cpuTable(cpu) {
  const groups = Object.keys(cpu[0].ballast.usPerRequest);
  const cols = (c, pick) => [n1(pick(c.fetch)), n1(pick(c.floor)), n1(pick(c.ballast)), signed(pick(c.ballast) - pick(c.floor), n1)];
  const say = (c) =>
    `${n1(ownUs(c.ballast))} µs per request at concurrency ${c.concurrency} (${pct(ownUs(c.ballast) / totalUs(c.ballast))} of ballast's total; ` +
    `in all, its process spent ${signed(totalUs(c.ballast) - totalUs(c.floor), n1)} µs beyond the floor there)`;
  const L = [
    `**Where the CPU time of a request goes** (bench/lib/profile-real.mjs): raw fetch, the floor (raw fetch + signal + timer) and ballast (defaults) each run in a fresh process under the V8 CPU profiler (100 µs sampling), ` +
      `${cpu[0].profiles} profiles each per concurrency, in rotating order, medians per group; µs of main-thread CPU per request (garbage collection on helper threads is not in it). ` +
      `ballast's own code is ${cpu.map(say).join(", and ")}: the most that making its code faster could win back. ` +
      "The rest is the runtime doing more or less work for the same requests (ballast's defaults give each attempt an AbortSignal, as the floor does, but keep one timer per client where the floor sets one per request; the promises of each call, garbage collection of its objects) and the sampling's own spread (compare the fetch and floor columns between runs).",
    "",
    table(
      ["group", ...cpu.flatMap((c) => [`fetch, c=${c.concurrency}`, `floor, c=${c.concurrency}`, `ballast, c=${c.concurrency}`, `ballast − floor, c=${c.concurrency}`])],
      [
        ...groups.map((g) => [g, ...cpu.flatMap((c) => cols(c, (x) => x.usPerRequest[g]))]),
        ["**total**", ...cpu.flatMap((c) => cols(c, totalUs))],
      ],
    ),
    "",
  ];
  if (cpu.every((c) => c.ballast.ownUsPerRequest)) {
    const keys = [...new Set(cpu.flatMap((c) => Object.keys(c.ballast.ownUsPerRequest)))];
    const sum = (k) => cpu.reduce((a, c) => a + (c.ballast.ownUsPerRequest[k] ?? 0), 0);
    keys.sort((a, b) => sum(b) - sum(a));
    L.push(
      "ballast's own time by function (self time, medians over the same profiles; at 100 µs sampling a row under 0.1 µs per request is a handful of samples):",
      "",
      table(
        ["what", ...cpu.map((c) => `µs/request, c=${c.concurrency}`)],
        keys.slice(0, 14).map((k) => [`\`${k}\``, ...cpu.map((c) => n2(c.ballast.ownUsPerRequest[k] ?? 0))]),
      ),
      "",
    );
  }
  return L;
}

export function renderResults(r) {
  const m = r.machine;
  const L = [];
  L.push("# ballast benchmark results", "");
  L.push(
    `Generated by \`node bench/run.mjs\`${r.smoke ? " **--smoke** (a few iterations: the figures mean nothing)" : ""} on ${m.date.slice(0, 10)}, ` +
      `commit \`${m.commit}\`${m.dirty ? " with uncommitted changes in src/, pkg/ or Cargo.toml" : ""}, in ${n0(r.elapsedS)} s.`,
    "",
  );
  L.push(
    `**Machine:** ${m.cpu}, ${m.cores} vCPU${m.hypervisor ? ` (${m.hypervisor} guest)` : ""}, ${n1(m.memGiB)} GiB RAM, ${m.os}. ` +
      `**Node** ${m.node}; **${m.rustc ?? "rustc ?"}**. ` +
      `**Peers** (latest releases that still support Node 20, pinned in bench/package.json): ` +
      Object.entries(m.peers).map(([k, v]) => `${k} ${v}`).join(", ") +
      ".",
    "",
  );
  L.push(
    "Everything is on loopback (127.0.0.1); the origins run in their own processes. Every ratio compares figures from the same run, " +
      "and every figure is the median over several runs or rounds (counts below). Client and origin share the machine's cores" +
      (m.loadAvgStart
        ? `; load average (1/5/15 min) ${m.loadAvgStart.map((x) => x.toFixed(2)).join("/")} at the start and ${m.loadAvgEnd.map((x) => x.toFixed(2)).join("/")} at the end, ` +
          "part of it other work on the same machine, which widens the spread of the wall-clock figures."
        : "."),
    "",
    "![ballast vs peers: throughput, outage amplification, bundle size](chart.svg)",
    "",
  );

  // Targets
  const t = targets(r);
  if (t.length) {
    L.push("## Targets", "");
    const tg = t.filter((x) => x.kind !== "info");
    const info = t.filter((x) => x.kind === "info");
    L.push(table(["target", "measured", "status"], tg.map((x) => [x.target, x.measured, x.status ?? yes(x.met)])), "");
    L.push(
      "Throughput is judged against the timeout floor: raw fetch given an AbortSignal and a timer that would abort it, the least any wrapper that enforces a timeout does (ballast's defaults do: 10 s per attempt, 30 s per call), measured in the same run, " +
        "in block pairs of ballast directly against it (the blocks of section 1, which goes first alternating). The mean of the per-pair ratios decides when it is clear of 95% by two standard errors, either way; closer than that, the run has not shown it either way. " +
        "ballast's own CPU is the self time of its code (its JS, the wasm-bindgen glue, the engine in wasm) per request in the CPU profiles of the real loop (section 1); the floor runs none of it. " +
        "Goals say where we want to be; only the targets are limits.",
      "",
    );
    if (info.length) {
      L.push("Diagnostic rows (not targets: they say where the figures come from):", "");
      L.push(table(["what", "measured"], info.map((x) => [x.target, x.measured])), "");
    }
  }

  // 1. Overhead
  const ov = r.sections.overhead;
  L.push("## 1. Overhead", "");
  if (ov?.rows) {
    L.push(
      `Closed loop against a keep-alive loopback origin in its own process, small JSON body (parsed by every client). ` +
        `Throughput on this 2-core machine drifts by ±20% from second to second, so each client is measured in pairs with raw fetch, back to back ` +
        `(${ov.plan.map((p) => `${(p.durationMs / 1000).toFixed(1)} s each at concurrency ${p.concurrency}`).join(", ")}; order alternating; a 20 ms pause before each run, no forced collection: bench/lib/pairs.mjs says why), ` +
        `${ov.rounds} pairs per client and concurrency. "vs fetch" and the "+" columns are medians of the per-pair ratios / differences. ` +
        `"CPU" is the client process's user + system CPU time per request, steadier than throughput when other work shares the machine. ` +
        `Diagnostic rows (in italics) say where ballast's cost comes from: raw fetch given an \`AbortSignal\` (with its default timeouts ballast gives every attempt one, so it can abort at \`timeout.attemptMs\` and the deadline), ` +
        `raw fetch given a signal and a timer that would abort it (the least any wrapper that enforces a timeout does: the floor ballast's defaults are judged against), ` +
        `and ballast with both timeouts \`null\` (then it passes no signal of its own; like the defaults, it keeps one timer per client, not per request, armed at the engine's next wake-up).`,
      "",
    );
    for (const c of [1, 64]) {
      L.push(`**Concurrency ${c}**`, "");
      L.push(
        table(
          ["client", "req/s", "vs fetch", "p50 ms", "p99 ms", "+p50 µs", "+p99 µs", "CPU µs/req", "+CPU µs/req"],
          ov.rows
            .filter((x) => x.concurrency === c)
            .map((a) => [rowLabel(a), n0(a.rps), pct(a.rpsRatio), ...latencyCells(a), ...cpuCells(a)]),
        ),
        "",
      );
    }
    if (ov.latency) {
      L.push(
        `**Concurrency 1, request by request** (${n0(ov.latencyPairs)} pairs per client): raw fetch and the client alternate, which goes first flipping every pair, so the machine's drift hits both alike; ` +
          `"+" columns compare with the raw fetch requests of the same run. Latency figures are the steadiest here; the mean-based columns ("vs fetch", CPU) share garbage collection between the two clients of a pair, so the block pairs above judge throughput.`,
        "",
      );
      L.push(
        table(
          ["client", "p50 ms", "p99 ms", "+p50 µs", "+p99 µs", "vs fetch (mean latency)", "CPU µs/req", "+CPU µs/req"],
          ov.latency.map((a) => [rowLabel(a), ...latencyCells(a), pct(a.rpsRatio), ...cpuCells(a)]),
        ),
        "",
      );
    }
    if (ov.cpu) L.push(...cpuTable(ov.cpu));
    const dn = ov.deno;
    if (dn?.rows) {
      L.push(
        `**The same pairs in Deno ${dn.deno}** (bench/overhead-deno.mjs, same origin, ${dn.rounds} pairs per client and concurrency). ` +
          `Deno's fetch and timers are its own, not Node's undici, so these rows say which costs belong to ballast and which to the runtime.`,
        "",
      );
      L.push(
        table(
          ["client", "concurrency", "req/s", "vs fetch", "p50 ms", "p99 ms", "+p50 µs", "+p99 µs"],
          dn.rows.map((a) => [rowLabel(a), String(a.concurrency), n0(a.rps), pct(a.rpsRatio), ...latencyCells(a)]),
        ),
        "",
      );
      if (dn.latency) {
        L.push(
          `Deno at concurrency 1, request by request (${n0(dn.latencyPairs)} pairs per client, as above):`,
          "",
          table(
            ["client", "p50 ms", "p99 ms", "+p50 µs", "+p99 µs", "vs fetch (mean latency)"],
            dn.latency.map((a) => [rowLabel(a), ...latencyCells(a), pct(a.rpsRatio)]),
          ),
          "",
        );
      }
    } else if (dn?.skipped) L.push(`_Deno rows skipped: ${dn.skipped}_`, "");
  } else L.push(`_not run${ov?.error ? `: ${ov.error.split("\n")[0]}` : ""}_`, "");

  // 2. Faults
  const f = r.sections.faults;
  L.push("## 2. Behaviour under faults", "");
  if (f?.scenarios) {
    L.push(
      `Loopback chaos origin (bench/origin.mjs) with fixed seeds; ${f.runs} runs per scenario, medians. ` +
        `Amplification = requests that reached the origin / tasks. A task succeeds when it ends with a 2xx. ` +
        `"defaults" rows use each library as its README shows it; "≈ ballast" rows copy ballast's defaults ` +
        `(4 attempts, full jitter 100 ms base / 5 s cap, statuses 408 429 500 502 503 504, 10 s per attempt, 30 s total) as far as the library allows (bench/scenarios.mjs). ` +
        `p-retry and cockatiel wrap fetch and throw on a non-2xx, as their fetch examples do; cockatiel's "defaults" row is its README example (its bare defaults retry forever).`,
      "",
    );
    for (const s of f.scenarios) {
      L.push(`### ${s.id}. ${s.title}`, "");
      L.push(
        s.spec.rate
          ? `${s.spec.tasks} tasks arriving at ${s.spec.rate} per second (open loop); a task that is shed or fails counts as unsuccessful.`
          : `${s.spec.tasks} tasks, ${s.spec.concurrency} at a time.`,
        "",
      );
      const pend = s.rows.find((x) => x.pending)?.pending;
      if (pend) L.push(`> ballast: ${pend}.`, "");
      for (const note of s.notes ?? []) L.push(`> ${note}.`, "");
      if (s.ballastConfig && Object.keys(s.ballastConfig).length) {
        L.push(`ballast row config: \`${JSON.stringify(s.ballastConfig).replace(/http:\/\/127\.0\.0\.1:\d+/g, (u) => u.replace(/:\d+$/, ":PORT"))}\``, "");
      }
      const scaled = (x, v) => (x.pRetryScaled && ["c", "e"].includes(s.id) ? `${v}†` : v);
      let head;
      let rows;
      if (s.id === "a") {
        head = ["client", "amplification", "success"];
        rows = s.rows.map((x) => [x.label, `${n2(x.amplification)}x`, pct(x.success, 1)]);
      } else if (s.id === "b") {
        head = ["client", "success", "amplification", "p99 ms"];
        rows = s.rows.map((x) => [x.label, pct(x.success, 2), `${n2(x.amplification)}x`, ms(x.p99)]);
      } else if (s.id === "c") {
        head = ["client", "success", "p50 ms", "p99 ms", "mirror hits / task"];
        rows = s.rows.map((x) => [x.label, pct(x.success, 2), scaled(x, ms(x.p50)), scaled(x, ms(x.p99)), n2(x.amplification)]);
      } else if (s.id === "d") {
        head = ["client", "success", "p50 ms", "p99 ms", "extra load"];
        rows = s.rows.map((x) => [x.label, pct(x.success, 2), ms(x.p50), ms(x.p99), pct(x.amplification - 1, 1)]);
      } else {
        head = ["client", "success", "goodput tasks/s", "p50 ms", "p99 of successful ms", "origin's open requests (max)", "amplification"];
        rows = s.rows.map((x) => [x.label, pct(x.success, 1), n0(x.goodput), ms(x.p50), scaled(x, ms(x.p99ok)), n0(x.originMaxOpen), `${n2(x.amplification)}x`]);
      }
      L.push(table(head, rows), "");
      if (["c", "e"].includes(s.id)) {
        L.push(
          `† p-retry's defaults wait 1 s, 2 s, ... 512 s between its 10 retries; this run scales them by ${f.pRetryTimeScale} so it stays bounded, so its latency here is ${1 / f.pRetryTimeScale}x too short (its attempt counts are unaffected).`,
          "",
        );
      }
    }
  } else L.push(`_not run${f?.error ? `: ${f.error.split("\n")[0]}` : ""}_`, "");

  // 3. Size
  const sz = r.sections.size;
  L.push("## 3. Size", "");
  if (sz?.bundles) {
    L.push(
      `KB = 1024 bytes; gzip -9, brotli quality 11. Bundles: esbuild ${sz.esbuild}, \`--bundle --minify --format=esm --platform=browser\` of one import line per library.`,
      "",
    );
    L.push(
      table(
        ["what", "raw KB", "gzip KB", "brotli KB"],
        [
          ["ballast_bg.wasm (browsers: opt-level z, wasm-opt -Oz)", kb(sz.wasm.raw), kb(sz.wasm.gzip), kb(sz.wasm.brotli)],
          ...(sz.wasmFast
            ? [["ballast_fast_bg.wasm (Node, Deno, workerd: opt-level 3, wasm-opt -O3; in no browser bundle)", kb(sz.wasmFast.raw), kb(sz.wasmFast.gzip), kb(sz.wasmFast.brotli)]]
            : []),
          ["JS glue (gen/ballast.js, wasm-bindgen)", kb(sz.glue.raw), kb(sz.glue.gzip), kb(sz.glue.brotli)],
          ["hand-written JS (the browser entry and the modules it loads, glue snippet)", kb(sz.handwrittenJs.raw), kb(sz.handwrittenJs.gzip), kb(sz.handwrittenJs.brotli)],
        ],
      ),
      "",
    );
    const lib = Object.entries(sz.bundles).map(([name, b]) => [
      `\`${name}\``,
      kb(b.js.raw),
      kb(b.js.gzip),
      b.wasm ? kb(b.wasm.gzip) : "–",
      kb(b.js.gzip + (b.wasm?.gzip ?? 0)),
    ]);
    L.push(table(["library", "bundle raw KB", "bundle gzip KB", "+ wasm gzip KB", "total gzip KB"], lib), "");
    if (sz.twiggy) {
      const tw = sz.twiggy;
      L.push(
        `**twiggy** (${tw.version}) on a copy built with names from ${tw.source ?? "the working tree"} (${tw.file}): ${kb(tw.codeAndDataBytes)} KB of code and data without the name section, which the shipped file does not carry. ` +
          "Largest items (shallow size; an export's `shim` includes the code inlined into it, e.g. `client_new` reads and validates the config and builds the engine):",
        "",
      );
      L.push(table(["item", "bytes", "share"], tw.top.slice(0, 15).map((x) => [`\`${x.name.replace(/\|/g, "\\|")}\``, n0(x.bytes), `${n1(x.percent)}%`])), "");
      if (tw.retainedBy?.length) {
        L.push("What keeps code alive (twiggy dominators: retained bytes; `table[0]` is everything reachable through indirect calls, such as trait objects and the panic machinery):", "");
        L.push(table(["item", "retained bytes", "share"], tw.retainedBy.map((x) => [`\`${x.name}\``, n0(x.retained), `${n1(x.percent)}%`])), "");
      }
      L.push("By crate (shallow bytes; generic code is counted where it was instantiated):", "");
      L.push(table(["crate", "bytes"], tw.byCrate.slice(0, 12).map((x) => [x.crate, n0(x.bytes)])), "");
    } else if (sz.twiggyError) L.push(`twiggy failed: ${sz.twiggyError.split("\n")[0]}`, "");
    else L.push("_twiggy not run (smoke mode, or `twiggy` not installed: `cargo install twiggy`)._", "");
  } else L.push(`_not run${sz?.error ? `: ${sz.error.split("\n")[0]}` : ""}_`, "");

  // 4. Cold start
  const cs = r.sections.coldstart;
  L.push("## 4. Cold start", "");
  if (cs?.node) {
    L.push(
      `Node: a fresh process per sample, ${cs.samples} samples per client (interleaved), medians. "import" is the dynamic import of the library; ` +
        `"create" makes the client (ballast compiles and instantiates its wasm there); "first call" is the first request to the loopback origin, ` +
        `which also loads Node's fetch (undici) unless the library's import already touched it, so compare the last column.`,
      "",
    );
    L.push(
      table(
        ["client", "import ms", "create ms", "first call ms", "import → first response ms"],
        Object.entries(cs.node).map(([k, v]) => [k === "fetch" ? "raw fetch" : k, ms(v.import), ms(v.create), ms(v.firstCall), ms(v.importToFirstResponse)]),
      ),
      "",
    );
    L.push(
      `wasm alone (the build Node loads, ballast_fast_bg.wasm, ${kb(cs.wasm.bytes)} KB): \`new WebAssembly.Module\` ${ms(cs.wasm.compileSync)} ms, instantiate (\`initSync\`) ${ms(cs.wasm.instantiate)} ms, \`WebAssembly.compile\` ${ms(cs.wasm.compileAsync)} ms.`,
      "",
    );
    if (cs.workerd) {
      const w = cs.workerd;
      L.push(
        `workerd (miniflare ${w.miniflare}, wrangler ${w.wrangler} \`deploy --dry-run\` bundles; compatibility date ${w.compatibilityDate}): a fresh workerd per sample, ${w.samples} samples, medians. ` +
          `"ready" = start-up until the worker's script and modules are loaded (the wasm is compiled there); the first request runs \`createFetch()\` (instantiation) and one call to the loopback origin.`,
        "",
      );
      L.push(
        table(
          ["worker", "ready ms", "first request ms", "second request ms"],
          ["fetch", "ballast"].map((k) => [k === "fetch" ? "raw fetch" : "ballast", ms(w[k].ready), ms(w[k].firstRequest), ms(w[k].secondRequest)]),
        ),
        "",
      );
    } else if (cs.workerdError) L.push(`workerd: failed: ${cs.workerdError.split("\n")[0]}`, "");
  } else L.push(`_not run${cs?.error ? `: ${cs.error.split("\n")[0]}` : ""}_`, "");

  // 5. Engine
  const en = r.sections.engine;
  L.push("## 5. Engine", "");
  if (en?.native) {
    L.push(
      `Native (\`cargo bench --bench engine\`, divan, profile ${en.profile}): one call through \`ballast::core::Engine\` as an executor drives it ` +
        "(`begin`, drain `poll_action`, the attempt's response in `handle_response`, retries after their backoff timer through `poll_timeout` / `handle_timeout`, until it settles), virtual time advancing 10 µs per call. Medians per iteration.",
      "",
    );
    const what = {
      task_ok: "one call, 200 (defaults: fixed limit 64)",
      task_ok_unlimited: "one call, 200, `concurrency.limit: null`",
      task_ok_adaptive: "one call, 200, `concurrency.limit: \"adaptive\"`",
      task_503_retry_ok: "503 → retry (backoff, budget) → 200",
      task_503_give_up: "503 ×3 → give up (max-attempts)",
      snapshot: "`snapshot()` after 100k calls",
    };
    L.push(table(["benchmark", "what", "median", "fastest"], Object.entries(en.native).map(([k, v]) => [`\`${k}\``, what[k] ?? "", ns(v.medianNs), ns(v.fastestNs)])), "");
  }
  if (en?.wasm) {
    const w = en.wasm;
    if (w.step) {
      const st = w.step;
      const builds = Object.keys(st.ns);
      const nativeOf = { ok: "task_ok", retry_ok: "task_503_retry_ok" };
      L.push(
        `In wasm, the step API alone (bench/engine-wasm.mjs): the same calls through the wasm \`Client\` as pkg/executor.js drives it (\`client.begin(...)\` → a start action → \`client.response(...)\` → a settle action; ` +
          "the timer fired through `client.timeout(now)` when due; events and detail read when pending), with no promise, fetch, signal or timer, so this is the engine plus the wasm-bindgen glue and the boundary's step outputs. " +
          `${st.callsPerSample.toLocaleString("en-US")} calls × ${w.samples} samples, medians; virtual time advancing 10 µs per call as natively.`,
        "",
      );
      L.push(
        table(
          ["what", ...builds.map((b) => w.builds?.[b]?.label ?? b), "native"],
          [
            ...Object.entries(st.scenarios).map(([k, label]) => [label, ...builds.map((b) => ns(st.ns[b][k])), nativeOf[k] ? ns(en.native?.[nativeOf[k]]?.medianNs) : "–"]),
            ["`snapshot()` (the tape, not decoded)", ...builds.map((b) => ns(st.snapshotNs[b])), ns(en.native?.snapshot?.medianNs)],
          ],
        ),
        "",
      );
    }
    if (w.virtualNs) {
      L.push(
        `Through the JS executor on a virtual clock (pkg/api.js's \`bind(getModule, { clock })\`, as tests/js/builds.test.mjs drives it; the executor's one timer fires when due, no \`setTimeout\`), ` +
          "over the in-memory transport: executor + engine + glue, and the promises and AbortController of a call. \"added\" is over calling the transport directly.",
        "",
      );
      L.push(table(["variant", "per call", "added vs transport"], Object.entries(w.virtualNs).map(([k, v]) => [k, ns(v), ns(w.virtualAddedNs[k])])), "");
    }
    L.push(
      `The package as Node loads it (pkg/node.js: the fast build, real clock and timers): \`createFetch({ transport: async () => new Response("x") })\` called back to back (${w.callsPerSample.toLocaleString("en-US")} calls × ${w.samples} samples, medians), ` +
        "against calling that transport directly; the difference is engine + JS/wasm boundary + executor.",
      "",
    );
    L.push(
      table(
        ["variant", "per call", "added vs transport"],
        Object.entries(w.sequentialNs).map(([k, v]) => [k, ns(v), w.addedNs[k] !== undefined ? ns(w.addedNs[k]) : "–"]),
      ),
      "",
    );
    const b = w.batch64Ns;
    const defaultsRow = Object.keys(b).find((k) => k.startsWith("ballast"));
    L.push(
      `With 64 calls in flight at once: transport ${ns(b["transport called directly"])} per call, ballast ${ns(b[defaultsRow])}. ` +
        `\`snapshot()\` from JS (decoded): ${ns(w.snapshotNs)} per call (native: ${ns(en.native?.snapshot?.medianNs)}).`,
      "",
    );
    if (w.coldAddedNs) {
      L.push(
        "Back to back, the call's code and data stay in the CPU caches. Between two real requests the CPU runs a few hundred µs of socket, HTTP and stream code that evicts them, " +
          "so the same call costs more there (and in the overhead benchmark above). With a transport that touches 4 MB before it answers, the added cost per call is: " +
          Object.entries(w.coldAddedNs).map(([k, v]) => `${k} ${ns(v)}`).join(", ") +
          ".",
        "",
      );
    }
    L.push("The JS-side pieces of one call, each timed alone:", "");
    L.push(table(["piece", "per call"], Object.entries(w.piecesNs).map(([k, v]) => [k, ns(v)])), "");
    if (w.profile) {
      L.push(
        `Where a ballast call's time goes (CPU profile of the defaults over the in-memory transport, ${ns(w.profile.nsPerCall)} per call including the transport's own \`new Response\`; self time by group):`,
        "",
      );
      L.push(table(["group", "share", "≈ per call"], w.profile.groups.map((g) => [g.what, pct(g.share), ns(g.ns)])), "");
      if (w.profile.topFunctions) {
        L.push("The functions with the most self time in that profile:", "");
        L.push(table(["what", "share", "≈ per call"], w.profile.topFunctions.map((g) => [`\`${g.what}\``, pct(g.share), ns(g.ns)])), "");
      }
    }
  }
  if (!en?.native && !en?.wasm) L.push(`_not run${en?.error ? `: ${en.error.split("\n")[0]}` : ""}_`, "");

  // 6. Simulator
  const sim = r.sections.sim;
  L.push("## 6. Simulator", "");
  if (sim?.node?.rows) {
    L.push(
      `Simulated calls ("tasks") per second of wall time (bench/sim.mjs): one whole \`simulate(preset, { policy, seed: 1 })\` call as a page makes it, ` +
        `reading the options, the run and converting its output to JS objects, in the tools wasm; best of ${sim.runs} runs after a warm-up. ` +
        `Node ${sim.node.version}${sim.chromium ? `, Chromium ${sim.chromium.version} (Debian's, headless)` : ""}.`,
      "",
    );
    const cr = (x) => sim.chromium?.rows.find((y) => y.preset === x.preset && y.policy === x.policy);
    L.push(
      table(
        ["preset", "policy", "tasks", "attempts", "Node tasks/s", "Chromium tasks/s", "Chromium attempts/s", "Chromium ms"],
        sim.node.rows.map((x) => [x.preset, x.policy, n0(x.tasks), n0(x.attempts), n0(x.tasksPerSec), n0(cr(x)?.tasksPerSec), n0(cr(x)?.attemptsPerSec), ms(cr(x)?.bestMs)]),
      ),
      "",
    );
  } else L.push(`_not run${sim?.error ? `: ${sim.error.split("\n")[0]}` : ""}_`, "");

  L.push("## How to run", "");
  L.push(
    "```sh",
    "node bench/run.mjs           # full run (~10 min on 2 cores): this file, chart.svg, results.json",
    "node bench/run.mjs --smoke   # each benchmark briefly (< 1 min once built); report goes to a temp dir",
    "node bench/run.mjs --only=faults,size",
    "```",
    "",
    "Raw figures of this run: [results.json](results.json). ballast's config per scenario: [scenarios.mjs](scenarios.mjs).",
    "",
  );
  return L.join("\n");
}

// ---------------------------------------------------------------------------------------- chart

const colWide = 400; // panels wider than this get a wider label column
const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Horizontal bar panel. items: [{ label, values: [v...], colors: [...] }], stacked when `stack`. */
function panel({ x, y, w, title, subtitle, items, max, fmt, target, targetLabel, legend, stack = false }) {
  const rowH = stack ? 20 : 12 * items[0].values.length + 8;
  const labelW = w > colWide ? 250 : 128;
  const barW = w - labelW - 52;
  const sx = (v) => (Math.min(max, Math.max(0, v)) / max) * barW;
  const out = [];
  out.push(`<text x="${x}" y="${y}" font-size="14" font-weight="600">${esc(title)}</text>`);
  out.push(`<text x="${x}" y="${y + 16}" font-size="11" fill="#555">${esc(subtitle)}</text>`);
  let cy = y + 30;
  if (legend) {
    let lx = x;
    for (const [name, color] of legend) {
      out.push(`<rect x="${lx}" y="${cy - 9}" width="10" height="10" fill="${color}"/><text x="${lx + 14}" y="${cy}" font-size="11">${esc(name)}</text>`);
      lx += 16 + name.length * 6.2 + 12;
    }
    cy += 10;
  }
  const top = cy;
  for (const it of items) {
    const bold = it.label === "ballast" ? ' font-weight="700"' : "";
    out.push(`<text x="${x + labelW - 6}" y="${cy + rowH / 2 + 3}" font-size="11" text-anchor="end"${bold}>${esc(it.label)}</text>`);
    if (stack) {
      let bx = x + labelW;
      it.values.forEach((v, i) => {
        out.push(`<rect x="${bx.toFixed(1)}" y="${cy + 3}" width="${sx(v).toFixed(1)}" height="${rowH - 6}" fill="${it.colors[i]}"/>`);
        bx += sx(v);
      });
      const total = it.values.reduce((a, b) => a + b, 0);
      out.push(`<text x="${(bx + 4).toFixed(1)}" y="${cy + rowH / 2 + 4}" font-size="10">${esc(fmt(total))}</text>`);
    } else {
      it.values.forEach((v, i) => {
        const by = cy + 4 + i * 12;
        out.push(`<rect x="${x + labelW}" y="${by}" width="${sx(v).toFixed(1)}" height="10" fill="${it.colors[i]}"/>`);
        out.push(`<text x="${(x + labelW + sx(v) + 4).toFixed(1)}" y="${by + 9}" font-size="10">${esc(fmt(v))}</text>`);
      });
    }
    cy += rowH;
  }
  if (Number.isFinite(target)) {
    const tx = x + labelW + sx(target);
    out.push(`<line x1="${tx.toFixed(1)}" y1="${top - 2}" x2="${tx.toFixed(1)}" y2="${cy}" stroke="#c00" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${tx.toFixed(1)}" y="${cy + 12}" font-size="10" fill="#c00" text-anchor="middle">${esc(targetLabel)}</text>`);
  }
  return { svg: out.join("\n"), bottom: cy + 18 };
}

export function renderChart(r) {
  const W = 1180;
  const parts = [];
  const colW = 380;
  let bottom = 72;
  const ov = r.sections.overhead;
  const BLUE = "#3b6fb6";
  const LIGHT = "#9ab8e0";
  const ORANGE = "#e08a2c";
  if (ov?.rows) {
    // The peers, and the timeout floor (raw fetch + signal + timer) that ballast is judged against.
    const ids = [...new Set(ov.rows.filter((x) => x.mode !== "diagnostic" || x.id === "fetch-deadline").map((x) => x.id))];
    const GREY = "#8a8a8a";
    const items = ids.map((id) => {
      const a = ov.rows.find((x) => x.id === id && x.concurrency === 1);
      const b = ov.rows.find((x) => x.id === id && x.concurrency === 64);
      const floor = id === "fetch-deadline";
      return {
        label: floor ? "floor: fetch + signal + timer" : a.label,
        values: [a.rpsRatio * 100, b.rpsRatio * 100],
        colors: id === "ballast" ? [ORANGE, "#f2c28f"] : floor ? [GREY, "#c4c4c4"] : [BLUE, LIGHT],
      };
    });
    const p = panel({
      x: 10, y: 62, w: colW, title: "1. Throughput vs raw fetch", subtitle: "% of raw fetch req/s; ballast's target: within 5% of the floor row",
      items, max: Math.min(160, Math.max(110, ...items.flatMap((i) => i.values))), fmt: (v) => `${v.toFixed(0)}%`,
      legend: [["concurrency 1", BLUE], ["concurrency 64", LIGHT]],
    });
    parts.push(p.svg);
    bottom = Math.max(bottom, p.bottom);
  }
  const a = r.sections.faults?.scenarios?.find((s) => s.id === "a");
  if (a) {
    const items = a.rows.map((x) => ({ label: x.label, values: [x.amplification], colors: [x.id === "ballast" ? ORANGE : BLUE] }));
    const p = panel({
      x: 10 + colW + 10, y: 62, w: colW, title: "2a. Full outage: load amplification", subtitle: "origin hits / tasks when the only origin answers 503 (lower is better)",
      items, max: Math.max(...items.map((i) => i.values[0])) * 1.1, fmt: (v) => `${v.toFixed(2)}x`, target: 1.05, targetLabel: "target ≤ 1.05x",
    });
    parts.push(p.svg);
    bottom = Math.max(bottom, p.bottom);
  }
  const sz = r.sections.size;
  if (sz?.bundles) {
    const items = Object.entries(sz.bundles).map(([name, b]) => ({
      label: name,
      values: [b.js.gzip / KB, (b.wasm?.gzip ?? 0) / KB],
      colors: [name === "ballast" ? ORANGE : BLUE, "#f2c28f"],
    }));
    const p = panel({
      x: 10 + 2 * (colW + 10), y: 62, w: colW, title: "3. Bundle size, gzip", subtitle: "esbuild --minify of one import (+ wasm for ballast), KB",
      items, max: Math.max(SIZE_LIMIT_KB + 2, ...items.map((i) => i.values[0] + i.values[1])) * 1.08, fmt: (v) => `${v.toFixed(1)} KB`, target: SIZE_LIMIT_KB, targetLabel: `limit ≤ ${SIZE_LIMIT_KB} KB (goal ${SIZE_GOAL_KB})`,
      legend: [["JS", BLUE], ["wasm (ballast)", "#f2c28f"]], stack: true,
    });
    parts.push(p.svg);
    bottom = Math.max(bottom, p.bottom);
  }
  // Second row: the features that act under faults (hedging, shedding), p99 in ms.
  const rowY = bottom + 24;
  let bottom2 = bottom;
  const scen = (id) => r.sections.faults?.scenarios?.find((s) => s.id === id);
  const d = scen("d");
  if (d) {
    const items = d.rows.map((x) => ({ label: x.label.replace("ballast, ", "ballast: "), values: [x.p99], colors: [x.peer === "ballast" ? ORANGE : BLUE] }));
    const p = panel({
      x: 10, y: rowY, w: colW + 180, title: "2d. Heavy tail: p99 latency", subtitle: "5% of responses take 500 ms; ms (lower is better); hedged rows add ~5% load",
      items, max: Math.max(...items.map((i) => i.values[0])) * 1.12, fmt: (v) => `${v.toFixed(0)} ms`,
    });
    parts.push(p.svg);
    bottom2 = Math.max(bottom2, p.bottom);
  }
  const e = scen("e");
  if (e) {
    const items = e.rows.map((x) => ({ label: x.label.replace("ballast, ", "ballast: ").replace(" (origin's capacity, known)", ""), values: [x.p99ok], colors: [x.peer === "ballast" ? ORANGE : BLUE] }));
    const p = panel({
      x: 10 + colW + 200, y: rowY, w: colW + 180, title: "2e. Overload: p99 of successful tasks", subtitle: "origin serves 8 at once, offered 2x its capacity; ms (lower is better)",
      items, max: Math.max(...items.map((i) => i.values[0])) * 1.12, fmt: (v) => `${v.toFixed(0)} ms`,
    });
    parts.push(p.svg);
    bottom2 = Math.max(bottom2, p.bottom);
  }
  bottom = bottom2;
  const m = r.machine;
  const head = `<text x="10" y="22" font-size="16" font-weight="700">ballast vs raw fetch, ky, ofetch, p-retry, cockatiel</text>
<text x="10" y="38" font-size="11" fill="#555">${esc(`${m.date.slice(0, 10)} · ${m.cpu}, ${m.cores} vCPU · Node ${m.node} · commit ${m.commit}${r.smoke ? " · SMOKE RUN (figures meaningless)" : ""} · medians of several runs, same run for every ratio`)}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${bottom + 10}" viewBox="0 0 ${W} ${bottom + 10}" font-family="Helvetica, Arial, sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
${head}
${parts.join("\n")}
</svg>
`;
}
