#!/usr/bin/env node
// Runtime matrix for the packed `ballast-fetch` npm package, and the examples/ that use it.
//
//   node tests/matrix/run.mjs [--only=node,bun,deno,...] [--origin=URL] [--pkg=DIR]
//                             [--keep] [--verbose] [--timeout=SECONDS] [--serial]
//
// 1. `npm pack` pkg/ into a fresh temp dir (the tarball is what gets tested, not the source tree).
// 2. Start the loopback fault origin (tests/origin/server.mjs) unless --origin=URL is given.
// 3. For each runtime: copy tests/matrix/fixtures/<runtime>/ + smoke.mjs into <tmp>/<runtime>/,
//    `npm install <tarball>`, and run the same scenario (smoke.mjs) there:
//      node     node main.mjs <origin>
//      bun      bun main.mjs <origin>   (the node fixture; Bun picks the "node" export condition)
//      deno     deno run --allow-net=127.0.0.1 main.mjs <origin>
//               (package.json + node_modules resolution; see DENO_PERMS)
//      workerd  wrangler deploy --dry-run --outdir dist, then miniflare dispatchFetch
//      vite     vite build (root's vite binary, fixture as root), static server, headless Chromium
//      plain    import-map module page served statically, headless Chromium
//    vite-dev (opt-in, not in the default set): the same Vite fixture through the dev server.
//    Each example-* entry copies examples/<name>/ (without node_modules, dist, lockfiles) into
//    <tmp>/<entry>/, installs it as a user would (`npm install <tarball>`, which installs the
//    example's own dependencies too, from the npm cache when it has them), runs it the way its
//    README says with the origin's URLs in place of the public default, and asserts on its output
//    and on the hits the origin counted:
//      example-node      node main.js <urls>         printed lines, retry/giveup events, snapshot
//      example-node-bun  bun main.js <urls>          the same script and assertions under Bun
//      example-deno      deno check main.ts, deno run --allow-net main.ts <urls>   (same assertions)
//      example-worker    wrangler deploy --dry-run (root's wrangler: the example's devDependencies
//                        are omitted), miniflare with UPSTREAM=<origin>: the proxy route retries,
//                        a failure answers 502, /metrics is OpenMetrics counting both
//      example-worker-shared  the same bundling, then the bundle as 4 Worker scripts (isolates) in
//                        one miniflare, an origin resetting every connection: all bound to one
//                        BallastBudget (retries ~ one reserve in all), each to its own (one reserve
//                        per isolate), and to an object that fails (degraded: a tenth of one per
//                        isolate); every call a 502 that says why, /budget gives the mode
//      example-vite      npm run build (the example's tsc --noEmit, strict, and vite build) with
//                        VITE_API_URL=<origin url>, then the page in headless Chromium: result,
//                        BallastError, cancel (AbortError), snapshot numbers
//      example-otel      node main.js <url>: the console exporter's http.client.request.duration
//                        and ballast.* metrics
// 4. Print `PASS <runtime>` / `FAIL <runtime>: <why>` per runtime and `N passed, M failed`; exit 1 on
//    any failure. Every child process is killed on exit; every runtime step has a timeout.
//
// Tools come from the repo root's devDependencies (bun, deno, wrangler, miniflare, vite,
// playwright-core), except the Vite example's own vite and typescript; Chromium is the system one
// (/usr/bin/chromium or $CHROMIUM_PATH); nothing is ever downloaded but npm packages.

import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium } from "../chromium.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "../..");
const ALL = [
  "node",
  "bun",
  "deno",
  "workerd",
  "vite",
  "plain",
  "example-node",
  "example-node-bun",
  "example-deno",
  "example-worker",
  "example-worker-shared",
  "example-vite",
  "example-otel",
];
const OPTIONAL = ["vite-dev"];

// ---------------------------------------------------------------------------------------------- args
const argv = process.argv.slice(2);
const opt = (name) => {
  const hit = argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (hit === undefined) return undefined;
  return hit.includes("=") ? hit.slice(hit.indexOf("=") + 1) : true;
};
if (opt("help") || opt("h")) {
  const lines = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").slice(1);
  console.log(lines.slice(0, lines.findIndex((l) => !l.startsWith("//"))).join("\n"));
  process.exit(0);
}
const known = new Set(["only", "origin", "pkg", "keep", "verbose", "timeout", "serial", "help"]);
for (const a of argv) {
  const n = a.replace(/^--/, "").split("=")[0];
  if (!a.startsWith("--") || !known.has(n)) {
    console.error(`unknown argument: ${a}`);
    process.exit(2);
  }
}
const ONLY = typeof opt("only") === "string" ? opt("only").split(",").map((s) => s.trim()).filter(Boolean) : ALL;
for (const r of ONLY) {
  if (!ALL.includes(r) && !OPTIONAL.includes(r)) {
    console.error(`unknown runtime "${r}" (known: ${[...ALL, ...OPTIONAL].join(", ")})`);
    process.exit(2);
  }
}
const PKG = path.resolve(typeof opt("pkg") === "string" ? opt("pkg") : path.join(REPO, "pkg"));
const KEEP = !!opt("keep");
const VERBOSE = !!opt("verbose");
const SERIAL = !!opt("serial");
const STEP_MS = (Number(opt("timeout")) || 120) * 1000;
const COMPAT_DATE_FALLBACK = "2025-01-01";

let WORK; // temp dir holding the tarball and one fixture project per runtime
let TARBALL; // absolute path of the packed ballast-fetch-<version>.tgz
let ORIGIN; // loopback fault origin URL
let PKG_VERSION; // version of the packed package

const t0 = Date.now();
const since = (t) => `${((Date.now() - t) / 1000).toFixed(1)}s`;
const log = (...a) => {
  if (VERBOSE) console.error(`[${since(t0)}]`, ...a);
};

// ------------------------------------------------------------------------------------ process control
const children = new Set(); // { proc, group }
const cleanups = []; // global async cleanups (origin, browser, servers)

function killChild(c, sig = "SIGTERM") {
  try {
    if (c.group) process.kill(-c.proc.pid, sig);
    else c.proc.kill(sig);
  } catch {
    /* already gone */
  }
}

let cleanupPromise;
let interrupted = false;
/** Idempotent: the signal handler and main's finally share one cleanup run. */
function cleanupAll() {
  cleanupPromise ??= doCleanupAll();
  return cleanupPromise;
}
async function doCleanupAll() {
  // Stop child processes first (npm, wrangler, deno, ...) so nothing still writes into the work dir.
  const live = [...children].map((c) => new Promise((r) => (c.proc.exitCode !== null || c.proc.signalCode !== null ? r() : c.proc.once("close", r))));
  for (const c of children) killChild(c, "SIGTERM");
  await Promise.race([Promise.all(live), new Promise((r) => setTimeout(r, 3000))]);
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await Promise.race([fn(), new Promise((r) => setTimeout(r, 5000))]);
    } catch (e) {
      log(`cleanup failed: ${e?.message || e}`);
    }
  }
  for (const c of children) killChild(c, "SIGKILL");
}
process.on("exit", () => {
  // Also reached on abrupt exits: miniflare's exit hook turns SIGINT/SIGTERM into process.exit(130)
  // before our async cleanup can run, so the work dir is removed synchronously here too.
  for (const c of children) killChild(c, "SIGKILL");
  if (WORK && !KEEP) {
    try {
      rmSync(WORK, { recursive: true, force: true });
    } catch {
      /* ignore */
    }
  }
});
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, async () => {
    if (interrupted) process.exit(130); // second signal: give up on a tidy exit
    interrupted = true;
    console.error(`\n${sig}: stopping`);
    // Kill what the steps wait on so they fail fast; main() then unwinds and its `finally` runs
    // cleanupAll() after every step has settled (so nothing re-creates files in the work dir).
    for (const c of children) killChild(c, "SIGTERM");
    browserPromise?.then((b) => b.close()).catch(() => {});
    setTimeout(async () => {
      await cleanupAll();
      process.exit(130);
    }, 15000);
  });
}

