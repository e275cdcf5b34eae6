// One palette for every view (Okabe-Ito, readable by most colour-blind readers).
export const COLORS = {
  naive: "#d55e00", // vermillion
  ballast: "#0072b2", // blue
  offered: "#555555",
  primary: "#0072b2",
  fallback: "#009e73",
  warn: "#e69f00",
  critical: "#d55e00",
  queue: "#cc79a7",
  budget: "#56b4e9",
  outageBand: "rgba(213, 94, 0, 0.10)",
};

/** Colours of one route by its position: the primary, then fallbacks. */
export const ROUTE_COLORS = ["#0072b2", "#009e73", "#cc79a7", "#e69f00"];

export const ROUTE_STATE_COLORS = { healthy: null, probing: "#e69f00", ejected: "#d55e00" };
export const PRESSURE_STATE_COLORS = { ok: null, warn: "#e69f00", critical: "#d55e00" };

/** Raster ticks by attempt outcome ("ok" also by route: served by the fallback in green). */
export const OUTCOME_COLORS = {
  ok: "#0072b2",
  "ok-fallback": "#009e73",
  status: "#e69f00",
  network: "#d55e00",
  timeout: "#cc79a7",
  aborted: "#999999",
  shed: "#000000",
  running: "#bbbbbb",
};

export const OUTCOME_LABELS = {
  ok: "answered 2xx (primary)",
  "ok-fallback": "answered 2xx (fallback)",
  status: "5xx / 429 status",
  network: "network error",
  timeout: "attempt timed out",
  aborted: "cancelled",
  shed: "shed (never sent)",
  running: "in flight",
};

/** Fallback reasons, eject / restore and the other timeline lanes. */
export const LANE_COLORS = {
  "primary-ejected": "#009e73",
  "all-primaries-failed": "#56b4e9",
  "budget-exhausted": "#0072b2",
  deadline: "#cc79a7",
  eject: "#d55e00",
  restore: "#009e73",
  "fallback-default": "#e69f00",
  pressure: "#cc79a7",
  outage: "#d55e00",
  config: "#555555",
};

/** The simulator's raster (ballast-fetch/sim drawRaster draws with these, in Rust). */
export const SIM_RASTER_COLORS = {
  ok: "rgb(0, 114, 178)",
  status: "rgb(230, 159, 0)",
  network: "rgb(213, 94, 0)",
  timeout: "rgb(204, 121, 167)",
  aborted: "rgb(150, 150, 150)",
  running: "rgb(86, 180, 233)",
  life: "rgb(200, 200, 200)",
};

export const SIM_RASTER_LABELS = {
  ok: "answered 2xx",
  status: "5xx / 429 status",
  network: "network error",
  timeout: "attempt timed out",
  aborted: "cancelled",
  running: "still in flight at the end",
  life: "waiting: queued, backing off (a shed call is a dot)",
};
