//! `port-forward`: listen on 127.0.0.1 and forward each connection to a Pod's port.

use std::sync::Arc;

use incluster::core::portforward::{Forwarder, parse_ports};

use crate::args::{Args, client};
use crate::failure::Failure;

/// `incluster port-forward POD [LOCAL:]REMOTE...`: runs until interrupted.
pub fn port_forward(a: &Args) -> Result<(), Failure> {
    if a.positional.len() < 2 {
        return Err(Failure::Usage(
            "usage: incluster port-forward POD [LOCAL:]REMOTE...".into(),
        ));
    }
    let pod = &a.positional[0];
    let specs = a.positional[1..]
        .iter()
        .map(|s| parse_ports(s))
        .collect::<Result<Vec<_>, _>>()?;
    let c = client(a)?;
    let report: Arc<incluster::core::portforward::ForwardEvent> =
        Arc::new(|m: &str| eprintln!("incluster: port-forward: {m}"));
    let mut forwarders: Vec<Forwarder> = Vec::new();
    for (local, remote) in specs {
        // Every port of the session shares the first one's tunnel, as kubectl's do.
        let f = match forwarders.first() {
            None => Forwarder::start(&c, pod, None, local, remote, Some(report.clone()))?,
            Some(first) => first.also(local, remote, Some(report.clone()))?,
        };
        // The line kubectl prints, so scripts waiting for it work the same.
        println!("Forwarding from {} -> {remote}", f.local_addr());
        if forwarders.is_empty() {
            eprintln!("incluster: port-forward: over {}", f.transport().describe());
        }
        forwarders.push(f);
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
