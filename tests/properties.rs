//! No input panics the parsers of what comes from outside: `Retry-After` headers (any text, any
//! wall clock), URLs as messages show them (`core::redact`), URLs as routing reads them
//! (`Routing::remainder`, `url::origin_of`), and configs as validation reads them. The wasm
//! build aborts on a panic, so for these a panic is an outage, not an error message.
//!
//! Strings come from three sources: any string; strings built from the pieces the parsers split on
//! (`://`, `@`, `?`, `#`, `=`, `&`, `:`, `,`, digits), mixed with multi-byte characters so that a
//! byte offset falls inside one; and near misses of what each parser accepts. Besides not
//! panicking, each test checks what the function promises for every input.

use ballast_fetch::core::config::schema::{FIELDS, ROUTE_FIELDS};
use ballast_fetch::core::config::{read, Config, HedgeConfig, RouteConfig};
use ballast_fetch::core::print::{fmt_num, quoted};
use ballast_fetch::core::redact::{display_url, mask_user_info, scrub_text, REDACTED};
use ballast_fetch::core::retry_after;
use ballast_fetch::core::routing::Routing;
use ballast_fetch::core::url::origin_of;
use ballast_fetch::core::value::Value;
use ballast_fetch::core::{Action, BodyKind, Engine, Event, RequestMeta};
use proptest::prelude::*;

/// Strings made of the pieces URL and header parsers split on, and multi-byte characters.
fn pieces() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("://".to_string()),
        Just("http".to_string()),
        Just("https".to_string()),
        Just("HTTP".to_string()),
        "[@/?#&=:,. -]",
        "[a-z0-9]{1,4}",
        "[é✓😀\u{301}\u{0}\u{7f}]",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..20).prop_map(|v| v.concat())
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), pieces()]
}

/// Any wall clock, the absurd included.
fn wall() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        0.0..4e12f64,
    ]
}

/// `Retry-After` values: HTTP-dates in all three forms with their fields drawn loosely, digits,
/// and near misses of a valid date with one character replaced (a multi-byte one, often).
fn retry_after_value() -> impl Strategy<Value = String> {
    const DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
    prop_oneof![
        text(),
        "[ 0-9]{0,30}",
        "[A-Za-z]{3}, [0-9 ]{2} [A-Za-z]{3} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [A-Z]{3}",
        "[A-Za-z]{6,9}, [0-9]{2}-[A-Za-z]{3}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT",
        "[A-Za-z]{3} [A-Za-z]{3} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}",
        (0..DATE.len(), any::<char>()).prop_map(|(i, c)| {
            let mut s = DATE.to_string();
            s.replace_range(i..=i, c.encode_utf8(&mut [0; 4]));
            s
        }),
        (0..DATE.len(), "[é✓😀]").prop_map(|(i, c)| {
            let mut s = DATE.to_string();
            s.replace_range(i..=i, &c);
            s
        }),
    ]
}

/// Route URLs as users write them (validation then decides), some with multi-byte characters.
fn route_url() -> impl Strategy<Value = String> {
    prop_oneof![
        "(http|https|HTTP)://[a-zé]{1,5}(\\.test)?(:[0-9]{1,4})?(/[a-zé✓]{0,4}){0,2}/?",
        text(),
    ]
}

/// Inputs for `remainder`: paths, URLs under a route (case changed, suffixes added), anything.
fn call_url(routes: Vec<String>) -> impl Strategy<Value = String> {
    let under = (
        prop::sample::select(routes),
        any::<bool>(),
        prop_oneof![
            Just(String::new()),
            "[/?#][a-zé✓/?#=&]{0,6}",
            "[a-zé✓]{1,3}"
        ],
    )
        .prop_map(|(r, upper, suffix)| {
            let r = if upper { r.to_ascii_uppercase() } else { r };
            r + &suffix
        });
    prop_oneof![under, "/?[a-zé✓/?#=&]{0,10}", text()]
}

fn validated(urls: &[String]) -> Option<Config> {
    let c = Config {
        routes: urls
            .iter()
            .enumerate()
            .map(|(i, u)| RouteConfig::new(&format!("r{i}"), u))
            .collect(),
        ..Default::default()
    };
    c.validated().ok()
}

