//! The four patch flavours the API server accepts and what each needs on the wire.

/// A patch type (see "Patch operations" in the Kubernetes API conventions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchType {
    /// RFC 6902 JSON Patch: a list of operations.
    Json,
    /// RFC 7386 JSON Merge Patch.
    Merge,
    /// Kubernetes strategic merge patch (built-in types only).
    StrategicMerge,
    /// Server-side apply. `field_manager` is required by the server; `force` takes ownership
    /// of conflicting fields.
    Apply {
        /// The manager name recorded in `managedFields`.
        field_manager: String,
        /// Override conflicts.
        force: bool,
    },
}

impl PatchType {
    /// The `Content-Type` of the request body.
    pub fn content_type(&self) -> &'static str {
        match self {
            PatchType::Json => "application/json-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::StrategicMerge => "application/strategic-merge-patch+json",
            PatchType::Apply { .. } => "application/apply-patch+yaml",
        }
    }

    /// Query parameters the patch type adds.
    pub fn query(&self) -> Vec<(String, String)> {
        match self {
            PatchType::Apply {
                field_manager,
                force,
            } => {
                let mut q = vec![("fieldManager".to_string(), field_manager.clone())];
                if *force {
                    q.push(("force".to_string(), "true".to_string()));
                }
                q
            }
            _ => Vec::new(),
        }
    }

    /// Parse a name: `json`, `merge`, `strategic`, `apply`.
    pub fn from_name(name: &str, field_manager: Option<&str>, force: bool) -> Option<PatchType> {
        Some(match name {
            "json" => PatchType::Json,
            "merge" => PatchType::Merge,
            "strategic" => PatchType::StrategicMerge,
            "apply" => PatchType::Apply {
                field_manager: field_manager.unwrap_or("incluster").to_owned(),
                force,
            },
            _ => return None,
        })
    }
}
