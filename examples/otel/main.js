// Feeds ballast-fetch's metrics to OpenTelemetry, makes a few calls, and prints what the SDK exports.
// Usage: node main.js [url]
import { metrics } from "@opentelemetry/api";
import { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { createFetch, registerOpenTelemetry } from "ballast-fetch";

const url = process.argv[2] ?? "https://httpbin.org/get";

// The SDK set-up your app already has; swap the console exporter for OTLP or Prometheus.
const provider = new MeterProvider({
  readers: [new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter() })],
});
metrics.setGlobalMeterProvider(provider);

const api = createFetch({ retry: { maxAttempts: 3 } });
// http.client.request.duration (one sample per attempt) and ballast.* (retries, budget, pressure, ...)
registerOpenTelemetry(api, metrics.getMeter("my-app"));

for (let i = 0; i < 3; i++) {
  const res = await api(url);
  console.log(`${res.status} ${url}`);
  await res.text();
}

// Export now rather than at the reader's next 60 s tick, then stop.
await provider.shutdown();
