//! One kubeconfig file: its typed shape, parsing (with line and column on error), relative
//! paths made absolute against the file, and merging a `KUBECONFIG` list as kubectl does.
//!
//! Only the fields incluster uses are typed; everything else (preferences, extensions, an
//! auth-provider's config) is skipped unread. Secret fields are `Zeroizing`, and the file's
//! text is wiped once parsed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::core::error::{Error, Result};

/// A kubeconfig file as written.
#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RawConfig {
    pub clusters: Option<Vec<NamedCluster>>,
    pub users: Option<Vec<NamedUser>>,
    pub contexts: Option<Vec<NamedContext>>,
    pub current_context: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct NamedCluster {
    pub name: String,
    pub cluster: Option<RawCluster>,
}

/// `clusters[].cluster`.
#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RawCluster {
    pub server: Option<String>,
    pub certificate_authority: Option<String>,
    pub certificate_authority_data: Option<String>,
    pub insecure_skip_tls_verify: Option<bool>,
    pub tls_server_name: Option<String>,
    pub proxy_url: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct NamedUser {
    pub name: String,
    pub user: Option<RawUser>,
}

/// `users[].user`. No `Debug`: it holds secrets.
#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RawUser {
    pub token: Option<Zeroizing<String>>,
    #[serde(rename = "tokenFile")]
    pub token_file: Option<String>,
    pub client_certificate: Option<String>,
    pub client_certificate_data: Option<String>,
    pub client_key: Option<String>,
    pub client_key_data: Option<Zeroizing<String>>,
    pub username: Option<String>,
    pub password: Option<Zeroizing<String>>,
    pub auth_provider: Option<AuthProvider>,
    pub exec: Option<RawExec>,
}

/// `users[].user.auth-provider`: only its name is read (its config holds secrets).
#[derive(Deserialize)]
pub(crate) struct AuthProvider {
    pub name: Option<String>,
}

/// `users[].user.exec`.
#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawExec {
    pub api_version: Option<String>,
    pub command: Option<String>,
    pub args: Option<Vec<String>>,
    pub env: Option<Vec<EnvVar>>,
    pub install_hint: Option<String>,
    pub provide_cluster_info: Option<bool>,
    pub interactive_mode: Option<String>,
}

#[derive(Deserialize, Clone)]
pub(crate) struct EnvVar {
    pub name: String,
    pub value: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct NamedContext {
    pub name: String,
    pub context: Option<RawContext>,
}

/// `contexts[].context`.
#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RawContext {
    pub cluster: Option<String>,
    pub user: Option<String>,
    pub namespace: Option<String>,
}

/// Read and parse one file. Errors name the file; a YAML error gives its line and column but
/// not the parser's text, which may quote the document (and so a token).
pub(crate) fn read(path: &Path) -> Result<RawConfig> {
    let origin = format!("kubeconfig {}", path.display());
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::config(format!("{origin} does not exist")),
        std::io::ErrorKind::PermissionDenied => {
            Error::config(format!("{origin} is not readable: permission denied"))
        }
        std::io::ErrorKind::IsADirectory => Error::config(format!("{origin} is a directory")),
        _ => Error::config(format!("{origin} could not be read: {e}")),
    })?);
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Error::config(format!("{origin} is not UTF-8 text")))?;
    let mut raw = parse(text, &origin)?;
    let base = path.parent().unwrap_or(Path::new("."));
    make_absolute(&mut raw, base);
    Ok(raw)
}

/// Parse a kubeconfig document; `origin` names it in errors.
pub(crate) fn parse(text: &str, origin: &str) -> Result<RawConfig> {
    if text.trim().is_empty() {
        // kubectl reads an empty file as an empty config.
        return Ok(RawConfig::default());
    }
    serde_saphyr::from_str::<RawConfig>(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(" at line {}, column {}", l.line(), l.column()))
            .unwrap_or_default();
        Error::config(format!(
            "{origin} is not a valid kubeconfig: malformed YAML or a field of the wrong \
             type{at} ({})",
            what(&e)
        ))
    })
}

