// What bench/compare.mjs measures, for its children: one request of the timeout floor (raw fetch +
// signal + timer) or of ballast (its defaults) from a checkout's `pkg`, against the loopback
// origin's `url`, or (`url` "memory") against an in-memory transport that answers at once, where
// the floor is that transport given a signal and a timer.

import path from "node:path";
import { pathToFileURL } from "node:url";
import { BALLAST } from "../scenarios.mjs";
import { fetchWithTimeout } from "./pairs.mjs";

/** A function that makes one request of `what` ("floor", or the path of a checkout) and reads it. */
export async function subjectCall(url, what) {
  const memory = url === "memory";
  // In memory: no socket, so what remains is ballast's own code and what it allocates.
  const transport = memory ? async () => new Response("x") : undefined;
  const target = memory ? "http://127.0.0.1:9/json" : url;
  const read = memory ? (r) => r.arrayBuffer() : (r) => r.json();
  if (what === "floor") return () => fetchWithTimeout(target, read, transport);
  const { createFetch } = await import(pathToFileURL(path.join(what, "pkg/node.js")).href);
  const f = createFetch({ ...BALLAST.overhead.config({}), ...(memory ? { transport } : {}) });
  return async () => read(await f(target));
}
