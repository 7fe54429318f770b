//! JSONPath templates and JSON Pointers: parse and evaluate anything, never panic.
#![no_main]

use incluster::core::extract::{jsonpath::Template, pointer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // First line: the template or pointer; the rest: a document (or a fixed one).
    let (expr, rest) = text.split_once('\n').unwrap_or((text, ""));
    let doc: serde_json::Value = serde_json::from_str(rest).unwrap_or_else(|_| {
        serde_json::json!({"a": [1, {"b": "x"}], "items": [{"a": 1}, {"a": "1"}], "c": null})
    });
    if let Ok(t) = Template::parse(expr) {
        let _ = t.render(&doc);
    }
    let _ = pointer::lookup(&doc, expr);
});
