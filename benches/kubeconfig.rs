//! Client creation from a kubeconfig beside the in-cluster path: what reading, merging and
//! resolving a kubeconfig adds to `Client::new`.
//!
//! Three ways to the same client for one server and CA, each built `ROUNDS` times:
//! - in-cluster: `Config::in_cluster` over a ServiceAccount directory (token, ca.crt,
//!   namespace) and `Client::new`;
//! - kubeconfig: `Config::from_kubeconfig` over a file with 50 clusters, users and contexts
//!   (the CA and token by path, as kubeadm/kind write them; the used context in the middle)
//!   and `Client::new`;
//! - the same kubeconfig through discovery (`Config::discover` with `KUBECONFIG`).
//!
//! Each figure is the median time per client over the rounds, with the 10th-90th percentile;
//! the "added" line is the kubeconfig median minus the in-cluster median. No network: a
//! client reads its files when built and connects at its first request.
//!
//! `cargo bench --bench kubeconfig`

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use incluster::{Client, Config};

const ROUNDS: usize = 400;
const CONTEXTS: usize = 50;

fn ca_pem() -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    p.self_signed(&key).unwrap().pem()
}

fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let sa = dir.join("sa");
    std::fs::create_dir_all(&sa).unwrap();
    let ca = ca_pem();
    std::fs::write(sa.join("ca.crt"), &ca).unwrap();
    std::fs::write(sa.join("token"), "tok-bench-0123456789abcdef").unwrap();
    std::fs::write(sa.join("namespace"), "bench").unwrap();
    let mut y = String::from("apiVersion: v1\nkind: Config\npreferences: {}\n");
    y += &format!("current-context: ctx-{}\nclusters:\n", CONTEXTS / 2);
    for i in 0..CONTEXTS {
        y += &format!(
            "- name: cluster-{i}\n  cluster:\n    server: https://10.0.{}.{}:6443\n    \
             certificate-authority: sa/ca.crt\n",
            i / 250,
            i % 250 + 1
        );
    }
    y += "users:\n";
    for i in 0..CONTEXTS {
        y += &format!("- name: user-{i}\n  user:\n    tokenFile: sa/token\n");
    }
    y += "contexts:\n";
    for i in 0..CONTEXTS {
        y += &format!(
            "- name: ctx-{i}\n  context:\n    cluster: cluster-{i}\n    user: user-{i}\n    \
             namespace: ns-{i}\n"
        );
    }
    let kc = dir.join("config");
    std::fs::write(&kc, y).unwrap();
    (sa, kc)
}

fn measure<T>(mut f: impl FnMut() -> T) -> (Duration, Duration, Duration) {
    for _ in 0..20 {
        black_box(f());
    }
    let mut t: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    t.sort();
    (t[ROUNDS / 2], t[ROUNDS / 10], t[ROUNDS * 9 / 10])
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

fn main() {
    let dir = std::env::temp_dir().join(format!("incluster-bench-kc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (sa, kc) = setup(&dir);
    let env_in_pod = |k: &str| match k {
        "KUBERNETES_SERVICE_HOST" => Some("10.96.0.1".to_string()),
        "KUBERNETES_SERVICE_PORT" => Some("443".to_string()),
        _ => None,
    };
    let kc_env = kc.display().to_string();
    let env_kubeconfig = |k: &str| (k == "KUBECONFIG").then(|| kc_env.clone());
    let in_cluster =
        measure(|| Client::new(Config::in_cluster_from(&env_in_pod, Some(&sa)).unwrap()).unwrap());
    let kubeconfig = measure(|| {
        let c = Config::from_kubeconfig(Some(&kc), None).unwrap();
        assert_eq!(c.namespace, format!("ns-{}", CONTEXTS / 2));
        Client::new(c).unwrap()
    });
    let load_only = measure(|| Config::from_kubeconfig(Some(&kc), None).unwrap());
    let discovered =
        measure(|| Client::new(Config::discover_from(&env_kubeconfig, None).unwrap()).unwrap());
    println!(
        "client creation, median of {ROUNDS} (10th-90th percentile), ms; kubeconfig with \
         {CONTEXTS} contexts"
    );
    for (name, (m, lo, hi)) in [
        ("in-cluster (ServiceAccount dir)", in_cluster),
        ("kubeconfig (from_kubeconfig)", kubeconfig),
        ("kubeconfig (discovery, KUBECONFIG)", discovered),
        ("kubeconfig: reading it only", load_only),
    ] {
        println!("  {name:36} {} ({}-{})", ms(m), ms(lo), ms(hi));
    }
    println!(
        "  added by the kubeconfig: {} ms",
        ms(kubeconfig.0.saturating_sub(in_cluster.0))
    );
    std::fs::remove_dir_all(&dir).ok();
}
