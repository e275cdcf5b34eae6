#!/usr/bin/env node
// Runtime matrix for the packed `ballast` npm package.
//
//   node tests/matrix/run.mjs [--only=node,deno,workerd,vite,plain] [--origin=URL] [--pkg=DIR]
//                             [--keep] [--verbose] [--timeout=SECONDS] [--serial]
//
// 1. `npm pack` pkg/ into a fresh temp dir (the tarball is what gets tested, not the source tree).
// 2. Start the loopback fault origin (tests/origin/server.mjs) unless --origin=URL is given.
// 3. For each runtime: copy tests/matrix/fixtures/<runtime>/ + smoke.mjs into <tmp>/<runtime>/,
//    `npm install <tarball>`, and run the same scenario (smoke.mjs) there:
//      node     node main.mjs <origin>
//      deno     deno run --allow-net=127.0.0.1 --allow-read=<the wasm> main.mjs <origin>
//               (package.json + node_modules resolution; see DENO_PERMS)
//      workerd  wrangler deploy --dry-run --outdir dist, then miniflare dispatchFetch
//      vite     vite build (root's vite binary, fixture as root), static server, headless Chromium
//      plain    import-map module page served statically, headless Chromium
//    vite-dev (opt-in, not in the default set): the same Vite fixture through the dev server.
// 4. Print `PASS <runtime>` / `FAIL <runtime>: <why>` per runtime and `N passed, M failed`; exit 1 on
//    any failure. Every child process is killed on exit; every runtime step has a timeout.
//
// Tools come from the repo root's devDependencies (deno, wrangler, miniflare, vite, playwright-core);
// Chromium is the system one (/usr/bin/chromium or $CHROMIUM_PATH); nothing is ever downloaded.

import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium } from "../chromium.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "../..");
const ALL = ["node", "deno", "workerd", "vite", "plain"];
const OPTIONAL = ["vite-dev"];

// ---------------------------------------------------------------------------------------------- args
const argv = process.argv.slice(2);
const opt = (name) => {
  const hit = argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (hit === undefined) return undefined;
  return hit.includes("=") ? hit.slice(hit.indexOf("=") + 1) : true;
};
if (opt("help") || opt("h")) {
  console.log(readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").slice(1, 20).join("\n"));
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
const NODE = process.execPath;
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const WRANGLER_JS = path.join(REPO, "node_modules/wrangler/bin/wrangler.js");
const VITE_JS = path.join(REPO, "node_modules/vite/bin/vite.js");

// Exactly the permissions the package needs in Deno (cwd = fixture dir): only network access to
// the loopback origin (127.0.0.1, and localhost: a second origin for the credentials check). The
// "deno" export condition maps to deno.js, which loads the wasm with a source-phase import
// (`import source ... from "./gen/ballast_fast_bg.wasm"`), so no --allow-read.
const DENO_PERMS = ["--allow-net=127.0.0.1,localhost"];

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

const RUNTIMES = {
  async node(ctx) {
    const dir = await prepFixture(ctx, "node");
    const res = await ctx.run(NODE, ["main.mjs", ORIGIN], { cwd: dir });
    if (res.timedOut) throw new StepError("node main.mjs timed out", tail(res.stdout + res.stderr));
    const result = lastJson(res.stdout);
    if (!result) mustSucceed(res, "node main.mjs");
    return judge(result, { exitCode: res.code, stderr: tail(res.stderr) || undefined });
  },

  async deno(ctx) {
    const dir = await prepFixture(ctx, "deno");
    const deno = findDeno();
    const env = {
      DENO_DIR: path.join(WORK, ".deno-cache"),
      DENO_NO_UPDATE_CHECK: "1",
      DENO_NO_PROMPT: "1",
      NO_COLOR: "1",
    };
    const version = (await ctx.run(deno, ["--version"], { env })).stdout.split("\n")[0];
    // --no-prompt: a missing permission fails loudly (NotCapable) instead of waiting on a TTY prompt.
    const res = await ctx.run(deno, ["run", "--no-prompt", ...DENO_PERMS, "main.mjs", ORIGIN], { cwd: dir, env });
    if (res.timedOut) throw new StepError("deno run timed out", tail(res.stdout + res.stderr));
    const result = lastJson(res.stdout);
    if (!result) mustSucceed(res, `deno run ${DENO_PERMS.join(" ")}`);
    return judge(result, { deno: version, permissions: DENO_PERMS, exitCode: res.code, stderr: tail(res.stderr) || undefined });
  },

  async workerd(ctx) {
    const dir = await prepFixture(ctx, "workerd");
    const wcfg = JSON.parse(await readFile(path.join(dir, "wrangler.json"), "utf8"));
    // Keep wrangler hermetic and offline: no metrics, no banner (the banner does an npm update check),
    // no interactive login prompts, config/logs inside the work dir.
    const env = {
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_HIDE_BANNER: "true",
      CI: "true",
      XDG_CONFIG_HOME: path.join(WORK, ".config"),
      WRANGLER_LOG_PATH: path.join(WORK, "wrangler-logs"),
      NO_COLOR: "1",
    };
    const build = mustSucceed(
      await ctx.run(NODE, [WRANGLER_JS, "deploy", "--dry-run", "--outdir", "dist"], { cwd: dir, env }),
      "wrangler deploy --dry-run"
    );
    const distDir = path.join(dir, "dist");
    const files = readdirSync(distDir);
    const entry = files.includes("worker.js") ? "worker.js" : files.find((f) => /\.m?js$/.test(f));
    if (!entry) throw new StepError(`wrangler produced no worker script (dist: ${files.join(", ")})`, build.stdout + build.stderr);
    const warnings = (build.stdout + "\n" + build.stderr).split("\n").filter((l) => /warn|▲|✘|error/i.test(l));

    const { Miniflare } = await import("miniflare");
    let runtimeOut = "";
    const mf = new Miniflare({
      modules: true,
      scriptPath: path.join(distDir, entry),
      // Module names are relative to modulesRoot (default: process.cwd(), which breaks for a tmp dir).
      modulesRoot: distDir,
      compatibilityDate: wcfg.compatibility_date || COMPAT_DATE_FALLBACK,
      compatibilityFlags: wcfg.compatibility_flags || [],
      modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
      bindings: { ORIGIN },
      host: "127.0.0.1",
      port: 0,
      handleRuntimeStdio(stdout, stderr) {
        stdout.on("data", (d) => (runtimeOut += d));
        stderr.on("data", (d) => (runtimeOut += d));
      },
    });
    ctx.cleanups.push(() => mf.dispose());
    let resp;
    try {
      await mf.ready;
      resp = await mf.dispatchFetch(`http://localhost/?origin=${encodeURIComponent(ORIGIN)}`);
    } catch (e) {
      throw new StepError(`miniflare: ${firstLine(e?.message || e)}`, `${e?.stack || e}\nworkerd output:\n${tail(runtimeOut, 40)}`);
    }
    const text = await resp.text();
    let result;
    try {
      result = JSON.parse(text);
    } catch {
      throw new StepError(`worker returned ${resp.status} non-JSON: ${firstLine(text)}`, text + "\n" + tail(runtimeOut, 40));
    }
    return judge(result, {
      status: resp.status,
      bundle: files,
      compatibilityDate: wcfg.compatibility_date,
      wranglerWarnings: warnings.length ? warnings : undefined,
      runtimeOutput: tail(runtimeOut, 20) || undefined,
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
