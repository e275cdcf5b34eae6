// Run under `node --cpu-prof` by bench/engine-wasm.mjs: ballast (defaults, as Node loads it: the
// fast build, the JS executor, real clock) over an in-memory transport, called back to back, so
// the profile shows where a call's time goes.
import { createFetch } from "../../pkg/node.js";

const n = Number(process.argv[2] || 100_000);
const f = createFetch({ transport: async () => new Response("x") });
for (let i = 0; i < 2000; i++) await f("http://127.0.0.1:9/items?id=42");
const t0 = performance.now();
for (let i = 0; i < n; i++) await f("http://127.0.0.1:9/items?id=42");
process.stdout.write(JSON.stringify({ nsPerCall: ((performance.now() - t0) * 1e6) / n }) + "\n");
