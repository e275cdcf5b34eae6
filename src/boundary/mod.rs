//! The one boundary between the engine and its JS executor, declared here and decoded in one JS
//! module (`pkg/boundary.js`).
//!
//! Why declared on this side only: a code that crosses (an action kind, an abort reason, an error
//! code, a field of an event or of the snapshot) that is written down on both sides drifts apart
//! silently when one side is reordered. So every name is listed here, JS reads the lists once
//! (`describe`), looks up what it needs by name, and fails at start-up if a name it needs is
//! missing; `tests/js/boundary.test.mjs` checks that the two sides agree.
//!
//! Two encodings, both plain numbers (no serde on the fetch path):
//! - **Steps** (the hot path): after each input, a header and fixed-width actions
//!   (`STEP_HEADER`, `ACTION_FIELDS`).
//! - **Values** (events, the snapshot, a failed call's detail, a routed attempt's URL): a tape of
//!   tagged values (`Tape`); records name their schema (`SCHEMAS`), whose fields follow in order.
//!   The config crosses the other way on the same tape, as plain data (`read_value`): objects
//!   with their keys, and anything JSON has no word for as its description.

use crate::core::action::{AbortReason, Action, ErrorCode, Failed, Failure, Settlement};
use crate::core::call::AttemptRecord;
use crate::core::config::canonical::Sink;
use crate::core::counts::Counts;
use crate::core::events::{Event, RetryCause, KINDS};
use crate::core::metrics::{Quantiles, Snapshot};
use crate::core::policy::GiveUpReason;
use crate::core::pressure::PressureSnapshot;
use crate::core::routing::RouteSnapshot;
use crate::core::tasks::TaskId;
use crate::core::value::Value;
use crate::prelude::*;

mod step;
mod tape;
mod value;

pub use step::StepOut;
pub use tape::Tape;
pub use value::read_value;

/// A step's header: the call's id (`begin`, else -1), the instant the engine next wants to be
/// woken (-1: none), what else is pending (`PENDING_*` bits), and how many actions follow.
pub const STEP_HEADER: [&str; 4] = ["task", "timeout", "pending", "actions"];
/// Events wait (`events()`).
pub const PENDING_EVENTS: u32 = 1;
/// Values some actions refer to wait (`detail()`).
pub const PENDING_DETAIL: u32 = 2;
/// Shared mode: a lease request waits to be sent (`lease()`).
pub const PENDING_LEASE: u32 = 4;

/// Each action's fields, fixed width. `arg`s by kind: start: route index (-1: not routed), flags
/// (`START_FLAGS`), the URL's index in `detail()` (-1: the caller's input as is); abort: the
/// reason's index in `ABORT_REASONS`; settle-failed: the failure's index in `detail()`; consult:
/// the engine's verdict (1: retry), the wait it would retry after.
pub const ACTION_FIELDS: [&str; 6] = ["kind", "task", "attempt", "arg0", "arg1", "arg2"];
pub const ACTIONS: [&str; 7] = [
    "start",
    "abort",
    "settle-response",
    "settle-aborted",
    "settle-deadline",
    "settle-failed",
    "consult",
];
/// Bits of a start's `arg1`.
pub const START_FLAGS: [&str; 2] = ["strip-credentials", "hedge"];

/// Value tags of the tape.
pub const TAGS: [&str; 11] = [
    "number", "string", "true", "false", "null", "absent", "record", "list", "counts", "object",
    "other",
];
pub(crate) const NUMBER: f64 = 0.0;
pub(crate) const STRING: f64 = 1.0;
pub(crate) const TRUE: f64 = 2.0;
pub(crate) const FALSE: f64 = 3.0;
pub(crate) const NULL: f64 = 4.0;
pub(crate) const ABSENT: f64 = 5.0;
pub(crate) const RECORD: f64 = 6.0;
pub(crate) const LIST: f64 = 7.0;
pub(crate) const COUNTS: f64 = 8.0;
pub(crate) const OBJECT: f64 = 9.0;
pub(crate) const OTHER: f64 = 10.0;

