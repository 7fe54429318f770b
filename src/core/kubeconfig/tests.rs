use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::core::client::Client;
use crate::core::error::ErrorKind;

const TOKEN: &str = "tok-kubeconfig-secret-123";

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("incluster-kc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(d: &Path, name: &str, text: &str) -> PathBuf {
    let p = d.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// A CA certificate and a client certificate + key signed by it, as PEM.
fn pki() -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["admin".to_string()]).unwrap();
    let issuer = rcgen::Issuer::from_params(&ca, &ca_key);
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

fn kubeconfig(ca_pem: &str, user: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Config
current-context: dev
preferences: {{}}
clusters:
- name: c1
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: {ca}
    tls-server-name: api.example.test
    proxy-url: http://proxy.local:3128
    extensions: []
contexts:
- name: dev
  context:
    cluster: c1
    user: u1
    namespace: team-a
- name: bare
  context:
    cluster: c1
users:
- name: u1
  user:
{user}
"#,
        ca = b64(ca_pem.as_bytes())
    )
}

fn err(r: Result<Config>) -> String {
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    e.to_string()
}

#[test]
fn reads_every_supported_field() {
    let d = dir("fields");
    let (ca, _, _) = pki();
    let p = write(
        &d,
        "config",
        &kubeconfig(&ca, &format!("    token: {TOKEN}")),
    );
    let c = load(std::slice::from_ref(&p), None).unwrap();
    assert_eq!(c.server, "https://10.0.0.1:6443");
    assert_eq!(c.namespace, "team-a");
    assert_eq!(c.token, TokenConfig::Token(Secret::new(TOKEN)));
    assert_eq!(c.trust, Some(Trust::Ca(CaSource::Pem(ca.into_bytes()))));
    assert_eq!(c.tls_server_name.as_deref(), Some("api.example.test"));
    assert_eq!(
        c.proxy_url.as_ref().map(|p| p.expose()),
        Some("http://proxy.local:3128")
    );
    assert_eq!(
        c.source,
        ConfigSource::Kubeconfig {
            files: vec![p.clone()],
            context: "dev".into()
        }
    );
    assert!(!format!("{c:?}").contains(TOKEN));
    // Another context: no user is anonymous, no namespace is "default".
    let c = load(std::slice::from_ref(&p), Some("bare")).unwrap();
    assert_eq!(c.token, TokenConfig::None);
    assert_eq!(c.namespace, "default");
}

#[test]
fn client_certificates_give_a_client_and_never_show_the_key() {
    let d = dir("mtls");
    let (ca, cert, key) = pki();
    let user = format!(
        "    client-certificate-data: {}\n    client-key-data: {}",
        b64(cert.as_bytes()),
        b64(key.as_bytes())
    );
    let p = write(&d, "config", &kubeconfig(&ca, &user));
    let c = load(&[p], None).unwrap();
    let pair = c.client_cert.as_ref().unwrap();
    assert_eq!(pair.cert_pem, cert.as_bytes());
    let secret_line = key.lines().nth(1).unwrap();
    assert!(!format!("{c:?}").contains(secret_line));
    let client = Client::new(c).unwrap();
    assert!(!format!("{client:?}").contains(secret_line));

    // A key that belongs to another certificate, and a key that is not PEM.
    let (_, other_cert, _) = pki();
    let user = format!(
        "    client-certificate-data: {}\n    client-key-data: {}",
        b64(other_cert.as_bytes()),
        b64(key.as_bytes())
    );
    let p = write(&d, "mismatch", &kubeconfig(&ca, &user));
    let e = err(load(&[p], None));
    assert!(
        e.contains("does not belong to the client certificate"),
        "{e}"
    );
    assert!(e.contains("user \"u1\" in"), "{e}");
    let user = format!(
        "    client-certificate-data: {}\n    client-key-data: {}",
        b64(cert.as_bytes()),
        b64(b"key-bytes-secret")
    );
    let p = write(&d, "badkey", &kubeconfig(&ca, &user));
    let e = err(load(&[p], None));
    assert!(
        e.contains("not a PEM private key") && !e.contains("key-bytes-secret"),
        "{e}"
    );
    let user = format!("    client-certificate-data: {}", b64(cert.as_bytes()));
    let p = write(&d, "nokey", &kubeconfig(&ca, &user));
    assert!(err(load(&[p], None)).contains("but no client-key"));
}

