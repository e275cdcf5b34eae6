// Serves the demo page and the ballast package on 127.0.0.1, next to a fault-injecting origin.
//   node www/serve.mjs [--port 8080]
import http from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { startOrigin } from "../tests/origin/server.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const portArg = process.argv.indexOf("--port");
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 8080;
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
};
// Only these folders are served.
const ALLOWED = ["www/", "pkg/"];

const origin = await startOrigin();
const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, "http://127.0.0.1");
  if (url.pathname === "/config.json") {
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify({ origin: origin.url }));
  }
  const rel = url.pathname === "/" ? "www/index.html" : normalize(url.pathname.slice(1));
  if (!ALLOWED.some((p) => rel.startsWith(p))) {
    res.writeHead(404).end("not found");
    return;
  }
  try {
    const body = await readFile(join(root, rel));
    res.writeHead(200, { "content-type": TYPES[extname(rel)] ?? "application/octet-stream" });
    res.end(body);
  } catch {
    res.writeHead(404).end("not found");
  }
});
server.listen(port, "127.0.0.1", () => {
  // `--port 0` picks a free port; the line says which (tests/demo/run.mjs reads it).
  console.log(`ballast demo: http://127.0.0.1:${server.address().port}/  (fault origin ${origin.url})`);
});
const stop = async () => {
  server.close();
  await origin.close();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
