// ballast-fetch/sim for Deno (tools-deno.js loads the module).
import { tools } from "./tools-deno.js";

export { ScenarioError } from "./tools-api.js";
export const { presets, simulate, rehearse, play, drawRaster, randomSeed } = tools.sim;
