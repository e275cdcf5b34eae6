// The demo site, end to end: builds it with Vite (www/vite.config.js) into a temporary folder,
// serves that with www/serve.mjs on 127.0.0.1, opens it in Debian's Chromium (tests/chromium.mjs;
// nothing is downloaded) and drives live mode from the keyboard and the controls: a ballast knob
// changed (the client is recreated), then an outage on the primary route. It checks that
//   - the real wrapper made calls (ballast's snapshot() counters grow);
//   - during the outage naive spent ~3 attempts per call and ballast far fewer, and ballast's
//     fallback kept calls succeeding;
//   - every chart drew (its canvas has coloured pixels and its data has points), the fallback
//     timeline lists fallbacks with their reasons and the ejection, the raster shows calls;
//   - every control has a label and keyboard focus is visible; nothing overflows at phone width;
//   - Simulation mode, switched to from the keyboard, loads the simulator only then; on metastable
//     and primary-outage every view draws both runs (the raster by the simulator's drawRaster), the
//     timeline lists reasons (primary-outage: fallbacks), naive amplifies more than ballast, and on
//     metastable naive does not recover while ballast does; sliders and a new seed rerun; Play
//     draws frames and Stop stops them; back in live mode the wrapper keeps calling;
//   - no page errors; no request left 127.0.0.1.
// It waits on counts (points, events, reruns), not on durations, and prints the page's load time,
// the simulated summaries as the page shows them, how long a rerun took, and the paths of the
// full-page screenshots (1280x800 and 390x844; live, and Simulation per preset) saved in
// tests/demo/screenshots/.
//
//   node tests/demo/run.mjs

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { launchChromium } from "../chromium.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "../..");
const SHOTS = path.join(HERE, "screenshots");
const FALLBACK_REASONS = ["primary-ejected", "all-primaries-failed", "budget-exhausted", "deadline"];
const OUTAGE_S = 10;
const WAIT = { timeout: 90_000, polling: 250 };

