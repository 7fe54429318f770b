//! Reading the API server's discovery documents into one [`Catalog`]: the aggregated form
//! (`apidiscovery.k8s.io/v2`, one document for `/api` and one for `/apis`) when the server
//! serves it, else the legacy per-group documents (`/api/v1`, `/apis/GROUP/VERSION`).

use serde::Deserialize;

use crate::core::api::request::Request;
use crate::core::client::Client;
use crate::core::discovery::catalog::{ApiResource, Catalog, Entry};
use crate::core::error::{Error, Result};

/// The `Accept` of the two root requests: aggregated discovery if the server has it, plain
/// JSON (the legacy documents) if not — one round trip either way, as client-go asks.
const ACCEPT_AGGREGATED: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

/// `APIGroupDiscoveryList` (aggregated discovery).
#[derive(Deserialize)]
struct GroupDiscoveryList {
    #[serde(default)]
    items: Vec<GroupDiscovery>,
}

#[derive(Deserialize)]
struct GroupDiscovery {
    #[serde(default)]
    metadata: Meta,
    /// Sorted by the server, preferred version first.
    #[serde(default)]
    versions: Vec<VersionDiscovery>,
}

#[derive(Deserialize, Default)]
struct Meta {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct VersionDiscovery {
    version: String,
    #[serde(default)]
    resources: Vec<ResourceDiscovery>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceDiscovery {
    resource: String,
    #[serde(default)]
    response_kind: Option<KindRef>,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    singular_resource: String,
    #[serde(default)]
    verbs: Vec<String>,
    #[serde(default)]
    short_names: Vec<String>,
}

#[derive(Deserialize)]
struct KindRef {
    #[serde(default)]
    kind: String,
}

/// `APIVersions` (legacy `/api`).
#[derive(Deserialize)]
struct ApiVersions {
    #[serde(default)]
    versions: Vec<String>,
}

/// `APIGroupList` (legacy `/apis`).
#[derive(Deserialize)]
struct ApiGroupList {
    #[serde(default)]
    groups: Vec<ApiGroup>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiGroup {
    name: String,
    #[serde(default)]
    versions: Vec<GroupVersionRef>,
    #[serde(default)]
    preferred_version: Option<GroupVersionRef>,
}

#[derive(Deserialize)]
struct GroupVersionRef {
    version: String,
}

/// `APIResourceList` (legacy `/api/v1`, `/apis/GROUP/VERSION`).
#[derive(Deserialize)]
struct ApiResourceList {
    #[serde(default)]
    resources: Vec<LegacyResource>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LegacyResource {
    name: String,
    #[serde(default)]
    singular_name: String,
    #[serde(default)]
    namespaced: bool,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    verbs: Vec<String>,
    #[serde(default)]
    short_names: Vec<String>,
}

/// The `kind` of a discovery answer, to tell the aggregated form from the legacy one (a
/// server without aggregated discovery ignores the Accept and sends the legacy document).
#[derive(Deserialize)]
struct KindOnly {
    #[serde(default)]
    kind: String,
}

fn get(client: &Client, path: &str, accept: Option<&str>) -> Result<Vec<u8>> {
    let mut req = Request::new("GET", path);
    req.accept = accept.map(str::to_owned);
    Ok(client.request(&req)?.body)
}

fn decode<'a, T: Deserialize<'a>>(path: &str, body: &'a [u8]) -> Result<T> {
    serde_json::from_slice(body)
        .map_err(|e| Error::Decode(format!("the discovery document {path} is not valid: {e}")))
}

/// Fetch the server's catalog: two requests with aggregated discovery, else the legacy
/// documents (one per group version). A group version whose legacy document answers with an
/// API error (an aggregated API server that is down answers 503) is left out and named in
/// [`Catalog::failed`], as client-go does; any other failure is the caller's.
pub(crate) fn fetch(client: &Client) -> Result<Catalog> {
    let api = get(client, "/api", Some(ACCEPT_AGGREGATED))?;
    let apis = get(client, "/apis", Some(ACCEPT_AGGREGATED))?;
    let is_aggregated = |path: &str, body: &[u8]| -> Result<bool> {
        Ok(decode::<KindOnly>(path, body)?.kind == "APIGroupDiscoveryList")
    };
    if is_aggregated("/api", &api)? && is_aggregated("/apis", &apis)? {
        return aggregated(&api, &apis);
    }
    let mut catalog = Catalog::default();
    let core: ApiVersions = decode("/api", &api)?;
    let groups: ApiGroupList = decode("/apis", &apis)?;
    for (vrank, v) in core.versions.iter().enumerate() {
        add_legacy(client, &mut catalog, "", v, 0, vrank)?;
    }
    for (i, g) in groups.groups.iter().enumerate() {
        let preferred = g.preferred_version.as_ref().map(|p| p.version.as_str());
        let mut versions: Vec<&str> = preferred.into_iter().collect();
        versions.extend(
            g.versions
                .iter()
                .map(|v| v.version.as_str())
                .filter(|v| Some(*v) != preferred),
        );
        for (vrank, v) in versions.into_iter().enumerate() {
            add_legacy(client, &mut catalog, &g.name, v, i + 1, vrank)?;
        }
    }
    Ok(catalog)
}

/// The catalog of the two aggregated documents (`APIGroupDiscoveryList` of `/api` and of
/// `/apis`).
pub(crate) fn aggregated(api: &[u8], apis: &[u8]) -> Result<Catalog> {
    let core: GroupDiscoveryList = decode("/api", api)?;
    let groups: GroupDiscoveryList = decode("/apis", apis)?;
    let mut catalog = Catalog::default();
    // The core group ranks first, then the groups in the server's order (its priority).
    for (rank, g) in core.items.iter().chain(groups.items.iter()).enumerate() {
        add_aggregated(&mut catalog, rank, g);
    }
    Ok(catalog)
}

fn add_aggregated(catalog: &mut Catalog, group_rank: usize, g: &GroupDiscovery) {
    for (version_rank, v) in g.versions.iter().enumerate() {
        for r in &v.resources {
            let kind = r.response_kind.as_ref().map_or("", |k| k.kind.as_str());
            catalog.entries.push(Entry {
                resource: ApiResource::new(
                    &g.metadata.name,
                    &v.version,
                    &r.resource,
                    &r.singular_resource,
                    kind,
                    r.scope != "Cluster",
                    r.short_names.clone(),
                    r.verbs.clone(),
                ),
                group_rank,
                version_rank,
            });
        }
    }
}

fn add_legacy(
    client: &Client,
    catalog: &mut Catalog,
    group: &str,
    version: &str,
    group_rank: usize,
    version_rank: usize,
) -> Result<()> {
    let path = if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    };
    let body = match get(client, &path, None) {
        Ok(b) => b,
        Err(Error::Api(e)) => {
            catalog
                .failed
                .push(format!("{path} ({} {})", e.status, e.reason));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let list: ApiResourceList = decode(&path, &body)?;
    // Subresources (`pods/log`) are not resources a name can refer to.
    for r in list.resources.iter().filter(|r| !r.name.contains('/')) {
        catalog.entries.push(Entry {
            resource: ApiResource::new(
                group,
                version,
                &r.name,
                &r.singular_name,
                &r.kind,
                r.namespaced,
                r.short_names.clone(),
                r.verbs.clone(),
            ),
            group_rank,
            version_rank,
        });
    }
    Ok(())
}
