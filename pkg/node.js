// Node >= 20: the wasm built for speed (Cargo.toml: profile wasm-fast) is read from the package
// folder on the first createFetch().
import { readFileSync } from "node:fs";
import { bind } from "./api.js";
import * as server from "./server.js";

export * from "./public.js";
export const createFetch = bind(() => readFileSync(new URL("./gen/ballast_fast_bg.wasm", import.meta.url)), { server });
