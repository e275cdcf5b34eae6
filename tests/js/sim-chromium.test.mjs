// ballast-fetch/sim in Chromium (Debian's, through playwright-core): the browser entry fetches and
// compiles the tools module next to it, every preset gives the run the native simulator
// committed (same seed, same series, in a third host), the raster is drawn into a real canvas,
// and playback is paced by the page's timers; ballast-fetch/drift, sharing the module, gives the
// fingerprints every runtime must agree on (tests/fixtures/fingerprints.json).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { extname, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium } from "../chromium.mjs";

const PKG = fileURLToPath(new URL("../../pkg/", import.meta.url));
const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };
const golden = readFileSync(new URL("../fixtures/sim-golden.tsv", import.meta.url), "utf8")
  .trim()
  .split("\n")
  .slice(1)
  .map((l) => l.split("\t"));

const fingerprints = JSON.parse(readFileSync(new URL("../fixtures/fingerprints.json", import.meta.url), "utf8"));

const PAGE = `<!doctype html><meta charset="utf-8"><canvas id="c" width="400" height="300"></canvas>
<script type="module">
  const sim = await import("/sim.js");
  const drift = await import("/drift.js");
  const fingerprints = ${JSON.stringify(fingerprints.map((r) => r.config))}.map((c) => drift.fingerprint(c));
  const golden = ${JSON.stringify(golden.map(([preset, policy, seed, digest]) => ({ preset, policy, seed: Number(seed), digest })))};
  const digests = golden.map((g) => sim.simulate(g.preset, { policy: g.policy, seed: g.seed, trace: { fromMs: 0, toMs: 20000, max: 300 } }).digest);
  const run = sim.simulate("primary-outage", { trace: { fromMs: 29000, toMs: 40000, max: 300 } });
  const canvas = document.getElementById("c");
  const drawn = sim.drawRaster(canvas, run.tasks, { fromS: 29, toS: 36 });
  const px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  const colours = new Set();
  for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 0) { painted++; colours.add(px[i] + "," + px[i + 1] + "," + px[i + 2]); }
  const frames = [];
  const t0 = performance.now();
  const played = await sim.play("burst", { speed: 30, durationMs: 6000, onFrame: (f) => frames.push({ t: f.t, at: performance.now() - t0 }) });
  let error = null;
  try { sim.simulate({ durationMs: 10 }); } catch (e) { error = { name: e.name, input: e.input, path: e.path, isClass: e instanceof sim.ScenarioError }; }
  window.__result = { digests, drawn, painted, colours: [...colours], frames, playedSeconds: played.series.length, playedDigest: played.digest,
    sameAsSimulate: played.digest === sim.simulate("burst", { durationMs: 6000 }).digest, error, presets: Object.keys(sim.presets), fingerprints };
</script>`;

const server = createServer(async (req, res) => {
  const path = new URL(req.url, "http://x").pathname;
  if (path === "/") {
    res.writeHead(200, { "content-type": "text/html" }).end(PAGE);
    return;
  }
  const file = normalize(PKG + path);
  if (!file.startsWith(PKG)) return res.writeHead(403).end();
  try {
    const body = await readFile(file);
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const browser = await launchChromium();
after(async () => {
  await browser.close();
  server.close();
});

test("in Chromium: same series as native for every preset, a drawn raster, paced playback", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => window.__result || null, null, { timeout: 120_000 });
  const r = await page.evaluate(() => window.__result);
  assert.deepEqual(errors, []);
  assert.deepEqual(r.fingerprints, fingerprints.map((x) => x.fingerprint), "each config's fingerprint in Chromium equals the native one");
  assert.deepEqual(
    r.digests,
    golden.map((g) => g[3]),
    "each preset's fingerprint in Chromium equals the native run's",
  );
  assert.equal(r.presets.length, 7);
  assert.ok(r.drawn.rows > 100 && r.drawn.ticks >= r.drawn.rows, JSON.stringify(r.drawn));
  assert.equal(r.drawn.legend.ok, "#0072b2");
  assert.deepEqual(Object.keys(r.drawn.legend).sort(), ["aborted", "network", "ok", "running", "shed", "status", "timeout", "waiting"]);
  assert.ok(r.painted > 1000, `${r.painted} pixels painted`);
  assert.ok(r.colours.length >= 2, `outcomes in several colours: ${r.colours}`);
  assert.equal(r.playedSeconds, 6);
  assert.ok(r.sameAsSimulate, "playback gives the run simulate gives");
  assert.ok(r.frames.length >= 2, JSON.stringify(r.frames));
  // Paced by timers: the frames are spread over time, not delivered at once.
  assert.ok(r.frames.at(-1).at - r.frames[0].at >= 50, JSON.stringify(r.frames));
  assert.deepEqual(r.error, { name: "ScenarioError", input: "scenario", path: "", isClass: true });
  await page.close();
});