/**
 * Run a command; resolves { code, signal, stdout, stderr, timedOut } (never rejects on non-zero exit).
 * Spawned in its own process group so a timeout kills grandchildren too (npm, esbuild service, ...).
 */
function run(cmd, args, { cwd, env, timeoutMs = STEP_MS, owner } = {}) {
  return new Promise((resolve, reject) => {
    if (interrupted) {
      reject(new StepError("interrupted"));
      return;
    }
    log(`$ (${path.relative(REPO, cwd || ".") || "."}) ${cmd} ${args.join(" ")}`);
    let proc;
    try {
      proc = spawn(cmd, args, {
        cwd,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
        detached: process.platform !== "win32",
      });
    } catch (e) {
      reject(e);
      return;
    }
    const c = { proc, group: process.platform !== "win32" };
    children.add(c);
    owner?.add(c);
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d) => (stdout += d));
    proc.stderr.on("data", (d) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killChild(c, "SIGTERM");
      setTimeout(() => killChild(c, "SIGKILL"), 3000).unref();
    }, Math.max(1, timeoutMs));
    proc.on("error", (e) => {
      clearTimeout(timer);
      children.delete(c);
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    proc.on("close", (code, signal) => {
      clearTimeout(timer);
      children.delete(c);
      owner?.delete(c);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

const tail = (s, n = 15) =>
  String(s || "")
    .trimEnd()
    .split("\n")
    .slice(-n)
    .join("\n");
const firstLine = (s) => String(s || "").trim().split("\n")[0].slice(0, 400);

class StepError extends Error {
  constructor(why, details) {
    super(why);
    this.details = details;
  }
}

function mustSucceed(res, what) {
  if (res.timedOut) throw new StepError(`${what} timed out`, tail(res.stdout + "\n" + res.stderr));
  if (res.code !== 0) {
    throw new StepError(`${what} exited ${res.code ?? res.signal}: ${firstLine(tail(res.stderr, 40)) || firstLine(res.stdout)}`,
      tail(res.stdout, 20) + "\n" + tail(res.stderr, 40));
  }
  return res;
}

/** The last stdout line that parses as a JSON object. */
function lastJson(stdout) {
  const lines = String(stdout || "").trim().split("\n").reverse();
  for (const l of lines) {
    try {
      const v = JSON.parse(l);
      if (v && typeof v === "object") return v;
    } catch {
      /* not json */
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------- tools
function findDeno() {
  const plat = `${process.platform}-${process.arch === "x64" ? "x64" : process.arch}`;
  const cands = [
    process.env.DENO_BIN,
    path.join(REPO, "node_modules/.bin/deno"),
    path.join(REPO, "node_modules/deno/deno"),
    path.join(REPO, `node_modules/@deno/${plat}-glibc/deno`),
    path.join(REPO, `node_modules/@deno/${plat}/deno`),
  ].filter(Boolean);
  return cands.find((p) => existsSync(p)) || "deno";
}
function findBun() {
  const cands = [process.env.BUN_BIN, path.join(REPO, "node_modules/bun/bin/bun.exe"), path.join(REPO, "node_modules/.bin/bun")];
  return cands.filter(Boolean).find((p) => existsSync(p)) || "bun";
}
const NODE = process.execPath;
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const WRANGLER_JS = path.join(REPO, "node_modules/wrangler/bin/wrangler.js");
const VITE_JS = path.join(REPO, "node_modules/vite/bin/vite.js");

// Exactly the permissions the package needs in Deno (cwd = fixture dir): only network access to
// the loopback origin (127.0.0.1, and localhost: a second origin for the credentials check). The
// "deno" export condition maps to deno.js, which loads the wasm with a source-phase import
// (`import source ... from "./gen/ballast_fast_bg.wasm"`), so no --allow-read.
const DENO_PERMS = ["--allow-net=127.0.0.1,localhost"];

// Bun: no auto-install (node_modules is there; a missing package must fail, not be fetched), no
// transpiler cache or install cache in $HOME, no crash reports or telemetry sent anywhere.
const BUN_ARGS = ["--no-install"];
const bunEnv = () => ({
  BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0",
  BUN_INSTALL_CACHE_DIR: path.join(WORK, ".bun-cache"),
  DO_NOT_TRACK: "1",
  NO_COLOR: "1",
});
const denoEnv = () => ({
  DENO_DIR: path.join(WORK, ".deno-cache"),
  DENO_NO_UPDATE_CHECK: "1",
  DENO_NO_PROMPT: "1",
  NO_COLOR: "1",
});
// Keep wrangler hermetic and offline: no metrics, no banner (the banner does an npm update check),
// no interactive login prompts, config/logs inside the work dir.
const wranglerEnv = () => ({
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CI: "true",
  XDG_CONFIG_HOME: path.join(WORK, ".config"),
  WRANGLER_LOG_PATH: path.join(WORK, "wrangler-logs"),
  NO_COLOR: "1",
});

// ------------------------------------------------------------------------------------ static server
const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".cjs": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".d.ts": "text/plain; charset=utf-8",
};

/** Serve `root` on 127.0.0.1:<random>; records every request (path, status, type) for diagnostics. */
function serveStatic(root) {
  const requests = [];
  const server = http.createServer(async (req, res) => {
    const u = new URL(req.url, "http://x");
    let rel;
    try {
      rel = decodeURIComponent(u.pathname);
    } catch {
      rel = u.pathname;
    }
    let file = path.join(root, rel);
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      requests.push({ path: u.pathname, status: 403 });
      return;
    }
    try {
      if (statSync(file).isDirectory()) file = path.join(file, "index.html");
      const body = await readFile(file);
      const type = MIME[path.extname(file)] || "application/octet-stream";
      res.writeHead(200, { "content-type": type, "cache-control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : body);
      requests.push({ path: u.pathname, status: 200, type });
    } catch {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      requests.push({ path: u.pathname, status: 404 });
    }
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      resolve({
        url,
        requests,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections?.();
            server.close(() => r());
          }),
      });
    });
  });
}

// ----------------------------------------------------------------------------------------- origin
async function startOrigin() {
  const script = path.join(REPO, "tests/origin/server.mjs");
  if (!existsSync(script)) throw new Error(`origin server missing: ${script}`);
  const proc = spawn(NODE, [script], { cwd: REPO, stdio: ["pipe", "pipe", "pipe"] });
  const c = { proc, group: false };
  children.add(c);
  proc.on("close", () => children.delete(c));
  let errText = "";
  proc.stderr.on("data", (d) => (errText += d));
  cleanups.push(async () => {
    const done = new Promise((r) => proc.once("close", r));
    try {
      proc.stdin.end();
    } catch {
      /* ignore */
    }
    killChild(c, "SIGTERM");
    await Promise.race([done, new Promise((r) => setTimeout(r, 3000))]);
    killChild(c, "SIGKILL");
  });
  return await new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`origin did not print its URL within 15s. stderr: ${tail(errText)}`)), 15000);
    proc.stdout.on("data", (d) => {
      buf += d;
      for (const line of buf.split("\n").slice(0, -1)) {
        try {
          const v = JSON.parse(line);
          if (v && typeof v.url === "string") {
            clearTimeout(timer);
            resolve(v.url.replace(/\/+$/, ""));
            return;
          }
        } catch {
          /* keep reading */
        }
      }
    });
    proc.on("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`origin exited early (${code}): ${tail(errText)}`));
    });
  });
}

