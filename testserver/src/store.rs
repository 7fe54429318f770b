//! The in-memory ConfigMap store, shared by every connection.
//!
//! Errors are returned as [`ApiFailure`] (status, reason, message) and turned into Kubernetes
//! `Status` bodies by the API layer.
//!
//! Every write bumps the global resourceVersion by one and appends a [`Change`] to a bounded
//! history, which watches replay from (`watch.rs`). Objects are kept behind `Arc`s so the
//! history shares them with the store instead of copying.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{Value, json};

use crate::patch::merge_patch;

/// A failed API call: the HTTP status, the `Status.reason` and the message.
#[derive(Debug)]
pub struct ApiFailure {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    /// Whether `details: {name, kind}` is attached.
    pub name: Option<String>,
}

impl ApiFailure {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiFailure {
            code,
            reason,
            message: message.into(),
            name: None,
        }
    }

    fn about(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiFailure::new(400, "BadRequest", message)
    }

    pub fn not_found(name: &str) -> Self {
        ApiFailure::new(404, "NotFound", format!("configmaps \"{name}\" not found")).about(name)
    }

    pub fn invalid(name: &str, message: impl Into<String>) -> Self {
        ApiFailure::new(422, "Invalid", message).about(name)
    }

    fn conflict(name: &str) -> Self {
        ApiFailure::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on configmaps \"{name}\": the object has been \
                 modified; please apply your changes to the latest version and try again"
            ),
        )
        .about(name)
    }
}

pub type ApiResult<T> = Result<T, ApiFailure>;

/// How many changes the history keeps by default (see [`Store::set_history_limit`]).
pub const DEFAULT_HISTORY_LIMIT: usize = 100_000;

/// A store key: (namespace, name).
pub type Key = (String, String);

/// The kind of a change, as a watch event type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ChangeType {
    Added,
    Modified,
    Deleted,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Added => "ADDED",
            ChangeType::Modified => "MODIFIED",
            ChangeType::Deleted => "DELETED",
        }
    }
}

/// One write, as the history keeps it.
pub struct Change {
    /// The resourceVersion this write produced.
    pub rv: u64,
    pub kind: ChangeType,
    /// The object after the write; for a deletion, the object as it was, carrying the
    /// deletion's resourceVersion (as the API server sends it).
    pub object: Arc<Value>,
    /// For a modification, the object before it: a filtered watch needs it to turn a change
    /// that moves an object into (out of) its selection into ADDED (DELETED).
    pub prev: Option<Arc<Value>>,
}

/// ConfigMaps keyed by (namespace, name), so iteration is sorted by namespace then name.
pub struct Store {
    objects: BTreeMap<Key, Arc<Value>>,
    /// The global resourceVersion: bumped on every write.
    resource_version: u64,
    uids: u64,
    /// The most recent changes, oldest first, with consecutive resourceVersions.
    history: VecDeque<Arc<Change>>,
    /// Every change with a resourceVersion above this one is in `history`; a watch asking
    /// for changes after an older resourceVersion has expired (410 Gone).
    floor: u64,
    history_limit: usize,
}

/// Is `name` a DNS-1123 subdomain, as Kubernetes requires for ConfigMap names?
fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 253
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'.')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata")?.get(field)?.as_str()
}

/// Pull the object out of a request body: a JSON object with a `metadata` object.
pub fn parse_object(body: &[u8]) -> ApiResult<Value> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ApiFailure::bad_request(format!("the request body is not valid JSON: {e}")))?;
    if !v.is_object() {
        return Err(ApiFailure::bad_request(
            "the request body is not a JSON object",
        ));
    }
    Ok(v)
}

