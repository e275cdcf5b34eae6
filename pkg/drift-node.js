// ballast-fetch/drift for Node and Bun (tools-node.js loads the module).
import { tools } from "./tools-node.js";

export { ScenarioError } from "./tools-api.js";
export const { fingerprint, effectiveConfig, diffConfig, lintConfig, lintRules, validateConfig } = tools.drift;