// ----------------------------------------------------------------------------------------- browser
let browserPromise;
function getBrowser() {
  browserPromise ??= (async () => {
    const browser = await launchChromium();
    cleanups.push(() => browser.close());
    return browser;
  })();
  return browserPromise;
}

/** Open `url` in a fresh context and wait for `window.__result` (or a page error). */
async function runPage(ctx, url, server) {
  const browser = await getBrowser();
  const context = await browser.newContext();
  ctx.cleanups.push(() => context.close());
  const page = await context.newPage();
  const consoleLines = [];
  const pageErrors = [];
  const failed = [];
  page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  const wasmResponses = [];
  page.on("requestfailed", (r) => failed.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  page.on("response", (r) => {
    const type = r.headers()["content-type"] || "";
    if (/\.wasm(\?|$)/.test(r.url()) || type.includes("wasm")) wasmResponses.push({ url: r.url(), status: r.status(), type });
  });
  let onPageError;
  const pageErrored = new Promise((resolve) => (onPageError = resolve));
  page.on("pageerror", (e) => {
    pageErrors.push(String(e.stack || e.message || e));
    onPageError();
  });
  const diag = () => ({
    wasmResponses,
    pageErrors,
    console: consoleLines.slice(-20),
    failedRequests: failed,
    served: server?.requests.filter((r) => r.status !== 200 || /wasm|ballast|main|index/.test(r.path)).slice(-20),
  });
  await page.goto(url, { waitUntil: "domcontentloaded", timeout: Math.max(1000, ctx.remaining()) });
  const got = await Promise.race([
    page
      .waitForFunction(() => window.__result !== undefined, null, { polling: 100, timeout: Math.max(1000, ctx.remaining() - 2000) })
      .then(() => "result", (e) => `timeout: ${e.message.split("\n")[0]}`),
    pageErrored.then(() => new Promise((r) => setTimeout(() => r("pageerror"), 300))),
  ]);
  if (got !== "result") {
    // A page error before a result means the module graph (i.e. `import "ballast-fetch"`) failed.
    const has = await page.evaluate(() => window.__result !== undefined).catch(() => false);
    if (!has) {
      const why = pageErrors.length ? `page error: ${firstLine(pageErrors[0])}` : `no window.__result (${got})`;
      throw new StepError(why, JSON.stringify(diag(), null, 2));
    }
  }
  const result = await page.evaluate(() => window.__result);
  const domOk = await page.evaluate(() => (document.getElementById("out")?.textContent || "").includes('"ok"'));
  return { result, extra: { domHasResult: domOk, ...(VERBOSE || !result?.ok ? diag() : {}) } };
}

// ----------------------------------------------------------------------------------------- runtimes

async function prepFixture(ctx, name, template = name) {
  const dir = path.join(WORK, name);
  await cp(path.join(HERE, "fixtures", template), dir, { recursive: true });
  await cp(path.join(HERE, "smoke.mjs"), path.join(dir, "smoke.mjs"));
  // What every runtime must compute alike: configs with their fingerprints, and the presets'
  // digests (the TSV's rows as JSON, which every runtime imports without a read permission).
  await cp(path.join(REPO, "tests/fixtures/fingerprints.json"), path.join(dir, "fingerprints.json"));
  const golden = readFileSync(path.join(REPO, "tests/fixtures/sim-golden.tsv"), "utf8").trim().split("\n").map((l) => l.split("\t"));
  writeFileSync(path.join(dir, "sim-golden.json"), JSON.stringify(golden));
  const res = await ctx.run(NPM, [
    "install",
    TARBALL,
    "--no-audit",
    "--no-fund",
    "--prefer-offline",
    "--ignore-scripts",
    "--loglevel=error",
  ], { cwd: dir });
  mustSucceed(res, "npm install <tarball>");
  if (!existsSync(path.join(dir, "node_modules/ballast-fetch/package.json"))) {
    throw new StepError("npm install did not create node_modules/ballast-fetch");
  }
  return dir;
}

function judge(result, extra) {
  if (!result || typeof result !== "object") throw new StepError("no JSON result", JSON.stringify({ result, extra }));
  if (result.ok === true) return { result, extra };
  const bad = Object.entries(result.checks || {})
    .filter(([, v]) => v !== true)
    .map(([k]) => k);
  const errs = (result.details?.errors || []).map((e) => `${e.step}: ${e.name}: ${e.message}`);
  const why = bad.length
    ? `checks failed: ${bad.join(", ")}${errs.length ? ` (${errs[0]})` : ""}`
    : `not ok: ${result.error ? firstLine(result.error) : JSON.stringify(result).slice(0, 300)}`;
  throw new StepError(why, JSON.stringify({ result, extra }, null, 2));
}

// ----------------------------------------------------------------------------------------- examples
// examples/<name>/ are projects for users to copy; these entries run them as a user would and assert
// on what they print or serve. Nothing in an example knows about the harness: the origin's URLs are
// passed where the example takes its upstream URL (arguments, a Worker var, VITE_API_URL).

const EXAMPLES = path.join(REPO, "examples");
/** What running an example in place leaves behind (examples/.gitignore): never copied. */
const EXAMPLE_LEFTOVERS = new Set(["node_modules", "dist", ".wrangler", "package-lock.json", "deno.lock"]);

/** Whether a caret range `^X.Y.Z` covers `version` (npm's rules, 0.x included). */
function caretCovers(range, version) {
  const r = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(String(range));
  const v = /^(\d+)\.(\d+)\.(\d+)$/.exec(String(version));
  if (!r || !v) return false;
  const [a, b, c] = r.slice(1).map(Number);
  const [x, y, z] = v.slice(1).map(Number);
  const atLeast = x > a || (x === a && (y > b || (y === b && z >= c)));
  if (a > 0) return atLeast && x === a;
  if (b > 0) return atLeast && x === 0 && y === b;
  return x === 0 && y === 0 && z === c;
}

/**
 * Copy examples/<example>/ to <work>/<name>/, check that it depends on a `ballast-fetch` range the
 * packed version satisfies, and `npm install <tarball>` there: that installs the example's own
 * dependencies as well (from the npm cache when it has them), all but its devDependencies with
 * `omitDev` (for tools the repo root has, like wrangler).
 */
async function prepExample(ctx, name, example, { omitDev = false } = {}) {
  const src = path.join(EXAMPLES, example);
  const dir = path.join(WORK, name);
  await cp(src, dir, { recursive: true, filter: (p) => !EXAMPLE_LEFTOVERS.has(path.basename(p)) });
  const manifest = JSON.parse(await readFile(path.join(dir, "package.json"), "utf8"));
  const range = manifest.dependencies?.["ballast-fetch"];
  if (!caretCovers(range, PKG_VERSION)) {
    throw new StepError(`examples/${example}/package.json: dependency "ballast-fetch": ${JSON.stringify(range)} does not cover ${PKG_VERSION}`);
  }
  const args = ["install", TARBALL, "--no-audit", "--no-fund", "--prefer-offline", "--ignore-scripts", "--loglevel=error"];
  if (omitDev) args.push("--omit=dev");
  mustSucceed(await ctx.run(NPM, args, { cwd: dir }), `npm install <tarball>${omitDev ? " --omit=dev" : ""}`);
  const installed = path.join(dir, "node_modules/ballast-fetch/package.json");
  if (!existsSync(installed) || JSON.parse(readFileSync(installed, "utf8")).version !== PKG_VERSION) {
    throw new StepError("npm install did not install the packed ballast-fetch");
  }
  return dir;
}

/** A key for the origin's per-key counters, unique to this run and entry. */
const originKey = (name, what) => `${name}-${what}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
/** How many counted requests with `key` the origin has seen (read with Node's own fetch). */
async function originHits(key) {
  const res = await fetch(`${ORIGIN}/hits?key=${encodeURIComponent(key)}`);
  return (await res.json()).hits;
}
/**
 * Whether the origin's count for a /reset key fits `attempts` attempts: Deno's and Bun's HTTP
 * clients (and Chromium's) resend a request once, on a fresh connection, when the pooled keep-alive
 * connection they sent it on is reset without a response, so the first attempt of a call that
 * follows another to the same origin can reach it twice. Node's and workerd's do not.
 */
const resetHitsOk = (hits, attempts) => hits === attempts || hits === attempts + 1;
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The pretty-printed JSON object that ends `stdout` (JSON.stringify(x, null, 2) as the last output). */
function trailingJson(stdout) {
  const text = String(stdout || "").trimEnd();
  const at = text.startsWith("{\n") ? 0 : text.lastIndexOf("\n{\n") + 1;
  if (at < 0 || !text.endsWith("}")) return undefined;
  try {
    return JSON.parse(text.slice(at));
  } catch {
    return undefined;
  }
}

/** `{ ok, checks, details }` in the shape judge() reads. */
const verdict = (checks, details) => ({ ok: Object.values(checks).every((v) => v === true), checks, details });

/**
 * examples/node (under Node and under Bun) and examples/deno: one script, three URLs of the origin
 * (503, 503, 200 / always 503 / connection reset), and the lines and snapshot it must print:
 * two retries each, a resolved 200 and 503, a BallastError NETWORK for the reset, give-ups for the
 * last two, and a snapshot counting 3 calls, 9 attempts, 6 retries, 2 give-ups (max-attempts).
 */
async function runCliExample(ctx, name, cmd, args, opts) {
  const keys = { seq: originKey(name, "seq"), always503: originKey(name, "503"), reset: originKey(name, "reset") };
  const urls = {
    seq: `${ORIGIN}/seq?key=${keys.seq}&codes=503,503,200`,
    always503: `${ORIGIN}/status/503?key=${keys.always503}`,
    reset: `${ORIGIN}/reset?key=${keys.reset}`,
  };
  const res = await ctx.run(cmd, [...args, urls.seq, urls.always503, urls.reset], opts);
  mustSucceed(res, `${path.basename(cmd)} ${args.join(" ")}`);
  const lines = res.stdout.split("\n");
  const has = (line) => lines.includes(line);
  const count = (re) => lines.filter((l) => re.test(l)).length;
  // Events show URLs with query values redacted (the package's default).
  const shown = (url) => url.replace(/([?&][^=&]+)=[^&]*/g, "$1=REDACTED");
  const retries = (url, reason) => count(new RegExp(`^\\s+retry #[12] of GET ${escapeRe(shown(url))} in \\d+ ms \\(${reason}\\)$`));
  const gaveUp = (url) => count(new RegExp(`^\\s+gave up on GET ${escapeRe(shown(url))} after 3 attempts \\(max-attempts\\)$`));
  const snap = trailingJson(res.stdout);
  const hits = {};
  for (const [k, key] of Object.entries(keys)) hits[k] = await originHits(key);
  const checks = {
    seq_resolves_200: has(`200 ${urls.seq}`),
    seq_retry_events_2: retries(urls.seq, "status-503") === 2,
    seq_no_giveup: gaveUp(urls.seq) === 0,
    always503_resolves_503: has(`503 ${urls.always503}`),
    always503_retry_events_2: retries(urls.always503, "status-503") === 2,
    always503_giveup_event: gaveUp(urls.always503) === 1,
    reset_ballast_error: has(`failed ${urls.reset}: NETWORK (max-attempts) after 3 attempts`),
    reset_retry_events_2: retries(urls.reset, "network") === 2,
    reset_giveup_event: gaveUp(urls.reset) === 1,
    snapshot_printed: snap !== undefined,
    snapshot_counts:
      snap?.tasks === 3 && snap.activeTasks === 0 && snap.attempts === 9 && snap.retries === 6 && snap.giveups?.["max-attempts"] === 2,
    origin_hits_3_each: hits.seq === 3 && hits.always503 === 3 && resetHitsOk(hits.reset, 3),
  };
  return verdict(checks, { hits, snapshot: snap && { tasks: snap.tasks, attempts: snap.attempts, retries: snap.retries, giveups: snap.giveups }, stdout: tail(res.stdout, 40), stderr: tail(res.stderr) || undefined });
}