/// A short, content-free description of a parse error.
fn what(e: &serde_saphyr::Error) -> &'static str {
    use serde_saphyr::Error as E;
    match e {
        E::SerdeInvalidType { .. } | E::SerdeInvalidValue { .. } => "a value of the wrong type",
        E::SerdeMissingField { .. } => "a required field is missing",
        E::DuplicateMappingKey { .. } => "a key appears twice",
        E::Eof { .. } => "the document ends early",
        _ => "not valid YAML",
    }
}

fn absolute(base: &Path, p: &mut Option<String>) {
    if let Some(s) = p.as_mut()
        && !s.is_empty()
        && Path::new(s.as_str()).is_relative()
    {
        *s = base.join(s.as_str()).display().to_string();
    }
}

/// Relative file paths are relative to the file that names them (client-go's `ResolvePaths`);
/// an exec command is made absolute only when it names a path (has a `/`), else `PATH` finds it.
fn make_absolute(raw: &mut RawConfig, base: &Path) {
    for c in raw.clusters.iter_mut().flatten() {
        if let Some(c) = c.cluster.as_mut() {
            absolute(base, &mut c.certificate_authority);
        }
    }
    for u in raw.users.iter_mut().flatten() {
        if let Some(u) = u.user.as_mut() {
            absolute(base, &mut u.token_file);
            absolute(base, &mut u.client_certificate);
            absolute(base, &mut u.client_key);
            if let Some(x) = u.exec.as_mut()
                && x.command.as_deref().is_some_and(|c| c.contains('/'))
            {
                absolute(base, &mut x.command);
            }
        }
    }
}

/// A named entry and the file it came from.
pub(crate) struct Entry<T> {
    pub file: PathBuf,
    pub value: T,
}

/// A `KUBECONFIG` list merged: for each name the first file that defines it wins, and the
/// first `current-context` set wins (kubectl's rules).
#[derive(Default)]
pub(crate) struct Merged {
    pub files: Vec<PathBuf>,
    pub current_context: Option<Entry<String>>,
    pub clusters: HashMap<String, Entry<RawCluster>>,
    pub users: HashMap<String, Entry<RawUser>>,
    pub contexts: HashMap<String, Entry<RawContext>>,
    /// Context names in the order first seen, for messages.
    pub context_names: Vec<String>,
}

impl Merged {
    /// Add the next file of the list (later files fill in only what earlier ones left unset).
    pub fn add(&mut self, file: &Path, raw: RawConfig) {
        self.files.push(file.to_path_buf());
        if self.current_context.is_none()
            && let Some(c) = raw.current_context.filter(|c| !c.is_empty())
        {
            self.current_context = Some(Entry {
                file: file.to_path_buf(),
                value: c,
            });
        }
        for c in raw.clusters.into_iter().flatten() {
            self.clusters.entry(c.name).or_insert_with(|| Entry {
                file: file.to_path_buf(),
                value: c.cluster.unwrap_or_default(),
            });
        }
        for u in raw.users.into_iter().flatten() {
            self.users.entry(u.name).or_insert_with(|| Entry {
                file: file.to_path_buf(),
                value: u.user.unwrap_or_default(),
            });
        }
        for c in raw.contexts.into_iter().flatten() {
            if !self.contexts.contains_key(&c.name) {
                self.context_names.push(c.name.clone());
                self.contexts.insert(
                    c.name,
                    Entry {
                        file: file.to_path_buf(),
                        value: c.context.unwrap_or_default(),
                    },
                );
            }
        }
    }

    /// The files, for messages: `/a/config` or `/a/config:/b/config`.
    pub fn describe_files(&self) -> String {
        let names: Vec<String> = self.files.iter().map(|p| p.display().to_string()).collect();
        names.join(":")
    }
}