// ---- build ----------------------------------------------------------------------------------
const dist = mkdtempSync(path.join(os.tmpdir(), "ballast-demo-"));
const build = spawnSync(
  process.execPath,
  [path.join(REPO, "node_modules/vite/bin/vite.js"), "build", "--config", "www/vite.config.js", "--outDir", dist, "--emptyOutDir"],
  { cwd: REPO, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } },
);
assert.equal(build.status, 0, `vite build failed:\n${build.stdout}\n${build.stderr}`);
const html = readFileSync(path.join(dist, "index.html"), "utf8");
assert.doesNotMatch(html, /(src|href)=["']?(https?:)?\/\//, "the page links nothing off-site (no CDN)");

// ---- serve ----------------------------------------------------------------------------------
const server = spawn(process.execPath, [path.join(REPO, "www/serve.mjs"), "--port", "0", "--dir", dist], {
  stdio: ["ignore", "pipe", "inherit"],
});
const cleanup = () => {
  if (server.exitCode === null) server.kill("SIGTERM");
  rmSync(dist, { recursive: true, force: true });
};
process.on("exit", cleanup);
const url = await new Promise((resolve, reject) => {
  let out = "";
  server.stdout.on("data", (d) => {
    out += d;
    const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
    if (m) resolve(m[0]);
  });
  server.on("exit", (code) => reject(new Error(`www/serve.mjs exited (${code}) before listening`)));
});

const browser = await launchChromium();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  const offsite = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  const requested = [];
  page.on("request", (r) => {
    requested.push(r.url());
    if (!r.url().startsWith(url) && !r.url().startsWith("data:")) offsite.push(r.url());
  });

  // ---- load ---------------------------------------------------------------------------------
  await page.goto(url);
  await page.waitForFunction(() => document.documentElement.dataset.ready === "1", null, WAIT);
  const load = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    return { ready: window.ballastDemo.readyAt, domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd };
  });
  const runs = () => page.evaluate(() => window.ballastDemo.live.runs());
  // Per view: its points, the coloured pixels of each of its canvases, the marks of its SVG.
  const viewsDrawn = () =>
    page.evaluate(() => {
      const coloured = (c) => {
        const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
          if (d[i + 3] < 160) continue;
          if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) n++;
        }
        return n;
      };
      return [...document.querySelectorAll("[data-view]")].map((v) => ({
        view: v.dataset.view,
        points: v.dataset.points === undefined ? null : Number(v.dataset.points),
        canvases: [...v.querySelectorAll("canvas")].map(coloured),
        marks: v.querySelectorAll("svg .mark").length,
      }));
    });
  const points = (policy) =>
    page.evaluate((p) => window.ballastDemo.live.runs().find((r) => r.policy === p).points.length, policy);

  // ---- accessibility: labels, keyboard focus ------------------------------------------------
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll("input, select, button")]
      .filter((el) => (el.tagName === "BUTTON" ? !el.textContent.trim() : el.labels.length === 0 && !el.getAttribute("aria-label")))
      .map((el) => el.outerHTML.slice(0, 80)),
  );
  assert.deepEqual(unlabelled, [], "every input, select and button has a label");
  // Tab from the top until the outage button has focus; its focus ring must show.
  await page.locator("body").click({ position: { x: 5, y: 5 } });
  let focused = null;
  for (let i = 0; i < 10 && focused !== "outage"; i++) {
    await page.keyboard.press("Tab");
    focused = await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);
  }
  assert.equal(focused, "outage", "the outage button is reachable with Tab");
  const ring = await page.evaluate(() => {
    const s = getComputedStyle(document.activeElement);
    return { style: s.outlineStyle, width: parseFloat(s.outlineWidth), visible: document.activeElement.matches(":focus-visible") };
  });
  assert.ok(ring.visible && ring.style !== "none" && ring.width >= 2, `visible keyboard focus (${JSON.stringify(ring)})`);

  // ---- a ballast knob: recreates the client --------------------------------------------------
  const gen0 = await page.evaluate(() => window.ballastDemo.live.generation);
  await page.focus("#limit");
  await page.keyboard.press("ArrowLeft"); // 32 -> 31 in flight
  await page.waitForFunction((g) => window.ballastDemo.live.generation > g, gen0, WAIT);
  assert.equal(await page.evaluate(() => window.ballastDemo.live.params.limit), 31, "the slider set the limit");
  const snap0 = await page.evaluate(() => window.ballastDemo.live.snapshot());
  const base = await points("ballast");
  await page.waitForFunction((n) => window.ballastDemo.live.runs()[1].points.length >= n + 3, base, WAIT);

  // ---- the outage, from the keyboard -----------------------------------------------------------
  await page.focus("#outage-sec");
  await page.keyboard.press("Home"); // 3 s
  for (let i = 3; i < OUTAGE_S; i++) await page.keyboard.press("ArrowRight");
  assert.equal(await page.inputValue("#outage-sec"), String(OUTAGE_S));
  await page.focus("#outage");
  await page.keyboard.press("Space");
  assert.equal(await page.evaluate(() => window.ballastDemo.live.outageActive()), true, "the outage started");
  assert.match(await page.textContent("#outage"), /End outage/, "the button now ends it");
  const outageSeconds = () =>
    page.evaluate(() => window.ballastDemo.live.runs()[1].points.filter((p) => p.outage).length);

  // ---- screenshots in the outage: laptop, then phone --------------------------------------------
  await page.waitForFunction(() => window.ballastDemo.live.runs()[1].points.filter((p) => p.outage).length >= 4, null, WAIT);
  mkdirSync(SHOTS, { recursive: true });
  const laptop = path.join(SHOTS, "laptop-1280x800.png");
  await page.screenshot({ path: laptop, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  const seen = await outageSeconds();
  await page.waitForFunction((n) => window.ballastDemo.live.runs()[1].points.filter((p) => p.outage).length >= n + 2, seen, WAIT);
  const phoneLayout = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    widest: Math.max(...[...document.querySelectorAll("canvas, svg.timeline-svg")].map((c) => c.getBoundingClientRect().right)),
    settingsFolded: !document.querySelector(".settings").open,
  }));
  assert.ok(phoneLayout.scrollWidth <= 391, `nothing overflows at 390 px (scrollWidth ${phoneLayout.scrollWidth})`);
  assert.ok(phoneLayout.widest <= 391, `charts fit at 390 px (right edge ${phoneLayout.widest})`);
  assert.ok(phoneLayout.settingsFolded, "on a phone the settings fold away under the buttons");
  const phone = path.join(SHOTS, "phone-390x844.png");
  await page.screenshot({ path: phone, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });

  // Until the outage is over and the primary has been probed back (a restore event), or 90 s.
  await page.waitForFunction(
    () => {
      const ballast = window.ballastDemo.live.runs()[1];
      return !window.ballastDemo.live.outageActive() && ballast.events.some((e) => e.type === "restore");
    },
    null,
    WAIT,
  ).catch(() => {}); // judged below from what there is
  const snap1 = await page.evaluate(() => window.ballastDemo.live.snapshot());
  assert.ok(snap1.tasks > snap0.tasks, `ballast's snapshot counts tasks (${snap0.tasks} -> ${snap1.tasks})`);
  assert.ok(snap1.attempts > snap0.attempts, `ballast's snapshot counts attempts (${snap0.attempts} -> ${snap1.attempts})`);
  assert.ok(snap1.fallback.total > 0, `ballast used its fallback (${snap1.fallback.total})`);

  // Attempts per call while the primary was down, from the series both wrappers produced.
  const [naiveRun, ballastRun] = await runs();
  const down = ballastRun.points.filter((p) => p.outage).map((p) => p.t);
  assert.ok(down.length >= 4, `outage seconds recorded (${down.length})`);
  const during = (run) =>
    page.evaluate(([r, from, to]) => window.ballastDemo.summarize(r, from, to), [run, down[0] - 1, down.at(-1)]);
  const sn = await during(naiveRun);
  const sb = await during(ballastRun);
  assert.ok(sn.offered >= 10 && sb.offered >= 10, `calls offered during the outage (${sn.offered})`);
  assert.ok(sn.attemptsPerCall >= 2.3, `naive attempts per call in the outage: ${sn.attemptsPerCall}`);
  assert.ok(sb.attemptsPerCall <= 1.6, `ballast attempts per call in the outage: ${sb.attemptsPerCall}`);
  assert.ok(sb.attemptsPerCall < 0.6 * sn.attemptsPerCall, "ballast far below naive");
  assert.ok(sb.successRate >= 0.8, `ballast calls ok in the outage (fallback): ${sb.successRate}`);
  assert.ok(sn.successRate <= 0.5, `naive calls ok in the outage: ${sn.successRate}`);

  // ---- every view drew ------------------------------------------------------------------------
  await page.waitForFunction(() => document.querySelector('[data-view="routes"]').dataset.points > 0, null, WAIT);
  const views = Object.fromEntries((await viewsDrawn()).map((v) => [v.view, v]));
  for (const name of ["density", "amplification", "latency", "routes", "pressure"]) {
    const v = views[name];
    assert.ok(v, `view ${name} present`);
    assert.ok(v.points >= 5, `${name} has points (${v.points})`);
    assert.ok(v.canvases.length >= 1 && v.canvases.every((n) => n > 30), `${name} drew its series (${v.canvases})`);
  }
  assert.equal(views.raster.canvases.length, 2, "a raster per wrapper");
  assert.ok(views.raster.canvases.every((n) => n > 100), `the rasters drew calls (${views.raster.canvases})`);
  assert.ok(views.timeline.marks > 0, `the timeline drew events (${views.timeline.marks} marks)`);
  const listed = await page.$$eval(".timeline-list li", (lis) => lis.map((li) => ({ type: li.dataset.type, reason: li.dataset.reason, text: li.textContent })));
  const fallbacks = listed.filter((e) => e.type === "fallback");
  assert.ok(fallbacks.length > 0, "the timeline lists fallbacks");
  for (const f of fallbacks) {
    assert.ok(FALLBACK_REASONS.includes(f.reason) && f.text.includes(f.reason), `a fallback listed with its reason: ${f.text}`);
  }
  assert.ok(listed.some((e) => e.type === "eject"), "the timeline lists the primary's ejection");
  const restored = listed.some((e) => e.type === "restore");

  // ---- Simulation mode, from the keyboard -----------------------------------------------------
  assert.ok(!requested.some((u) => /ballast_tools|\/sim-/.test(u)), "the simulator is not fetched before its mode opens");
  await page.focus('input[name="mode"][value="live"]');
  await page.keyboard.press("ArrowRight"); // the radio group's next option: Simulation
  assert.equal(await page.evaluate(() => document.body.dataset.mode), "simulation", "Simulation mode from the keyboard");
  assert.ok(await page.isVisible("#sim-controls"), "Simulation mode shows its controls");
  assert.equal(await page.evaluate(() => window.ballastDemo.live.running), false, "live mode pauses in Simulation mode");
  await page.waitForFunction(() => window.ballastDemo.sim.reruns > 0, null, WAIT);
  assert.ok(requested.some((u) => /ballast_tools/.test(u)), "the simulator's wasm is fetched when the mode opens");
  const presets = await page.$$eval("#sim-scenario option", (os) => os.map((o) => o.value));
  for (const name of ["burst", "primary-outage", "brownout-tail", "throttle-storm", "slow-drift", "overload-ramp", "metastable"]) {
    assert.ok(presets.includes(name), `the scenario picker lists ${name}`);
  }
  const sim = () => page.evaluate(() => structuredClone(window.ballastDemo.sim));
  const cell = (policy, k) => page.textContent(`#sim-summary td[data-policy="${policy}"][data-k="${k}"]`);
  const shown = {};
  const simShots = [];

  for (const name of ["metastable", "primary-outage"]) {
    const before = (await sim()).reruns;
    await page.selectOption("#sim-scenario", name);
    await page.waitForFunction(([n, r]) => window.ballastDemo.sim.reruns > r && window.ballastDemo.sim.last.scenario === n, [name, before], WAIT);
    const desc = await page.textContent("#sim-desc");
    assert.ok(desc.length > 20, `${name}: its description shows (${desc})`);
    const seconds = (await sim()).last.summaries.ballast.durationMs / 1000;
    const v = Object.fromEntries((await viewsDrawn()).map((x) => [x.view, x]));
    for (const view of ["density", "amplification", "latency", "routes", "pressure"]) {
      assert.equal(v[view].points, seconds, `${name}: ${view} shows every simulated second`);
      assert.ok(v[view].canvases.length >= 1 && v[view].canvases.every((n) => n > 30), `${name}: ${view} drew (${v[view].canvases})`);
    }
    assert.equal(v.raster.canvases.length, 2, `${name}: a raster per wrapper`);
    assert.ok(v.raster.canvases.every((n) => n > 100), `${name}: the simulator drew both rasters (${v.raster.canvases})`);
    assert.ok(v.timeline.marks > 0, `${name}: the timeline drew events (${v.timeline.marks} marks)`);
    const items = await page.$$eval(".timeline-list li", (lis) => lis.map((li) => ({ type: li.dataset.type, reason: li.dataset.reason, text: li.textContent })));
    assert.ok(items.length > 0 && items.every((e) => e.reason && e.text.includes(e.reason)), `${name}: the timeline lists events with their reasons`);
    const simFallbacks = items.filter((e) => e.type === "fallback");
    if (name === "primary-outage") {
      assert.ok(simFallbacks.length > 0, "primary-outage: the timeline lists fallbacks");
      for (const f of simFallbacks) assert.ok(FALLBACK_REASONS.includes(f.reason), `primary-outage: a fallback with its reason: ${f.text}`);
    }
    const amp = { naive: Number(await cell("naive", "amplification")), ballast: Number(await cell("ballast", "amplification")) };
    assert.ok(amp.naive > amp.ballast, `${name}: naive amplifies more than ballast (${amp.naive} vs ${amp.ballast})`);
    if (name === "metastable") {
      assert.equal(await cell("naive", "recovered"), "not recovered", "metastable: naive does not recover");
      assert.equal(await cell("ballast", "recovered"), "recovered", "metastable: ballast recovers");
    }
    shown[name] = await page.$$eval("#sim-summary tbody tr", (trs) =>
      trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())),
    );

    // Screenshots: laptop, then phone (nothing may overflow there).
    const laptopShot = path.join(SHOTS, `sim-${name}-laptop-1280x800.png`);
    await page.screenshot({ path: laptopShot, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForFunction(() => document.querySelector(".timeline-svg").getBoundingClientRect().right <= 391, null, WAIT);
    const simPhone = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      widest: Math.max(...[...document.querySelectorAll("canvas, svg.timeline-svg, #sim-summary")].filter((c) => c.offsetParent).map((c) => c.getBoundingClientRect().right)),
    }));
    assert.ok(simPhone.scrollWidth <= 391, `${name}: nothing overflows at 390 px (scrollWidth ${simPhone.scrollWidth})`);
    assert.ok(simPhone.widest <= 391, `${name}: charts and summary fit at 390 px (right edge ${simPhone.widest})`);
    const phoneShot = path.join(SHOTS, `sim-${name}-phone-390x844.png`);
    await page.screenshot({ path: phoneShot, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    simShots.push(laptopShot, phoneShot);
  }

  // ---- sliders rerun (primary-outage is shown) ---------------------------------------------------
  const s0 = await sim();
  await page.focus("#sim-err");
  for (let i = 0; i < 5; i++) await page.keyboard.press("ArrowRight"); // the primary's error rate 0.2% -> 0.7%
  await page.waitForFunction(() => window.ballastDemo.sim.last.knobs.errorRate === 0.007, null, WAIT);
  const s1 = await sim();
  assert.notEqual(s1.last.digests.naive, s0.last.digests.naive, "the error-rate slider changed naive's run");
  assert.notEqual(s1.last.digests.ballast, s0.last.digests.ballast, "and ballast's");
  assert.ok(s1.last.summaries.naive.retries > s0.last.summaries.naive.retries, "naive retries more on a flakier primary");
  assert.match(await page.textContent('output[for="sim-err"]'), /^0\.7%$/, "the slider reads 0.7%");
  // How long a rerun takes, as the page sees it: from the key press to the run drawn.
  await page.$eval("#sim-ratio", (el) => el.addEventListener("keydown", () => (window.keyAt = performance.now()), { once: true }));
  await page.focus("#sim-ratio");
  await page.keyboard.press("ArrowRight"); // ballast's budget ratio 0.2 -> 0.25: a config
  await page.waitForFunction((d) => window.ballastDemo.sim.last.digests.ballast !== d, s1.last.digests.ballast, WAIT);
  const s2 = await sim();
  const moved = Math.round(s2.last.doneAt - (await page.evaluate(() => window.keyAt)));
  assert.deepEqual(s2.last.policy, { budget: { ratio: 0.25 }, retry: { maxAttempts: 4 }, concurrency: { limit: 64 } }, "a moved knob runs ballast as a config");
  assert.equal(s2.last.digests.naive, s1.last.digests.naive, "a ballast knob leaves naive's run alone");
  await page.click("#sim-reset");
  await page.waitForFunction((d) => window.ballastDemo.sim.last.digests.ballast === d, s0.last.digests.ballast, WAIT);
  await page.focus("#sim-new-seed");
  await page.keyboard.press("Enter");
  await page.waitForFunction((d) => window.ballastDemo.sim.last.digests.ballast !== d, s0.last.digests.ballast, WAIT);
  const seeded = await sim();
  assert.notEqual(seeded.last.seed, 1, `a new seed (${seeded.last.seed})`);
  assert.equal(await page.inputValue("#sim-seed"), String(seeded.last.seed), "the seed input shows it");

  // ---- play a few frames, then stop ------------------------------------------------------------
  await page.selectOption("#sim-speed", "60");
  await page.focus("#sim-play");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => window.ballastDemo.sim.playing && window.ballastDemo.sim.frames >= 10 && document.querySelector('[data-view="density"]').dataset.points >= 3, null, WAIT);
  const playing = await page.evaluate(() => ({ points: Number(document.querySelector('[data-view="density"]').dataset.points), progress: document.querySelector("#sim-progress").value }));
  assert.ok(playing.points < 150 && playing.progress > 0, `playback draws the run as it goes (${playing.points} s drawn)`);
  await page.focus("#sim-stop");
  await page.keyboard.press("Enter");
  const stopped = await sim();
  assert.equal(stopped.playing, false, "Stop stops the playback");
  assert.match(await page.textContent("#sim-status"), /Stopped at \d+ s/);
  await page.waitForTimeout(300);
  assert.equal((await sim()).frames, stopped.frames, "no frame after Stop");

  // ---- back to live mode, from the keyboard: it resumes and keeps calling -----------------------
  const snap2 = await page.evaluate(() => window.ballastDemo.live.snapshot());
  await page.focus('input[name="mode"][value="simulation"]');
  await page.keyboard.press("ArrowLeft");
  assert.equal(await page.evaluate(() => window.ballastDemo.live.running), true, "live mode resumes after Simulation mode");
  const resumed = await points("ballast");
  await page.waitForFunction((n) => window.ballastDemo.live.runs()[1].points.length >= n + 2, resumed, WAIT);
  const snap3 = await page.evaluate(() => window.ballastDemo.live.snapshot());
  assert.ok(snap3.tasks > snap2.tasks, `back in live mode the wrapper keeps calling (${snap2.tasks} -> ${snap3.tasks} tasks)`);
  assert.equal(await page.evaluate(() => document.querySelectorAll(".raster-axis:not([hidden])").length), 0, "live mode draws its own raster again");

  assert.deepEqual(errors, [], "no page errors");
  assert.deepEqual(offsite, [], "no request left the demo server");
  console.log(
    `demo: ready in ${Math.round(load.ready)} ms (DOMContentLoaded ${Math.round(load.domContentLoaded)} ms, load ${Math.round(load.load)} ms); ` +
      `outage ${down.length} s: naive ${sn.attemptsPerCall.toFixed(2)} attempts/call (${(sn.successRate * 100).toFixed(0)}% ok), ` +
      `ballast ${sb.attemptsPerCall.toFixed(2)} (${(sb.successRate * 100).toFixed(0)}% ok, ${sb.fallbacks} fallbacks: ` +
      `${Object.entries(sb.fallbacksByReason).map(([r, n]) => `${r} ${n}`).join(", ")}); ` +
      `snapshot tasks ${snap0.tasks} -> ${snap1.tasks}; timeline: ${fallbacks.length} fallback groups, eject listed, restore ${restored ? "listed" : "not yet"}`,
  );
  const table = (rows) => rows.map(([k, n, b]) => `    ${k.padEnd(34)} ${n.padEnd(18)} ${b}`).join("\n");
  for (const [name, rows] of Object.entries(shown)) console.log(`demo: simulation, ${name} (seed 1), as the page shows it:\n${table(rows)}`);
  console.log(
    `demo: simulation rerun (primary-outage, budget ratio slider): ${moved} ms from the key press to the changed run ` +
      `(in the page: ${Math.round(s2.last.simulateMs)} ms simulating both, ${Math.round(s2.last.renderMs)} ms drawing); ` +
      `5 presses of the error-rate slider made ${s1.reruns - s0.reruns} reruns; playback: ${stopped.frames} frames before Stop`,
  );
  console.log(`demo: screenshots\n  ${[laptop, phone, ...simShots].join("\n  ")}`);
} finally {
  await browser.close();
  cleanup();
}
