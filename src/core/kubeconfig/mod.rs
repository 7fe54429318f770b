//! Kubeconfig: the same program off-cluster, configured as kubectl is.
//!
//! Follows client-go's `clientcmd`: the `KUBECONFIG` list (colon-separated; files that do
//! not exist are skipped) or `~/.kube/config`, merged so that the first file to set a value
//! wins; the context given or the `current-context`; relative paths against the file that
//! named them. What incluster does not support (an `auth-provider`, basic auth) is an error
//! that says so, never a client that silently goes out anonymous.
//!
//! Two policies differ from kubectl on purpose: a cluster without a CA is refused rather than
//! checked against the system store (the roots are the cluster CA only, as in a pod), and an
//! exec plugin never gets a terminal (`interactiveMode: Always` is refused).

mod file;

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::{Value, json};

use crate::core::auth::exec::{API_VERSIONS, ExecConfig, InteractiveMode};
use crate::core::auth::secret::{Secret, SecretBytes};
use crate::core::config::{Config, ConfigSource, TokenConfig};
use crate::core::error::{Error, Result};
use crate::core::tls::Trust;
use crate::core::tls::identity::ClientCert;
use crate::core::tls::roots::CaSource;
use file::{Entry, Merged, RawCluster, RawUser};

/// The files discovery reads when no path is given: the existing files of the `KUBECONFIG`
/// list, else `$HOME/.kube/config` if it exists, else `None`. A `KUBECONFIG` that names only
/// missing files is an error naming them.
pub fn default_files(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Vec<PathBuf>>> {
    if let Some(list) = env("KUBECONFIG").filter(|v| !v.trim().is_empty()) {
        let mut files: Vec<PathBuf> = Vec::new();
        for p in std::env::split_paths(&list) {
            if !p.as_os_str().is_empty() && !files.contains(&p) {
                files.push(p);
            }
        }
        let existing: Vec<PathBuf> = files.iter().filter(|p| p.exists()).cloned().collect();
        if existing.is_empty() {
            return Err(Error::config(format!(
                "KUBECONFIG={list:?} names no file that exists"
            )));
        }
        return Ok(Some(existing));
    }
    let Some(home) = env("HOME").filter(|h| !h.trim().is_empty()) else {
        return Ok(None);
    };
    let p = Path::new(&home).join(".kube").join("config");
    Ok(p.exists().then(|| vec![p]))
}

/// Read and merge `files` (first wins) and build the settings for `context` (else the
/// `current-context`).
pub fn load(files: &[PathBuf], context: Option<&str>) -> Result<Config> {
    let mut merged = Merged::default();
    for f in files {
        merged.add(f, file::read(f)?);
    }
    build(&merged, context)
}

/// The settings a merged kubeconfig gives for `context`.
fn build(m: &Merged, context: Option<&str>) -> Result<Config> {
    let files = m.describe_files();
    let known = || {
        if m.context_names.is_empty() {
            "it defines no context".to_owned()
        } else {
            format!("its contexts: {}", m.context_names.join(", "))
        }
    };
    let name = match context.filter(|c| !c.is_empty()) {
        Some(c) => c.to_owned(),
        None => match &m.current_context {
            Some(c) => c.value.clone(),
            None => {
                return Err(Error::config(format!(
                    "kubeconfig {files} sets no current-context and no context was given ({})",
                    known()
                )));
            }
        },
    };
    let ctx = m.contexts.get(&name).ok_or_else(|| {
        Error::config(format!(
            "context {name:?} is not in kubeconfig {files} ({})",
            known()
        ))
    })?;
    let in_ctx = format!("context {name:?} in {}", ctx.file.display());
    let cluster_name = ctx
        .value
        .cluster
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| Error::config(format!("{in_ctx} names no cluster")))?;
    let cluster = m.clusters.get(cluster_name).ok_or_else(|| {
        Error::config(format!(
            "cluster {cluster_name:?} (of {in_ctx}) is not in kubeconfig {files}"
        ))
    })?;
    let mut cfg = cluster_config(cluster_name, cluster)?;
    cfg.namespace = ctx
        .value
        .namespace
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "default".into());
    match ctx.value.user.as_deref().filter(|u| !u.is_empty()) {
        // No user: the kubeconfig asks for anonymous requests.
        None => {}
        Some(user_name) => {
            let user = m.users.get(user_name).ok_or_else(|| {
                Error::config(format!(
                    "user {user_name:?} (of {in_ctx}) is not in kubeconfig {files}"
                ))
            })?;
            apply_user(&mut cfg, user_name, user, cluster)?;
        }
    }
    cfg.source = ConfigSource::Kubeconfig {
        files: m.files.clone(),
        context: name,
    };
    Ok(cfg)
}