/// Every record's fields, in order (the JS objects' key order). Event records are named after
/// their event kind.
pub const SCHEMAS: &[(&str, &[&str])] = &[
    (
        "snapshot",
        &[
            "tasks",
            "activeTasks",
            "inFlight",
            "queued",
            "limit",
            "attempts",
            "retries",
            "retryDensity",
            "windowMs",
            "giveups",
            "shed",
            "budget",
            "latency",
            "attemptLatency",
            "queueWait",
            "pressure",
            "routes",
            "fallback",
            "switches",
            "hedges",
        ],
    ),
    ("shed-snapshot", &["total", "byReason"]),
    (
        "budget",
        &["balance", "exhausted", "reserve", "mode", "leased"],
    ),
    ("quantiles", &["p50", "p95", "p99", "max", "count"]),
    (
        "pressure-snapshot",
        &["level", "state", "trend", "drivers", "components"],
    ),
    (
        "components",
        &["tailLatency", "queueWait", "retryDensity", "budgetDrain"],
    ),
    (
        "route",
        &[
            "name",
            "state",
            "score",
            "successRate",
            "latency",
            "variance",
            "attempts",
            "failures",
            "ejections",
            "credentialsStripped",
        ],
    ),
    ("route-latency", &["p50", "p95", "p99"]),
    (
        "fallback-snapshot",
        &[
            "total",
            "byReason",
            "active",
            "activeForMs",
            "share",
            "isDefault",
        ],
    ),
    ("switches", &["total", "denied"]),
    ("hedges", &["sent", "won", "budgetExhausted"]),
    (
        "attempt-record",
        &["attempt", "outcome", "status", "durationMs", "route"],
    ),
    ("failed", &["code", "reason", "message", "attempts"]),
    (
        "retry",
        &["attempt", "delayMs", "reason", "source", "method", "url"],
    ),
    ("giveup", &["reason", "attempts", "method", "url"]),
    (
        "shed",
        &[
            "reason", "attempt", "waitedMs", "queued", "inFlight", "limit", "method", "url",
        ],
    ),
    ("pressure", &["state", "previous", "level", "drivers"]),
    (
        "attempt",
        &[
            "attempt",
            "outcome",
            "status",
            "durationMs",
            "method",
            "url",
        ],
    ),
    ("eject", &["route", "reason", "ejections", "durationMs"]),
    ("restore", &["route", "reason", "ejectedForMs"]),
    ("fallback", &["reason", "route", "from", "method", "url"]),
    ("fallback-default", &["isDefault", "share"]),
    ("hedge", &["route", "from", "afterMs", "method", "url"]),
    ("coordinator", &["state", "reason"]),
    ("state", &["v", "fingerprint", "routes", "isolates"]),
    ("state-route", &["name", "url", "health"]),
    ("state-isolate", &["id", "at", "reserve", "routes"]),
    ("state-counts", &["route", "slots"]),
    ("state-merged", &["isolates", "ignoredRoutes"]),
];

/// The index of schema `name` (a constant where `name` is a literal).
pub const fn schema(name: &str) -> usize {
    let mut i = 0;
    while i < SCHEMAS.len() {
        if crate::core::events::same(SCHEMAS[i].0.as_bytes(), name.as_bytes()) {
            return i;
        }
        i += 1;
    }
    panic!("no such schema")
}

