// 4. Cold start.
//   Node: a fresh process per sample: import, create the client (ballast compiles and instantiates
//         its wasm here), first call to the loopback origin; and the wasm compile / instantiate
//         alone. Clients are interleaved sample by sample; medians.
//   workerd: wrangler bundles (deploy --dry-run) a worker that makes one call with ballast, and a
//         baseline worker that makes it with raw fetch; each sample starts a fresh miniflare
//         (workerd process): time to ready (script and wasm loaded), first request, second request.
//         Inside workerd the clocks only move on I/O, so only outside timings mean anything.
//
//   node bench/coldstart.mjs [--smoke] [--no-workerd]

import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { BENCH, REPO, SMOKE, args, emit, median, startOrigin } from "./lib/common.mjs";

const run = promisify(execFile);
const SAMPLES = SMOKE ? 1 : 9;
const WORKERD_SAMPLES = SMOKE ? 1 : 5;
const CLIENTS = ["fetch", "ballast", "ky", "ofetch", "p-retry", "cockatiel"];
const CHILD = path.join(BENCH, "lib/coldstart-child.mjs");

const origin = await startOrigin();
const out = { samples: SAMPLES, node: {}, wasm: {}, workerd: null };
try {
  // ---- Node
  const raw = Object.fromEntries(CLIENTS.map((c) => [c, []]));
  const wasm = [];
  for (let s = 0; s < SAMPLES; s++) {
    for (const c of CLIENTS) {
      const { stdout } = await run(process.execPath, [CHILD, c, `${origin.url}/json`], { timeout: 30_000 });
      raw[c].push(JSON.parse(stdout.trim().split("\n").pop()));
    }
    const { stdout } = await run(process.execPath, [CHILD, "wasm"], { timeout: 30_000 });
    wasm.push(JSON.parse(stdout.trim().split("\n").pop()));
  }
  for (const c of CLIENTS) {
    const pick = (k) => median(raw[c].map((r) => r[k]));
    out.node[c] = {
      boot: pick("boot"),
      import: pick("import"),
      create: pick("create"),
      firstCall: pick("firstCall"),
      importToFirstResponse: pick("total"),
    };
  }
  for (const k of ["bytes", "compileSync", "instantiate", "compileAsync"]) out.wasm[k] = median(wasm.map((w) => w[k]));

  // ---- workerd
  if (!args.includes("--no-workerd")) {
    try {
      out.workerd = await workerd(origin.url);
    } catch (e) {
      out.workerdError = String(e?.stack || e).slice(0, 800);
    }
  }
} finally {
  await origin.close();
}
emit(out);

async function workerd(originUrl) {
  const work = path.join(os.tmpdir(), `ballast-bench-workerd-${process.pid}`);
  const require = createRequire(path.join(REPO, "package.json"));
  const wranglerJs = path.join(REPO, "node_modules/wrangler/bin/wrangler.js");
  const env = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_HIDE_BANNER: "true",
    CI: "true",
    NO_COLOR: "1",
    XDG_CONFIG_HOME: path.join(work, ".config"),
    WRANGLER_LOG_PATH: path.join(work, "wrangler-logs"),
  };
  const WORKERS = {
    fetch: `export default { async fetch(req) {
      const u = new URL(req.url).searchParams.get("origin");
      const r = await fetch(u); return Response.json({ body: await r.json() });
    } };`,
    ballast: `import { createFetch } from "ballast-fetch";
    let api;
    export default { async fetch(req) {
      const u = new URL(req.url).searchParams.get("origin");
      api ??= createFetch();
      const r = await api(u); return Response.json({ body: await r.json() });
    } };`,
  };
  const { Miniflare } = require("miniflare");
  const result = { compatibilityDate: "2025-01-01" };
  try {
    const dist = {};
    for (const [name, src] of Object.entries(WORKERS)) {
      const dir = path.join(work, name);
      mkdirSync(path.join(dir, "node_modules"), { recursive: true });
      symlinkSync(path.join(REPO, "pkg"), path.join(dir, "node_modules/ballast-fetch"), "dir");
      writeFileSync(path.join(dir, "worker.mjs"), src);
      writeFileSync(
        path.join(dir, "wrangler.json"),
        JSON.stringify({ name: `bench-${name}`, main: "worker.mjs", compatibility_date: result.compatibilityDate }),
      );
      await run(process.execPath, [wranglerJs, "deploy", "--dry-run", "--outdir", "dist"], {
        cwd: dir,
        env,
        timeout: 120_000,
      });
      const files = readdirSync(path.join(dir, "dist"));
      dist[name] = { dir: path.join(dir, "dist"), entry: files.includes("worker.js") ? "worker.js" : files.find((f) => /\.m?js$/.test(f)) };
    }
    const samples = Object.fromEntries(Object.keys(WORKERS).map((n) => [n, []]));
    for (let s = 0; s < WORKERD_SAMPLES; s++) {
      for (const name of Object.keys(WORKERS)) {
        const t0 = performance.now();
        const mf = new Miniflare({
          modules: true,
          scriptPath: path.join(dist[name].dir, dist[name].entry),
          modulesRoot: dist[name].dir,
          compatibilityDate: result.compatibilityDate,
          modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
          host: "127.0.0.1",
          port: 0,
          handleRuntimeStdio() {},
        });
        try {
          await mf.ready;
          const t1 = performance.now();
          const target = `http://localhost/?origin=${encodeURIComponent(`${originUrl}/json`)}`;
          const r1 = await mf.dispatchFetch(target);
          const b1 = await r1.text();
          const t2 = performance.now();
          if (r1.status !== 200) throw new Error(`${name} worker: ${r1.status} ${b1.slice(0, 300)}`);
          const r2 = await mf.dispatchFetch(target);
          await r2.text();
          const t3 = performance.now();
          samples[name].push({ ready: t1 - t0, first: t2 - t1, second: t3 - t2 });
        } finally {
          await mf.dispose();
        }
      }
    }
    for (const [name, xs] of Object.entries(samples)) {
      result[name] = {
        ready: median(xs.map((x) => x.ready)),
        firstRequest: median(xs.map((x) => x.first)),
        secondRequest: median(xs.map((x) => x.second)),
      };
    }
    result.samples = WORKERD_SAMPLES;
    result.miniflare = require("miniflare/package.json").version;
    result.wrangler = require("wrangler/package.json").version;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return result;
}
