// The tools module for browsers, bundlers and Deno: fetched next to this file (`new URL(...,
// import.meta.url)`: a bundler emits it as an asset) and compiled at import, once for both
// ballast-fetch/sim and ballast-fetch/drift.
import { bindTools } from "./tools-api.js";

async function compile(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`ballast-fetch: could not load ${url}: HTTP ${res.status}`);
  if (typeof WebAssembly.compileStreaming === "function") {
    try {
      return await WebAssembly.compileStreaming(res.clone());
    } catch {
      // wrong MIME type (not application/wasm): fall back to bytes below
    }
  }
  return WebAssembly.compile(await res.arrayBuffer());
}

export const tools = bindTools(await compile(new URL("./gen/tools/ballast_tools_bg.wasm", import.meta.url)));
