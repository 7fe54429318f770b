//! A cheap "did the file behind this path change?" check, shared by the token and ca.crt
//! reloaders. `stat` follows symlinks, so a kubelet `..data` swap shows up as a new inode.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Identity of the file behind a path: any rotation changes at least one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileStamp {
    /// Stat `path` (following symlinks).
    pub fn of(path: &Path) -> io::Result<FileStamp> {
        let m = std::fs::metadata(path)?;
        Ok(FileStamp {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        })
    }
}