/** Problems with `text` as OpenMetrics 1.0 text (the subset toOpenMetrics writes); [] if none. */
function openMetricsProblems(text) {
  const problems = [];
  if (!text.endsWith("# EOF\n")) problems.push("does not end in '# EOF\\n'");
  const lines = text.replace(/\n$/, "").split("\n");
  const types = new Map();
  const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  const VALUE = /^([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]Inf|NaN)$/;
  lines.forEach((line, i) => {
    let m;
    if (line === "# EOF") {
      if (i !== lines.length - 1) problems.push(`line ${i + 1}: # EOF before the end`);
    } else if ((m = new RegExp(`^# (TYPE|HELP|UNIT) (${NAME})(?: (.*))?$`).exec(line))) {
      if (m[1] === "TYPE") {
        if (!/^(counter|gauge|summary|histogram|stateset|info|gaugehistogram|unknown)$/.test(m[3])) problems.push(`line ${i + 1}: type ${m[3]}`);
        types.set(m[2], m[3]);
      }
    } else if ((m = new RegExp(`^(${NAME})(\\{(${NAME}="[^"\\\\]*"(,${NAME}="[^"\\\\]*")*)?\\})? (\\S+)$`).exec(line))) {
      const family = [...types.keys()].find((f) => m[1] === f || (m[1].startsWith(`${f}_`) && /^_(total|created|count|sum|bucket|info)$/.test(m[1].slice(f.length))));
      if (family === undefined) problems.push(`line ${i + 1}: sample ${m[1]} without a # TYPE`);
      if (!VALUE.test(m[5])) problems.push(`line ${i + 1}: value ${m[5]}`);
    } else {
      problems.push(`line ${i + 1}: ${line.slice(0, 120)}`);
    }
  });
  return problems;
}
/** The value of the unlabelled sample `name` in OpenMetrics `text`. */
const sample = (text, name) => {
  const m = new RegExp(`^${escapeRe(name)} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : undefined;
};

/** The objects ConsoleMetricExporter printed (console.dir, one top-level `{ ... }` per metric). */
function consoleMetrics(stdout) {
  const out = new Map();
  for (const block of String(stdout).match(/^\{\n[\s\S]*?^\}$/gm) || []) {
    const name = /^\s+name: '([^']+)'/m.exec(block)?.[1];
    if (!name) continue;
    out.set(name, {
      block,
      values: [...block.matchAll(/^\s+value: (-?[\d.e+-]+),?$/gm)].map((m) => Number(m[1])),
      counts: [...block.matchAll(/^\s+count: (\d+),?$/gm)].map((m) => Number(m[1])),
    });
  }
  return out;
}

/**
 * Bundle the Worker in `dir` with the root's wrangler (`deploy --dry-run`, which is how wrangler
 * bundles for deployment: the "workerd" export condition, the .wasm as a module).
 */
async function bundleWorker(ctx, dir) {
  const wcfg = JSON.parse(await readFile(path.join(dir, "wrangler.json"), "utf8"));
  const build = mustSucceed(
    await ctx.run(NODE, [WRANGLER_JS, "deploy", "--dry-run", "--outdir", "dist"], { cwd: dir, env: wranglerEnv() }),
    "wrangler deploy --dry-run"
  );
  const distDir = path.join(dir, "dist");
  const files = readdirSync(distDir);
  const main = path.basename(wcfg.main || "").replace(/\.[cm]?[jt]s$/, ".js");
  const entry = [main, "worker.js", "index.js"].find((f) => files.includes(f)) || files.find((f) => /\.m?js$/.test(f));
  if (!entry) throw new StepError(`wrangler produced no worker script (dist: ${files.join(", ")})`, build.stdout + build.stderr);
  const warnings = (build.stdout + "\n" + build.stderr).split("\n").filter((l) => /warn|▲|✘|error/i.test(l));
  return { wcfg, files, warnings, distDir, entry };
}

/** Miniflare options for one Worker script running the bundle `bundleWorker` made. */
function bundledScript({ wcfg, distDir, entry }, extra = {}) {
  return {
    modules: true,
    scriptPath: path.join(distDir, entry),
    // Module names are relative to modulesRoot (default: process.cwd(), which breaks for a tmp dir).
    modulesRoot: distDir,
    compatibilityDate: wcfg.compatibility_date || COMPAT_DATE_FALLBACK,
    compatibilityFlags: wcfg.compatibility_flags || [],
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    ...extra,
  };
}

/** Start miniflare with `options` (one script's, or `workers: [...]`); disposed when the step ends. */
async function startMiniflare(ctx, options) {
  const { Miniflare } = await import("miniflare");
  let runtimeOut = "";
  const mf = new Miniflare({
    ...options,
    // No request.cf: otherwise miniflare fetches it from a Cloudflare endpoint (no network here) and
    // caches it in ./node_modules/.mf of the current directory, the repo.
    cf: false,
    host: "127.0.0.1",
    port: 0,
    handleRuntimeStdio(stdout, stderr) {
      stdout.on("data", (d) => (runtimeOut += d));
      stderr.on("data", (d) => (runtimeOut += d));
    },
  });
  ctx.cleanups.push(() => mf.dispose());
  try {
    await mf.ready;
  } catch (e) {
    throw new StepError(`miniflare: ${firstLine(e?.message || e)}`, `${e?.stack || e}\nworkerd output:\n${tail(runtimeOut, 40)}`);
  }
  return { mf, output: () => runtimeOut };
}

/**
 * Bundle the Worker in `dir` (bundleWorker) and run the bundle in miniflare with `bindings` (its
 * wrangler.json `vars` first, `bindings` over them).
 */
async function buildAndStartWorker(ctx, dir, bindings) {
  const bundle = await bundleWorker(ctx, dir);
  const worker = await startMiniflare(ctx, bundledScript(bundle, { bindings: { ...bundle.wcfg.vars, ...bindings } }));
  return { wcfg: bundle.wcfg, files: bundle.files, warnings: bundle.warnings, worker };
}

const RUNTIMES = {
  async node(ctx) {
    const dir = await prepFixture(ctx, "node");
    const res = await ctx.run(NODE, ["main.mjs", ORIGIN], { cwd: dir });
    if (res.timedOut) throw new StepError("node main.mjs timed out", tail(res.stdout + res.stderr));
    const result = lastJson(res.stdout);
    if (!result) mustSucceed(res, "node main.mjs");
    return judge(result, { exitCode: res.code, stderr: tail(res.stderr) || undefined });
  },

  // Bun runs the Node fixture as it is (Bun resolves the package's "node" export condition).
  async bun(ctx) {
    const dir = await prepFixture(ctx, "bun", "node");
    const bun = findBun();
    const version = (await ctx.run(bun, ["--version"], { env: bunEnv() })).stdout.trim();
    const res = await ctx.run(bun, [...BUN_ARGS, "main.mjs", ORIGIN], { cwd: dir, env: bunEnv() });
    if (res.timedOut) throw new StepError("bun main.mjs timed out", tail(res.stdout + res.stderr));
    const result = lastJson(res.stdout);
    if (!result) mustSucceed(res, "bun main.mjs");
    return judge(result, { bun: version, exitCode: res.code, stderr: tail(res.stderr) || undefined });
  },

  async deno(ctx) {
    const dir = await prepFixture(ctx, "deno");
    const deno = findDeno();
    const env = denoEnv();
    const version = (await ctx.run(deno, ["--version"], { env })).stdout.split("\n")[0];
    // --no-prompt: a missing permission fails loudly (NotCapable) instead of waiting on a TTY prompt.
    const res = await ctx.run(deno, ["run", "--no-prompt", ...DENO_PERMS, "main.mjs", ORIGIN], { cwd: dir, env });
    if (res.timedOut) throw new StepError("deno run timed out", tail(res.stdout + res.stderr));
    const result = lastJson(res.stdout);
    if (!result) mustSucceed(res, `deno run ${DENO_PERMS.join(" ")}`);
    // Without --allow-net: refused by the runtime, so one attempt and no budget spent.
    const nonet = await ctx.run(deno, ["run", "--no-prompt", "nonet.mjs", ORIGIN], { cwd: dir, env });
    const refused = lastJson(nonet.stdout);
    if (!refused) mustSucceed(nonet, "deno run (no --allow-net) nonet.mjs");
    if (result && refused) {
      result.checks = { ...result.checks, ...refused.checks };
      result.ok = result.ok && refused.ok;
      result.details = { ...result.details, withoutNet: refused.details };
    }
    return judge(result, { deno: version, permissions: DENO_PERMS, exitCode: res.code, stderr: tail(res.stderr) || undefined });
  },

  async workerd(ctx) {
    const dir = await prepFixture(ctx, "workerd");
    const { wcfg, files, warnings, worker } = await buildAndStartWorker(ctx, dir, { ORIGIN });
    let resp;
    try {
      resp = await worker.mf.dispatchFetch(`http://localhost/?origin=${encodeURIComponent(ORIGIN)}`);
    } catch (e) {
      throw new StepError(`miniflare: ${firstLine(e?.message || e)}`, `${e?.stack || e}\nworkerd output:\n${tail(worker.output(), 40)}`);
    }
    const text = await resp.text();
    let result;
    try {
      result = JSON.parse(text);
    } catch {
      throw new StepError(`worker returned ${resp.status} non-JSON: ${firstLine(text)}`, text + "\n" + tail(worker.output(), 40));
    }
    return judge(result, {
      status: resp.status,
      bundle: files,
      compatibilityDate: wcfg.compatibility_date,
      wranglerWarnings: warnings.length ? warnings : undefined,
      runtimeOutput: tail(worker.output(), 20) || undefined,
    });
  },

  async vite(ctx) {
    const dir = await prepFixture(ctx, "vite");
    const build = mustSucceed(
      await ctx.run(NODE, [VITE_JS, "build", "--logLevel", "warn", "--emptyOutDir"], { cwd: dir, env: { NO_COLOR: "1" } }),
      "vite build"
    );
    const distDir = path.join(dir, "dist");
    const assets = existsSync(path.join(distDir, "assets")) ? readdirSync(path.join(distDir, "assets")) : [];
    const server = await ctx.serve(distDir);
    const { result, extra } = await runPage(ctx, `${server.url}/?origin=${encodeURIComponent(ORIGIN)}`, server);
    return judge(result, { ...extra, assets, viteWarnings: tail(build.stdout + build.stderr) || undefined });
  },

  async plain(ctx) {
    const dir = await prepFixture(ctx, "plain");
    const server = await ctx.serve(dir);
    const { result, extra } = await runPage(ctx, `${server.url}/?origin=${encodeURIComponent(ORIGIN)}`, server);
    return judge(result, extra);
  },

  // Opt-in: Vite dev server (dependency pre-bundling via optimizeDeps), same fixture as "vite".
  async "vite-dev"(ctx) {
    const dir = await prepFixture(ctx, "vite-dev", "vite");
    const { createServer } = await import("vite");
    const server = await createServer({
      root: dir,
      configFile: false,
      logLevel: "warn",
      server: { host: "127.0.0.1", port: 0, strictPort: false, hmr: false, watch: null },
    });
    ctx.cleanups.push(() => server.close());
    await server.listen();
    const base = (server.resolvedUrls?.local?.[0] || `http://127.0.0.1:${server.httpServer.address().port}/`).replace(/\/+$/, "");
    const { result, extra } = await runPage(ctx, `${base}/?origin=${encodeURIComponent(ORIGIN)}`, null);
    return judge(result, extra);
  },

  // ---- examples/ (see "examples" above) ----

  async "example-node"(ctx) {
    const dir = await prepExample(ctx, "example-node", "node");
    return judge(await runCliExample(ctx, "example-node", NODE, ["main.js"], { cwd: dir }), {});
  },

  async "example-node-bun"(ctx) {
    const dir = await prepExample(ctx, "example-node-bun", "node");
    const bun = findBun();
    return judge(await runCliExample(ctx, "example-node-bun", bun, [...BUN_ARGS, "main.js"], { cwd: dir, env: bunEnv() }), {});
  },

  async "example-deno"(ctx) {
    const dir = await prepExample(ctx, "example-deno", "deno");
    const deno = findDeno();
    // Its declared types, as a user's editor or `deno check` sees them, then the README's command
    // (--no-prompt: a permission it lacks fails instead of waiting for a TTY).
    mustSucceed(await ctx.run(deno, ["check", "main.ts"], { cwd: dir, env: denoEnv() }), "deno check main.ts");
    const perms = ["--allow-net"];
    return judge(await runCliExample(ctx, "example-deno", deno, ["run", "--no-prompt", ...perms, "main.ts"], { cwd: dir, env: denoEnv() }), { permissions: perms });
  },

  async "example-worker"(ctx) {
    const dir = await prepExample(ctx, "example-worker", "cloudflare-worker", { omitDev: true });
    const { wcfg, files, worker } = await buildAndStartWorker(ctx, dir, { UPSTREAM: ORIGIN });
    const keys = { seq: originKey("worker", "seq"), reset: originKey("worker", "reset") };
    const get = async (p) => {
      try {
        const r = await worker.mf.dispatchFetch(`http://localhost${p}`);
        return { status: r.status, type: r.headers.get("content-type"), text: await r.text() };
      } catch (e) {
        throw new StepError(`miniflare GET ${p}: ${firstLine(e?.message || e)}`, `${e?.stack || e}\nworkerd output:\n${tail(worker.output(), 40)}`);
      }
    };
    // The proxy route: 503 then 200 upstream, so the 200 (the origin's 2nd answer) came through ballast.
    const proxied = await get(`/seq?key=${keys.seq}&codes=503,200`);
    // A connection reset on every attempt: the Worker's BallastError branch answers 502.
    const failed = await get(`/reset?key=${keys.reset}`);
    // /metrics from the same isolate: the module-scope client counted both requests.
    const metrics = await get("/metrics");
    const hits = { seq: await originHits(keys.seq), reset: await originHits(keys.reset) };
    const problems = openMetricsProblems(metrics.text);
    const figures = {
      tasks: sample(metrics.text, "ballast_tasks_total"),
      attempts: sample(metrics.text, "ballast_attempts_total"),
      retries: sample(metrics.text, "ballast_retries_total"),
    };
    const checks = {
      wrangler_declares_upstream: typeof wcfg.vars?.UPSTREAM === "string" && /^https:\/\//.test(wcfg.vars.UPSTREAM),
      proxy_200_after_retry: proxied.status === 200 && JSON.parse(proxied.text || "{}").seq === 2 && hits.seq === 2,
      failure_502_ballast_error: failed.status === 502 && failed.text.includes("NETWORK (max-attempts) after 3 attempts") && resetHitsOk(hits.reset, 3),
      metrics_200: metrics.status === 200,
      metrics_content_type: metrics.type === "application/openmetrics-text; version=1.0.0; charset=utf-8",
      metrics_valid_openmetrics: problems.length === 0,
      metrics_end_eof: metrics.text.endsWith("\n# EOF\n"),
      metrics_count_both_requests: figures.tasks === 2 && figures.attempts === 5 && figures.retries === 3,
    };
    return judge(verdict(checks, { proxied, failed, hits, figures, problems: problems.slice(0, 10), bundle: files, runtimeOutput: tail(worker.output(), 20) || undefined }), {});
  },

  async "example-worker-shared"(ctx) {
    const dir = await prepExample(ctx, "example-worker-shared", "cloudflare-shared-budget", { omitDev: true });
    const bundle = await bundleWorker(ctx, dir);
    const { wcfg } = bundle;
    // The bundle as N Worker scripts (each its own isolate, with its own module-scope client) three
    // times over: `shared-*` bound to one BallastBudget namespace (the one shared-0 exports), `own-*`
    // each bound to the namespace it exports itself (one budget object per isolate: what separate
    // local budgets give), `broken-*` bound to an object that fails every lease (the coordinator's
    // outage). Calls go to an origin that resets every connection: BallastError, so every answer is
    // the Worker's 502 saying why.
    const N = 4;
    const CALLS = 12; // per isolate, one after the other; each would retry twice (maxAttempts 3)
    const RESERVE = 10; // the default budget's reserve: minPerSec 1 x ttlMs 10 s
    const range = (n) => Array.from({ length: n }, (_, i) => i);
    const bindings = { ...wcfg.vars, UPSTREAM: ORIGIN };
    const isolate = (name, budget) => ({ name, ...bundledScript(bundle, { bindings, durableObjects: { BALLAST_BUDGET: budget } }) });
    const broken = {
      name: "broken-budget",
      modules: true,
      script: `export class BrokenBudget { async fetch() { throw new Error("the budget object is down"); } }
export default { async fetch() { return new Response("the broken budget's worker"); } };`,
      compatibilityDate: wcfg.compatibility_date || COMPAT_DATE_FALLBACK,
      durableObjects: { BROKEN: "BrokenBudget" },
    };
    const worker = await startMiniflare(ctx, {
      workers: [
        ...range(N).map((i) => isolate(`shared-${i}`, i === 0 ? "BallastBudget" : { className: "BallastBudget", scriptName: "shared-0" })),
        ...range(N).map((i) => isolate(`own-${i}`, "BallastBudget")),
        ...range(N).map((i) => isolate(`broken-${i}`, { className: "BrokenBudget", scriptName: "broken-budget" })),
        broken,
      ],
    });
    /** Every isolate `prefix-i` proxies CALLS requests in a row (isolates at once), then /budget. */
    const outage = async (prefix) => {
      const key = originKey("worker-shared", prefix);
      const started = Date.now();
      let isolates;
      try {
        isolates = await Promise.all(
          range(N).map(async (i) => {
            const w = await worker.mf.getWorker(`${prefix}-${i}`);
            const answers = [];
            for (let c = 0; c < CALLS; c++) {
              const r = await w.fetch(`http://localhost/reset?key=${key}`);
              answers.push({ status: r.status, text: await r.text() });
            }
            const b = await w.fetch("http://localhost/budget");
            return { answers, budget: b.status === 200 ? await b.json() : { status: b.status, text: await b.text() } };
          }),
        );
      } catch (e) {
        throw new StepError(`miniflare (${prefix}): ${firstLine(e?.message || e)}`, `${e?.stack || e}\nworkerd output:\n${tail(worker.output(), 40)}`);
      }
      // workerd's fetch does not resend a request whose connection was reset: hits are attempts.
      const retries = (await originHits(key)) - N * CALLS;
      const answers = isolates.flatMap((r) => r.answers);
      const reasons = {};
      for (const a of answers) {
        const m = /^upstream failed: NETWORK \(([a-z-]+)\) after [1-3] attempts?\n$/.exec(a.status === 502 ? a.text : "");
        const why = m ? m[1] : `${a.status} ${firstLine(a.text)}`;
        reasons[why] = (reasons[why] ?? 0) + 1;
      }
      return {
        retries,
        ms: Date.now() - started,
        answered502: answers.filter((a) => a.status === 502 && /^upstream failed: NETWORK \((max-attempts|budget-exhausted)\) after [1-3] attempts?\n$/.test(a.text)).length,
        reasons,
        modes: isolates.map((r) => r.budget.budget?.mode ?? JSON.stringify(r.budget)),
        leased: isolates.map((r) => r.budget.budget?.leased),
        tasks: isolates.map((r) => r.budget.tasks),
      };
    };
    // One after the other: a lease slower than 250 ms (a busy machine) would put a client in
    // degraded mode.
    const shared = await outage("shared");
    const own = await outage("own");
    const down = await outage("broken");
    const dos = wcfg.durable_objects?.bindings ?? [];
    const all = (xs, v) => xs.length === N && xs.every((x) => x === v);
    const checks = {
      wrangler_binds_budget: dos.some((b) => b.name === "BALLAST_BUDGET" && b.class_name === "BallastBudget"),
      wrangler_migration_sqlite: (wcfg.migrations ?? []).some((m) => m.new_sqlite_classes?.includes("BallastBudget")),
      shared_every_call_502_with_reason: shared.answered502 === N * CALLS && all(shared.tasks, CALLS),
      shared_budget_refused_retries: (shared.reasons["budget-exhausted"] ?? 0) > 0,
      shared_retries_one_reserve: shared.retries <= RESERVE + 2 && shared.retries >= RESERVE / 2,
      shared_mode: all(shared.modes, "shared"),
      own_retries_one_reserve_per_isolate: own.retries >= (N - 1) * RESERVE && own.retries <= N * (RESERVE + 2),
      own_mode: all(own.modes, "shared"),
      broken_every_call_502_with_reason: down.answered502 === N * CALLS && all(down.tasks, CALLS),
      broken_mode_degraded: all(down.modes, "degraded"),
      // The degraded reserve: a tenth of the budget's, per isolate (1 here).
      broken_retries_degraded_reserve: down.retries <= N,
      broken_degraded_logged: worker.output().includes("ballast budget: degraded (error)"),
    };
    const figures = (o) => ({ retries: o.retries, seconds: +(o.ms / 1000).toFixed(1), reasons: o.reasons, modes: [...new Set(o.modes)] });
    return judge(verdict(checks, { shared, ownPerIsolate: own, coordinatorDown: down, bundle: bundle.files, runtimeOutput: tail(worker.output(), 20) || undefined }), {
      isolates: N,
      callsPerIsolate: CALLS,
      retriesWanted: N * CALLS * 2,
      shared: figures(shared),
      onePerIsolate: figures(own),
      coordinatorDown: figures(down),
    });
  },

  async "example-vite"(ctx) {
    const dir = await prepExample(ctx, "example-vite", "browser-vite");
    const keys = { seq: originKey("vite", "seq"), reset: originKey("vite", "reset"), hang: originKey("vite", "hang") };
    const start = `${ORIGIN}/seq?key=${keys.seq}&codes=503,503,200`;
    // The README's build: `tsc --noEmit` (strict) then `vite build`, with the example's own
    // typescript and vite; the URL the page starts with comes from VITE_API_URL.
    const build = mustSucceed(
      await ctx.run(NPM, ["run", "build", "--silent"], { cwd: dir, env: { NO_COLOR: "1", VITE_API_URL: start } }),
      "npm run build (tsc --noEmit && vite build)"
    );
    const distDir = path.join(dir, "dist");
    const assets = existsSync(path.join(distDir, "assets")) ? readdirSync(path.join(distDir, "assets")) : [];
    const server = await ctx.serve(distDir);

    const browser = await getBrowser();
    const context = await browser.newContext();
    ctx.cleanups.push(() => context.close());
    const page = await context.newPage();
    const pageErrors = [];
    const consoleLines = [];
    page.on("pageerror", (e) => pageErrors.push(String(e.stack || e.message || e)));
    page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    const text = (id) => page.evaluate((i) => document.getElementById(i)?.textContent ?? "", id);
    const settled = async () => {
      await page.waitForFunction(() => !["", "loading…"].includes(document.getElementById("status")?.textContent ?? ""), null, {
        polling: 50,
        timeout: Math.max(1000, ctx.remaining() - 5000),
      });
      return { status: await text("status"), body: await text("body"), stats: await text("stats") };
    };
    const fetchButton = page.getByRole("button", { name: "Fetch" });
    const seen = {};
    try {
      await page.goto(`${server.url}/`, { waitUntil: "domcontentloaded", timeout: Math.max(1000, ctx.remaining()) });
      // 1. On load: VITE_API_URL, 503, 503, 200.
      seen.first = await settled();
      // 2. A URL whose connection is reset every time: BallastError NETWORK after 3 attempts.
      await page.fill("#url", `${ORIGIN}/reset?key=${keys.reset}`);
      await fetchButton.click();
      seen.reset = await settled();
      // 3. A URL that never answers, cancelled once the request reached the origin: AbortError.
      await page.fill("#url", `${ORIGIN}/hang?key=${keys.hang}`);
      await fetchButton.click();
      for (let i = 0; i < 100 && (await originHits(keys.hang)) < 1; i++) await new Promise((r) => setTimeout(r, 50));
      await page.click("#cancel");
      seen.cancel = await settled();
    } catch (e) {
      throw new StepError(`page: ${firstLine(e?.message || e)}`, JSON.stringify({ seen, pageErrors, console: consoleLines.slice(-20), served: server.requests.slice(-20) }, null, 2));
    }
    const hits = { seq: await originHits(keys.seq), reset: await originHits(keys.reset), hang: await originHits(keys.hang) };
    const checks = {
      wasm_asset_emitted: assets.some((f) => f.endsWith(".wasm")),
      result_200_after_retries: seen.first.status.startsWith("200") && seen.first.body.includes('"status":200') && hits.seq === 3,
      snapshot_numbers_after_first: /\bcalls 1 · attempts 3 · retries 2\b/.test(seen.first.stats),
      ballast_error_shown: seen.reset.status === "failed: NETWORK (max-attempts) after 3 attempts" && resetHitsOk(hits.reset, 3),
      snapshot_numbers_after_error: /\bcalls 2 · attempts 6 · retries 4\b/.test(seen.reset.stats),
      abort_shown: seen.cancel.status === "cancelled" && hits.hang === 1,
      no_page_errors: pageErrors.length === 0,
    };
    return judge(verdict(checks, { seen, hits, assets, pageErrors, console: consoleLines.slice(-10), build: tail(build.stdout + build.stderr, 10) }), {});
  },

  async "example-otel"(ctx) {
    const dir = await prepExample(ctx, "example-otel", "otel");
    const key = originKey("otel", "seq");
    const url = `${ORIGIN}/seq?key=${key}&codes=503,200`;
    const res = mustSucceed(await ctx.run(NODE, ["main.js", url], { cwd: dir }), "node main.js");
    const printed = consoleMetrics(res.stdout);
    const duration = printed.get("http.client.request.duration");
    const hits = await originHits(key);
    const checks = {
      three_calls_200: res.stdout.split("\n").filter((l) => l === `200 ${url}`).length === 3,
      // 4 attempts: one 503 (retried) and three 200s, each a sample with its status code.
      duration_histogram_4_samples: duration !== undefined && duration.counts.reduce((a, b) => a + b, 0) === 4,
      duration_has_503_attempt: duration !== undefined && /'http\.response\.status_code': 503/.test(duration.block) && /'error\.type': '503'/.test(duration.block),
      ballast_tasks_3: printed.get("ballast.tasks")?.values[0] === 3,
      ballast_retries_1: printed.get("ballast.retries")?.values[0] === 1,
      ballast_metrics_printed: [...printed.keys()].filter((n) => n.startsWith("ballast.")).length >= 10,
      origin_hits_4: hits === 4,
    };
    return judge(verdict(checks, { hits, metrics: [...printed.keys()], stdoutLines: res.stdout.split("\n").length, stderr: tail(res.stderr) || undefined }), {});
  },
};

