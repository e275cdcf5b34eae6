//! The fingerprints every runtime must agree on: tests/fixtures/fingerprints.json lists configs
//! with their fingerprints, and this native run, the Node and Chromium tests (tests/js) and the
//! Deno entry of the runtime matrix each check the same file.

use ballast_fetch::core::config::fingerprint;
use ballast_tools::input;

#[test]
fn native_fingerprints_match_the_shared_fixture() {
    let text = include_str!("../../tests/fixtures/fingerprints.json");
    let rows: serde_json::Value = serde_json::from_str(text).unwrap();
    let rows = rows.as_array().unwrap();
    assert!(rows.len() >= 10);
    for row in rows {
        let input::Plain(value) = serde_json::from_value(row["config"].clone()).unwrap();
        let config = input::config(&value, "config", "").unwrap();
        assert_eq!(
            fingerprint(&config),
            row["fingerprint"].as_str().unwrap(),
            "{}",
            row["config"]
        );
    }
}
