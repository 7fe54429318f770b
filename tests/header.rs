//! The committed C header must be exactly what cbindgen generates from the current source.

#[test]
fn committed_header_matches_generated() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/incluster.h"));
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/incluster.h"))
            .expect("include/incluster.h is missing");
    assert!(
        generated == committed,
        "include/incluster.h is out of date with src/capi.\n\
         Refresh it with:  INCLUSTER_UPDATE_HEADER=1 cargo build"
    );
}

#[test]
fn header_version_matches_cargo() {
    let committed = include_str!("../include/incluster.h");
    let want = format!(
        "#define INCLUSTER_VERSION \"{}\"",
        env!("CARGO_PKG_VERSION")
    );
    assert!(committed.contains(&want), "header lacks {want}");
}
