//! Helpers shared by the engine's integration tests.
#![allow(dead_code)]

use ballast_fetch::core::{BodyKind, Outcome, RequestMeta};

/// A request with no body.
pub fn request(method: &str, url: &str) -> RequestMeta {
    RequestMeta {
        method: method.to_string().into(),
        url: url.into(),
        has_idempotency_key: false,
        body: BodyKind::None,
    }
}

/// A response outcome without Retry-After.
pub fn resp(status: u16) -> Outcome {
    Outcome::Response {
        status,
        retry_after_ms: None,
    }
}
