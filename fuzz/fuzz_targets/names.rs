//! Manifests (YAML/JSON documents for apply), aggregated discovery documents and resource
//! names never panic: input is split into a manifest, two documents and a name by NUL bytes.
#![no_main]

use incluster::core::apply::parse_manifests;
use incluster::core::discovery::resource_in_documents;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(4, |b| *b == 0);
    let manifest = parts.next().unwrap_or_default();
    if let Ok(text) = std::str::from_utf8(manifest) {
        let _ = parse_manifests(text);
    }
    let api = parts.next().unwrap_or_default();
    let apis = parts.next().unwrap_or_default();
    let name = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let _ = resource_in_documents(api, apis, &name);
});
