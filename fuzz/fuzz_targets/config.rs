//! In-cluster configuration from arbitrary environment values and ServiceAccount files
//! (`token`, `ca.crt`, `namespace`), then a client built from it: errors, never panics.
//!
//! Input: up to six fields separated by NUL bytes: KUBERNETES_SERVICE_HOST,
//! KUBERNETES_SERVICE_PORT, POD_NAMESPACE, then the token, ca.crt and namespace files (a
//! missing field is an unset variable or an absent file).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use incluster::core::client::Client;
use incluster::core::config::Config;
use libfuzzer_sys::fuzz_target;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("incluster-fuzz-config-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let mut fields = data.splitn(6, |&b| b == 0);
    let text = |f: Option<&[u8]>| f.map(|b| String::from_utf8_lossy(b).into_owned());
    let host = text(fields.next());
    let port = text(fields.next());
    let pod_ns = text(fields.next());
    let d = dir();
    for name in ["token", "ca.crt", "namespace"] {
        let p = d.join(name);
        match fields.next() {
            Some(content) => std::fs::write(&p, content).unwrap(),
            None => {
                let _ = std::fs::remove_file(&p);
            }
        }
    }
    let get = |k: &str| match k {
        "KUBERNETES_SERVICE_HOST" => host.clone(),
        "KUBERNETES_SERVICE_PORT" => port.clone(),
        "POD_NAMESPACE" => pod_ns.clone(),
        _ => None,
    };
    if let Ok(config) = Config::in_cluster_from(&get, Some(d)) {
        let _ = format!("{config:?}");
        let _ = Client::new(config).map(|c| c.token_claims());
    }
});
