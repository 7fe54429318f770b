//! The bearer token: where it comes from, and re-reading it when the kubelet rotates it.
//!
//! The kubelet writes projected tokens with an atomic writer: `token` is a symlink to
//! `..data/token`, and `..data` is a symlink that is swapped to a new timestamped folder on
//! every rotation. So the token is re-opened *by path* (never kept open, never watched by inode)
//! and a cheap `stat` before each request tells whether the file behind the path changed. If the
//! check is ever fooled (same inode, size and times), the token is still re-read at least every
//! [`MAX_AGE`], and once more after a 401.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::core::auth::exec::ExecSource;
use crate::core::auth::secret::Secret;
use crate::core::error::{Error, Result};
use crate::core::filestamp::FileStamp as Stamp;

/// The longest a file token is used without re-reading the file, even if it looks unchanged.
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// The state of a file token: the header value built from its last good read.
#[derive(Debug)]
struct FileState {
    header: Arc<Secret>,
    stamp: Stamp,
    read_at: Instant,
}

#[derive(Debug)]
enum Source {
    None,
    Fixed(Arc<Secret>),
    File {
        path: PathBuf,
        state: RwLock<FileState>,
    },
    Exec(Arc<ExecSource>),
}

/// Supplies the `Authorization` header value for each request. Thread-safe.
#[derive(Debug)]
pub struct TokenSource(Source);

fn bearer(token: &str) -> Arc<Secret> {
    Arc::new(Secret::new(format!("Bearer {token}")))
}

/// Check a token read from `origin` and return it trimmed. Errors name `origin`, never the token.
pub fn validate_token(raw: &str, origin: &str) -> Result<String> {
    let token = raw.trim();
    if token.is_empty() {
        return Err(Error::config(format!("{origin} is empty")));
    }
    // A header value must be visible ASCII; a token with a newline in the middle is a broken
    // file, not something to send.
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::config(format!(
            "{origin} holds characters that cannot be sent in an HTTP header (spaces, control \
             characters or non-ASCII bytes)"
        )));
    }
    Ok(token.to_owned())
}

/// Read and validate a token file. Errors name the file and what is wrong with it.
pub fn read_token_file(path: &Path) -> Result<String> {
    let origin = format!("token file {}", path.display());
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => Error::config(format!("{origin} does not exist")),
        io::ErrorKind::PermissionDenied => {
            Error::config(format!("{origin} is not readable: permission denied"))
        }
        _ => Error::config(format!("{origin} could not be read: {e}")),
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::config(format!("{origin} is not valid UTF-8 text")))?;
    validate_token(&text, &origin)
}

impl TokenSource {
    /// No token: requests are anonymous (the `kubectl proxy` route).
    pub fn none() -> Self {
        TokenSource(Source::None)
    }

    /// A fixed token given by the caller.
    pub fn fixed(token: &str) -> Result<Self> {
        let token = validate_token(token, "the token given")?;
        Ok(TokenSource(Source::Fixed(bearer(&token))))
    }

    /// A token read from `path` now and re-read whenever the file behind the path changes.
    pub fn file(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let stamp = Stamp::of(&path);
        let token = read_token_file(&path)?;
        let stamp = stamp.map_err(|e| {
            Error::config(format!(
                "token file {} could not be read: {e}",
                path.display()
            ))
        })?;
        Ok(TokenSource(Source::File {
            state: RwLock::new(FileState {
                header: bearer(&token),
                stamp,
                read_at: Instant::now(),
            }),
            path,
        }))
    }

    /// Credentials from an exec plugin, run when first needed (see [`ExecSource`]).
    pub fn exec(source: Arc<ExecSource>) -> Self {
        TokenSource(Source::Exec(source))
    }

    /// The header for the next request, as [`TokenSource::header`], except that a failure to
    /// get a credential (an exec plugin that failed) is an error rather than no header.
    pub fn prepare(&self) -> Result<Option<Arc<Secret>>> {
        match &self.0 {
            Source::Exec(e) => e.header(),
            _ => Ok(self.header()),
        }
    }

