// One cold start, in a fresh Node process (spawned by bench/coldstart.mjs):
//   node coldstart-child.mjs <client> <url>     -> import, create, first call (ms)
//   node coldstart-child.mjs wasm               -> compile + instantiate the ballast wasm (ms)
// performance.now() counts from process start, so `boot` is Node's own start-up.

const [client, url] = process.argv.slice(2);
const t0 = performance.now();
const out = { client, boot: t0 };

if (client === "wasm") {
  const { readFileSync } = await import("node:fs");
  const gen = new URL("../../pkg/gen/", import.meta.url);
  const { instantiate } = await import(new URL("ballast.js", gen));
  const bytes = readFileSync(new URL("ballast_fast_bg.wasm", gen)); // the build Node loads
  const a = performance.now();
  const module = new WebAssembly.Module(bytes);
  const b = performance.now();
  instantiate(module);
  const c = performance.now();
  await WebAssembly.compile(bytes);
  const d = performance.now();
  Object.assign(out, { bytes: bytes.length, compileSync: b - a, instantiate: c - b, compileAsync: d - c });
} else {
  const CLIENTS = {
    fetch: async () => ({ call: async (u) => (await fetch(u)).json() }),
    ballast: async () => {
      const { createFetch } = await import("../../pkg/node.js");
      return { create: () => createFetch(), wrap: (f) => async (u) => (await f(u)).json() };
    },
    ky: async () => {
      const { default: ky } = await import("ky");
      return { call: (u) => ky(u).json() };
    },
    ofetch: async () => {
      const { ofetch } = await import("ofetch");
      return { call: (u) => ofetch(u) };
    },
    "p-retry": async () => {
      const { default: pRetry } = await import("p-retry");
      return { call: (u) => pRetry(async () => (await fetch(u)).json()) };
    },
    cockatiel: async () => {
      const { retry, handleAll, ExponentialBackoff } = await import("cockatiel");
      return {
        create: () => retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
        wrap: (p) => (u) => p.execute(async () => (await fetch(u)).json()),
      };
    },
  };
  const mod = await CLIENTS[client]();
  const t1 = performance.now();
  const call = mod.create ? mod.wrap(mod.create()) : mod.call;
  const t2 = performance.now();
  await call(url);
  const t3 = performance.now();
  Object.assign(out, { import: t1 - t0, create: t2 - t1, firstCall: t3 - t2, total: t3 - t0 });
}
process.stdout.write(JSON.stringify(out) + "\n");
