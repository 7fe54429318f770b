//! `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY`, decided once per client.
//!
//! A client talks to one server, so the proxy decision is made once, when the client is built.
//! `NO_PROXY` follows Go's `httpproxy` rules (what client-go users get): `*`, exact hosts, domain
//! suffixes (`example.com` matches itself and subdomains, `.example.com` only subdomains), an
//! optional `:port`, IP addresses, and CIDR ranges. CIDR and IP entries matter in a pod: the
//! service host is an IP, and ureq's own matching compares host names only.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::core::error::{Error, Result};

/// Does `NO_PROXY` exclude `host:port`?
pub fn no_proxy_matches(no_proxy: &str, host: &str, port: u16) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let ip: Option<IpAddr> = host.parse().ok();
    no_proxy
        .split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            if let Ok(net) = entry.parse::<IpNet>() {
                return ip.is_some_and(|ip| net.contains(&ip));
            }
            if let Ok(e_ip) = entry
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
            {
                return ip == Some(e_ip);
            }
            // Split an optional port (not for bare IPv6, handled above).
            let (name, e_port) = match entry.rsplit_once(':') {
                Some((n, p)) if !n.contains(':') => match p.parse::<u16>() {
                    Ok(p) => (
                        n.trim_start_matches('[').trim_end_matches(']').to_owned(),
                        Some(p),
                    ),
                    Err(_) => return false,
                },
                _ => (entry.clone(), None),
            };
            if e_port.is_some_and(|p| p != port) {
                return false;
            }
            if let Ok(e_ip) = name.parse::<IpAddr>() {
                return ip == Some(e_ip);
            }
            if let Some(suffix) = name.strip_prefix('.') {
                host.ends_with(&format!(".{suffix}"))
            } else if let Some(suffix) = name.strip_prefix("*.") {
                host.ends_with(&format!(".{suffix}"))
            } else {
                host == name || host.ends_with(&format!(".{name}"))
            }
        })
}

/// The proxy URL to use for `server`, read through `env` (upper-case names win, as in Go).
pub fn proxy_for(
    server: &ureq::http::Uri,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<ureq::Proxy>> {
    let get = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| env(n).filter(|v| !v.trim().is_empty()))
    };
    let https = server.scheme_str() == Some("https");
    let proxy = if https {
        get(&["HTTPS_PROXY", "https_proxy"])
    } else {
        // Go ignores lower-case http_proxy only under CGI; we read both.
        get(&["HTTP_PROXY", "http_proxy"])
    };
    let Some(proxy) = proxy else { return Ok(None) };
    let host = server.host().unwrap_or_default();
    let port = server.port_u16().unwrap_or(if https { 443 } else { 80 });
    if let Some(np) = get(&["NO_PROXY", "no_proxy"])
        && no_proxy_matches(&np, host, port)
    {
        return Ok(None);
    }
    let url = if proxy.contains("://") {
        proxy.trim().to_owned()
    } else {
        format!("http://{}", proxy.trim())
    };
    ureq::Proxy::new(&url)
        .map(Some)
        .map_err(|e| Error::config(format!("proxy URL from the environment is invalid: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_rules() {
        let np =
            "localhost, .svc.cluster.local,example.com, 10.96.0.0/12 ,192.168.1.7,fd00::/8,h:8443";
        assert!(no_proxy_matches(np, "10.96.0.1", 443));
        assert!(no_proxy_matches(np, "10.111.2.3", 443));
        assert!(!no_proxy_matches(np, "10.112.0.1", 443));
        assert!(no_proxy_matches(np, "192.168.1.7", 443));
        assert!(no_proxy_matches(np, "[fd00::1]", 443));
        assert!(no_proxy_matches(
            np,
            "kubernetes.default.svc.cluster.local",
            443
        ));
        assert!(!no_proxy_matches(np, "svc.cluster.local", 443));
        assert!(no_proxy_matches(np, "example.com", 443));
        assert!(no_proxy_matches(np, "api.example.com", 443));
        assert!(!no_proxy_matches(np, "notexample.com", 443));
        assert!(no_proxy_matches(np, "h", 8443));
        assert!(!no_proxy_matches(np, "h", 443));
        assert!(no_proxy_matches("*", "anything", 1));
        assert!(!no_proxy_matches("", "anything", 1));
    }

    #[test]
    fn proxy_decision_reads_env() {
        let uri: ureq::http::Uri = "https://10.96.0.1:443".parse().unwrap();
        let env = |k: &str| match k {
            "HTTPS_PROXY" => Some("proxy.local:3128".to_string()),
            "NO_PROXY" => Some("10.0.0.0/8".to_string()),
            _ => None,
        };
        assert!(proxy_for(&uri, &env).unwrap().is_none());
        let env2 = |k: &str| (k == "HTTPS_PROXY").then(|| "proxy.local:3128".to_string());
        assert!(proxy_for(&uri, &env2).unwrap().is_some());
        let none = |_: &str| None;
        assert!(proxy_for(&uri, &none).unwrap().is_none());
    }
}
