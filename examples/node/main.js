// Calls URLs through ballast-fetch, logs its retries and give-ups, then prints its snapshot.
// Usage: node main.js [url ...]
import { BallastError, createFetch } from "ballast-fetch";

const urls = process.argv.slice(2);
if (urls.length === 0) urls.push("https://httpbin.org/get", "https://httpbin.org/status/503");

// One client for the whole process: its retry budget and metrics cover every call.
const api = createFetch({
  retry: { maxAttempts: 3, backoff: { baseMs: 200, capMs: 2000 } },
  timeout: { attemptMs: 5000, totalMs: 15000 },
});

api.on("retry", (e) => console.log(`  retry #${e.attempt - 1} of ${e.method} ${e.url} in ${Math.round(e.delayMs)} ms (${e.reason})`));
api.on("giveup", (e) => console.log(`  gave up on ${e.method} ${e.url} after ${e.attempts} attempts (${e.reason})`));

for (const url of urls) {
  try {
    const res = await api(url);
    await res.text();
    console.log(`${res.status} ${url}`);
  } catch (err) {
    if (err instanceof BallastError) {
      console.log(`failed ${url}: ${err.code} (${err.reason}) after ${err.attempts.length} attempts`);
    } else {
      console.log(`failed ${url}: ${err.name}: ${err.message}`); // TimeoutError: the 15 s deadline
    }
  }
}

console.log(JSON.stringify(api.snapshot(), null, 2));
