// The tools module for Deno 2: imported as a module source (`import source`, as deno.js imports
// the fetch path's), so no --allow-read is needed; once for both ballast-fetch/sim and
// ballast-fetch/drift.
import source toolsModule from "./gen/tools/ballast_tools_bg.wasm";
import { bindTools } from "./tools-api.js";

export const tools = bindTools(toolsModule);
