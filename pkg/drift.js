// ballast-fetch/drift for browsers, bundlers and Deno (tools.js loads the module).
import { tools } from "./tools.js";

export { ScenarioError } from "./tools-api.js";
export const { fingerprint, effectiveConfig, diffConfig, lintConfig, lintRules, validateConfig } = tools.drift;
