// ballast-fetch/sim for browsers, bundlers and Deno: the tools module is fetched next to this file
// (`new URL(..., import.meta.url)`: a bundler emits it as an asset) and compiled at import.
import { bindSim } from "./sim-api.js";

export { ScenarioError } from "./sim-api.js";

async function compile(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`ballast-fetch/sim: could not load ${url}: HTTP ${res.status}`);
  if (typeof WebAssembly.compileStreaming === "function") {
    try {
      return await WebAssembly.compileStreaming(res.clone());
    } catch {
      // wrong MIME type (not application/wasm): fall back to bytes below
    }
  }
  return WebAssembly.compile(await res.arrayBuffer());
}

const sim = bindSim(await compile(new URL("./gen/tools/ballast_tools_bg.wasm", import.meta.url)));
export const { presets, simulate, rehearse, play, drawRaster, randomSeed } = sim;
