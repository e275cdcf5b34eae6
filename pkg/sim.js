// ballast-fetch/sim for browsers, bundlers and Deno (tools.js loads the module).
import { tools } from "./tools.js";

export { ScenarioError } from "./tools-api.js";
export const { presets, simulate, rehearse, play, drawRaster, randomSeed } = tools.sim;
