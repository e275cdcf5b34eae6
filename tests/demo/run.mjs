// The demo page, end to end: serves www/ and pkg/ (www/serve.mjs, with its loopback fault origin),
// opens the page in Debian's Chromium, sends a burst against "10% 503s" and against "full outage",
// and checks what the page shows: every ballast call answered, origin hits per call near 1 for
// ballast where blind retries go to ~3 in the outage, retry / give-up events listed, and a snapshot
// that parses. Nothing is downloaded; Chromium is /usr/bin/chromium (or $CHROMIUM_PATH).
//
//   node tests/demo/run.mjs

import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { launchChromium } from "../chromium.mjs";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const server = spawn(process.execPath, [path.join(REPO, "www/serve.mjs"), "--port", "0"], {
  stdio: ["ignore", "pipe", "inherit"],
});
const stop = () => server.exitCode === null && server.kill("SIGTERM");
process.on("exit", stop);
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
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  // Chromium logs every 503 and the missing favicon as "Failed to load resource": expected here.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text());
  });
  await page.goto(url);

  const card = async (id) =>
    page.$$eval(`#${id} dl > *`, (els) => {
      const o = {};
      for (let i = 0; i + 1 < els.length; i += 2) o[els[i].textContent] = els[i + 1].textContent;
      return o;
    });
  let runs = 0;
  const burst = async (mode, count) => {
    await page.selectOption("#mode", mode);
    await page.fill("#count", String(count));
    await page.click("#run");
    runs++;
    await page.waitForFunction((n) => document.body.dataset.done === String(n), runs, { timeout: 60_000 });
    return { blind: await card("blind"), ballast: await card("ballast") };
  };

  const listed = () => page.$$eval("#events li", (lis) => lis.map((li) => li.textContent));
  const flaky = await burst("flaky", 200);
  assert.ok((await listed()).some((e) => e.startsWith("retry")), "retry events listed");
  assert.equal(Number(flaky.ballast.calls), 200);
  assert.ok(Number(flaky.ballast.succeeded) >= 190, `ballast succeeded ${flaky.ballast.succeeded} of 200 at 10% 503s`);
  assert.ok(Number(flaky.ballast["hits per call"]) <= 1.2, `ballast hits per call ${flaky.ballast["hits per call"]}`);

  const outage = await burst("outage", 200);
  assert.equal(Number(outage.ballast.succeeded), 0);
  assert.ok(Number(outage.blind["hits per call"]) >= 2.9, `blind hits per call ${outage.blind["hits per call"]}`);
  assert.ok(
    Number(outage.ballast["hits per call"]) <= 1.5,
    `ballast hits per call in an outage ${outage.ballast["hits per call"]} (the budget stops the storm)`,
  );

  // The list keeps the newest 200: after the outage, its give-ups.
  const events = await listed();
  assert.ok(events.some((e) => e.startsWith("giveup")), "give-up events listed");
  const snap = JSON.parse(await page.textContent("#snapshot"));
  assert.ok(snap.tasks >= 400, `snapshot counts the tasks (${snap.tasks})`);
  assert.deepEqual(errors, [], "no page errors");
  console.log(
    `demo: 10% 503s: ballast ${flaky.ballast.succeeded}/200 ok at ${flaky.ballast["hits per call"]} hits/call ` +
      `(blind ${flaky.blind["hits per call"]}); outage: ballast ${outage.ballast["hits per call"]} hits/call, ` +
      `blind ${outage.blind["hits per call"]}; ${events.length} events listed`,
  );
} finally {
  await browser.close();
  stop();
}
