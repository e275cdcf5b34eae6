// The tools module for Node and Bun: read from the package folder at import, once for both
// ballast-fetch/sim and ballast-fetch/drift.
import { readFileSync } from "node:fs";
import { bindTools } from "./tools-api.js";

export const tools = bindTools(new WebAssembly.Module(readFileSync(new URL("./gen/tools/ballast_tools_bg.wasm", import.meta.url))));
