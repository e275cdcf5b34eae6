// Before and after: ballast's CPU per request from two checkouts (say, main before a change and the
// change), measured in the same run, with the spread that says whether a difference is real.
//
// Each sample is a process of its own (bench/lib/compare-child.mjs): the timeout floor, checkout A
// and checkout B in turn, at concurrency 1 and 64, in an order that rotates every round, against
// one loopback origin. A sample's CPU is the whole process's, every thread included: the garbage
// collector's helper threads are part of what a request costs. On a small shared machine one
// sample differs from the next by several percent, so the verdict is on the paired differences of
// a round (B - A, and each against the floor of the same round): their mean, and its standard
// error. A difference within two standard errors is one this run cannot tell from noise.
//
// With --memory the calls go to an in-memory transport that answers at once, and the floor is that
// transport given a signal and a timer: no socket, no origin, so what differs is the two
// checkouts' own code and what it allocates, with far less noise than the loopback loop (which is
// what users meet, and what the targets are judged on).
//
// With --in-process the three take turns in one process, a batch of requests each per round
// (bench/lib/compare-batches.mjs): a round then costs no process start or warm-up, so several
// times as many rounds fit in the same time, and the standard error shrinks with their square
// root. On loopback at concurrency 1 a batch's CPU per request varies by several percent from the
// next, more than ballast adds, so this is the mode that can tell a few µs apart.
//
//   node bench/compare.mjs --a=<checkout> --b=<checkout> [--rounds=N] [--memory] [--in-process] [--smoke]
//
// A checkout is a directory with a built pkg/gen (bash scripts/build.sh), for instance:
//   git worktree add /tmp/before <ref> && (cd /tmp/before && bash scripts/build.sh)
// Both default to this repository (a run that compares it with itself shows the noise floor).

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { BENCH, REPO, SMOKE, args, argValue, meanSe, median, startOrigin } from "./lib/common.mjs";

const A = path.resolve(argValue("a", REPO));
const B = path.resolve(argValue("b", REPO));
const MEMORY = args.includes("--memory");
const IN_PROCESS = args.includes("--in-process");
const ROUNDS = Number(argValue("rounds", SMOKE ? 1 : IN_PROCESS ? 60 : 10));
// Requests per sample: per process, or per batch (--in-process).
const PLAN = [
  { concurrency: 1, requests: SMOKE ? 100 : IN_PROCESS ? (MEMORY ? 10_000 : 2_000) : MEMORY ? 100_000 : 10_000 },
  { concurrency: 64, requests: SMOKE ? 300 : IN_PROCESS ? (MEMORY ? 20_000 : 8_000) : MEMORY ? 100_000 : 40_000 },
];
for (const dir of [A, B]) {
  if (!existsSync(path.join(dir, "pkg/gen/ballast_fast_bg.wasm"))) {
    throw new Error(`compare: ${dir} has no built pkg/gen (run bash scripts/build.sh there first)`);
  }
}
const run = promisify(execFile);
const child = path.join(BENCH, "lib/compare-child.mjs");
const batches = path.join(BENCH, "lib/compare-batches.mjs");

const signed = (x) => `${x >= 0 ? "+" : ""}${x.toFixed(1)}`;
const verdict = ({ mean: m, se }) =>
  !(se > 0) ? "one round: no spread" : Math.abs(m) <= 2 * se ? "within noise" : m > 0 ? "more" : "less";

const origin = MEMORY ? null : await startOrigin();
const url = MEMORY ? "memory" : `${origin.url}/json`;
const subjects = [
  { id: "floor", arg: "floor" },
  { id: "A", arg: A },
  { id: "B", arg: B },
];
// samples[concurrency][id] = [{ rps, cpuUsPerReq, ... }] by round
const samples = {};
try {
  for (const p of IN_PROCESS ? PLAN : []) {
    const argv = [batches, url, A, B, String(p.concurrency), String(p.requests), String(ROUNDS)];
    const { stdout } = await run(process.execPath, argv, { maxBuffer: 16 << 20 });
    samples[p.concurrency] = JSON.parse(stdout.trim().split("\n").at(-1));
    process.stderr.write(`compare: concurrency ${p.concurrency}, ${ROUNDS} rounds done\n`);
  }
  for (let r = 0; r < (IN_PROCESS ? 0 : ROUNDS); r++) {
    for (const p of PLAN) {
      for (let i = 0; i < subjects.length; i++) {
        const s = subjects[(i + r) % subjects.length];
        const { stdout } = await run(process.execPath, [child, url, s.arg, String(p.concurrency), String(p.requests)], {
          maxBuffer: 1 << 20,
        });
        ((samples[p.concurrency] ??= {})[s.id] ??= []).push(JSON.parse(stdout.trim().split("\n").at(-1)));
      }
    }
    process.stderr.write(`compare: round ${r + 1}/${ROUNDS} done\n`);
  }
} finally {
  await origin?.close();
}

const where = MEMORY ? "an in-memory transport" : "the loopback origin";
const how = IN_PROCESS ? "in one process, a batch each per round" : "a process per sample";
console.log(`A: ${A}\nB: ${B}\n${ROUNDS} rounds against ${where}, ${how}; CPU per request in µs (whole process), +CPU against the floor of the same round.\n`);
console.log("| concurrency | floor CPU | A CPU | B CPU | A +CPU | B +CPU | B - A (mean ± s.e.) | verdict | A req/s | B req/s |");
console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |");
const out = [];
for (const p of PLAN) {
  const s = samples[p.concurrency];
  const cpu = (id) => s[id].map((x) => x.cpuUsPerReq);
  const over = (id) => cpu(id).map((x, r) => x - cpu("floor")[r]);
  const diff = meanSe(cpu("B").map((x, r) => x - cpu("A")[r]));
  const row = {
    concurrency: p.concurrency,
    floorCpu: median(cpu("floor")),
    aCpu: median(cpu("A")),
    bCpu: median(cpu("B")),
    aAdded: median(over("A")),
    bAdded: median(over("B")),
    bMinusA: diff,
    verdict: verdict(diff),
    aRps: median(s.A.map((x) => x.rps)),
    bRps: median(s.B.map((x) => x.rps)),
  };
  out.push(row);
  console.log(
    `| ${p.concurrency} | ${row.floorCpu.toFixed(1)} | ${row.aCpu.toFixed(1)} | ${row.bCpu.toFixed(1)} | ${signed(row.aAdded)} | ${signed(row.bAdded)} | ${signed(diff.mean)} ± ${Number.isNaN(diff.se) ? "–" : diff.se.toFixed(1)} | ${row.verdict} | ${row.aRps.toFixed(0)} | ${row.bRps.toFixed(0)} |`,
  );
}
console.log(`\n@@RESULT ${JSON.stringify({ a: A, b: B, rounds: ROUNDS, transport: MEMORY ? "memory" : "loopback", inProcess: IN_PROCESS, rows: out })}`);
