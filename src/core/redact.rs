//! How a request's URL appears in error messages and events.
//!
//! Why: messages and events end up in logs, dashboards and bug reports, read by people who must not
//! see the caller's secrets. A URL's user-info (`user:pass@`) is never shown. Query strings often
//! carry tokens (`?token=`, `?sig=`), so their values are replaced by `REDACTED` unless the user
//! opts in (`redact: { query: false }`); the parameter names stay, since they help debugging. The
//! fragment never reaches a server and is dropped. The URL the request is sent to is untouched.

use crate::prelude::*;

/// What replaces a query parameter's value.
pub const REDACTED: &str = "REDACTED";

/// Where the authority of an absolute URL starts (after `scheme://`), and where its user-info
/// ends (just after the last `@` of the authority), if it has any.
fn authority(url: &str) -> Option<(usize, Option<usize>)> {
    // By bytes rather than `find("://")`: a `&str` pattern brings the two-way string searcher
    // into the wasm for this one three-byte needle.
    let start = url.as_bytes().windows(3).position(|w| w == b"://")? + 3;
    let rest = url.get(start..)?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest.get(..end)?.rfind('@').map(|i| start + i + 1);
    Some((start, at))
}

/// `url` as messages and events show it: no user-info, no fragment, and query values redacted
/// unless `keep_query`. Works on absolute URLs and on paths alike.
pub fn display_url(url: &str, keep_query: bool) -> String {
    let url = url.split('#').next().unwrap_or("");
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let mut out = String::with_capacity(url.len());
    match authority(head) {
        Some((start, Some(at))) => {
            out.push_str(head.get(..start).unwrap_or(""));
            out.push_str(head.get(at..).unwrap_or(""));
        }
        _ => out.push_str(head),
    }
    if let Some(q) = query {
        out.push('?');
        if keep_query {
            out.push_str(q);
        } else {
            for (i, pair) in q.split('&').enumerate() {
                if i > 0 {
                    out.push('&');
                }
                match pair.split_once('=') {
                    Some((name, value)) if !value.is_empty() => {
                        out.push_str(name);
                        out.push('=');
                        out.push_str(REDACTED);
                    }
                    _ => out.push_str(pair),
                }
            }
        }
    }
    out
}

/// `text` (an error message from the runtime, which may quote the URL) with every absolute URL in
/// it shown as `display_url` shows it.
pub fn scrub_text(text: &str, keep_query: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    let mut i = 0;
    while i + 3 <= bytes.len() {
        if &bytes[i..i + 3] != b"://" {
            i += 1;
            continue;
        }
        let mut start = i;
        while start > done && is_scheme_byte(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = i + 3;
        while end < bytes.len() && !is_url_end(bytes[end]) {
            end += 1;
        }
        // Both ends sit on ASCII bytes, so on character boundaries.
        out.push_str(text.get(done..start).unwrap_or(""));
        out.push_str(&display_url(text.get(start..end).unwrap_or(""), keep_query));
        done = end;
        i = end;
    }
    out.push_str(text.get(done..).unwrap_or(""));
    out
}

fn is_scheme_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'.' || b == b'-'
}

fn is_url_end(b: u8) -> bool {
    b.is_ascii_whitespace() || b"\"'<>()[]{}`".contains(&b)
}

/// `url` with its user-info, if any, replaced by `REDACTED` (for config errors: the rest of the
/// URL still shows which route is meant).
pub fn mask_user_info(url: &str) -> String {
    match authority(url) {
        Some((start, Some(at))) => cat!(
            url.get(..start).unwrap_or(""),
            REDACTED,
            url.get(at - 1..).unwrap_or("")
        ),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_never_query_values_unless_kept() {
        let cases = [
            (
                "https://user:pass@api.example/v1/items?token=abc&id=7#frag",
                false,
                "https://api.example/v1/items?token=REDACTED&id=REDACTED",
            ),
            (
                "https://user:pass@api.example/v1/items?token=abc&id=7#frag",
                true,
                "https://api.example/v1/items?token=abc&id=7",
            ),
            ("https://api.example", false, "https://api.example"),
            (
                "https://u@api.example?x=1",
                false,
                "https://api.example?x=REDACTED",
            ),
            (
                "/items?flag&empty=&k=v",
                false,
                "/items?flag&empty=&k=REDACTED",
            ),
            ("/items", false, "/items"),
            ("http://a/p@q?e=x@y", false, "http://a/p@q?e=REDACTED"),
            ("", false, ""),
        ];
        for (url, keep, want) in cases {
            assert_eq!(display_url(url, keep), want, "{url} (keep query: {keep})");
        }
    }

    #[test]
    fn urls_inside_messages_are_scrubbed() {
        let text = "TypeError: Request cannot be constructed from a URL that includes credentials: https://u:p@h/x?token=t (see \"http://a@b/c?d=e\")";
        assert_eq!(
            scrub_text(text, false),
            "TypeError: Request cannot be constructed from a URL that includes credentials: https://h/x?token=REDACTED (see \"http://b/c?d=REDACTED\")"
        );
        assert_eq!(scrub_text("no url: a://", false), "no url: a://");
        assert_eq!(scrub_text("é ://x@y é", true), "é ://y é");
        assert_eq!(scrub_text("", true), "");
    }

    #[test]
    fn user_info_is_masked_only_in_the_authority() {
        let cases = [
            ("https://u:p@h/x", "https://REDACTED@h/x"),
            ("https://u@h", "https://REDACTED@h"),
            ("https://a@b@h/x", "https://REDACTED@h/x"),
            ("https://h/x@y", "https://h/x@y"),
            ("https://h?x=@", "https://h?x=@"),
            ("/path@x", "/path@x"),
        ];
        for (url, want) in cases {
            assert_eq!(mask_user_info(url), want, "{url}");
        }
    }
}
