// Vite config of the demo site: root www/, output www/dist/ (`npm run demo` builds and serves it;
// tests/demo/run.mjs builds it into a temporary folder). `ballast-fetch` is the package in ../pkg,
// its browser entry, and `ballast-fetch/sim` its simulator (imported only when Simulation mode
// opens, so it is a chunk of its own); the wasm each loads is emitted as a hashed asset. No CDN:
// uPlot comes from node_modules.
import { defineConfig } from "vite";
import { fileURLToPath } from "node:url";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here("."),
  base: "./",
  logLevel: "warn",
  resolve: {
    // Exact matches: a plain "ballast-fetch" key would also catch "ballast-fetch/sim".
    alias: [
      { find: /^ballast-fetch\/sim$/, replacement: here("../pkg/sim.js") },
      { find: /^ballast-fetch$/, replacement: here("../pkg/browser.js") },
    ],
  },
  build: { outDir: here("dist"), emptyOutDir: true, reportCompressedSize: false },
  server: { host: "127.0.0.1", fs: { allow: [here("..")] } },
  preview: { host: "127.0.0.1" },
});
