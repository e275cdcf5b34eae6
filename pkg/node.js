// Node >= 20 and Deno: the wasm is read from the package folder on the first createFetch().
import { readFileSync } from "node:fs";
import { bind } from "./api.js";

export { ConfigError, BallastError } from "./api.js";
export {
  toOpenMetrics,
  registerOpenTelemetry,
  attemptAttributes,
  HTTP_CLIENT_DURATION_BUCKETS,
  OPENMETRICS_CONTENT_TYPE,
} from "./export.js";
export const createFetch = bind(() => readFileSync(new URL("./gen/ballast_bg.wasm", import.meta.url)));
