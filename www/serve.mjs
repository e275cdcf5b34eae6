// Serves the built demo site (www/dist, from `vite build --config www/vite.config.js`) on 127.0.0.1.
// The site needs nothing else: its routes are an in-page fault injector, so there is no origin here.
//   node www/serve.mjs [--port 8080] [--dir www/dist]
// `--port 0` picks a free port; the first line printed says which (tests/demo/run.mjs reads it).
import http from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
};
const port = Number(arg("--port", process.env.PORT ?? 8080));
const root = resolve(arg("--dir", fileURLToPath(new URL("./dist", import.meta.url))));
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".map": "application/json",
};

try {
  await stat(join(root, "index.html"));
} catch {
  console.error(`www/serve.mjs: no index.html in ${root}; build first: node_modules/.bin/vite build --config www/vite.config.js`);
  process.exit(1);
}

const server = http.createServer(async (req, res) => {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" }).end();
    return;
  }
  let pathname;
  try {
    pathname = decodeURIComponent(new URL(req.url, "http://127.0.0.1").pathname);
  } catch {
    res.writeHead(400).end("bad request");
    return;
  }
  const file = join(root, normalize(pathname.endsWith("/") ? `${pathname}index.html` : pathname));
  if (file !== root && !file.startsWith(root + sep)) {
    res.writeHead(404).end("not found");
    return;
  }
  try {
    const body = await readFile(file);
    res.writeHead(200, {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      // Vite hashes asset names, so they never change; the page itself is always revalidated.
      "cache-control": file.includes(`${sep}assets${sep}`) ? "public, max-age=31536000, immutable" : "no-cache",
      "x-content-type-options": "nosniff",
    });
    res.end(req.method === "HEAD" ? undefined : body);
  } catch {
    res.writeHead(404, { "content-type": "text/plain" }).end("not found");
  }
});

server.listen(port, "127.0.0.1", () => {
  console.log(`ballast demo: http://127.0.0.1:${server.address().port}/`);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
