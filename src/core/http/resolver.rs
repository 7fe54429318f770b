//! Address resolution without a thread per request.
//!
//! ureq's default resolver runs every lookup on a new thread so it can time out, and it looks
//! up the host before each request, pooled connection or not. In a pod the server is an IP
//! literal (`KUBERNETES_SERVICE_HOST`), so that thread is pure overhead (~30 µs a request): an IP
//! literal is turned into its address directly, and only names go to the default resolver.

use std::net::{IpAddr, SocketAddr};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// IP literals parsed in place; names resolved by ureq's default resolver.
#[derive(Debug, Default)]
pub struct LiteralFirstResolver {
    names: DefaultResolver,
}

impl Resolver for LiteralFirstResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let literal = uri.host().and_then(|h| {
            h.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .ok()
        });
        let port = uri.port_u16().or(match uri.scheme_str() {
            Some("https") => Some(443),
            Some("http") => Some(80),
            _ => None,
        });
        match (literal, port) {
            (Some(ip), Some(port)) => {
                let mut v = self.empty();
                v.push(SocketAddr::new(ip, port));
                Ok(v)
            }
            _ => self.names.resolve(uri, config, timeout),
        }
    }
}
