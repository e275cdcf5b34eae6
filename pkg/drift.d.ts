/**
 * `ballast-fetch/drift`: configuration drift tools, so staging and production behave alike.
 *
 * Configs are read exactly as `createFetch` reads them (a bad field is a `ScenarioError` with
 * `input: "config"` and its `path`). Shares the tools wasm module with `ballast-fetch/sim`.
 *
 * @packageDocumentation
 */

import type { BallastConfig } from "./index.js";
export { ScenarioError } from "./sim.js";

/**
 * A short, stable hash of the config as it behaves (12 hex digits): defaults written out or left
 * out, key order, `1` or `1.0`, statuses in any order give the same fingerprint. A client running
 * the config reports the same value in `snapshot().config.fingerprint`.
 */
export function fingerprint(config: BallastConfig): string;

/** The config as it behaves: every field with defaults filled in (`[path, value as JSON text]`). */
export function effectiveConfig(config: BallastConfig): { fingerprint: string; fields: [string, string][] };

export interface ConfigDifference {
  /** The field (`timeout.attemptMs`, `routes[1].url`). */
  path: string;
  /** Each config's value as JSON text (`null` when one config lacks the field). */
  a: string;
  b: string;
  /** What the difference does: "attempt timeout 2 s vs 10 s: staging waits 5x longer ...". */
  consequence: string;
}

/** Every field that differs between two configs; `names` label them in the consequences. */
export function diffConfig(a: BallastConfig, b: BallastConfig, options?: { names?: [string, string] }): ConfigDifference[];

/** A problem that makes createFetch refuse a config (`ConfigError` carries the first). */
export interface ConfigProblem {
  /** The field (`retry.maxAttempts`, `routes[0].url`). */
  path: string;
  /** The value as given, as the message shows it. */
  value: string;
  /** What is allowed there. */
  allowed: string;
}

/**
 * Every problem of a config, in order (`[]` when `createFetch` accepts it): unknown keys, then
 * each field's type and range in the schema's order, then the rules between fields.
 * `createFetch` throws a `ConfigError` for the first.
 */
export function validateConfig(config: BallastConfig | Record<string, unknown>): ConfigProblem[];

export type Severity = "error" | "warning" | "info";

export interface Finding {
  /** A stable rule id (`BF001` ...): never reused for another meaning. */
  rule: string;
  severity: Severity;
  /** The config field it is about. */
  path: string;
  message: string;
  /** What to do instead. */
  fix: string;
  /** The rule's section in the docs. */
  help: string;
}

/**
 * Findings for a config that passes validation yet behaves badly under pressure, most severe
 * first. `target: "cloudflare"` adds the Workers platform's limits.
 */
export function lintConfig(config: BallastConfig, options?: { target?: "any" | "cloudflare" }): Finding[];

/** Every rule: id, default severity, title and docs link. */
export const lintRules: readonly { id: string; severity: Severity; title: string; help: string }[];
