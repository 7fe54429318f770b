//! Status bodies, token claims, server URLs, ports and NO_PROXY rules never panic.
#![no_main]

use incluster::core::api::status::Status;
use incluster::core::auth::claims::Claims;
use incluster::core::config::{Config, parse_port};
use incluster::core::http::proxy::no_proxy_matches;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Status::parse(data);
    let Ok(s) = std::str::from_utf8(data) else { return };
    let _ = Claims::decode(s);
    let _ = Config::new(s);
    let _ = parse_port(s, "PORT");
    let (a, b) = s.split_once('\n').unwrap_or((s, "10.0.0.1"));
    let _ = no_proxy_matches(a, b, 443);
});
