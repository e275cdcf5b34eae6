//! pkg/config.schema.json is what the engine's schema table gives (`ballast_tools::schema`); a
//! changed field fails here until the file is written again (`BLESS=1 cargo test -p
//! ballast-tools --test config_schema`).

#[test]
fn the_shipped_schema_is_the_tables() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../pkg/config.schema.json");
    let want = ballast_tools::schema::config_schema_text();
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(path, &want).unwrap();
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "pkg/config.schema.json is not what the schema table gives (BLESS=1 rewrites it)"
    );
}
