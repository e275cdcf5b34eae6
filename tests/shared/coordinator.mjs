// The Worker that owns the budget namespaces of the shared-budget test: ballast's BallastBudget,
// and two that misbehave (for the coordinator outage): one that fails every lease, one that
// answers after 3 s.
import { BallastBudget } from "../../pkg/cloudflare.js";

export { BallastBudget };

export class BrokenBudget {
  async fetch() {
    throw new Error("the budget object is down");
  }
}

export class SlowBudget extends BallastBudget {
  async fetch(request) {
    await new Promise((r) => setTimeout(r, 3000));
    return super.fetch(request);
  }
}

export default {
  async fetch() {
    return new Response("the budget objects' worker");
  },
};
