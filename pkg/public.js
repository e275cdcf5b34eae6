// Everything every runtime entry exports besides createFetch (which each entry binds to its own
// way of loading the wasm).
export { ConfigError, BallastError, StateError } from "./api.js";
export {
  toOpenMetrics,
  registerOpenTelemetry,
  attemptAttributes,
  HTTP_CLIENT_DURATION_BUCKETS,
  OPENMETRICS_CONTENT_TYPE,
} from "./export.js";
