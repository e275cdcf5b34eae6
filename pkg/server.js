// What the server entries (node.js, deno.js, workerd.js) add to the shared API (pkg/api.js's
// `bind`): the state's reader and the executor that leases and carries state. Browser bundles,
// whose build has neither, never import it.

export { readState, stateErrorAt } from "./state.js";
export { ServerExecutor as Executor } from "./server-executor.js";