/// Everything the JS side reads at start-up, one list a line: `name:item,item,...`; schemas as
/// `schema.<name>:field,field,...`.
pub fn describe() -> String {
    let mut out = String::new();
    let mut list = |name: &str, items: &mut dyn Iterator<Item = &str>| {
        out.push_str(name);
        out.push(':');
        for (i, item) in items.enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(item);
        }
        out.push('\n');
    };
    list("header", &mut STEP_HEADER.iter().copied());
    list("fields", &mut ACTION_FIELDS.iter().copied());
    list("actions", &mut ACTIONS.iter().copied());
    list("start-flags", &mut START_FLAGS.iter().copied());
    list("tags", &mut TAGS.iter().copied());
    list(
        "abort-reasons",
        &mut AbortReason::ALL.iter().map(|r| r.as_str()),
    );
    list(
        "error-codes",
        &mut ErrorCode::ALL.iter().map(|c| c.as_str()),
    );
    list(
        "give-up-reasons",
        &mut GiveUpReason::ALL.iter().map(|r| r.as_str()),
    );
    list("failures", &mut Failure::ALL.iter().map(|f| f.as_str()));
    list(
        "wait-headers",
        &mut crate::core::retry_after::WAIT_HEADERS.iter().copied(),
    );
    list("events", &mut KINDS.iter().copied());
    // What this build has of what the browsers' build leaves out (Cargo.toml's `server`).
    list(
        "features",
        &mut ["server"].into_iter().filter(|_| cfg!(feature = "server")),
    );
    for (name, fields) in SCHEMAS {
        list(&cat!("schema.", *name), &mut fields.iter().copied());
    }
    out
}

pub(crate) fn index_of<T: PartialEq>(all: &[T], x: &T) -> f64 {
    all.iter().position(|y| y == x).unwrap_or(0) as f64
}

