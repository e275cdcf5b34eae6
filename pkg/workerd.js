// Cloudflare Workers (workerd): wrangler bundles the .wasm import as a compiled WebAssembly.Module
// (Workers forbid compiling wasm from bytes at run time). Instantiated on the first createFetch().
import wasmModule from "./gen/ballast_bg.wasm";
import { bind } from "./api.js";

export { ConfigError, BallastError } from "./api.js";
export {
  toOpenMetrics,
  registerOpenTelemetry,
  attemptAttributes,
  HTTP_CLIENT_DURATION_BUCKETS,
  OPENMETRICS_CONTENT_TYPE,
} from "./export.js";
export const createFetch = bind(() => wasmModule);