    /// The path of the token file, if the token comes from one.
    pub fn path(&self) -> Option<&Path> {
        match &self.0 {
            Source::File { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The `Authorization` header value for the next request (`None` when anonymous).
    ///
    /// For a file token this costs one `stat`; the file is re-read only when it changed or the
    /// last read is older than [`MAX_AGE`]. A failed re-read keeps the last good token.
    pub fn header(&self) -> Option<Arc<Secret>> {
        match &self.0 {
            Source::None => None,
            Source::Fixed(h) => Some(h.clone()),
            Source::Exec(e) => e.header().ok().flatten(),
            Source::File { path, state } => {
                let now = Stamp::of(path).ok();
                {
                    let s = state.read().unwrap_or_else(|p| p.into_inner());
                    if now == Some(s.stamp) && s.read_at.elapsed() < MAX_AGE {
                        return Some(s.header.clone());
                    }
                }
                Some(self.reread(path, state, now))
            }
        }
    }

    /// Re-read the token after the server answered 401 with `sent`. Returns the new header if
    /// the token changed (so the request is worth retrying once), `None` otherwise.
    pub fn refresh_after_unauthorized(&self, sent: &Secret) -> Option<Arc<Secret>> {
        match &self.0 {
            Source::File { path, state } => {
                let fresh = self.reread(path, state, Stamp::of(path).ok());
                (fresh.expose() != sent.expose()).then_some(fresh)
            }
            Source::Exec(e) => e.refresh_after_unauthorized(sent),
            _ => None,
        }
    }

    fn reread(&self, path: &Path, state: &RwLock<FileState>, stamp: Option<Stamp>) -> Arc<Secret> {
        let mut s = state.write().unwrap_or_else(|p| p.into_inner());
        // Keep the last good token when the file is briefly missing or empty mid-rotation.
        if let (Some(stamp), Ok(token)) = (stamp, read_token_file(path)) {
            if token != s.header.expose()["Bearer ".len()..] {
                s.header = bearer(&token);
            }
            s.stamp = stamp;
        }
        s.read_at = Instant::now();
        s.header.clone()
    }

    /// The current raw token (for decoding its claims), without the `Bearer ` prefix.
    pub fn current_token(&self) -> Option<Secret> {
        self.header()
            .map(|h| Secret::new(&h.expose()["Bearer ".len()..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("incluster-token-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn rereads_after_symlink_swap_and_keeps_last_good() {
        let d = tmpdir("swap");
        std::fs::create_dir(d.join("..v1")).unwrap();
        std::fs::write(d.join("..v1/token"), "one\n").unwrap();
        std::os::unix::fs::symlink("..v1", d.join("..data")).unwrap();
        std::os::unix::fs::symlink("..data/token", d.join("token")).unwrap();
        let src = TokenSource::file(d.join("token")).unwrap();
        assert_eq!(src.header().unwrap().expose(), "Bearer one");

        std::fs::create_dir(d.join("..v2")).unwrap();
        std::fs::write(d.join("..v2/token"), "two").unwrap();
        std::os::unix::fs::symlink("..v2", d.join("..tmp")).unwrap();
        std::fs::rename(d.join("..tmp"), d.join("..data")).unwrap();
        assert_eq!(src.header().unwrap().expose(), "Bearer two");

        // A broken file keeps the last good token.
        std::fs::write(d.join("..v2/token"), "").unwrap();
        assert_eq!(src.header().unwrap().expose(), "Bearer two");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn errors_name_the_file_and_not_the_token() {
        let d = tmpdir("errs");
        let missing = TokenSource::file(d.join("nope")).unwrap_err().to_string();
        assert!(
            missing.contains("nope") && missing.contains("does not exist"),
            "{missing}"
        );
        std::fs::write(d.join("empty"), " \n").unwrap();
        let empty = TokenSource::file(d.join("empty")).unwrap_err().to_string();
        assert!(empty.contains("is empty"), "{empty}");
        std::fs::write(d.join("bad"), "abc def-secretpart").unwrap();
        let bad = TokenSource::file(d.join("bad")).unwrap_err().to_string();
        assert!(
            bad.contains("cannot be sent") && !bad.contains("secretpart"),
            "{bad}"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
