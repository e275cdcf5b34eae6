// The shared retry budget's declarations, as a user writes them (docs/shared-budget.md).
import { createFetch, type CoordinatorEvent, type LeaseRequest } from "../../pkg/index.js";
import { sharedFetch, BallastBudget, durableObjectCoordinator } from "../../pkg/cloudflare.js";
import { kvCoordinator } from "../../pkg/deno-kv.js";

const api = sharedFetch({ budget: { minPerSec: 1 } }, { group: "api.example.com" });
export { BallastBudget };
export default {
  async fetch(_req: Request, env: Record<string, unknown>, ctx: { waitUntil(p: Promise<unknown>): void }) {
    const f = api.use(env, ctx);
    const res: Response = await f("https://api.example.com/x");
    const mode: "local" | "shared" | "degraded" = f.snapshot().budget.mode;
    const leased: number = f.snapshot().budget.leased;
    return new Response(`${res.status} ${mode} ${leased}`);
  },
};

const g = createFetch({
  coordinator: { lease: async (r: LeaseRequest) => ({ granted: r.want, ttlMs: 10_000 }) },
});
g.on("coordinator", (e: CoordinatorEvent) => {
  const s: "shared" | "degraded" = e.state;
  void s;
});
declare const kv: unknown;
createFetch({ coordinator: kvCoordinator(kv, { group: "api" }) });
declare const ns: Parameters<typeof durableObjectCoordinator>[0];
createFetch({ coordinator: durableObjectCoordinator(ns, "api") });

// Route state carried by the coordinator (docs/state.md).
import { joinStates, stateKvKey } from "../../pkg/cloudflare.js";
import { shareState, joinStates as joinOnDeno } from "../../pkg/deno-kv.js";
import type { BallastState } from "../../pkg/index.js";

const withKv = sharedFetch({}, { group: "api", pushEveryMs: 30_000, stateKv: "BALLAST_STATE" });
sharedFetch({}, { group: "api", state: false });
void withKv;
declare const s1: BallastState;
const joined: BallastState = joinStates(s1, s1);
const key: string = stateKvKey("api", joined.fingerprint);
void key;
const kvc = kvCoordinator(kv, { group: "api" });
const h = shareState(createFetch({ coordinator: kvc }), kvc, { pushEveryMs: 5_000 });
h.snapshot();
void kvc.pullState("0123456789ab");
void joinOnDeno(s1, s1).then((s: BallastState) => s.isolates.length);
