// What every ballast-fetch command reads: config and scenario files (JSON, or for configs an ES
// module exporting the config) and numeric flags, each failure an InputError naming the file or
// flag and what was wrong (the commands exit 2 on it).
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

export class InputError extends Error {}

export function readJson(file, what) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new InputError(`${file}: cannot read the ${what}: ${e.code === "ENOENT" ? "no such file" : e.message}`);
  }
  try {
    return { value: JSON.parse(text), text };
  } catch (e) {
    throw new InputError(`${file}: the ${what} is not valid JSON: ${e.message}`);
  }
}

/**
 * A config file: `.json`, or an ES module (`.mjs`, `.js`) whose default export (or export named
 * `config`) is the config object, as an app that keeps its config in code has it. `text` is the
 * file's text (for locating fields), `value` the config.
 */
export async function readConfig(file) {
  if (!/\.(mjs|js)$/.test(file)) return readJson(file, "config");
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new InputError(`${file}: cannot read the config: ${e.code === "ENOENT" ? "no such file" : e.message}`);
  }
  let mod;
  try {
    mod = await import(pathToFileURL(path.resolve(file)).href);
  } catch (e) {
    throw new InputError(`${file}: the config module failed to load: ${e.message}`);
  }
  const value = mod.default ?? mod.config;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InputError(`${file}: the module must export the config object as its default export (or as \`config\`); got ${value === undefined ? "no such export" : Array.isArray(value) ? "an array" : typeof value}`);
  }
  return { value, text };
}

export function number(name, value, { min = -Infinity, max = Infinity, integer = false } = {}) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new InputError(`--${name} ${JSON.stringify(value)}: expected ${integer ? "an integer" : "a number"} in [${min}, ${max}]`);
  }
  return n;
}

export function oneOf(name, value, allowed, fallback) {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) throw new InputError(`--${name} ${JSON.stringify(value)}: expected ${allowed.join(" or ")}`);
  return value;
}

/** Runs `fn`; a ScenarioError about a config becomes an InputError naming `file`. */
export function inFile(file, ScenarioError, fn) {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ScenarioError) throw new InputError(`${file}: ${e.message}`);
    throw e;
  }
}