pub(crate) fn schema_of(name: &str) -> usize {
    SCHEMAS.iter().position(|(n, _)| *n == name).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads one value off the tape, checking every record has exactly its schema's fields;
    /// returns the position after it.
    fn walk(t: &[f64], mut i: usize) -> usize {
        let tag = t[i];
        i += 1;
        match tag as u32 {
            0 => i + 1,
            1 => i + 1 + t[i] as usize,
            2..=5 => i,
            6 => {
                let (_, fields) = SCHEMAS[t[i] as usize];
                i += 1;
                for _ in 0..fields.len() {
                    i = walk(t, i);
                }
                i
            }
            7 | 8 => {
                let n = t[i] as usize * if tag == 8.0 { 2 } else { 1 };
                i += 1;
                for _ in 0..n {
                    i = walk(t, i);
                }
                i
            }
            _ => panic!("bad tag {tag} at {}", i - 1),
        }
    }

    #[test]
    fn every_record_has_its_schemas_fields_and_every_event_kind_a_schema() {
        use crate::core::config::{Config, HedgeConfig, RouteConfig};
        use crate::core::Engine;
        use crate::virtual_time::{Executor, Reply};
        let mut c = Config {
            routes: vec![
                RouteConfig::new("a", "http://a"),
                RouteConfig::new("b", "http://b"),
            ],
            hedge: Some(HedgeConfig {
                after_ms: Some(5.0),
                percentile: None,
                max_extra_load: 1.0,
            }),
            ..Config::default()
        };
        c.routes[1].fallback = true;
        c.concurrency.limit = Some(crate::core::config::LimitSetting::Fixed(2.0));
        c.concurrency.queue = 1.0;
        c.routing.ejection.consecutive_failures = 2.0;
        let mut e = Engine::new(c.validated().unwrap(), 1);
        e.set_listening(u32::MAX);
        let origin = |s: &crate::core::Start, _: &str, _: f64| {
            let r = match s.attempt % 4 {
                0 => Reply::Status(503),
                1 => Reply::RetryAfter(429, "0".into()),
                2 => Reply::Fail(Failure::Network),
                _ => Reply::Status(200),
            };
            (f64::from(s.attempt) * 7.0, r)
        };
        let mut ex = Executor::new(e, origin);
        for i in 0..200u64 {
            let meta = crate::core::RequestMeta {
                method: "GET".into(),
                url: "/x?y=1".into(),
                has_idempotency_key: false,
                body: crate::core::BodyKind::None,
            };
            ex.call_at(i as f64 * 3.0, i, meta);
        }
        ex.run();
        let mut kinds = alloc::collections::BTreeSet::new();
        let mut tape = Tape::default();
        for (_, ev) in &ex.events {
            tape.clear();
            tape.event(ev);
            assert_eq!(walk(&tape.nums, 0), tape.nums.len(), "{ev:?}");
            assert_eq!(SCHEMAS[schema_of(ev.kind())].0, ev.kind());
            kinds.insert(ev.kind());
        }
        assert!(kinds.len() >= 6, "the run produced many kinds: {kinds:?}");
        tape.clear();
        tape.snapshot(&ex.engine.snapshot(ex.now()));
        assert_eq!(walk(&tape.nums, 0), tape.nums.len());
        let mut failed = 0;
        for c in ex.calls.values() {
            if let Some((_, Settlement::Failed(f))) = &c.settled {
                tape.clear();
                tape.failed(f);
                assert_eq!(walk(&tape.nums, 0), tape.nums.len());
                failed += 1;
            }
        }
        assert!(failed > 0);
        for k in KINDS.iter().filter(|k| **k != "internal-error") {
            assert!(
                SCHEMAS.iter().any(|(n, _)| n == k),
                "no schema for event {k}"
            );
        }
    }

    #[test]
    fn plain_values_cross_and_malformed_tapes_are_refused() {
        let mut t = Tape::default();
        t.nums.extend([OBJECT, 3.0]);
        t.str("retry");
        t.nums.extend([OBJECT, 1.0]);
        t.str("maxAttempts");
        t.num(3.0);
        t.str("routes");
        t.list(1);
        t.str("é😀");
        t.str("fn");
        t.nums.extend([OTHER, 10.0]);
        t.nums.extend("a function".encode_utf16().map(f64::from));
        let v = read_value(&t.nums).unwrap();
        assert_eq!(
            v.get("retry").and_then(|r| r.get("maxAttempts")),
            Some(&Value::Num(3.0))
        );
        assert_eq!(
            v.get("routes"),
            Some(&Value::List(vec![Value::Str("é😀".into())]))
        );
        assert_eq!(v.get("fn"), Some(&Value::Other("a function".into())));
        for bad in [
            &t.nums[..t.nums.len() - 1],
            &[99.0],
            &[STRING, 5.0, 65.0],
            &[OBJECT, 1.0, NUMBER, 1.0, NULL],
            &[LIST, 1e300],
        ] {
            assert_eq!(read_value(bad), None, "{bad:?}");
        }
        let deep: Vec<f64> = core::iter::repeat_n([LIST, 1.0], 100)
            .flatten()
            .chain([NULL])
            .collect();
        assert_eq!(read_value(&deep), None, "nested too deep");
    }

    #[test]
    fn a_step_lists_its_actions_in_fixed_width_after_the_header() {
        use crate::core::action::Start;
        let mut out = StepOut::default();
        out.begin(Some(TaskId::from_bits(5)));
        out.action(&Action::Start(Start {
            task: TaskId::from_bits(5),
            attempt: 1,
            url: Some("http://a/x".into()),
            route: Some(0),
            strip_credentials: true,
            hedge: false,
        }));
        out.action(&Action::Abort {
            task: TaskId::from_bits(5),
            attempt: 1,
            reason: AbortReason::HedgeLost,
        });
        out.finish(Some(12.5), true, false);
        assert_eq!(out.nums[..4], [5.0, 12.5, 3.0, 2.0]);
        assert_eq!(out.nums.len(), 4 + 2 * ACTION_FIELDS.len());
        assert_eq!(out.nums[4..10], [0.0, 5.0, 1.0, 0.0, 1.0, 0.0]);
        assert_eq!(out.nums[10..16], [1.0, 5.0, 1.0, 2.0, 0.0, 0.0]);
        assert_eq!(walk(&out.detail.nums, 0), out.detail.nums.len());
        assert!(describe().contains("actions:start,abort,settle-response"));
    }
}