async function runRuntime(name) {
  const started = Date.now();
  const deadline = started + STEP_MS;
  const owned = new Set();
  // After the step ends (or times out) a late cleanup registration runs at once, so a step body that
  // is still running after its timeout cannot leak a server, page or workerd process.
  let closed = false;
  const pendingCleanups = [];
  const ctx = {
    cleanups: {
      push(fn) {
        if (closed) Promise.resolve().then(fn).catch(() => {});
        else pendingCleanups.push(fn);
      },
    },
    remaining: () => Math.max(0, deadline - Date.now()),
    run: (cmd, args, o = {}) =>
      closed ? Promise.reject(new StepError("step already finished")) : run(cmd, args, { ...o, owner: owned, timeoutMs: Math.max(1, deadline - Date.now()) }),
    serve: async (root) => {
      const s = await serveStatic(root);
      ctx.cleanups.push(s.close);
      return s;
    },
  };
  // On SIGINT/SIGTERM the global cleanup also closes this step's pages, servers and miniflare.
  const onAbort = async () => {
    if (closed) return;
    closed = true;
    for (const fn of pendingCleanups.reverse()) await fn();
  };
  cleanups.push(onAbort);
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new StepError(`timed out after ${STEP_MS / 1000}s`)), STEP_MS);
  });
  let outcome;
  try {
    const { result, extra } = await Promise.race([RUNTIMES[name](ctx), timeout]);
    outcome = { name, pass: true, ms: Date.now() - started, result, extra };
  } catch (e) {
    outcome = {
      name,
      pass: false,
      ms: Date.now() - started,
      why: e instanceof StepError ? e.message : String(e?.stack || e),
      details: e?.details,
    };
  } finally {
    clearTimeout(timer);
    for (const c of owned) killChild(c, "SIGKILL");
    if (cleanups.includes(onAbort)) cleanups.splice(cleanups.indexOf(onAbort), 1);
    closed = true;
    for (const fn of pendingCleanups.reverse()) {
      try {
        await Promise.race([fn(), new Promise((r) => setTimeout(r, 5000))]);
      } catch {
        /* ignore */
      }
    }
  }
  return outcome;
}

