// ballast-fetch/sim for Node and Bun (tools-node.js loads the module).
import { tools } from "./tools-node.js";

export { ScenarioError } from "./tools-api.js";
export const { presets, simulate, rehearse, play, drawRaster, randomSeed } = tools.sim;
