#!/usr/bin/env node
// Turns wasm-bindgen's generated glue (`--target web`: one module-level instance) into a factory,
//   export function instantiate(module) -> { Client, eventKinds, lastPanic, ..., exports }
// so that the package can start a fresh wasm instance when one has faulted: the clients still on
// the old instance keep it, new clients get the new one (pkg/host.js says why).
//
//   node scripts/glue-factory.mjs pkg/gen/ballast.js
//
// The glue's shape is checked, not assumed: an export form this does not handle, or code that
// needs the module itself (`import.meta`), fails the build, so a wasm-bindgen upgrade that changes
// the glue is noticed here rather than at run time.
import { readFileSync, writeFileSync } from "node:fs";

const file = process.argv[2];
if (!file) {
  console.error("usage: node scripts/glue-factory.mjs <glue.js>");
  process.exit(2);
}
const src = readFileSync(file, "utf8");
if (src.includes("export function instantiate(")) {
  console.error(`${file}: already a factory`);
  process.exit(2);
}
const lines = src.split("\n");

// Top-level chunks: a chunk starts at a line with no indentation that does not close a block.
const imports = [];
const chunks = [];
for (const line of lines) {
  if (line.startsWith("import ")) {
    imports.push(line);
    continue;
  }
  const starts = line !== "" && !/^[\s})\]]/.test(line) && !line.startsWith("//") && !line.startsWith("/*") && !line.startsWith(" *");
  if (starts || chunks.length === 0) chunks.push([line]);
  else chunks[chunks.length - 1].push(line);
}

// Doc comments belong to the chunk after them: a chunk that is only a comment joins the next.
const merged = [];
let pending = [];
for (const c of chunks) {
  const code = c.filter((l) => l.trim() !== "" && !/^\s*(\/\*\*|\*|\*\/|\/\/)/.test(l));
  if (code.length === 0) {
    pending.push(...c);
    continue;
  }
  merged.push([...pending, ...c]);
  pending = [];
}

// The async loader (for `fetch`ing the .wasm) is never used: the entries pass a compiled module.
const DROP = [/^async function __wbg_load\(/, /^let __wbg_init_promise;/, /^async function __wbg_init(_once)?\(/, /^export \{ initSync, __wbg_init as default \};/];
const exported = [];
const body = [];
for (const c of merged) {
  const head = c.find((l) => l.trim() !== "" && !/^\s*(\/\*\*|\*|\*\/|\/\/)/.test(l));
  if (DROP.some((re) => re.test(head))) continue;
  if (/^export (?!(class|function) )/.test(head) || c.some((l) => l.includes("import.meta"))) {
    console.error(`${file}: unexpected top-level code in wasm-bindgen's glue: ${head}`);
    process.exit(1);
  }
  const m = /^export (class|function) ([A-Za-z_$][\w$]*)/.exec(head);
  if (m) exported.push(m[2]);
  body.push(...c.map((l) => (l === head ? l.replace(/^export /, "") : l)));
}
for (const name of ["initSync"]) {
  if (!body.some((l) => l.startsWith(`function ${name}(`))) {
    console.error(`${file}: wasm-bindgen's glue has no ${name}()`);
    process.exit(1);
  }
}

const out = [
  "// Generated from wasm-bindgen's glue by scripts/glue-factory.mjs: one wasm instance per call.",
  ...imports,
  "",
  "/** A fresh instance of the compiled `module`, with its bindings and its raw exports. */",
  "export function instantiate(module) {",
  ...body.map((l) => (l === "" ? l : `  ${l}`)),
  "  const exports = initSync({ module });",
  `  return { ${[...exported, "exports"].join(", ")} };`,
  "}",
  "",
];
writeFileSync(file, out.join("\n"));
console.log(`${file}: factory instantiate(module) -> { ${exported.join(", ")}, exports }`);