function report(o) {
  if (interrupted) return;
  if (o.pass) {
    console.log(`PASS ${o.name}`);
    if (VERBOSE) {
      console.log(indent(JSON.stringify({ seconds: +(o.ms / 1000).toFixed(1), checks: o.result.checks, extra: o.extra }, null, 2)));
    }
  } else {
    console.log(`FAIL ${o.name}: ${firstLine(o.why)}`);
    if (o.details) console.log(indent(String(o.details).trim().split("\n").slice(0, 120).join("\n")));
  }
}
const indent = (s) =>
  s
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");

// -------------------------------------------------------------------------------------------- main
// Browsers load the small build, the server runtimes the fast one: the package needs both.
const WASM_FILES = ["gen/ballast_bg.wasm", "gen/ballast_fast_bg.wasm"];

async function main() {
  for (const f of ["package.json", ...WASM_FILES]) {
    if (!existsSync(path.join(PKG, f))) {
      console.error(`package not built: ${path.join(PKG, f)} missing (run: bash scripts/build.sh)`);
      for (const r of ONLY) console.log(`FAIL ${r}: package not built`);
      console.log(`0 passed, ${ONLY.length} failed`);
      return 1;
    }
  }
  WORK = await mkdtemp(path.join(os.tmpdir(), "ballast-matrix-"));
  log(`work dir ${WORK}`);
  if (!KEEP) cleanups.unshift(() => rm(WORK, { recursive: true, force: true }));

  // 1. pack
  const packed = await run(NPM, ["pack", PKG, "--pack-destination", WORK, "--json", "--ignore-scripts", "--loglevel=error"], {
    cwd: WORK,
  });
  mustSucceedTop(packed, "npm pack");
  const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("[")))[0];
  TARBALL = path.join(WORK, info.filename);
  PKG_VERSION = info.version;
  const packedFiles = info.files.map((f) => f.path);
  log(`packed ${info.filename}: ${packedFiles.join(", ")}`);
  const missing = WASM_FILES.filter((f) => !packedFiles.includes(f));
  if (missing.length > 0) {
    console.error(`tarball ${info.filename} lacks ${missing.join(", ")} (files: ${packedFiles.join(", ")})`);
    for (const r of ONLY) console.log(`FAIL ${r}: ${missing.join(", ")} not packed`);
    console.log(`0 passed, ${ONLY.length} failed`);
    return 1;
  }

  // 2. origin
  const givenOrigin = opt("origin");
  ORIGIN = typeof givenOrigin === "string" ? givenOrigin.replace(/\/+$/, "") : await startOrigin();
  log(`origin ${ORIGIN}`);

  // 3. runtimes (concurrently unless --serial; results printed in the requested order)
  const outcomes = [];
  if (SERIAL) {
    for (const name of ONLY) {
      const o = await runRuntime(name);
      report(o);
      outcomes.push(o);
    }
  } else {
    const pending = ONLY.map((name) => runRuntime(name));
    for (const p of pending) {
      const o = await p;
      report(o);
      outcomes.push(o);
    }
  }

  const passed = outcomes.filter((o) => o.pass).length;
  const failed = outcomes.length - passed;
  if (KEEP) {
    await writeFile(path.join(WORK, "results.json"), JSON.stringify({ tarball: info.filename, origin: ORIGIN, outcomes }, null, 2));
    console.error(`work dir kept: ${WORK} (results.json inside)`);
  }
  log(`total ${since(t0)}`);
  if (interrupted) return 130;
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

function mustSucceedTop(res, what) {
  try {
    mustSucceed(res, what);
  } catch (e) {
    throw new Error(`${e.message}\n${e.details || ""}`);
  }
}

let code = 1;
try {
  code = await main();
} catch (e) {
  code = 1;
  if (!interrupted) {
    console.error(`matrix error: ${e?.stack || e}`);
    for (const r of ONLY) console.log(`FAIL ${r}: harness error: ${firstLine(e?.message || e)}`);
    console.log(`0 passed, ${ONLY.length} failed`);
  }
} finally {
  await cleanupAll();
}
process.exit(interrupted ? 130 : code);