impl Store {
    pub fn new() -> Self {
        const START: u64 = 100;
        Store {
            objects: BTreeMap::new(),
            resource_version: START,
            uids: 0,
            history: VecDeque::new(),
            floor: START,
            history_limit: DEFAULT_HISTORY_LIMIT,
        }
    }

    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    fn bump(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    fn key(ns: &str, name: &str) -> Key {
        (ns.to_owned(), name.to_owned())
    }

    /// Append a change made at the current resourceVersion, dropping the oldest ones beyond
    /// the limit.
    fn record(&mut self, kind: ChangeType, object: Arc<Value>, prev: Option<Arc<Value>>) {
        self.history.push_back(Arc::new(Change {
            rv: self.resource_version,
            kind,
            object,
            prev,
        }));
        while self.history.len() > self.history_limit {
            if let Some(old) = self.history.pop_front() {
                self.floor = old.rv;
            }
        }
    }

    /// The changes after resourceVersion `rv`, oldest first; `Err(floor)` when some of them
    /// are no longer kept (the caller's rv has expired; `floor` is the oldest rv a watch can
    /// still start from).
    pub fn changes_after(&self, rv: u64) -> Result<Vec<Arc<Change>>, u64> {
        if rv < self.floor {
            return Err(self.floor);
        }
        let start = self.history.partition_point(|c| c.rv <= rv);
        Ok(self.history.range(start..).cloned().collect())
    }

    /// Forget the whole history, as an etcd compaction at the current revision does: only
    /// watches from the current resourceVersion on remain possible.
    pub fn compact(&mut self) {
        self.history.clear();
        self.floor = self.resource_version;
    }

    /// The oldest resourceVersion a watch can still resume from.
    pub fn oldest_resource_version(&self) -> u64 {
        self.floor
    }

    pub fn history_limit(&self) -> usize {
        self.history_limit
    }

    /// Keep at most `limit` changes (at least one, so a live watch can always follow).
    pub fn set_history_limit(&mut self, limit: usize) {
        self.history_limit = limit.max(1);
        while self.history.len() > self.history_limit {
            if let Some(old) = self.history.pop_front() {
                self.floor = old.rv;
            }
        }
    }

    /// The objects of one namespace (or of all, with `None`) in key order, starting after
    /// `after` (exclusive) when given: the building block of paged lists.
    pub fn scan<'a>(
        &'a self,
        ns: Option<&'a str>,
        after: Option<&Key>,
    ) -> impl Iterator<Item = (&'a Key, &'a Arc<Value>)> + 'a {
        let lower = match (after, ns) {
            (Some(k), _) => Bound::Excluded(k.clone()),
            (None, Some(ns)) => Bound::Included((ns.to_owned(), String::new())),
            (None, None) => Bound::Unbounded,
        };
        self.objects
            .range((lower, Bound::Unbounded))
            // Keys are sorted by namespace first, so the namespace's objects are contiguous.
            .skip_while(move |((n, _), _)| ns.is_some_and(|ns| n.as_str() < ns))
            .take_while(move |((n, _), _)| ns.is_none_or(|ns| ns == n))
    }

    pub fn contains(&self, ns: &str, name: &str) -> bool {
        self.objects.contains_key(&Store::key(ns, name))
    }

    pub fn get(&self, ns: &str, name: &str) -> ApiResult<Value> {
        self.objects
            .get(&Store::key(ns, name))
            .map(|o| Value::clone(o))
            .ok_or_else(|| ApiFailure::not_found(name))
    }

    /// Create from a client-supplied object; the server fills in the system fields.
    pub fn create(&mut self, ns: &str, mut obj: Value) -> ApiResult<Value> {
        let Some(name) = meta_str(&obj, "name").map(str::to_owned) else {
            return Err(ApiFailure::bad_request(
                "the ConfigMap has no metadata.name (the name is required)",
            ));
        };
        check_namespace(&obj, ns)?;
        if !valid_name(&name) {
            return Err(ApiFailure::invalid(
                &name,
                format!(
                    "ConfigMap \"{name}\" is invalid: metadata.name: Invalid value: \"{name}\": \
                     a lowercase RFC 1123 subdomain must consist of lower case alphanumeric \
                     characters, '-' or '.', and must start and end with an alphanumeric \
                     character"
                ),
            ));
        }
        let key = Store::key(ns, &name);
        if self.objects.contains_key(&key) {
            return Err(ApiFailure::new(
                409,
                "AlreadyExists",
                format!("configmaps \"{name}\" already exists"),
            )
            .about(&name));
        }
        self.uids += 1;
        let uid = format!("00000000-0000-4000-8000-{:012x}", self.uids);
        let created = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        let rv = self.bump();
        set_system_fields(&mut obj, ns, &name, &rv);
        if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("uid".into(), uid.into());
            m.insert("creationTimestamp".into(), created.into());
        }
        let stored = Arc::new(obj);
        self.objects.insert(key, stored.clone());
        self.record(ChangeType::Added, stored.clone(), None);
        Ok(Value::clone(&stored))
    }

    /// Replace an existing object (PUT). A `metadata.resourceVersion` in the body must match
    /// the stored one (optimistic concurrency, as in Kubernetes).
    pub fn replace(&mut self, ns: &str, name: &str, obj: Value) -> ApiResult<Value> {
        match meta_str(&obj, "name") {
            Some(n) if n == name => {}
            Some(n) => {
                return Err(ApiFailure::bad_request(format!(
                    "the name of the object ({n}) does not match the name on the URL ({name})"
                )));
            }
            None => {
                return Err(ApiFailure::bad_request(
                    "the ConfigMap has no metadata.name (the name is required)",
                ));
            }
        }
        check_namespace(&obj, ns)?;
        let old = self
            .objects
            .get(&Store::key(ns, name))
            .cloned()
            .ok_or_else(|| ApiFailure::not_found(name))?;
        self.store_update(ns, name, old, obj)
    }

    /// Patch an existing object with `f`; with `create_missing`, a missing object starts as
    /// `{}` (server-side apply). Returns the object and whether it was created.
    pub fn patch(
        &mut self,
        ns: &str,
        name: &str,
        create_missing: bool,
        f: impl FnOnce(&mut Value) -> ApiResult<()>,
    ) -> ApiResult<(Value, bool)> {
        let old = self.objects.get(&Store::key(ns, name)).cloned();
        if old.is_none() && !create_missing {
            return Err(ApiFailure::not_found(name));
        }
        let mut new = old.as_deref().cloned().unwrap_or_else(|| json!({}));
        f(&mut new)?;
        if !new.get("metadata").is_some_and(Value::is_object) {
            return Err(ApiFailure::invalid(
                name,
                format!("ConfigMap \"{name}\" is invalid: metadata: Required value"),
            ));
        }
        match meta_str(&new, "name") {
            None => {}
            Some(n) if n == name => {}
            Some(_) => {
                return Err(ApiFailure::bad_request(
                    "the patch changes metadata.name, which is not allowed",
                ));
            }
        }
        match old {
            Some(old) => self.store_update(ns, name, old, new).map(|o| (o, false)),
            None => {
                let mut new = new;
                merge_patch(&mut new, &json!({"metadata": {"name": name}}));
                self.create(ns, new).map(|o| (o, true))
            }
        }
    }

    /// Store `new` over `old`, keeping the fields the server owns.
    fn store_update(
        &mut self,
        ns: &str,
        name: &str,
        old: Arc<Value>,
        mut new: Value,
    ) -> ApiResult<Value> {
        let current_rv = meta_str(&old, "resourceVersion").unwrap_or("");
        if let Some(rv) = meta_str(&new, "resourceVersion")
            && !rv.is_empty()
            && rv != current_rv
        {
            return Err(ApiFailure::conflict(name));
        }
        let rv = self.bump();
        set_system_fields(&mut new, ns, name, &rv);
        if let Some(m) = new.get_mut("metadata").and_then(Value::as_object_mut) {
            for field in ["uid", "creationTimestamp"] {
                if let Some(v) = old.get("metadata").and_then(|o| o.get(field)) {
                    m.insert(field.into(), v.clone());
                }
            }
        }
        let stored = Arc::new(new);
        self.objects.insert(Store::key(ns, name), stored.clone());
        self.record(ChangeType::Modified, stored.clone(), Some(old));
        Ok(Value::clone(&stored))
    }

    pub fn delete(&mut self, ns: &str, name: &str) -> ApiResult<()> {
        let Some(old) = self.objects.remove(&Store::key(ns, name)) else {
            return Err(ApiFailure::not_found(name));
        };
        let rv = self.bump();
        let mut gone = Value::clone(&old);
        if let Some(m) = gone.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("resourceVersion".into(), rv.into());
        }
        self.record(ChangeType::Deleted, Arc::new(gone), None);
        Ok(())
    }
}

/// A body naming a different namespace than the URL is refused, as Kubernetes does.
fn check_namespace(obj: &Value, ns: &str) -> ApiResult<()> {
    match meta_str(obj, "namespace") {
        Some(n) if !n.is_empty() && n != ns => Err(ApiFailure::bad_request(
            "the namespace of the provided object does not match the namespace sent on the \
             request",
        )),
        _ => Ok(()),
    }
}

fn set_system_fields(obj: &mut Value, ns: &str, name: &str, rv: &str) {
    if let Value::Object(m) = obj {
        m.insert("apiVersion".into(), "v1".into());
        m.insert("kind".into(), "ConfigMap".into());
        let meta = m.entry("metadata").or_insert_with(|| json!({}));
        if !meta.is_object() {
            *meta = json!({});
        }
        if let Value::Object(meta) = meta {
            meta.insert("name".into(), name.into());
            meta.insert("namespace".into(), ns.into());
            meta.insert("resourceVersion".into(), rv.into());
        }
    }
}
