//! The origin of a URL: which server credentials belong to, and which routes share one.

use crate::prelude::*;

/// The scheme://host[:port] part of an absolute http(s) URL, lower-cased, default port dropped.
pub fn origin_of(url: &str) -> Option<String> {
    // By hand rather than `split_once("://")`: a `&str` pattern brings the two-way string
    // searcher into the wasm for this one three-byte needle.
    let at = url
        .as_bytes()
        .windows(3)
        .position(|w| w[0] == b':' && w[1] == b'/' && w[2] == b'/')?;
    // `get`, not indexing: no panic path (whose message formats a `char` with `Debug`).
    let (scheme, rest) = (url.get(..at)?, url.get(at + 3..)?);
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = rest.get(..end)?.to_ascii_lowercase();
    if host.is_empty() || host.contains('@') {
        return None;
    }
    let host = match (
        scheme.as_str(),
        host.strip_suffix(":80"),
        host.strip_suffix(":443"),
    ) {
        ("http", Some(h), _) | ("https", _, Some(h)) => h.to_string(),
        _ => host,
    };
    Some(cat!(scheme, "://", host))
}
