// Compiled with `tsc --noEmit -p tests/types`: the declarations in pkg/index.d.ts must describe
// real usage, including the error classes and every event payload.
import {
  createFetch,
  ConfigError,
  BallastError,
  StateError,
  toOpenMetrics,
  type BallastFetch,
  type BallastState,
  type MergeResult,
  type Snapshot,
} from "../../pkg/index.js";

const f: BallastFetch = createFetch({
  retry: { maxAttempts: 3, backoff: { kind: "decorrelated", baseMs: 50, capMs: 2000 } },
  budget: { ratio: 0.1, minPerSec: 1, ttlMs: 10_000 },
  timeout: { attemptMs: 5000, totalMs: null },
  concurrency: { limit: "adaptive", queue: 100, queueTimeoutMs: 1000 },
  pressure: { warn: 0.5, critical: 0.8, hysteresis: 0.1 },
  routes: [
    { name: "primary", url: "https://api.example.com" },
    { name: "mirror", url: "https://mirror.example.com/v1", weight: 2, forwardCredentials: true },
    { name: "static", url: "https://static.example.com", fallback: true },
  ],
  routing: { switchBudget: { ratio: 0.2 }, ejection: { consecutiveFailures: 5, baseMs: 30_000 }, probes: 3 },
  hedge: { percentile: 95, maxExtraLoad: 0.05 },
  transport: (input, init) => fetch(input, init),
});

async function main(signal: AbortSignal): Promise<number> {
  const off = f.on("retry", (e) => console.log(e.attempt, e.delayMs.toFixed(0), e.reason));
  f.on("shed", (e) => console.log(e.reason, e.limit ?? "unlimited", e.waitedMs));
  f.on("pressure", (e) => console.log(e.state, e.previous, e.level, e.drivers.join(",")));
  f.on("attempt", (e) => console.log(e.outcome, e.status ?? "-", e.durationMs));
  f.on("giveup", (e) => console.log(e.reason, e.attempts));
  f.on("eject", (e) => console.log(e.route, e.reason, e.durationMs));
  f.on("restore", (e) => console.log(e.route, e.ejectedForMs));
  f.on("fallback", (e) => console.log(e.reason, e.route, e.from ?? "-"));
  f.on("fallback-default", (e) => console.log(e.isDefault, e.share));
  f.on("hedge", (e) => console.log(e.route, e.afterMs));
  f.on("internal-error", (e) => console.log(e.message, e.recovered ? "recovered" : "dead"));
  off();
  try {
    const res: Response = await f(new URL("https://example.com/"), { signal });
    return res.status;
  } catch (err) {
    if (err instanceof BallastError && err.code === "SHED") return -1;
    if (err instanceof ConfigError) console.log(err.path, err.allowed);
    throw err;
  }
}

const s: Snapshot = f.snapshot();
const level: number = s.pressure.level;
const limit: number | null = s.limit;
const routeStates: string[] = s.routes.map((r) => `${r.name}:${r.state}:${r.score}:${r.credentialsStripped}`);
const fallbackIsDefault: boolean = s.fallback.isDefault && s.fallback.activeForMs > 0;
void [routeStates, fallbackIsDefault, s.hedges.won, s.switches.denied];
const fingerprintNow: string = s.config.fingerprint;
const attemptMs: number | null = s.config.effective.timeout.attemptMs;
const hedgeOn: boolean = s.config.effective.hedge !== null;
// @ts-expect-error: the effective config is read-only
s.config.effective.retry.maxAttempts = 2;
void [fingerprintNow, attemptMs, hedgeOn];
const text: string = toOpenMetrics(f.snapshot()) + toOpenMetrics(s, { prefix: "api" });
void [main, level, limit, text];

createFetch({ redact: { query: false } });
createFetch({
  hooks: {
    beforeAttempt: async (request: Request, info) => {
      if (info.attempt < 2 || info.hedge) return;
      const headers = new Headers(request.headers);
      headers.set("authorization", `Bearer ${info.url.length}`);
      return new Request(request, { headers });
    },
  },
});
// @ts-expect-error: only the hooks ballast knows
createFetch({ hooks: { beforeRetry: () => {} } });
createFetch({
  retry: {
    shouldRetry: async ({ status, error, attempt, retry }) => (status === 409 ? attempt < 3 : error instanceof TypeError ? retry : undefined),
    delay: ({ delayMs, response }) => (response?.headers.has("x-slow-down") ? delayMs * 2 : undefined),
  },
});
// @ts-expect-error: shouldRetry answers true, false or undefined
createFetch({ retry: { shouldRetry: () => "yes" } });
// @ts-expect-error: delay answers milliseconds
createFetch({ retry: { delay: () => "1s" } });
const hookCode: import("../../pkg/index.js").BallastErrorCode = "HOOK";
const declined: import("../../pkg/index.js").GiveUpReason = "declined";
void [hookCode, declined];
// @ts-expect-error redact.query is a boolean
createFetch({ redact: { query: "keep" } });

// State snapshots: out as JSON, back in at creation or merged later; routes replaced in place.
const saved: string = JSON.stringify(f.exportState());
const restored: BallastState = JSON.parse(saved);
const g = createFetch({ routes: [{ name: "primary", url: "https://api.example.com" }], initialState: restored });
try {
  const merged: MergeResult = g.mergeState(f.exportState());
  const ignored: string[] = merged.ignoredRoutes;
  void [ignored, merged.isolates];
} catch (err) {
  if (err instanceof StateError) console.warn(err.path, err.value, err.allowed);
}
const st: BallastState = g.exportState();
const firstHealth: number | undefined = st.routes[0]?.health?.[1];
const slots: number = st.isolates.reduce((n, i) => n + i.routes.reduce((m, r) => m + r.slots.length, 0), 0);
void [firstHealth, slots, st.v === 1, st.fingerprint];
g.setRoutes([
  { name: "primary", url: "https://api.example.com" },
  { name: "mirror", url: "https://mirror.example.com", fallback: true },
]);
createFetch({ initialState: null });
// @ts-expect-error: a state is an object, not its JSON text
g.mergeState(saved);
// @ts-expect-error: routes need a name
g.setRoutes([{ url: "https://api.example.com" }]);
