//! A wait's view of its objects, and the verdict on it.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::core::error::{Error, Result};
use crate::core::wait::condition::{Condition, Seen, describe};
use crate::core::wait::{Met, MetObject, Target, WaitOptions};
use crate::core::watch::EventType;

/// One object as last seen.
struct Obj {
    raw: Vec<u8>,
    value: Value,
    uid: String,
}

/// What the view says.
pub(crate) enum Verdict {
    /// Not yet.
    Pending,
    /// Met.
    Met(Met),
    /// Can no longer be met, and why.
    Unmeetable(String),
}

/// The objects of a wait, updated from list and watch events.
pub(crate) struct State {
    target: Target,
    opts: WaitOptions,
    /// By namespace and name.
    objects: BTreeMap<(String, String), Obj>,
    /// A named target: the UID it had when first seen.
    first_uid: Option<String>,
    /// A named target: its last state before it was deleted while waiting.
    deleted: Option<Obj>,
    /// The objects' `(kind, apiVersion)` as their list says.
    item_type: Option<(String, String)>,
}

fn parse(raw: &[u8]) -> Result<Value> {
    serde_json::from_slice(raw)
        .map_err(|e| Error::Decode(format!("a watched object is not JSON: {e}")))
}

fn text<'v>(v: &'v Value, pointer: &str) -> &'v str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

impl State {
    /// An empty view of `target`'s objects, judged by `opts`' conditions.
    pub(crate) fn new(target: Target, opts: WaitOptions) -> Self {
        State {
            target,
            opts,
            objects: BTreeMap::new(),
            first_uid: None,
            deleted: None,
            item_type: None,
        }
    }

    /// What is waited for.
    pub(crate) fn target(&self) -> &Target {
        &self.target
    }

    /// The conditions and the timeout.
    pub(crate) fn opts(&self) -> &WaitOptions {
        &self.opts
    }

    /// The objects' `(kind, apiVersion)` as their list says (see [`State::apply_listed`]).
    pub(crate) fn set_item_type(&mut self, item_type: Option<(String, String)>) {
        self.item_type = item_type;
    }

    /// Take in a listed object (as an ADDED one).
    pub(crate) fn apply_listed(&mut self, raw: &[u8]) -> Result<()> {
        self.apply(EventType::Added, raw)
    }

    /// Take in an ADDED, MODIFIED or DELETED object, with the `kind` and `apiVersion` its list
    /// says when it has none itself: list items have none, and so do the objects a watch
    /// re-lists after a 410 or an API server restart. What met the wait then looks the same
    /// whichever way it came.
    pub(crate) fn apply(&mut self, kind: EventType, raw: &[u8]) -> Result<()> {
        let mut value = parse(raw)?;
        match (value.as_object_mut(), &self.item_type) {
            (Some(o), Some((item_kind, api_version))) if !o.contains_key("kind") => {
                o.insert("kind".into(), item_kind.as_str().into());
                o.insert("apiVersion".into(), api_version.as_str().into());
                let raw = serde_json::to_vec(&value).unwrap_or_default();
                self.take(kind, raw, value);
            }
            _ => self.take(kind, raw.to_vec(), value),
        }
        Ok(())
    }

    fn take(&mut self, kind: EventType, raw: Vec<u8>, value: Value) {
        let key = (
            text(&value, "/metadata/namespace").to_owned(),
            text(&value, "/metadata/name").to_owned(),
        );
        let obj = Obj {
            raw,
            uid: text(&value, "/metadata/uid").to_owned(),
            value,
        };
        match kind {
            EventType::Deleted => {
                self.objects.remove(&key);
                if self.target.name.is_some() {
                    self.deleted = Some(obj);
                }
            }
            EventType::Added | EventType::Modified => {
                if self.target.name.is_some() && self.first_uid.is_none() {
                    self.first_uid = Some(obj.uid.clone());
                }
                self.objects.insert(key, obj);
            }
            _ => {}
        }
    }

    /// The conditions `seen` meets (every `all` one, then the first `any` one that holds), or
    /// `None`.
    fn meets(&self, seen: Seen<'_>) -> Result<Option<Vec<String>>> {
        let mut met = Vec::with_capacity(self.opts.all.len() + 1);
        for c in &self.opts.all {
            if !c.holds(seen)? {
                return Ok(None);
            }
            met.push(c.to_string());
        }
        if !self.opts.any.is_empty() {
            let mut hit = None;
            for c in &self.opts.any {
                if c.holds(seen)? {
                    hit = Some(c);
                    break;
                }
            }
            match hit {
                Some(c) => met.push(c.to_string()),
                None => return Ok(None),
            }
        }
        Ok(Some(met))
    }