fn cluster_config(name: &str, e: &Entry<RawCluster>) -> Result<Config> {
    let origin = format!("cluster {name:?} in {}", e.file.display());
    let c = &e.value;
    let server = c
        .server
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| Error::config(format!("{origin} has no server")))?;
    let mut cfg =
        Config::new(server).map_err(|err| Error::config(format!("{origin}: {}", message(&err))))?;
    let insecure = c.insecure_skip_tls_verify == Some(true);
    let ca_data = c
        .certificate_authority_data
        .as_deref()
        .filter(|d| !d.is_empty());
    let ca_file = c.certificate_authority.as_deref().filter(|f| !f.is_empty());
    cfg.trust = match (insecure, ca_data, ca_file) {
        (true, None, None) => Some(Trust::DangerInsecureSkipVerify),
        (true, _, _) => {
            return Err(Error::config(format!(
                "{origin} sets insecure-skip-tls-verify and a certificate-authority: give one \
                 or the other (kubectl refuses this too)"
            )));
        }
        (false, Some(d), _) => Some(Trust::Ca(CaSource::Pem(
            base64::engine::general_purpose::STANDARD
                .decode(d.trim())
                .map_err(|_| {
                    Error::config(format!(
                        "{origin}: certificate-authority-data is not valid base64"
                    ))
                })?,
        ))),
        (false, None, Some(f)) => Some(Trust::Ca(CaSource::File(f.into()))),
        (false, None, None) if cfg.is_https() => {
            return Err(Error::config(format!(
                "{origin} has no certificate-authority or certificate-authority-data: incluster \
                 trusts only the cluster's CA, never the system store (add the CA, or, for \
                 debugging only, insecure-skip-tls-verify: true)"
            )));
        }
        (false, None, None) => None,
    };
    cfg.tls_server_name = c.tls_server_name.clone().filter(|n| !n.is_empty());
    if let Some(n) = &cfg.tls_server_name {
        rustls_pki_types::ServerName::try_from(n.as_str()).map_err(|_| {
            Error::config(format!(
                "{origin}: tls-server-name {n:?} is not a valid DNS name or IP address"
            ))
        })?;
    }
    if let Some(p) = c.proxy_url.as_deref().filter(|p| !p.is_empty()) {
        // Named by scheme, host and port only: a proxy URL may carry a password.
        let shown = without_userinfo(p);
        if !p.starts_with("http://") {
            return Err(Error::config(format!(
                "{origin}: proxy-url {shown:?} is not supported: incluster speaks to HTTP \
                 proxies (http://host:port) only"
            )));
        }
        ureq::Proxy::new(p).map_err(|_| {
            Error::config(format!("{origin}: proxy-url {shown:?} is not a valid URL"))
        })?;
        cfg.proxy_url = Some(Secret::new(p));
    }
    Ok(cfg)
}

/// A URL without its `user:password@`.
fn without_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (auth, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
            format!("{scheme}://{host}{path}")
        }
        None => url.rsplit_once('@').map_or(url, |(_, h)| h).to_owned(),
    }
}

/// The text of a config error, without its kind.
fn message(e: &Error) -> String {
    match e {
        Error::Config(m) | Error::InvalidArgument(m) => m.clone(),
        other => other.to_string(),
    }
}

fn apply_user(
    cfg: &mut Config,
    name: &str,
    e: &Entry<RawUser>,
    cluster: &Entry<RawCluster>,
) -> Result<()> {
    let origin = format!("user {name:?} in {}", e.file.display());
    let u = &e.value;
    if let Some(p) = &u.auth_provider {
        return Err(Error::config(format!(
            "{origin} uses auth-provider {:?}, which incluster does not support (the \
             provider plugins were removed from client-go too): use an exec credential plugin",
            p.name.as_deref().unwrap_or("")
        )));
    }
    if u.username.is_some() || u.password.is_some() {
        return Err(Error::config(format!(
            "{origin} uses basic authentication (username/password), which incluster does \
             not support (Kubernetes removed it): use a token, a client certificate or an \
             exec credential plugin"
        )));
    }
    let token = u
        .token
        .as_ref()
        .map(|t| t.as_str())
        .filter(|t| !t.is_empty());
    let token_file = u.token_file.as_deref().filter(|t| !t.is_empty());
    if let Some(x) = &u.exec {
        if token.is_some() || token_file.is_some() {
            return Err(Error::config(format!(
                "{origin} has both an exec plugin and a token or tokenFile: keep one"
            )));
        }
        cfg.token = TokenConfig::Exec(Box::new(exec_config(x, &origin, cluster)?));
    } else if let Some(f) = token_file {
        // client-go reads tokenFile over token when both are set.
        cfg.token = TokenConfig::File(f.into());
    } else if let Some(t) = token {
        cfg.token = TokenConfig::Token(Secret::new(t));
    }
    cfg.client_cert = client_cert(u, &origin)?;
    Ok(())
}

