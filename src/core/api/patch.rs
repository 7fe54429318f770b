//! The four patch flavours the API server accepts and what each needs on the wire.
//!
//! Every front (C, Python, CLI) builds a [`Patch`] through [`Patch::new`] or [`Patch::parse`],
//! so which options go with which patch type is decided here once: `fieldManager` is sent for
//! every type (the server records it in `managedFields` for all of them), `force` is refused
//! for anything but server-side apply (the server ignores it there, so accepting it would
//! silently do nothing).

use std::fmt;
use std::str::FromStr;

use crate::core::error::{Error, Result};

/// The field manager an apply patch gets when the caller names none: the server rejects an
/// apply without one.
pub const DEFAULT_FIELD_MANAGER: &str = "incluster";

/// A patch type (see "Patch operations" in the Kubernetes API conventions). Parses from and
/// prints as the names kubectl's `--type` uses: `json`, `merge`, `strategic`, `apply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// RFC 6902 JSON Patch: a list of operations.
    Json,
    /// RFC 7386 JSON Merge Patch.
    Merge,
    /// Kubernetes strategic merge patch (built-in types only).
    StrategicMerge,
    /// Server-side apply.
    Apply,
}

impl PatchType {
    /// Every patch type, in the order the names are listed in messages.
    pub const ALL: [PatchType; 4] = [
        PatchType::Json,
        PatchType::Merge,
        PatchType::StrategicMerge,
        PatchType::Apply,
    ];

    /// The name used by `FromStr`/`Display` (`json`, `merge`, `strategic`, `apply`).
    pub fn name(self) -> &'static str {
        match self {
            PatchType::Json => "json",
            PatchType::Merge => "merge",
            PatchType::StrategicMerge => "strategic",
            PatchType::Apply => "apply",
        }
    }

    /// The `Content-Type` of the request body.
    pub fn content_type(self) -> &'static str {
        match self {
            PatchType::Json => "application/json-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::StrategicMerge => "application/strategic-merge-patch+json",
            PatchType::Apply => "application/apply-patch+yaml",
        }
    }
}

impl fmt::Display for PatchType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PatchType {
    type Err = Error;

    /// Parse `json`, `merge`, `strategic` or `apply`; anything else is an
    /// [`Error::InvalidArgument`] listing the choices.
    fn from_str(s: &str) -> Result<PatchType> {
        PatchType::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "patch type {s:?} is not one of \"json\", \"merge\", \"strategic\", \"apply\""
                ))
            })
    }
}

/// A patch type with its options, checked: build with [`Patch::new`] or [`Patch::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    kind: PatchType,
    field_manager: Option<String>,
    force: bool,
}

impl Patch {
    /// A patch of type `kind`. `field_manager` is sent as `fieldManager` for every type
    /// (for apply, `None` gives [`DEFAULT_FIELD_MANAGER`], since the server requires one);
    /// `force` (take over fields other managers own) is only meaningful for apply, so asking
    /// for it with another type is an [`Error::InvalidArgument`] naming `force` and the type.
    /// An empty field manager is refused too: the server would reject it with a less clear
    /// message.
    pub fn new(kind: PatchType, field_manager: Option<&str>, force: bool) -> Result<Patch> {
        if force && kind != PatchType::Apply {
            return Err(Error::invalid(format!(
                "force is only valid for an apply patch, not for a {kind} patch"
            )));
        }
        if field_manager.is_some_and(str::is_empty) {
            return Err(Error::invalid("field manager must not be empty"));
        }
        let field_manager = match (field_manager, kind) {
            (Some(m), _) => Some(m.to_owned()),
            (None, PatchType::Apply) => Some(DEFAULT_FIELD_MANAGER.to_owned()),
            (None, _) => None,
        };
        Ok(Patch {
            kind,
            field_manager,
            force,
        })
    }

    /// [`Patch::new`] with the type given by name (`json`, `merge`, `strategic`, `apply`).
    pub fn parse(kind: &str, field_manager: Option<&str>, force: bool) -> Result<Patch> {
        Patch::new(kind.parse()?, field_manager, force)
    }

    /// The patch type.
    pub fn kind(&self) -> PatchType {
        self.kind
    }

    /// The field manager that will be sent, if any.
    pub fn field_manager(&self) -> Option<&str> {
        self.field_manager.as_deref()
    }

    /// Whether an apply takes over conflicting fields.
    pub fn force(&self) -> bool {
        self.force
    }

    /// The `Content-Type` of the request body.
    pub fn content_type(&self) -> &'static str {
        self.kind.content_type()
    }

    /// Query parameters the patch adds: `fieldManager` when there is one, `force=true` for a
    /// forced apply.
    pub fn query(&self) -> Vec<(String, String)> {
        let mut q = Vec::new();
        if let Some(m) = &self.field_manager {
            q.push(("fieldManager".to_owned(), m.clone()));
        }
        if self.force {
            q.push(("force".to_owned(), "true".to_owned()));
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bad_names_list_the_choices() {
        for t in PatchType::ALL {
            assert_eq!(t.to_string().parse::<PatchType>().unwrap(), t);
        }
        let e = "yaml".parse::<PatchType>().unwrap_err();
        assert_eq!(e.kind(), crate::core::error::ErrorKind::InvalidArgument);
        assert!(e.to_string().contains("\"yaml\" is not one of"), "{e}");
    }

    #[test]
    fn field_manager_goes_with_every_type_and_force_only_with_apply() {
        let q = |p: Patch| p.query();
        let fm = |v: &str| ("fieldManager".to_string(), v.to_string());
        for t in [PatchType::Json, PatchType::Merge, PatchType::StrategicMerge] {
            assert_eq!(q(Patch::new(t, Some("me"), false).unwrap()), vec![fm("me")]);
            assert!(q(Patch::new(t, None, false).unwrap()).is_empty());
            let e = Patch::new(t, Some("me"), true).unwrap_err().to_string();
            assert!(
                e.contains("force") && e.contains(&format!("not for a {t} patch")),
                "{e}"
            );
        }
        assert_eq!(
            q(Patch::new(PatchType::Apply, None, false).unwrap()),
            vec![fm(DEFAULT_FIELD_MANAGER)]
        );
        assert_eq!(
            q(Patch::parse("apply", Some("me"), true).unwrap()),
            vec![fm("me"), ("force".into(), "true".into())]
        );
        assert!(Patch::parse("merge", Some(""), false).is_err());
    }
}