    /// The first `fail_on` condition `seen` meets.
    fn fails(&self, seen: Seen<'_>) -> Result<Option<&Condition>> {
        for c in &self.opts.fail_on {
            if c.holds(seen)? {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    /// The verdict on the current view.
    pub(crate) fn judge(&self) -> Result<Verdict> {
        match &self.target.name {
            Some(name) => self.judge_named(name),
            None => self.judge_selection(),
        }
    }

    fn judge_named(&self, name: &str) -> Result<Verdict> {
        let obj = self.objects.values().next();
        let seen = match obj {
            Some(o) => Seen::Present {
                object: &o.value,
                same_uid: self.first_uid.as_deref() == Some(o.uid.as_str()),
            },
            None => Seen::Absent,
        };
        let what = obj.map_or_else(|| name.to_owned(), |o| describe(&o.value));
        if let Some(c) = self.fails(seen)? {
            return Ok(Verdict::Unmeetable(format!(
                "{} {what}: the failure condition {c} is met",
                self.target.collection
            )));
        }
        if let Some(met) = self.meets(seen)? {
            let object = match (obj, &self.deleted) {
                (Some(o), _) | (None, Some(o)) => o.raw.clone(),
                (None, None) => {
                    // Never seen: its name, and its type when the list said it.
                    let mut stub = serde_json::json!({"metadata": {"name": name}});
                    if let Some((kind, api_version)) = &self.item_type {
                        stub["kind"] = kind.as_str().into();
                        stub["apiVersion"] = api_version.as_str().into();
                    }
                    serde_json::to_vec(&stub).unwrap_or_default()
                }
            };
            return Ok(Verdict::Met(Met {
                objects: vec![MetObject { object, met }],
            }));
        }
        if obj.is_none() && self.deleted.is_some() {
            return Ok(Verdict::Unmeetable(format!(
                "{}: it was deleted while waiting for {}",
                self.target,
                self.opts.spec()
            )));
        }
        Ok(Verdict::Pending)
    }

    fn judge_selection(&self) -> Result<Verdict> {
        let mut met_objects = Vec::with_capacity(self.objects.len());
        let mut pending = false;
        for o in self.objects.values() {
            let seen = Seen::Present {
                object: &o.value,
                same_uid: true,
            };
            if let Some(c) = self.fails(seen)? {
                return Ok(Verdict::Unmeetable(format!(
                    "{} {}: the failure condition {c} is met",
                    self.target.collection,
                    describe(&o.value)
                )));
            }
            match self.meets(seen)? {
                Some(met) if !pending => met_objects.push(MetObject {
                    object: o.raw.clone(),
                    met,
                }),
                Some(_) => {}
                None => pending = true,
            }
        }
        if pending {
            return Ok(Verdict::Pending);
        }
        if self.objects.is_empty() && !self.opts.allow_empty && self.meets(Seen::Absent)?.is_none()
        {
            return Ok(Verdict::Pending);
        }
        Ok(Verdict::Met(Met {
            objects: met_objects,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::wait::target::from_path;

    fn obj(uid: &str) -> Vec<u8> {
        serde_json::to_vec(
            &serde_json::json!({"metadata": {"name": "x", "namespace": "n", "uid": uid}}),
        )
        .unwrap()
    }

    #[test]
    fn delete_is_met_by_a_new_uid_under_the_same_name() {
        let t = from_path("/api/v1/namespaces/n/configmaps/x", None).unwrap();
        let o = WaitOptions::parse(&["delete"], &[], &[]).unwrap();
        let mut s = State::new(t, o);
        s.apply(EventType::Added, &obj("u1")).unwrap();
        assert!(matches!(s.judge().unwrap(), Verdict::Pending));
        // Re-created while the watch was away: seen as a change of UID.
        s.apply(EventType::Modified, &obj("u2")).unwrap();
        let Verdict::Met(m) = s.judge().unwrap() else {
            panic!("not met")
        };
        assert_eq!(m.objects[0].met, ["delete"]);
    }
}