fn read_file(path: &str, what: &str, origin: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            Error::config(format!("{origin}: {what} {path} does not exist"))
        }
        _ => Error::config(format!("{origin}: {what} {path} could not be read: {e}")),
    })
}

fn decode(data: &str, what: &str, origin: &str) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|_| Error::config(format!("{origin}: {what} is not valid base64")))
}

fn client_cert(u: &RawUser, origin: &str) -> Result<Option<ClientCert>> {
    let cert = match (
        u.client_certificate_data
            .as_deref()
            .filter(|d| !d.is_empty()),
        u.client_certificate.as_deref().filter(|f| !f.is_empty()),
    ) {
        (Some(d), _) => Some(decode(d, "client-certificate-data", origin)?),
        (None, Some(f)) => Some(read_file(f, "client-certificate", origin)?),
        (None, None) => None,
    };
    let key = match (
        u.client_key_data
            .as_ref()
            .map(|d| d.as_str())
            .filter(|d| !d.is_empty()),
        u.client_key.as_deref().filter(|f| !f.is_empty()),
    ) {
        (Some(d), _) => Some(SecretBytes::new(decode(d, "client-key-data", origin)?)),
        (None, Some(f)) => Some(SecretBytes::new(read_file(f, "client-key", origin)?)),
        (None, None) => None,
    };
    match (cert, key) {
        (Some(cert_pem), Some(key_pem)) => {
            let pair = ClientCert {
                cert_pem,
                key_pem,
                origin: origin.to_owned(),
            };
            // Parse now, so a broken pair fails here naming the user.
            pair.certified_key()?;
            Ok(Some(pair))
        }
        (None, None) => Ok(None),
        (Some(_), None) => Err(Error::config(format!(
            "{origin} has a client certificate but no client-key or client-key-data"
        ))),
        (None, Some(_)) => Err(Error::config(format!(
            "{origin} has a client key but no client-certificate or client-certificate-data"
        ))),
    }
}

fn exec_config(x: &file::RawExec, origin: &str, cluster: &Entry<RawCluster>) -> Result<ExecConfig> {
    let api_version = x.api_version.clone().unwrap_or_default();
    if !API_VERSIONS.contains(&api_version.as_str()) {
        return Err(Error::config(format!(
            "{origin}: exec apiVersion {api_version:?} is not supported (use {})",
            API_VERSIONS.join(" or ")
        )));
    }
    let command = x
        .command
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| Error::config(format!("{origin}: exec has no command")))?;
    let interactive_mode = match x.interactive_mode.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => m.parse().map_err(|_| {
            Error::config(format!(
                "{origin}: exec interactiveMode {m:?} is not Never, IfAvailable or Always"
            ))
        })?,
        None if api_version.ends_with("/v1") => {
            return Err(Error::config(format!(
                "{origin}: exec interactiveMode must be set for {api_version} (Never, \
                 IfAvailable or Always)"
            )));
        }
        None => InteractiveMode::IfAvailable,
    };
    if interactive_mode == InteractiveMode::Always {
        return Err(Error::config(format!(
            "{origin}: exec plugin {command} needs a terminal (interactiveMode: Always), and \
             incluster runs plugins without one: log in with it first, or use a plugin that \
             runs non-interactively"
        )));
    }
    let cluster = (x.provide_cluster_info == Some(true)).then(|| cluster_info(&cluster.value));
    Ok(ExecConfig {
        api_version,
        command: PathBuf::from(command),
        args: x.args.clone().unwrap_or_default(),
        env: x
            .env
            .iter()
            .flatten()
            .map(|v| (v.name.clone(), v.value.clone().unwrap_or_default()))
            .collect(),
        interactive_mode,
        cluster,
        install_hint: x.install_hint.clone().filter(|h| !h.trim().is_empty()),
        origin: origin.to_owned(),
    })
}

/// `KUBERNETES_EXEC_INFO`'s `spec.cluster` (client-go's `clientauthentication.Cluster`).
fn cluster_info(c: &RawCluster) -> Value {
    let ca = c.certificate_authority_data.clone().or_else(|| {
        c.certificate_authority
            .as_deref()
            .and_then(|f| std::fs::read(f).ok())
            .map(|b| base64::engine::general_purpose::STANDARD.encode(b))
    });
    let mut v = json!({ "server": c.server.clone().unwrap_or_default() });
    if let Some(n) = &c.tls_server_name {
        v["tls-server-name"] = json!(n);
    }
    if c.insecure_skip_tls_verify == Some(true) {
        v["insecure-skip-tls-verify"] = json!(true);
    }
    if let Some(ca) = ca {
        v["certificate-authority-data"] = json!(ca);
    }
    if let Some(p) = &c.proxy_url {
        v["proxy-url"] = json!(p);
    }
    v
}

#[cfg(test)]
mod tests;
