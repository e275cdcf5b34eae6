// Debian's Chromium for the browser tests (tests/matrix, tests/demo): the system binary
// (/usr/bin/chromium or $CHROMIUM_PATH), never a downloaded one, with the flags this machine's
// closed network needs (no background networking, no component updates, no sync).
import { existsSync } from "node:fs";

export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A headless Chromium driven by playwright-core. */
export async function launchChromium() {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (set CHROMIUM_PATH)`);
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 60_000 });
}
