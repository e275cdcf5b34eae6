// The config's JSON Schema (pkg/config.schema.json, derived from the engine's schema table) and
// the TypeScript declarations (pkg/index.d.ts, written by hand) describe the same config: the same
// fields at the same paths, the same fields optional, null allowed in the same places, the same
// names for the enumerations. The schema validates config files in editors; the package exports
// it as ballast-fetch/config.schema.json.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const ts = require("typescript");
const PKG = new URL("../../pkg/", import.meta.url);
const schema = JSON.parse(readFileSync(new URL("config.schema.json", PKG), "utf8"));

/** path -> { nullable, names } from the schema (object properties recursed, arrays of objects as `x[]`). */
function schemaLeaves(node, prefix, out) {
  for (const [key, s] of Object.entries(node.properties ?? {})) {
    if (key === "$schema") continue;
    const path = prefix ? `${prefix}.${key}` : key;
    const types = [].concat(s.type ?? []);
    const nullable = types.includes("null") || (s.anyOf ?? []).some((x) => x.type === "null");
    if (s.properties) {
      out.set(path, { nullable, object: true });
      schemaLeaves(s, path, out);
    } else if (s.items?.properties) {
      out.set(path, { nullable, object: true });
      schemaLeaves(s.items, `${path}[]`, out);
    } else {
      const names = s.enum ?? (s.anyOf ?? []).filter((x) => "const" in x).map((x) => x.const);
      out.set(path, { nullable, names: names.length ? [...names].sort() : undefined });
    }
  }
  return out;
}

/** The same from the declarations: BallastConfig's properties through the type checker. */
function declaredLeaves() {
  const file = fileURLToPath(new URL("index.d.ts", PKG));
  const program = ts.createProgram([file], { strict: true, noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const sym = checker.getSymbolAtLocation(source).exports.get("BallastConfig");
  const out = new Map();
  const walk = (type, prefix) => {
    for (const prop of checker.getPropertiesOfType(type)) {
      const name = prop.getName();
      // Code and state, not configuration: not in a file.
      const notConfig = ["transport", "hooks", "coordinator", "initialState"];
      if (!prefix && notConfig.includes(name)) continue;
      const path = prefix ? `${prefix}.${name}` : name;
      const t = checker.getTypeOfSymbol(prop);
      const parts = t.isUnion() ? t.types : [t];
      const nullable = parts.some((p) => p.flags & ts.TypeFlags.Null);
      const rest = parts.filter((p) => !(p.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined)));
      if (rest.length > 0 && rest.every((p) => p.getCallSignatures().length > 0)) continue; // a hook: code
      const objects = rest.filter((p) => p.flags & ts.TypeFlags.Object && !checker.isArrayType(p) && checker.getPropertiesOfType(p).length > 0);
      const arrays = rest.filter((p) => checker.isArrayType(p));
      if (objects.length === rest.length && objects.length === 1) {
        out.set(path, { nullable, object: true });
        walk(objects[0], path);
        continue;
      }
      const element = arrays.length === 1 ? checker.getTypeArguments(arrays[0])[0] : undefined;
      if (element && element.flags & ts.TypeFlags.Object && checker.getPropertiesOfType(element).length > 0) {
        out.set(path, { nullable, object: true });
        walk(element, `${path}[]`);
        continue;
      }
      const literals = rest.filter((p) => p.isStringLiteral()).map((p) => p.value);
      out.set(path, { nullable, names: literals.length ? literals.sort() : undefined });
    }
  };
  walk(checker.getDeclaredTypeOfSymbol(sym), "");
  return out;
}

test("index.d.ts and config.schema.json describe the same fields, nullability and names", () => {
  const fromSchema = schemaLeaves(schema, "", new Map());
  const fromTypes = declaredLeaves();
  assert.ok(fromSchema.size > 40, `${fromSchema.size} paths in the schema`);
  assert.deepEqual([...fromTypes.keys()].sort(), [...fromSchema.keys()].sort(), "the same paths");
  for (const [path, s] of fromSchema) {
    assert.deepEqual(fromTypes.get(path), s, path);
  }
});

test("the schema's required fields are the declarations' non-optional ones", () => {
  assert.deepEqual(schema.properties.routes.items.required, ["name", "url"]);
  const file = readFileSync(new URL("index.d.ts", PKG), "utf8");
  const route = file.slice(file.indexOf("export interface RouteConfig"));
  const block = route.slice(0, route.indexOf("\n}"));
  const required = [...block.matchAll(/^ {2}(\w+): /gm)].map((m) => m[1]);
  assert.deepEqual(required, ["name", "url"]);
});

test("the package exports the schema", () => {
  const pkg = JSON.parse(readFileSync(new URL("package.json", PKG), "utf8"));
  assert.equal(pkg.exports["./config.schema.json"], "./config.schema.json");
  assert.ok(pkg.files.includes("config.schema.json"));
  assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
});

test("the schema accepts what createFetch accepts and refuses what it refuses (Ajv, JSON Schema 2020-12)", async () => {
  const Ajv2020 = require("ajv/dist/2020").default;
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  const validate = ajv.compile(schema);
  const { createFetch, ConfigError } = await import("../../pkg/node.js");
  const accepts = (config) => {
    try {
      createFetch(config);
      return true;
    } catch (e) {
      if (e instanceof ConfigError) return false;
      throw e;
    }
  };
  const valid = JSON.parse(readFileSync(new URL("../fixtures/fingerprints.json", import.meta.url), "utf8")).map((r) => r.config);
  valid.push({ $schema: "../node_modules/ballast-fetch/config.schema.json", retry: { maxAttempts: 1 } });
  valid.push({ seed: null }, { hedge: null }, { hedge: { percentile: 95, afterMs: null } }, { timeout: { attemptMs: null, totalMs: null } });
  for (const config of valid) {
    assert.equal(validate(config), true, `${JSON.stringify(config)}: ${ajv.errorsText(validate.errors)}`);
    assert.equal(accepts(config), true, JSON.stringify(config));
  }
  const invalid = [
    { retyr: {} },
    { retry: { maxAttempts: 0 } },
    { retry: { maxAttempts: 2.5 } },
    { retry: { statuses: [42] } },
    { retry: { backoff: { kind: "linear" } } },
    { budget: { ratio: -1 } },
    { budget: "lots" },
    { timeout: { attemptMs: "1s" } },
    { concurrency: { limit: 0 } },
    { concurrency: { limit: "auto" } },
    { seed: 1.5 },
    { redact: { query: "no" } },
    { routes: [{ name: "a" }] },
    { routes: [{ name: "a", url: "https://a.example", wieght: 2 }] },
    { hedge: { afterMs: 0 } },
  ];
  for (const config of invalid) {
    assert.equal(validate(config), false, `the schema accepts ${JSON.stringify(config)}`);
    assert.equal(accepts(config), false, `createFetch accepts ${JSON.stringify(config)}`);
  }
});
