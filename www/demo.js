import { createFetch } from "ballast-fetch";

const { origin } = await (await fetch("/config.json")).json();
const $ = (s) => document.querySelector(s);
const paths = {
  ok: (k) => `/ok?key=${k}`,
  flaky: (k) => `/flaky?key=${k}&p=0.1&seed=7`,
  outage: (k) => `/status/503?key=${k}`,
  throttle: (k) => `/status/429?ra=1&key=${k}`,
};

// A blind retry loop: what most code does today.
async function blindFetch(url) {
  let res;
  for (let attempt = 1; attempt <= 3; attempt++) {
    res = await fetch(url);
    if (![408, 429, 500, 502, 503, 504].includes(res.status)) return res;
    await res.body?.cancel();
    await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
  }
  return res;
}

const ballast = createFetch({
  retry: { maxAttempts: 3, backoff: { kind: "full", baseMs: 20, capMs: 200 }, maxRetryAfterMs: 1000 },
  // Defaults otherwise: the budget earns retries from calls that succeed (ratio 0.2).
  timeout: { totalMs: 5000 },
});
const events = $("#events");
const log = (type, e) => {
  const li = document.createElement("li");
  li.textContent = type === "retry"
    ? `retry  attempt ${e.attempt} in ${Math.round(e.delayMs)} ms (${e.reason})`
    : `giveup after ${e.attempts} attempt(s): ${e.reason}`;
  events.prepend(li);
  while (events.children.length > 200) events.lastChild.remove();
};
ballast.on("retry", (e) => log("retry", e));
ballast.on("giveup", (e) => log("giveup", e));

async function burst(client, mode, count, tag) {
  const key = `${tag}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const hits0 = Date.now();
  let ok = 0;
  const queue = Array.from({ length: count }, (_, i) => i);
  const worker = async () => {
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
      try {
        const res = await client(origin + paths[mode](key));
        if (res.ok) ok++;
        await res.body?.cancel();
      } catch { /* counted as failure */ }
    }
  };
  await Promise.all(Array.from({ length: 20 }, worker));
  const hits = (await (await fetch(`${origin}/hits?key=${key}`)).json()).hits;
  return { calls: count, succeeded: ok, "origin hits": hits, "hits per call": (hits / count).toFixed(2), ms: Date.now() - hits0 };
}

function show(card, r) {
  const dl = $(`${card} dl`);
  dl.replaceChildren();
  for (const [k, v] of Object.entries(r)) {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    if (k === "hits per call") dd.className = Number(v) > 1.5 ? "bad" : "good";
    dl.append(dt, dd);
  }
}

$("#run").addEventListener("click", async () => {
  const mode = $("#mode").value;
  const count = Math.max(1, Math.min(2000, Number($("#count").value) || 1));
  $("#run").disabled = true;
  try {
    const [a, b] = await Promise.all([burst(blindFetch, mode, count, "blind"), burst(ballast, mode, count, "ballast")]);
    show("#blind", a);
    show("#ballast", b);
    $("#snapshot").textContent = JSON.stringify(ballast.snapshot(), null, 2);
    document.body.dataset.done = String(Number(document.body.dataset.done ?? 0) + 1);
  } finally {
    $("#run").disabled = false;
  }
});
setInterval(() => { $("#snapshot").textContent = JSON.stringify(ballast.snapshot(), null, 2); }, 1000);
