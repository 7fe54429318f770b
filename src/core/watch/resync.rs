//! Relisting after a 410: list the collection (paged), compare with what the consumer has seen,
//! and turn the differences into events between resync markers.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::core::api::request::Request;
use crate::core::client::Client;
use crate::core::error::{Error, Result};
use crate::core::watch::event::{Event, EventType, Key, read_meta};
use crate::core::watch::options::WatchOptions;

/// What the watch remembers of an object it has handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    /// `metadata.uid` (a re-created object has a new one).
    pub uid: String,
    /// The last resourceVersion handed out for it.
    pub resource_version: String,
}

/// Items per list page.
const PAGE: &str = "500";
/// A continue token can expire mid-list (410 too); start the list over at most this often.
const LIST_RESTARTS: u32 = 3;

#[derive(Deserialize)]
struct ListMeta {
    #[serde(rename = "resourceVersion", default)]
    resource_version: String,
    #[serde(rename = "continue", default)]
    continue_token: String,
}

#[derive(Deserialize)]
struct ListPage<'a> {
    #[serde(default)]
    kind: String,
    #[serde(rename = "apiVersion", default)]
    api_version: String,
    metadata: ListMeta,
    #[serde(borrow, default)]
    items: Vec<&'a RawValue>,
}

/// A DELETED object for something that vanished while the watch was away: its identity and
/// last known resourceVersion (like client-go's `DeletedFinalStateUnknown`).
fn tombstone(key: &Key, known: &Known) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "metadata": {
            "name": key.name,
            "namespace": key.namespace,
            "uid": known.uid,
            "resourceVersion": known.resource_version,
        }
    }))
    .unwrap_or_default()
}

fn marker(kind: EventType, rv: &str) -> Event {
    Event {
        kind,
        object: format!(
            "{{\"metadata\":{{\"resourceVersion\":{}}}}}",
            serde_json::json!(rv)
        )
        .into_bytes(),
        resource_version: rv.to_owned(),
    }
}

/// A listed object: identity, what to remember of it, its raw JSON.
type Listed = (Key, Known, Vec<u8>);

/// The type of a list's items, `(kind, apiVersion)`, from the list's own (`ConfigMapList`,
/// `v1`): a real API server leaves them out of each item.
pub type ItemType = Option<(String, String)>;

/// List everything the watch selects, once, all pages at the same resourceVersion.
fn list_all(
    client: &Client,
    path: &str,
    opts: &WatchOptions,
) -> Result<(Vec<Listed>, String, ItemType)> {
    let mut restarts = 0;
    'again: loop {
        let mut items = Vec::new();
        let mut token = String::new();
        let mut list_rv = String::new();
        loop {
            let mut req = Request::new("GET", path).with_param("limit", PAGE);
            if !token.is_empty() {
                req = req.with_param("continue", &token);
            }
            if let Some(s) = &opts.label_selector {
                req = req.with_param("labelSelector", s);
            }
            if let Some(s) = &opts.field_selector {
                req = req.with_param("fieldSelector", s);
            }
            let body = match client.request(&req) {
                Ok(r) => r.body,
                Err(Error::Api(e)) if e.status == 410 && restarts < LIST_RESTARTS => {
                    restarts += 1;
                    continue 'again;
                }
                Err(e) => return Err(e),
            };
            let page: ListPage<'_> = serde_json::from_slice(&body)
                .map_err(|e| Error::Decode(format!("the relist of {path} is not a list: {e}")))?;
            if list_rv.is_empty() {
                list_rv = page.metadata.resource_version.clone();
            }
            let item_type = page
                .kind
                .strip_suffix("List")
                .filter(|k| !k.is_empty())
                .map(|k| (k.to_owned(), page.api_version.clone()));
            for item in page.items {
                let m = read_meta(item.get())
                    .map_err(|e| Error::Decode(format!("a listed object: {e}")))?;
                let Some(name) = m.name else { continue };
                items.push((
                    Key {
                        namespace: m.namespace.as_deref().unwrap_or_default().to_owned(),
                        name: name.into_owned(),
                    },
                    Known {
                        uid: m.uid.as_deref().unwrap_or_default().to_owned(),
                        resource_version: m
                            .resource_version
                            .as_deref()
                            .unwrap_or_default()
                            .to_owned(),
                    },
                    item.get().as_bytes().to_vec(),
                ));
            }
            if page.metadata.continue_token.is_empty() {
                return Ok((items, list_rv, item_type));
            }
            token = page.metadata.continue_token;
        }
    }
}

/// Relist and compute the differences with `known` (which is updated to the listed state).
/// Returns the events (markers included) and the list's resourceVersion to watch from.
pub fn relist(
    client: &Client,
    path: &str,
    opts: &WatchOptions,
    known: &mut HashMap<Key, Known>,
) -> Result<(Vec<Event>, String)> {
    relist_typed(client, path, opts, known).map(|(events, rv, _)| (events, rv))
}

/// [`relist`], also giving the type of the listed items.
pub fn relist_typed(
    client: &Client,
    path: &str,
    opts: &WatchOptions,
    known: &mut HashMap<Key, Known>,
) -> Result<(Vec<Event>, String, ItemType)> {
    let (items, list_rv, item_type) = list_all(client, path, opts)?;
    let mut events = vec![marker(EventType::ResyncStart, &list_rv)];
    let mut now: HashMap<Key, Known> = HashMap::with_capacity(items.len());
    for (key, k, raw) in items {
        match known.get(&key) {
            None => events.push(Event {
                kind: EventType::Added,
                object: raw,
                resource_version: k.resource_version.clone(),
            }),
            Some(old) if old.uid != k.uid && !old.uid.is_empty() => {
                // Deleted and re-created while away: say both.
                events.push(Event {
                    kind: EventType::Deleted,
                    object: tombstone(&key, old),
                    resource_version: old.resource_version.clone(),
                });
                events.push(Event {
                    kind: EventType::Added,
                    object: raw,
                    resource_version: k.resource_version.clone(),
                });
            }
            Some(old) if old.resource_version != k.resource_version => events.push(Event {
                kind: EventType::Modified,
                object: raw,
                resource_version: k.resource_version.clone(),
            }),
            Some(_) => {}
        }
        now.insert(key, k);
    }
    let mut gone: Vec<(&Key, &Known)> = known
        .iter()
        .filter(|(k, _)| !now.contains_key(*k))
        .collect();
    gone.sort_by(|a, b| a.0.cmp(b.0));
    for (key, old) in gone {
        events.push(Event {
            kind: EventType::Deleted,
            object: tombstone(key, old),
            resource_version: old.resource_version.clone(),
        });
    }
    events.push(marker(EventType::ResyncEnd, &list_rv));
    *known = now;
    Ok((events, list_rv, item_type))
}