#[test]
fn relative_paths_resolve_against_the_file_that_names_them() {
    let d = dir("relative");
    let (ca, cert, key) = pki();
    write(&d, "sub/pki/ca.crt", &ca);
    write(&d, "sub/pki/admin.crt", &cert);
    write(&d, "sub/pki/admin.key", &key);
    write(&d, "sub/token", TOKEN);
    let text = r#"current-context: x
clusters:
- name: c
  cluster:
    server: https://h:6443
    certificate-authority: pki/ca.crt
contexts:
- name: x
  context: {cluster: c, user: u}
- name: e
  context: {cluster: c, user: ex}
users:
- name: u
  user:
    tokenFile: token
    client-certificate: pki/admin.crt
    client-key: pki/admin.key
- name: ex
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: ./bin/plugin
      args: [a]
      env: [{name: E, value: v}]
      provideClusterInfo: true
"#;
    let p = write(&d, "sub/config", text);
    let c = load(std::slice::from_ref(&p), None).unwrap();
    let sub = d.join("sub");
    assert_eq!(
        c.trust,
        Some(Trust::Ca(CaSource::File(sub.join("pki/ca.crt"))))
    );
    assert_eq!(c.token, TokenConfig::File(sub.join("token")));
    assert!(c.client_cert.is_some());
    let c = load(&[p], Some("e")).unwrap();
    let TokenConfig::Exec(x) = &c.token else {
        panic!("{:?}", c.token)
    };
    assert_eq!(x.command, sub.join("./bin/plugin"));
    assert_eq!(x.interactive_mode, InteractiveMode::IfAvailable);
    assert_eq!(x.env, vec![("E".to_string(), "v".to_string())]);
    let info = x.cluster.as_ref().unwrap();
    assert_eq!(info["server"], "https://h:6443");
    assert_eq!(info["certificate-authority-data"], b64(ca.as_bytes()));
}