fn is_absolute(url: &str) -> bool {
    url.split_once(':').is_some_and(|(s, _)| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Any text, any wall clock: no panic, and a wait is never negative or NaN.
    #[test]
    fn retry_after_parses_anything(v in retry_after_value(), wall in wall()) {
        if let Some(ms) = retry_after::parse(&v, wall) {
            prop_assert!(ms >= 0.0, "{v:?} at {wall}: {ms}");
        }
    }

    /// Through the engine: a 503 with any `Retry-After`, at any wall clock, is retried after a
    /// wait within `[0, retry.maxRetryAfterMs]`, and the retry is sent when that wait is over.
    #[test]
    fn any_retry_after_gives_a_bounded_wait(v in retry_after_value(), wall in wall()) {
        let mut c = Config::default();
        c.retry.max_retry_after_ms = 7_000.0;
        c.timeout.total_ms = None;
        let mut e = Engine::new(c.validated().unwrap(), 1);
        e.set_listening(u32::MAX);
        let meta = RequestMeta {
            method: "GET".into(),
            url: "http://o.test/x".into(),
            has_idempotency_key: false,
            body: BodyKind::None,
        };
        let t = e.begin(meta, 0.0);
        let Some(Action::Start(s)) = e.poll_action() else { panic!("no start") };
        e.handle_response(t, s.attempt, 503, Some(&v), 1.0, wall);
        let delay = std::iter::from_fn(|| e.poll_event()).find_map(|ev| match ev {
            Event::Retry(r) => Some(r.delay_ms),
            _ => None,
        });
        let delay = delay.expect("retried");
        prop_assert!((0.0..=7_000.0).contains(&delay), "{v:?}: {delay}");
        e.handle_timeout(1.0 + delay);
        prop_assert!(matches!(e.poll_action(), Some(Action::Start(_))));
    }

    /// Any text: no panic; no fragment shown; with the query kept, a URL with neither
    /// user-info nor fragment is shown as it is; redacted, every query value is `REDACTED`.
    #[test]
    fn display_url_takes_anything(url in text(), keep in any::<bool>()) {
        let shown = display_url(&url, keep);
        prop_assert!(!shown.contains('#'), "{url:?} -> {shown:?}");
        if keep && !url.contains('@') && !url.contains('#') {
            prop_assert_eq!(&shown, &url);
        }
        if !keep {
            if let Some((_, q)) = shown.split_once('?') {
                for pair in q.split('&') {
                    if let Some((_, v)) = pair.split_once('=') {
                        prop_assert!(v.is_empty() || v == REDACTED, "{url:?} -> {shown:?}");
                    }
                }
            }
        }
    }

    /// A password in the user-info is never shown, whatever surrounds it.
    #[test]
    fn user_info_is_never_shown(
        scheme in "[a-zA-Z][a-zA-Z+.-]{0,5}",
        user in "[a-zé✓%]{0,5}",
        host in "[a-zé✓.:]{0,8}",
        rest in "([/?][a-zé✓/?=&@:]{0,10})?(#[a-z@:]{0,5})?",
        keep in any::<bool>(),
    ) {
        let url = format!("{scheme}://{user}:PaSsWoRd@{host}{rest}");
        let shown = display_url(&url, keep);
        prop_assert!(!shown.contains("PaSsWoRd"), "{url:?} -> {shown:?}");
        let masked = mask_user_info(&url);
        prop_assert!(!masked.contains("PaSsWoRd"), "{url:?} -> {masked:?}");
        let text = format!("TypeError: failed to fetch «{url}» (é)");
        let scrubbed = scrub_text(&text, keep);
        prop_assert!(!scrubbed.contains("PaSsWoRd"), "{text:?} -> {scrubbed:?}");
    }

    /// Any text: no panic; text without a URL in it comes back as it was.
    #[test]
    fn scrub_text_and_mask_user_info_take_anything(s in text(), keep in any::<bool>()) {
        let scrubbed = scrub_text(&s, keep);
        let masked = mask_user_info(&s);
        if !s.contains("://") {
            prop_assert_eq!(&scrubbed, &s);
            prop_assert_eq!(&masked, &s);
        }
    }

    /// Any text: no panic; an origin is `http(s)://` and a host, nothing after it.
    #[test]
    fn origin_of_takes_anything(url in prop_oneof![text(), route_url()]) {
        if let Some(o) = origin_of(&url) {
            let host = o
                .strip_prefix("http://")
                .or_else(|| o.strip_prefix("https://"))
                .unwrap_or_else(|| panic!("{url:?} -> {o:?}"));
            prop_assert!(!host.is_empty(), "{url:?} -> {o:?}");
            prop_assert!(!host.contains(['/', '?', '#', '@']), "{url:?} -> {o:?}");
        }
    }

    /// Any route table validation accepts, any call URL: no panic; what is left to append is the
    /// URL's own tail after a route's URL (which it starts with, ASCII case aside), or a path.
    #[test]
    fn remainder_takes_any_url(
        (routes, url) in prop::collection::vec(route_url(), 1..4)
            .prop_filter_map("a valid route table", |urls| validated(&urls))
            .prop_flat_map(|c| {
                let urls: Vec<String> = c.routes.iter().map(|r| r.url.clone()).collect();
                (Just(c), call_url(urls))
            }),
    ) {
        let table = Routing::new(&routes.routes, &routes.routing);
        let Some(rem) = table.remainder(&url) else { return Ok(()) };
        if is_absolute(&url) {
            prop_assert!(url.ends_with(&rem), "{url:?} -> {rem:?}");
            let head = &url.as_bytes()[..url.len() - rem.len()];
            prop_assert!(
                routes.routes.iter().any(|r| r.url.as_bytes().eq_ignore_ascii_case(head)),
                "{url:?} -> {rem:?}"
            );
            prop_assert!(rem.is_empty() || rem.starts_with(['/', '?', '#']), "{rem:?}");
        } else if url.starts_with('/') {
            prop_assert_eq!(rem, url);
        } else {
            prop_assert_eq!(rem, format!("/{url}"));
        }
    }

    /// Validation takes any route name, URL and numbers without a panic, and its message never
    /// repeats a password put in a route URL.
    #[test]
    fn validation_takes_anything(
        name in text(),
        url in route_url(),
        weight in any::<f64>(),
        hedge in prop::option::of((prop::option::of(any::<f64>()), prop::option::of(any::<f64>()), any::<f64>())),
        ratio in any::<f64>(),
        total in prop::option::of(any::<f64>()),
    ) {
        let mut c = Config {
            routes: vec![RouteConfig { weight, ..RouteConfig::new(&name, &url) }],
            hedge: hedge.map(|(after_ms, percentile, max_extra_load)| HedgeConfig {
                after_ms,
                percentile,
                max_extra_load,
            }),
            ..Default::default()
        };
        c.budget.ratio = ratio;
        c.timeout.total_ms = total;
        let _ = c.validated();
        let with_password = url.replacen("://", "://u:PaSsWoRd@", 1);
        let c = Config {
            routes: vec![RouteConfig::new("r", &with_password)],
            ..Default::default()
        };
        if let Err(e) = c.validated() {
            prop_assert!(!e.message().contains("PaSsWoRd"), "{}", e.message());
        }
    }

    /// Numbers and strings as messages show them: no panic for any value.
    #[test]
    fn messages_show_any_value(v in any::<f64>(), s in text()) {
        let shown = fmt_num(v);
        prop_assert!(!shown.is_empty());
        if v.is_finite() && v.fract() == 0.0 && v.abs() < 9e15 {
            prop_assert_eq!(shown, format!("{}", v as i64));
        }
        let q = quoted(&s);
        prop_assert!(q.starts_with('"') && q.ends_with('"') && q.len() >= 2);
    }
}

/// Plain data as a config might hold it: every key the schema knows (and some it does not) at
/// every level, with values of any kind, nested a few levels deep.
fn config_value() -> impl Strategy<Value = Value> {
    let keys: Vec<&'static str> = FIELDS
        .iter()
        .flat_map(|f| f.path.split('.'))
        .chain(ROUTE_FIELDS.iter().map(|f| f.path))
        .chain(["transport", "ratoi", "", "__proto__", "routes[]"])
        .collect();
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop_oneof![
            any::<f64>(),
            -10.0..2e6f64,
            Just(1e308),
            Just(f64::NAN),
            (0u32..600).prop_map(f64::from)
        ]
        .prop_map(Value::Num),
        prop_oneof![
            text(),
            route_url(),
            Just("adaptive".into()),
            Just("full".into()),
            Just("https://admin:secret@api.test/v1".into()),
        ]
        .prop_map(Value::Str),
        text().prop_map(Value::Other),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        let key = prop::sample::select(keys.clone()).prop_map(str::to_string);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
            prop::collection::vec((key, inner), 0..8).prop_map(Value::Obj),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Whatever plain data a config holds, reading it gives a config or a `ConfigError` naming a
    /// path; it never panics, and never repeats a password from a URL.
    #[test]
    fn the_config_reader_takes_any_plain_data(root in prop::collection::vec(
        (prop::sample::select(ballast_fetch::core::config::schema::keys_at("")).prop_map(str::to_string), config_value()), 0..8)
        .prop_map(Value::Obj)) {
        match read(&root) {
            Ok(c) => prop_assert!(c.retry.max_attempts >= 1),
            Err(e) => {
                prop_assert!(!e.path.is_empty());
                prop_assert!(!e.allowed.is_empty());
                prop_assert!(!e.message().contains("secret"), "{}", e.message());
            }
        }
    }

    /// A top level that is not an object is refused as such.
    #[test]
    fn a_config_that_is_not_an_object_is_refused(v in config_value()) {
        if !matches!(v, Value::Obj(_)) {
            let e = read(&v).unwrap_err();
            prop_assert_eq!(e.path.as_str(), "config");
        }
    }
}
