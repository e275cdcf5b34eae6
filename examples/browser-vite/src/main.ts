import { BallastError, createFetch } from "ballast-fetch";

// One client for the page: its retry budget and metrics span every call it makes.
const api = createFetch({
  retry: { maxAttempts: 3 },
  timeout: { attemptMs: 5000, totalMs: 8000 },
});

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const url = $<HTMLInputElement>("url");
url.value = import.meta.env.VITE_API_URL ?? "https://httpbin.org/get";

let controller: AbortController | undefined;

async function load(): Promise<void> {
  controller?.abort(); // a new call replaces the one still running
  const { signal } = (controller = new AbortController());
  $("status").textContent = "loading…";
  $("body").textContent = "";
  try {
    const res = await api(url.value, { signal });
    const text = await res.text();
    $("status").textContent = `${res.status} ${res.statusText}`;
    $("body").textContent = text;
  } catch (err) {
    if (signal !== controller?.signal) return; // replaced: the newer call reports
    $("status").textContent = describe(err);
  }
  const s = api.snapshot();
  $("stats").textContent =
    `calls ${s.tasks} · attempts ${s.attempts} · retries ${s.retries} · p95 ${Math.round(s.latency.p95)} ms · ` +
    `retry budget ${s.budget.balance} · pressure ${s.pressure.state}`;
}

function describe(err: unknown): string {
  if (err instanceof DOMException && err.name === "AbortError") return "cancelled";
  if (err instanceof DOMException && err.name === "TimeoutError") return "timed out (8 s deadline)";
  if (err instanceof BallastError) return `failed: ${err.code} (${err.reason}) after ${err.attempts.length} attempts`;
  return `failed: ${String(err)}`;
}

$("form").addEventListener("submit", (event) => {
  event.preventDefault();
  void load();
});
$("cancel").addEventListener("click", () => controller?.abort());
void load();
