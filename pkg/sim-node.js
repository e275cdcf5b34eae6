// ballast-fetch/sim for Node and Bun: the tools module is read from the package folder at import.
import { readFileSync } from "node:fs";
import { bindSim } from "./sim-api.js";

export { ScenarioError } from "./sim-api.js";

const sim = bindSim(new WebAssembly.Module(readFileSync(new URL("./gen/tools/ballast_tools_bg.wasm", import.meta.url))));
export const { presets, simulate, rehearse, play, drawRaster, randomSeed } = sim;