#[test]
fn a_kubeconfig_list_merges_first_wins() {
    let d = dir("merge");
    let (ca, _, _) = pki();
    let ca = b64(ca.as_bytes());
    let first = write(
        &d,
        "first",
        &format!(
            r#"current-context: from-first
clusters:
- name: shared
  cluster: {{server: "https://first:6443", certificate-authority-data: {ca}}}
users:
- name: shared
  user: {{token: first-token}}
contexts:
- name: shared
  context: {{cluster: shared, user: shared, namespace: first-ns}}
"#
        ),
    );
    let second = write(
        &d,
        "second",
        &format!(
            r#"current-context: from-second
clusters:
- name: shared
  cluster: {{server: "https://second:6443", certificate-authority-data: {ca}}}
- name: only-second
  cluster: {{server: "https://only-second:6443", certificate-authority-data: {ca}}}
users:
- name: shared
  user: {{token: second-token}}
contexts:
- name: shared
  context: {{cluster: only-second, user: shared, namespace: second-ns}}
- name: from-first
  context: {{cluster: shared, user: shared, namespace: defined-in-second}}
- name: from-second
  context: {{cluster: only-second, user: shared}}
"#
        ),
    );
    // current-context from the first file, its context from the second (the first has none).
    let c = load(&[first.clone(), second.clone()], None).unwrap();
    assert_eq!(c.namespace, "defined-in-second");
    assert_eq!(c.server, "https://first:6443");
    assert_eq!(c.token, TokenConfig::Token(Secret::new("first-token")));
    let c = load(&[first.clone(), second.clone()], Some("shared")).unwrap();
    assert_eq!(c.namespace, "first-ns");
    // The other order: every name the second file defines now wins.
    let c = load(&[second.clone(), first.clone()], None).unwrap();
    assert_eq!(c.server, "https://only-second:6443");
    assert_eq!(c.token, TokenConfig::Token(Secret::new("second-token")));
    let ConfigSource::Kubeconfig { files, context } = c.source else {
        panic!()
    };
    assert_eq!(files, vec![second.clone(), first.clone()]);
    assert_eq!(context, "from-second");

    // Discovery: KUBECONFIG (missing entries skipped), else ~/.kube/config, else the pod's
    // error, which now also names the kubeconfig.
    let list = format!(
        "{}:{}:{}",
        d.join("missing").display(),
        second.display(),
        first.display()
    );
    let env: HashMap<&str, String> = [("KUBECONFIG", list)].into();
    let c = Config::discover_from(&|k| env.get(k).cloned(), None).unwrap();
    assert_eq!(c.server, "https://only-second:6443");
    let home = dir("home");
    write(
        &home,
        ".kube/config",
        &std::fs::read_to_string(&second).unwrap(),
    );
    let env: HashMap<&str, String> = [("HOME", home.display().to_string())].into();
    let c = Config::discover_from(&|k| env.get(k).cloned(), None).unwrap();
    assert_eq!(c.server, "https://only-second:6443");
    let empty = dir("emptyhome");
    let env: HashMap<&str, String> = [("HOME", empty.display().to_string())].into();
    let e = err(Config::discover_from(&|k| env.get(k).cloned(), None));
    assert!(
        e.contains("KUBERNETES_SERVICE_HOST is not set: not running in a pod?"),
        "{e}"
    );
    assert!(e.contains("no kubeconfig"), "{e}");
    let env: HashMap<&str, String> = [
        ("KUBECONFIG", d.join("nope").display().to_string()),
        ("HOME", home.display().to_string()),
    ]
    .into();
    let e = err(Config::discover_from(&|k| env.get(k).cloned(), None));
    assert!(
        e.contains("names no file that exists") && e.contains("nope"),
        "{e}"
    );
    // In a pod, the pod wins even with a kubeconfig around.
    let sa = dir("sa");
    let env: HashMap<&str, String> = [
        ("HOME", home.display().to_string()),
        ("KUBERNETES_SERVICE_HOST", "10.96.0.1".into()),
        ("KUBERNETES_SERVICE_PORT", "443".into()),
    ]
    .into();
    let c = Config::discover_from(&|k| env.get(k).cloned(), Some(&sa)).unwrap();
    assert_eq!(c.source, ConfigSource::InCluster);
}

