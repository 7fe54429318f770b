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
            _ => self
                .names
                .resolve(uri, config, timeout)
                .map_err(|e| name_lookup_error(e, CARRIES_ITS_LIBC)),
        }
    }
}

/// A musl build is linked statically (the CLI in the release tarballs and wheels): names are
/// resolved by the libc inside the binary, from the container's own `/etc/hosts` and
/// `/etc/resolv.conf` only, whatever the host or image would otherwise use (nsswitch, systemd).
const CARRIES_ITS_LIBC: bool = cfg!(target_env = "musl");

/// Says which resolver failed when a name does not resolve, so that someone whose
/// `KUBERNETES_SERVICE_HOST` is a name in a scratch image knows which files to look at.
fn name_lookup_error(e: ureq::Error, carries_libc: bool) -> ureq::Error {
    const WHY: &str = "this static build resolves names with the musl libc it carries, \
                       which reads only /etc/hosts and /etc/resolv.conf";
    match e {
        ureq::Error::Io(io) if carries_libc => {
            ureq::Error::Io(std::io::Error::new(io.kind(), format!("{io} ({WHY})")))
        }
        ureq::Error::HostNotFound if carries_libc => ureq::Error::Io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("host not found ({WHY})"),
        )),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_lookup_names_the_carried_libc_only_in_a_static_build() {
        let io = || ureq::Error::Io(std::io::Error::other("failed to lookup address"));
        let said = name_lookup_error(io(), true).to_string();
        assert!(said.starts_with("io: failed to lookup address"), "{said}");
        assert!(said.contains("musl libc it carries"), "{said}");
        assert!(said.contains("/etc/resolv.conf"), "{said}");
        let said = name_lookup_error(ureq::Error::HostNotFound, true).to_string();
        assert!(said.contains("host not found (this static build"), "{said}");
        assert!(!name_lookup_error(io(), false).to_string().contains("musl"));
        assert!(matches!(
            name_lookup_error(ureq::Error::HostNotFound, false),
            ureq::Error::HostNotFound
        ));
    }
}
