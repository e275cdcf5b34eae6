// ballast-fetch/drift for Deno (tools-deno.js loads the module).
import { tools } from "./tools-deno.js";

export { ScenarioError } from "./tools-api.js";
export const { fingerprint, effectiveConfig, diffConfig, lintConfig, lintRules, validateConfig } = tools.drift;