#[test]
fn every_bad_input_names_the_file_the_context_or_user_and_the_problem() {
    let d = dir("bad");
    let (ca, _, _) = pki();
    let missing = d.join("absent");
    let e = err(load(std::slice::from_ref(&missing), None));
    assert!(
        e.contains(&format!("kubeconfig {} does not exist", missing.display())),
        "{e}"
    );

    let with_user = |user: &str| kubeconfig(&ca, user);
    let good = write(&d, "good", &with_user(&format!("    token: {TOKEN}")));
    let e = err(load(std::slice::from_ref(&good), Some("prod")));
    assert!(
        e.contains("context \"prod\" is not in kubeconfig") && e.contains("dev, bare"),
        "{e}"
    );

    let text = with_user(&format!("    token: {TOKEN}")).replace("user: u1\n", "user: ghost\n");
    let p = write(&d, "ghost", &text);
    let e = err(load(&[p], None));
    assert!(e.contains("user \"ghost\" (of context \"dev\" in"), "{e}");
    let text = with_user("    token: x").replace("cluster: c1\n    user", "cluster: c9\n    user");
    let p = write(&d, "nocluster", &text);
    assert!(err(load(&[p], None)).contains("cluster \"c9\" (of context \"dev\""));

    let p = write(
        &d,
        "malformed",
        &format!(
            "current-context: dev\nusers:\n- name: u\n  user:\n    token: {TOKEN}\n   bad: [\n"
        ),
    );
    let e = err(load(std::slice::from_ref(&p), None));
    assert!(
        e.contains(&p.display().to_string()) && e.contains("at line "),
        "{e}"
    );
    assert!(e.contains("column"), "{e}");
    assert!(!e.contains(TOKEN), "{e}");
    let p = write(
        &d,
        "wrongtype",
        &format!("users:\n- name: u\n  user:\n    token: [{TOKEN}]\n"),
    );
    let e = err(load(&[p], None));
    assert!(e.contains("line 4") && !e.contains(TOKEN), "{e}");

    let p = write(
        &d,
        "authprovider",
        &with_user(
            "    auth-provider:\n      name: oidc\n      config: {id-token: tok-oidc-secret}",
        ),
    );
    let e = err(load(&[p], None));
    assert!(
        e.contains("auth-provider \"oidc\"") && e.contains("does not support"),
        "{e}"
    );
    assert!(!e.contains("tok-oidc-secret"));
    let p = write(
        &d,
        "basic",
        &with_user("    username: admin\n    password: pw-secret"),
    );
    let e = err(load(&[p], None));
    assert!(
        e.contains("basic authentication") && !e.contains("pw-secret"),
        "{e}"
    );

    let exec = |extra: &str| {
        with_user(&format!(
            "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: plugin\n{extra}"
        ))
    };
    let p = write(&d, "always", &exec("      interactiveMode: Always"));
    let e = err(load(&[p], None));
    assert!(
        e.contains("needs a terminal") && e.contains("user \"u1\""),
        "{e}"
    );
    let p = write(&d, "nomode", &exec(""));
    assert!(err(load(&[p], None)).contains("interactiveMode must be set"));
    let p = write(
        &d,
        "oldapi",
        &with_user("    exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: p}"),
    );
    assert!(err(load(&[p], None)).contains("v1alpha1\" is not supported"));

    let noca = with_user("    token: x").replace("    certificate-authority-data:", "    x-ca:");
    let p = write(&d, "noca", &noca);
    let e = err(load(&[p], None));
    assert!(
        e.contains("never the system store") && e.contains("cluster \"c1\""),
        "{e}"
    );
    let both = with_user("    token: x").replace(
        "    tls-server-name",
        "    insecure-skip-tls-verify: true\n    tls-server-name",
    );
    let p = write(&d, "both", &both);
    assert!(err(load(&[p], None)).contains("insecure-skip-tls-verify and a certificate-authority"));
    let insecure = noca.replace(
        "    tls-server-name",
        "    insecure-skip-tls-verify: true\n    tls-server-name",
    );
    let p = write(&d, "insecure", &insecure);
    let c = load(&[p], None).unwrap();
    assert_eq!(c.trust, Some(Trust::DangerInsecureSkipVerify));
    assert!(
        c.kubeconfig_insecure_warning()
            .unwrap()
            .contains("is NOT checked")
    );
    let socks =
        with_user("    token: x").replace("http://proxy.local", "socks5://u:pw-secret@proxy.local");
    let p = write(&d, "socks", &socks);
    let e = err(load(&[p], None));
    assert!(
        e.contains("HTTP proxies") && e.contains("socks5://proxy.local:3128"),
        "{e}"
    );
    assert!(!e.contains("pw-secret"), "{e}");
    let p = write(&d, "nocurrent", "contexts: []\n");
    assert!(err(load(&[p], None)).contains("sets no current-context"));
    let p = write(&d, "empty", "");
    assert!(err(load(&[p], None)).contains("sets no current-context"));
    let tokfile = with_user("    tokenFile: /nonexistent/token");
    let p = write(&d, "tokfile", &tokfile);
    let c = load(&[p], None).unwrap();
    let e = Client::new(c).unwrap_err().to_string();
    assert!(
        e.contains("/nonexistent/token") && e.contains("does not exist"),
        "{e}"
    );
}
